import base64
import csv
import io
from datetime import date, datetime

from freezegun import freeze_time
from openpyxl import load_workbook

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged
from odoo.tools.pdf import PdfFileReader

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestInvoiceWorkflow(JobBillingCommon):
    """Invoiced -> Posted, or with the accounting integration Invoiced ->
    Approved -> Exported -> Posted; the job card's invoicing stages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._create_repair_job()
        cls.biller = cls.env["res.users"].create(
            {
                "name": "Job biller",
                "login": "jb_biller",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set(cls.env.ref("job_billing.group_job_billing_user").ids)
                ],
            }
        )

    def _xlsx_rows(self, content):
        sheet = load_workbook(io.BytesIO(content)).active
        return [list(row) for row in sheet.iter_rows(values_only=True)]

    def test_without_integration(self):
        job = self.job
        self.assertEqual(job.invoicing_stage, "new")
        deposit = self._invoice(job, "deposit", percent=10.0)
        self.assertEqual(deposit.state, "draft")
        self.assertEqual(deposit.job_workflow_state, "invoiced")
        self.assertEqual(job.invoicing_stage, "active")
        # the job card is updated, the draft regenerated from it
        job.invoiceable_ids = [
            Command.create(
                {
                    "charge_category": "expenses",
                    "product_id": self.product_travel.id,
                    "quantity": 1,
                    "price_unit": 60.0,
                }
            )
        ]
        self.assertMoney(deposit, 105.0, 15.75, 120.75)
        job.action_regenerate_drafts()
        self.assertMoney(deposit, 111.0, 16.65, 127.65)
        # a billing user posts without approval when the integration is off
        deposit.with_user(self.biller).action_post()
        self.assertEqual(deposit.job_workflow_state, "posted")
        self.assertEqual(job.invoicing_stage, "active", "not sent yet")
        deposit.is_move_sent = True
        self.assertEqual(job.invoicing_stage, "new", "something left to bill")
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 999.0, 149.85, 1148.85)
        self.assertEqual(job.invoicing_stage, "active")
        final.is_move_sent = True
        self.assertEqual(job.invoicing_stage, "completed")
        with self.assertRaisesRegex(UserError, "Only exported job invoices"):
            final.action_job_mark_posted()

    def test_regenerate_draft_final_invoice(self):
        """The draft final invoice is the job's one complete invoice: it can be
        regenerated, and a second one is still refused."""
        job = self.job
        job.action_close()
        final = self._invoice(job, "final")
        untaxed, tax, total = final.amount_untaxed, final.amount_tax, final.amount_total
        self.assertGreater(untaxed, 0.0)
        job.action_regenerate_drafts()
        self.assertEqual(final.state, "draft")
        self.assertMoney(final, untaxed, tax, total)
        self.assertEqual(job._get_complete_invoices(), final)
        with self.assertRaisesRegex(UserError, "already has a complete invoice"):
            self._invoice(job, "final")

    def test_with_integration_export_and_lock(self):
        self.company.job_accounting_integration = True
        job = self.job
        deposit = self._invoice(job, "deposit", amount=500.0)
        with self.assertRaisesRegex(UserError, "approved by a Job Billing Manager"):
            deposit.with_user(self.biller).action_post()
        self.assertEqual(deposit.state, "draft")
        deposit.action_job_approve()
        self.assertEqual(deposit.state, "posted")
        self.assertTrue(deposit.name.startswith("INV/"))
        self.assertEqual(deposit.job_workflow_state, "approved")
        self.assertEqual(job.invoicing_stage, "active")

        wizard = (
            self.env["billing.job.export.wizard"]
            .with_context(active_model="account.move", active_ids=deposit.ids)
            .create({})
        )
        self.assertEqual(wizard.move_ids, deposit)
        action = wizard.action_export()
        batch = self.env["billing.job.export"].browse(action["res_id"])
        self.assertEqual(batch.state, "done")
        self.assertEqual(batch.move_ids, deposit)
        self.assertEqual(deposit.job_export_id, batch)
        self.assertEqual(deposit.job_workflow_state, "exported")
        self.assertIn(
            f"Exported to the accounting system in batch {batch.name}.",
            deposit.message_ids.mapped("body")[0],
            "the invoice's chatter says which batch exported it",
        )
        self.assertEqual(job.invoicing_stage, "new", "exported, more to bill")
        rows = self._xlsx_rows(base64.b64decode(batch.xlsx_file))
        self.assertEqual(rows[0][:3], ["batch", "invoice", "move_type"])
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[1][1], deposit.name)
        self.assertEqual(rows[1][6:9], ["C-1001", "BE0477472701", job.name])
        self.assertEqual(rows[1][14:17], [500.0, 75.0, 575.0])
        csv_rows = list(
            csv.reader(
                io.StringIO(base64.b64decode(batch.csv_file).decode()), delimiter=";"
            )
        )
        self.assertEqual(csv_rows[1][1], deposit.name)
        self.assertEqual(csv_rows[1][14:17], ["500.00", "75.00", "575.00"])
        self.assertTrue(batch.xlsx_filename.endswith(".xlsx"))

        # nothing changes after export
        with self.assertRaisesRegex(UserError, "exported to the accounting system"):
            deposit.button_draft()
        with self.assertRaisesRegex(UserError, "exported to the accounting system"):
            deposit.ref = "Changed"
        with self.assertRaisesRegex(UserError, "exported to the accounting system"):
            deposit.invoice_line_ids.name = "Changed"
        with self.assertRaisesRegex(UserError, "exported to the accounting system"):
            deposit.button_cancel()
        with self.assertRaisesRegex(UserError, "Only approved job invoices"):
            self.env["billing.job.export"]._export_moves(deposit)

        with self.assertRaisesRegex(UserError, "approved by a Job Billing Manager"):
            deposit.with_user(self.biller).action_job_mark_posted()
        deposit.action_job_mark_posted()
        self.assertEqual(deposit.job_workflow_state, "posted")
        self.assertEqual(deposit.state, "posted")

    def test_export_failure_and_retry(self):
        self.company.job_accounting_integration = True
        walk_in = self.env["res.partner"].create({"name": "Walk-in customer"})
        other_job = self._create_job(
            charges=[("labour", self.product_installer, 2, 80.0)], partner=walk_in
        )
        good = self._invoice(self.job, "deposit", amount=100.0)
        bad = self._invoice(other_job, "deposit", amount=50.0)
        (good | bad).action_job_approve()
        wizard = self.env["billing.job.export.wizard"].create(
            {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
        )
        batch = self.env["billing.job.export"].browse(wizard.action_export()["res_id"])
        self.assertEqual(batch.state, "partial")
        self.assertEqual(batch.move_ids, good)
        self.assertEqual(batch.failed_move_ids, bad)
        self.assertEqual(bad.job_workflow_state, "approved")
        self.assertIn(
            "neither a VAT number nor a customer reference", bad.job_export_error
        )
        self.assertIn(bad.name, other_job.sync_error)
        self.assertFalse(self.job.sync_error)
        rows = self._xlsx_rows(base64.b64decode(batch.xlsx_file))
        self.assertEqual([row[1] for row in rows[1:]], [good.name])

        with self.assertRaisesRegex(UserError, "no approved job invoice"):
            self.env["billing.job.export.wizard"].create(
                {"date_from": date(2026, 4, 1)}
            ).action_export()

        walk_in.ref = "C-2002"
        retry = self.env["billing.job.export"].browse(batch.action_retry()["res_id"])
        self.assertNotEqual(retry, batch)
        self.assertEqual(retry.move_ids, bad)
        self.assertEqual(bad.job_workflow_state, "exported")
        self.assertFalse(bad.job_export_error)
        self.assertFalse(other_job.sync_error)
        with self.assertRaisesRegex(UserError, "Nothing left to retry"):
            batch.action_retry()

    def test_invoice_journal_xlsx(self):
        self.job.action_close()
        deposit = self._invoice(self.job, "deposit", amount=200.0, post=True)
        final = self._invoice(self.job, "final", post=True)
        credit = self._invoice(
            self.job, "correction", amount=-50.0, reason="Discount", post=True
        )
        draft = self._invoice(self.job, "correction", amount=-20.0, reason="Draft only")
        draft.invoice_date = date(2026, 3, 10)
        # the same file whatever the user's language
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env.user.lang = "fr_FR"
        wizard = self.env["billing.job.invoice.journal"].create(
            {"date_from": date(2026, 3, 1), "date_to": date(2026, 3, 31)}
        )
        rows = self._xlsx_rows(base64.b64decode(wizard._generate_journal().datas))
        self.assertEqual(
            rows[0],
            [
                "invoice",
                "invoice_date",
                "customer",
                "job",
                "job_invoice_type",
                "job_invoice_policy",
                "job_workflow_state",
                "untaxed",
                "tax",
                "total",
                "amount_due",
                "currency",
            ],
        )
        names = [row[0] for row in rows[1:-1]]
        self.assertEqual(
            sorted(names), sorted((deposit | final | credit).mapped("name"))
        )
        by_name = {row[0]: row for row in rows[1:-1]}
        self.assertEqual(
            by_name[credit.name][1:7],
            [
                datetime(2026, 3, 10),
                self.customer.name,
                self.job.name,
                "correction",
                "correction",
                "posted",
            ],
        )
        self.assertEqual(by_name[deposit.name][4:6], ["partial", "deposit"])
        self.assertEqual(by_name[credit.name][7:11], [-50.0, -7.5, -57.5, -57.5])
        # 200.00 + 850.00 (1,050.00 - 200.00 deposit) - 50.00
        self.assertEqual(rows[-1][0], "total")
        self.assertEqual(rows[-1][7:10], [1000.0, 150.0, 1150.0])
        self.assertEqual(rows[-1][11], self.env.company.currency_id.name)
        with_drafts = self.env["billing.job.invoice.journal"].create(
            {
                "date_from": date(2026, 3, 1),
                "date_to": date(2026, 3, 31),
                "include_draft": True,
            }
        )
        rows = self._xlsx_rows(base64.b64decode(with_drafts._generate_journal().datas))
        by_name = {row[0]: row for row in rows[1:-1]}
        self.assertEqual(
            by_name[f"Draft #{draft.id}"][6:10], ["invoiced", -20.0, -3.0, -23.0]
        )
        self.assertEqual(rows[-1][7:10], [980.0, 147.0, 1127.0])
        action = wizard.action_generate()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertTrue(action["close"])
        empty = self.env["billing.job.invoice.journal"].create(
            {"date_from": date(2026, 4, 1), "date_to": date(2026, 4, 30)}
        )
        with self.assertRaisesRegex(UserError, "No job invoice is dated"):
            empty.action_generate()


@tagged("post_install", "-at_install")
class TestPrintJobInvoices(JobBillingCommon, HttpCase):
    """Many invoices in one PDF, really rendered by wkhtmltopdf: an HttpCase
    without frozen clock, as wkhtmltopdf fetches the report assets from the
    test server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._create_repair_job()

    def test_print_invoices_in_one_pdf(self):
        deposit = self._invoice(self.job, "deposit", amount=200.0, post=True)
        progress = self._invoice(self.job, "progress_summary", percent=50.0, post=True)
        self.company.external_report_layout_id = self.env.ref(
            "web.external_layout_standard"
        )
        action = self.job.action_print_invoices()
        self.assertEqual(action["report_name"], "account.report_invoice_with_payments")
        self.assertEqual(
            sorted(action["context"]["active_ids"]), (deposit | progress).ids
        )
        pdf, report_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("account.account_invoices", (deposit | progress).ids)
        )
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertEqual(len(PdfFileReader(io.BytesIO(pdf)).pages), 2)
        listed = self.env["account.move"].search([("job_id", "=", self.job.id)])
        self.assertEqual(
            listed.action_job_print_invoices()["context"]["active_ids"], listed.ids
        )
