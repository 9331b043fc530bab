from datetime import date
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import html2plaintext

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunBackground(InvoiceManagerCommon):
    """Process hands the run to Odoo's scheduler; the run resumes where it
    stopped; every dead end of an interrupted run ends in a true state."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_alpha = cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.sale_gamma = cls._create_sale(cls.customer_gamma, date(2026, 10, 5))
        cls.cron = cls.env.ref("invoice_manager.ir_cron_billing_run_process")

    def _fetched_run(self, **values):
        run = self._new_run(**values)
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 3)
        return run

    def test_process_hands_the_run_to_the_scheduler_and_returns_at_once(self):
        run = self._fetched_run()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
        run.action_process()
        self.assertEqual(run.state, "processing")
        self.assertFalse(run.invoice_ids, "nothing is invoiced in the request")
        self.assertEqual(run.process_uid, self.env.user)
        new_triggers = (
            self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])
            - triggers
        )
        self.assertTrue(new_triggers, "the scheduler is woken up at once")

        Users = type(self.env["res.users"])
        with patch.object(Users, "_bus_send", autospec=True) as bus_send:
            self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        self.assertEqual(run.progress, 100.0)
        self.assertEqual(
            sorted(run.invoice_ids.mapped("amount_total")), [115.0, 115.0, 317.98]
        )
        self.assertIn("3 processed, 0 in error", run.message_ids[0].body)
        sent = [call.args for call in bus_send.call_args_list]
        notifications = [args for args in sent if args[1] == "simple_notification"]
        self.assertEqual(len(notifications), 1)
        user, __, message = notifications[0]
        self.assertEqual(user, self.env.user)
        self.assertIn(run.name, message["title"])
        self.assertEqual(message["type"], "success")
        # The form's progress is pushed after each chunk, and at the end.
        pushed = [args[2] for args in sent if args[1] == "billing_run_progress"]
        self.assertTrue(pushed)
        self.assertEqual(
            {key: pushed[-1][key] for key in pushed[-1] if key != "id"},
            {
                "state": "done",
                "line_count": 3,
                "invoiced_line_count": 3,
                "done_count": 3,
                "error_count": 0,
            },
        )

    def test_each_scheduler_call_does_a_batch_and_reports_progress(self):
        self.env["ir.config_parameter"].set_param("invoice_manager.chunk_size", 1)
        # Every call stops after its first chunk.
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.cron_batch_seconds", "0.000001"
        )
        run = self._fetched_run()
        run.action_process()
        progress = self.env["ir.cron.progress"].create({"cron_id": self.cron.id})
        runs = self.env["billing.run"].with_context(ir_cron_progress_id=progress.id)
        runs._cron_process_runs()
        self.assertEqual((run.done_count, run.line_count), (1, 3))
        self.assertEqual(run.state, "processing")
        self.assertEqual((progress.done, progress.remaining), (1, 2))
        self.assertEqual(len(run.invoice_ids), 1)
        runs._cron_process_runs()
        runs._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual((progress.done, progress.remaining), (1, 0))
        self.assertEqual(len(run.invoice_ids), 3)
        runs._cron_process_runs()  # nothing left: no-op
        self.assertEqual(len(run.invoice_ids), 3)

    def test_interrupted_run_resumes_and_every_dead_end_ends_true(self):
        run = self._fetched_run()
        line_alpha = self._line_of(run, self.sale_alpha)
        line_beta = self._line_of(run, self.sale_beta)
        # Interrupted after invoicing alpha and beta (committed), before their
        # delivery: lines with an invoice, still Not Done.
        line_alpha.billing_action = "print"
        run.action_process()
        self.env["billing.run.invoicer"]._invoice_lines(run, line_alpha | line_beta)
        (line_alpha | line_beta).sudo().write({"state": "not_done"})
        invoices = line_alpha.invoice_ids | line_beta.invoice_ids
        self.assertEqual(len(invoices), 2)
        # Fetching again keeps them (they have invoices) ...
        run.sudo().state = "ready"
        run.action_fetch()
        self.assertIn(line_alpha, run.line_ids)
        # ... they cannot be deleted ...
        with self.assertRaises(UserError):
            line_alpha.unlink()
        # ... and a line switched to Create Only after its invoice was made ends
        # Processed when the run resumes.
        self.assertEqual(line_beta.billing_action, "create_only")
        run.action_process(force_synchronous=True)
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        self.assertEqual(line_alpha.invoice_ids | line_beta.invoice_ids, invoices)
        self.assertEqual(len(run.invoice_ids), 3, "nothing invoiced twice")

    def test_run_with_every_line_done_is_finished_by_process(self):
        run = self._fetched_run()
        self.env["billing.run.invoicer"]._invoice_lines(run, run.line_ids)
        self.assertEqual(run.state, "ready")
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        run.action_process()
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.invoice_ids), 3)

    def test_sale_no_longer_approved_at_process_is_not_invoiced_and_says_why(self):
        run = self._fetched_run()
        self.sale_beta.action_unapprove_for_invoicing()
        self.sale_gamma.date_order = "2026-11-02 10:00:00"
        run.action_process(force_synchronous=True)
        line_beta = self._line_of(run, self.sale_beta)
        self.assertEqual(line_beta.state, "skipped")
        self.assertIn("no longer approved for invoicing", line_beta.error_message)
        line_gamma = self._line_of(run, self.sale_gamma)
        self.assertEqual(line_gamma.state, "skipped")
        self.assertIn("outside the billing period", line_gamma.error_message)
        self.assertFalse(self.sale_beta.invoice_ids | self.sale_gamma.invoice_ids)
        self.assertEqual(self._line_of(run, self.sale_alpha).state, "processed")
        self.assertEqual(run.skipped_count, 2)
        # Approved again: processing the reopened run invoices it.
        self.sale_beta.action_approve_for_invoicing()
        run.action_reopen()
        run.action_process(force_synchronous=True)
        self.assertEqual(line_beta.state, "processed")
        self.assertAlmostEqual(self.sale_beta.invoice_ids.amount_total, 115.00, 2)

    def test_cancelled_sale_at_process_is_not_invoiced(self):
        run = self._fetched_run()
        self.sale_beta._action_cancel()
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_beta)
        self.assertEqual(line.state, "skipped")
        self.assertIn("no longer a confirmed sale", line.error_message)
        self.assertFalse(self.sale_beta.invoice_ids)

    def test_per_customer_line_invoices_the_sales_that_still_qualify(self):
        second = self._create_sale(self.customer_alpha, date(2026, 10, 20))
        run = self._new_run(grouping="customer")
        run.action_fetch()
        line = self._line_of(run, second)
        self.assertEqual(line.sale_order_ids, self.sale_alpha | second)
        second.action_unapprove_for_invoicing()
        run.action_process(force_synchronous=True)
        self.assertEqual(line.state, "processed")
        self.assertEqual(line.sale_order_ids, self.sale_alpha)
        self.assertIn(f"{second.name} was not invoiced", line.error_message)
        self.assertAlmostEqual(line.invoice_ids.amount_total, 317.98, 2)
        self.assertFalse(second.invoice_ids)

    def test_sales_of_two_currencies_are_totalled_per_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        pricelist = self.env["product.pricelist"].create(
            {"name": "EUR prices", "currency_id": eur.id}
        )
        sale_eur = self._create_sale(
            self.customer_alpha,
            date(2026, 10, 6),
            [(self.product_service, 1.0, 200.0)],
            pricelist_id=pricelist.id,
        )
        run = self._new_run()
        run.action_fetch()
        line = self._line_of(run, sale_eur)
        self.assertEqual(line.currency_id, eur)
        self.assertAlmostEqual(line.amount_total, 230.00, 2)
        summary = str(run.amount_summary)
        self.assertIn("230.00", summary)
        self.assertIn("547.98", summary, "317.98 + 115.00 + 115.00 in USD")
        run.action_process(force_synchronous=True)
        self.assertEqual(line.invoice_ids.currency_id, eur)
        self.assertAlmostEqual(line.invoice_amount, 230.00, 2)
        self.assertAlmostEqual(line.invoice_ids.amount_total_signed, 115.00, 2)
        # What the run invoiced, per currency, as its closing message says.
        usd = self.env.company.currency_id
        invoices = run.line_ids.invoice_ids
        usd_total = sum(
            invoices.filtered(lambda i: i.currency_id == usd).mapped("amount_total")
        )
        self.assertEqual(run.invoice_ids, invoices)
        self.assertEqual(run.invoice_count, len(invoices))
        totals = run._get_invoiced_by_currency()
        self.assertEqual(set(totals), {eur, usd})
        self.assertAlmostEqual(totals[eur], 230.00, 2)
        self.assertAlmostEqual(totals[usd], usd_total, 2)
        self.assertGreater(usd_total, 0)
        self.assertIn(
            f"{len(invoices)} invoices ({run._format_amounts(totals)})",
            html2plaintext(run.message_ids[0].body),
        )


@tagged("post_install", "-at_install")
class TestBillingRunRights(InvoiceManagerCommon):
    """What a view shows read-only holds for an RPC client through the ORM."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_alpha = cls._create_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.other_sale = cls._create_sale(cls.customer_gamma, date(2026, 9, 4))
        cls.biller = new_test_user(
            cls.env, login="im_biller", groups="invoice_manager.group_billing_user"
        )

    def setUp(self):
        super().setUp()
        self.run = self._new_run().with_user(self.biller)
        self.run.action_fetch()
        self.line = self._line_of(self.run, self.sale_alpha)

    def test_billing_user_cannot_write_a_line_result(self):
        for values in (
            {"state": "processed"},
            {"sale_order_ids": [Command.link(self.other_sale.id)]},
            {"invoice_ids": [Command.set([])]},
            {"delivery_channel": "email"},
            {"error_message": "fine"},
            {"amount_total": 0.0},
        ):
            with self.assertRaises(AccessError, msg=values):
                self.line.write(values)
        self.assertEqual(self.line.state, "not_done")
        self.assertEqual(self.line.sale_order_ids, self.sale_alpha)
        with self.assertRaises(AccessError):
            self.env["billing.run.line"].with_user(self.biller).create(
                {
                    "run_id": self.run.id,
                    "sale_order_ids": [Command.set(self.other_sale.ids)],
                }
            )

    def test_billing_user_cannot_write_a_run_state_or_results(self):
        for values in (
            {"state": "done"},
            {"process_uid": self.env.uid},
            {"print_attachment_id": False},
        ):
            with self.assertRaises(AccessError, msg=values):
                self.run.write(values)
        with self.assertRaises(AccessError):
            self.env["billing.run"].with_user(self.biller).create(
                {"scenario_id": self.scenario.id, "state": "done"}
            )

    def test_billing_user_changes_the_action_of_lines_still_to_process_only(self):
        self.line.billing_action = "print"
        self.assertEqual(self.line.billing_action, "print")
        self.run.action_process(force_synchronous=True)
        self.assertEqual(self.run.state, "done")
        with self.assertRaises(ValidationError):
            self.line.billing_action = "email"
        with self.assertRaises(UserError):
            self.run.write({"date_to": date(2026, 11, 30)})
        with self.assertRaises(UserError):
            self.line.unlink()

    def test_billing_user_removes_a_line_still_to_process(self):
        line_beta = self._line_of(self.run, self.sale_beta)
        line_beta.unlink()
        self.run.action_process(force_synchronous=True)
        self.assertFalse(self.sale_beta.invoice_ids)
        self.assertAlmostEqual(self.sale_alpha.invoice_ids.amount_total, 115.00, 2)
