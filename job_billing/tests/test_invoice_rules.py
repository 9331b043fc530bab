from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestInvoiceRules(JobBillingCommon):
    """The job status decides which invoice types may be issued."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._create_repair_job()
        cls.installer = cls._item(cls.job, cls.product_installer)

    def test_partial_invoices_while_open_or_closed(self):
        self._invoice(self.job, "deposit", amount=100.0, post=True)
        self._invoice(self.job, "progress_summary", percent=20.0, post=True)
        self.job.action_close()
        self._invoice(self.job, "progress_summary", percent=50.0, post=True)
        self.assertEqual(len(self.job.invoice_ids), 3)
        self.assertEqual(
            set(self.job.invoice_ids.mapped("job_invoice_type")), {"partial"}
        )

    def test_complete_invoice_only_for_a_closed_job(self):
        with self.assertRaisesRegex(UserError, "only be issued for a closed job"):
            self._invoice(self.job, "final")
        with self.assertRaisesRegex(UserError, "only be issued for a closed job"):
            self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "job_id": self.job.id,
                    "job_invoice_policy": "final",
                }
            )

    def test_one_complete_invoice(self):
        self.job.action_close()
        final = self._invoice(self.job, "final")
        with self.assertRaisesRegex(UserError, "already has a complete invoice"):
            self._invoice(self.job, "final_grouped")
        with self.assertRaisesRegex(UserError, "has a complete \\(final\\) invoice"):
            self.job.action_reopen()
        final.button_cancel()
        self.job.action_reopen()
        self.assertEqual(self.job.state, "open")

    def test_billed_job_takes_only_corrections(self):
        self.job.action_close()
        final = self._invoice(self.job, "final", post=True)
        self.assertEqual(self.job.state, "billed")
        for policy in ("deposit", "progress_summary", "progress_itemized", "final"):
            with self.assertRaisesRegex(UserError, "takes only correction invoices"):
                self._invoice(self.job, policy, percent=10.0, amount=10.0)
        self._invoice(self.job, "correction", amount=-10.0, reason="Goodwill")
        # resetting the final invoice to draft re-opens billing
        final.button_draft()
        self.assertEqual(self.job.state, "closed")
        self.assertEqual(final.job_workflow_state, "invoiced")
        final.action_post()
        self.assertEqual(self.job.state, "billed")

    def test_no_final_while_partial_drafts_are_pending(self):
        """A draft deposit the final invoice would net out could never be
        posted afterwards: the final waits for the drafts."""
        deposit = self._invoice(self.job, "deposit", amount=100.0)
        self.job.action_close()
        with self.assertRefused("draft partial invoices"):
            self._invoice(self.job, "final")
        deposit.action_post()
        final = self._invoice(self.job, "final", post=True)
        self.assertMoney(final, 950.0, 142.5, 1092.5)
        self.assertAlmostEqual(self.job.deposit_balance, 0.0, places=2)
        self.assertBilled(self.job, 1050.0, 1207.5)
        # once the final (even in draft) bills everything, no partial fits
        final.button_draft()
        self.assertEqual(self.job.state, "closed")
        with self.assertRefused("Nothing to bill"):
            self._invoice(self.job, "progress_summary", percent=10.0)
        with self.assertRefused("more than the job price"):
            deposit.copy()
        final.action_post()
        self.assertEqual(self.job.state, "billed")

    def test_wrong_amounts_are_refused(self):
        with self.assertRaisesRegex(UserError, "positive amount or percent"):
            self._invoice(self.job, "deposit")
        with self.assertRaisesRegex(UserError, "would exceed what remains"):
            self._invoice(self.job, "deposit", amount=1050.01)
        with self.assertRaisesRegex(UserError, "cannot be billed, 10.0 remain"):
            self._invoice(
                self.job, "progress_itemized", quantities={self.installer: 11}
            )
        with self.assertRaisesRegex(UserError, "Enter the quantities done"):
            self._invoice(self.job, "progress_itemized", quantities={})
        self._invoice(self.job, "progress_summary", percent=50.0)
        with self.assertRaisesRegex(UserError, "Nothing to bill"):
            self._invoice(self.job, "progress_summary", percent=40.0)
        with self.assertRaisesRegex(UserError, "between 0 and 100"):
            self._invoice(self.job, "progress_summary", percent=120.0)
        with self.assertRaisesRegex(UserError, "reason of the correction"):
            self._invoice(self.job, "correction", amount=-10.0)
        with self.assertRaisesRegex(UserError, "quantities or the amount"):
            self._invoice(self.job, "correction", reason="Nothing")

    def test_progress_summary_less_what_progress_billed(self):
        first = self._invoice(self.job, "progress_summary", percent=25.0)
        self.assertMoney(first, 262.5, 39.38, 301.88)
        second = self._invoice(
            self.job, "progress_itemized", quantities={self.installer: 2}
        )
        self.assertMoney(second, 160.0, 24.0, 184.0)
        # 60 % of 1,050.00 = 630.00, less 262.50 and 160.00 already billed
        third = self._invoice(self.job, "progress_summary", percent=60.0)
        self.assertMoney(third, 207.5, 31.13, 238.63)
        self.assertAlmostEqual(self.job.progress_percent, 60.0, places=2)

    def test_backdating(self):
        with self.assertRaisesRegex(UserError, "backdated by 0 day"):
            self._invoice(self.job, "deposit", amount=100.0, invoice_date="2026-03-09")
        self.company.job_invoice_backdating_days = 5
        move = self._invoice(
            self.job, "deposit", amount=100.0, invoice_date="2026-03-05"
        )
        with self.assertRaisesRegex(UserError, "backdated by 5 day"):
            move.invoice_date = "2026-03-04"
        with freeze_time("2026-03-20"), self.assertRaisesRegex(UserError, "too far"):
            move.action_post()
        move.action_post()
        self.assertEqual(move.state, "posted")

    def test_wizard_form(self):
        """The wizard as the job card opens it: default policy by job status,
        lines prefilled with what remains, preview of the untaxed amount."""
        action = self.job.action_generate_invoice()
        self.assertEqual(action["context"]["default_policy"], "progress_itemized")
        with Form(
            self.env["billing.job.invoice"].with_context(**action["context"])
        ) as wizard:
            self.assertEqual(len(wizard.line_ids), 2)
            self.assertAlmostEqual(wizard.amount_preview, 1050.0, places=2)
            with wizard.line_ids.edit(0) as line:
                line.quantity = 4
            self.assertAlmostEqual(wizard.amount_preview, 570.0, places=2)
            wizard.policy = "deposit"
            wizard.percent = 10
            self.assertAlmostEqual(wizard.amount_preview, 105.0, places=2)
        result = wizard.record.action_create_invoice()
        self.assertEqual(result["tag"], "display_notification")
        self.assertIn("has been created successfully", result["params"]["message"])
        move = self.env["account.move"].browse(result["params"]["next"]["res_id"])
        self.assertEqual(move.job_invoice_policy, "deposit")
        self.assertMoney(move, 105.0, 15.75, 120.75)
