import base64
import io
from datetime import date

import openpyxl

from odoo import Command
from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunProcess(InvoiceManagerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_alpha = cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_alpha_2 = cls._create_sale(cls.customer_alpha, date(2026, 10, 12))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 31))

    def _fetched_run(self, **values):
        run = self._new_run(**values)
        run.action_fetch()
        return run

    def test_create_only_posts_one_invoice_per_order_dated_end_of_period(self):
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        line = self._line_of(run, self.sale_alpha)
        invoice = line.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.partner_id, self.customer_alpha)
        self.assertEqual(invoice.invoice_date, date(2026, 10, 31))
        self.assertAlmostEqual(invoice.amount_untaxed, 276.50, places=2)
        self.assertAlmostEqual(invoice.amount_tax, 41.48, places=2)
        self.assertAlmostEqual(invoice.amount_total, 317.98, places=2)
        self.assertAlmostEqual(line.invoice_amount, 317.98, places=2)
        self.assertEqual(line.delivery_channel, "none")
        self.assertEqual(self.sale_alpha.invoice_status, "invoiced")
        self.assertEqual(run.invoice_count, 3)
        self.assertEqual(run.process_uid, self.env.user)

    def test_draft_invoices_when_the_run_does_not_post(self):
        run = self._fetched_run(auto_post=False)
        run.action_process(force_synchronous=True)
        self.assertEqual(set(run.invoice_ids.mapped("state")), {"draft"})
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})

    def test_one_invoice_per_customer(self):
        run = self._fetched_run(grouping="customer")
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_alpha)
        self.assertEqual(line.sale_order_ids, self.sale_alpha | self.sale_alpha_2)
        self.assertEqual(len(line.invoice_ids), 1)
        self.assertAlmostEqual(line.invoice_ids.amount_total, 317.98 + 115.00, places=2)
        self.assertIn(self.sale_alpha.name, line.invoice_ids.invoice_origin)
        self.assertIn(self.sale_alpha_2.name, line.invoice_ids.invoice_origin)

    def test_fixed_date_and_journal_of_the_run(self):
        journal = self.company_data["default_journal_sale"].copy(
            {"name": "Billing runs", "code": "BRUN"}
        )
        run = self._fetched_run(
            invoice_date_mode="fixed",
            invoice_date=date(2026, 11, 2),
            journal_id=journal.id,
        )
        run.action_process(force_synchronous=True)
        self.assertEqual(
            set(run.invoice_ids.mapped("invoice_date")), {date(2026, 11, 2)}
        )
        self.assertEqual(run.invoice_ids.journal_id, journal)

    def test_email_sends_each_invoice_with_its_pdf_through_odoo(self):
        run = self._fetched_run(billing_action="email")
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_beta)
        self.assertEqual(line.state, "processed")
        self.assertEqual(line.delivery_channel, "email")
        self.assertEqual(line.delivery_email, "ap@beta.test")
        self.assertEqual(line.delivery_state, "queued", "in Odoo's mail queue")
        invoice = line.invoice_ids
        self.assertTrue(invoice.is_move_sent)
        self.assertTrue(invoice.invoice_pdf_report_id)
        message = invoice.message_ids.filtered(
            lambda msg: self.customer_beta in msg.partner_ids
        )
        self.assertEqual(len(message), 1, "one message to the customer in the chatter")
        self.assertIn(invoice.name.replace("/", "_"), message.attachment_ids.name)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(mail.state, "outgoing", "queued for Odoo's mail queue")
        self.assertEqual(mail.attachment_ids, message.attachment_ids)
        mail.send()
        line.invalidate_recordset()
        self.assertEqual(line.delivery_state, "sent")

    def test_delivery_state_tells_a_failed_email_with_its_reason(self):
        run = self._fetched_run(billing_action="email")
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_beta)
        mail = self.env["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "=", line.invoice_ids.id)]
        )
        # What Odoo's mail queue records when the mail server refuses it.
        mail.write({"state": "exception", "failure_reason": "Connection refused"})
        line.invalidate_recordset()
        self.assertEqual(line.delivery_state, "failed")
        self.assertIn("Connection refused", line.delivery_error)
        self.assertIn(line.invoice_ids.name, line.delivery_error)
        # Odoo's sending cron failed to render or send: it leaves the error flag
        # and writes the error in the chatter.
        mail.unlink()
        line.invoice_ids.sending_data = {"error": True}
        line.invoice_ids.message_post(body="Unable to find Wkhtmltopdf")
        line.invalidate_recordset()
        self.assertEqual(line.delivery_state, "failed")
        self.assertIn("sending failed: Unable to find Wkhtmltopdf", line.delivery_error)

    def test_large_email_runs_are_queued_to_odoo_sending_cron(self):
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.sync_delivery_limit", 1
        )
        run = self._fetched_run(billing_action="email")
        run.action_process(force_synchronous=True)
        self.assertEqual(set(run.line_ids.mapped("delivery_state")), {"queued"})
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        self.assertTrue(all(run.invoice_ids.mapped("sending_data")))
        self.env["account.move"]._cron_account_move_send(job_count=10)
        self.env["mail.mail"].search(
            [("model", "=", "account.move"), ("res_id", "in", run.invoice_ids.ids)]
        ).send()
        run.line_ids.invalidate_recordset()
        self.assertEqual(set(run.line_ids.mapped("delivery_state")), {"sent"})
        self.assertTrue(all(run.invoice_ids.mapped("is_move_sent")))

    def test_actions_can_differ_per_line(self):
        run = self._fetched_run(billing_action="create_only")
        self._line_of(run, self.sale_beta).billing_action = "email"
        run.action_process(force_synchronous=True)
        self.assertEqual(self._line_of(run, self.sale_beta).delivery_channel, "email")
        self.assertEqual(self._line_of(run, self.sale_alpha).delivery_channel, "none")

    def test_apply_billing_action_to_all_lines(self):
        run = self._fetched_run()
        run.billing_action = "print"
        run.action_apply_billing_action()
        self.assertEqual(set(run.line_ids.mapped("billing_action")), {"print"})

    def test_processing_again_never_invoices_twice(self):
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        invoices = run.invoice_ids
        run.action_reopen()
        run.action_fetch()
        run.action_process(force_synchronous=True)
        self.assertEqual(run.invoice_ids, invoices)
        second = self._fetched_run()
        self.assertFalse(second.line_ids)

    def test_credit_note_does_not_make_a_sale_billable_again(self):
        run = self._fetched_run(partner_ids=[Command.set(self.customer_beta.ids)])
        run.action_process(force_synchronous=True)
        invoice = run.invoice_ids
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "discount"})
        )
        reversal.refund_moves()
        self.assertEqual(self.sale_beta.invoice_status, "to invoice", "Odoo reopens it")
        later = self._fetched_run(partner_ids=[Command.set(self.customer_beta.ids)])
        self.assertFalse(later.line_ids, "the billing run does not")
        # A stale line (fetched before the credit note) fails instead of re-invoicing.
        stale = self._new_run(partner_ids=[Command.set(self.customer_beta.ids)])
        self.env["billing.run.line"].sudo().create(
            {
                "run_id": stale.id,
                "partner_id": self.customer_beta.id,
                "sale_order_ids": [Command.set(self.sale_beta.ids)],
                "billing_action": "create_only",
            }
        )
        stale.action_process(force_synchronous=True)
        self.assertEqual(stale.line_ids.state, "elsewhere")
        self.assertIn(invoice.name, stale.line_ids.error_message)
        self.assertEqual(
            self.sale_beta.invoice_ids.filtered(
                lambda move: move.move_type == "out_invoice"
            ),
            invoice,
        )

    def test_down_payment_is_deducted(self):
        order = self._create_sale(
            self.customer_gamma,
            date(2026, 10, 9),
            [(self.product_service, 10.0, 100.0)],
        )
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "percentage", "amount": 30})
        )
        wizard.create_invoices()
        order.invoice_ids.action_post()
        # 1,000.00 + 15 % = 1,150.00; 30 % down payment = 345.00 already invoiced.
        run = self._fetched_run(partner_ids=[Command.set(self.customer_gamma.ids)])
        self.assertAlmostEqual(run.line_ids.amount_total, 805.00, places=2)
        run.action_process(force_synchronous=True)
        final = run.invoice_ids
        self.assertAlmostEqual(final.amount_total, 805.00, places=2)
        self.assertEqual(order.invoice_status, "invoiced")

    def test_export_xlsx_lists_every_line_and_result(self):
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        action = run.action_export_xlsx()
        attachment = self.env["ir.attachment"].browse(
            int(action["url"].split("/")[-1].split("?")[0])
        )
        content = io.BytesIO(base64.b64decode(attachment.datas))
        # data_only: the values a spreadsheet shows (the totals' cached values)
        sheet = openpyxl.load_workbook(content, data_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(rows[0][0], "Customer")
        count = len(run.line_ids)
        # the header stays in view, with a filter over the lines
        self.assertEqual(sheet.freeze_panes, "A2")
        self.assertEqual(sheet.auto_filter.ref, f"A1:K{count + 1}")
        # a blank row, then the total of the currency
        self.assertEqual(len(rows), 1 + count + 2)
        total = rows[-1]
        self.assertEqual(total[:3], ("Total", None, self.env.company.currency_id.name))
        self.assertAlmostEqual(total[3], sum(run.line_ids.mapped("amount_total")), 2)
        self.assertAlmostEqual(total[7], sum(run.invoice_ids.mapped("amount_total")), 2)
        formulas = openpyxl.load_workbook(content).active
        self.assertTrue(str(formulas.cell(count + 3, 4).value).startswith("=SUMIF("))
        by_sale = {row[1]: row for row in rows[1 : count + 1]}
        row = by_sale[self.sale_alpha.name]
        self.assertEqual(row[0], "Alpha Retail")
        self.assertEqual(row[2], self.env.company.currency_id.name)
        self.assertAlmostEqual(row[3], 317.98, places=2)
        self.assertEqual(row[5], "Processed")
        self.assertEqual(row[6], self._line_of(run, self.sale_alpha).invoice_ids.name)


@tagged("post_install", "-at_install")
class TestBillingRunPrint(InvoiceManagerCommon, HttpCase):
    """Real PDFs (wkhtmltopdf fetches the report's CSS from the test server)."""

    def _fetched_run(self, **values):
        run = self._new_run(**values)
        run.action_fetch()
        return run

    def setUp(self):
        super().setUp()
        self.sale_alpha = self._create_sale(self.customer_alpha, date(2026, 10, 3))
        self.sale_beta = self._create_sale(self.customer_beta, date(2026, 10, 31))

    def test_print_makes_one_pdf_of_all_printed_invoices(self):
        run = self._fetched_run(billing_action="print")
        run.with_context(force_report_rendering=True).action_process(
            force_synchronous=True
        )
        self.assertEqual(set(run.line_ids.mapped("delivery_channel")), {"print"})
        self.assertTrue(all(run.invoice_ids.mapped("invoice_pdf_report_id")))
        pdf = run.print_attachment_id.raw
        self.assertTrue(pdf.startswith(b"%PDF"))
        pages = len(PdfFileReader(io.BytesIO(pdf), strict=False).pages)
        self.assertGreaterEqual(pages, len(run.invoice_ids), "every invoice in one PDF")
        action = run.action_print_invoices()
        self.assertEqual(action["url"], f"/web/content/{run.print_attachment_id.id}")
