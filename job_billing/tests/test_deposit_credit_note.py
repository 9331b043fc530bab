from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestDepositCreditNote(JobBillingCommon):
    """A deposit partly deducted can be credited for what is left of it:
    Odoo's Credit Note makes a full reversal draft, which the accountant edits
    down before posting it; the job's figures judge it when it is posted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls.env["res.users"].create(
            {
                "name": "Job accountant",
                "login": "jb_deposit_credit_accountant",
                "email": "accountant@example.com",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [
                    Command.set(cls.env.ref("job_billing.group_job_billing_user").ids)
                ],
            }
        )
        # fixed price 10,000.00, every item at 15 %
        cls.job = cls._create_heat_pump_job()

    def _deposit_half_deducted(self):
        """A 2,000.00 deposit, 1,000.00 of it deducted by a progress invoice
        of 50 %."""
        deposit = self._invoice(self.job, "deposit", amount=2000.0, post=True)
        progress = self._invoice(self.job, "progress_summary", percent=50.0, post=True)
        self.assertMoney(progress, 4000.0, 600.0, 4600.0)
        self.assertAlmostEqual(self.job.deposit_balance, 1000.0, places=2)
        return deposit

    def test_credit_what_is_left_of_a_deducted_deposit(self):
        job = self.job
        deposit = self._deposit_half_deducted()
        credit = self._reverse(deposit, user=self.accountant)
        self.assertEqual(
            (credit.move_type, credit.state, credit.job_id),
            ("out_refund", "draft", job),
        )
        self.assertMoney(credit, 2000.0, 300.0, 2300.0)
        # the accountant edits it down to what is left, and posts it
        credit.invoice_line_ids.with_user(self.accountant).price_unit = 1000.0
        credit.with_user(self.accountant).action_post()
        self.assertEqual(credit.state, "posted")
        self.assertMoney(credit, 1000.0, 150.0, 1150.0)
        self.assertAlmostEqual(job.deposit_invoiced, 1000.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertFalse(final.job_deposit_deducted)
        self.assertMoney(final, 5000.0, 750.0, 5750.0)
        self.assertEqual(job.state, "billed")
        # 2,000.00 + 4,000.00 - 1,000.00 + 5,000.00
        self.assertBilled(job, 10000.0, 11500.0)

    def test_full_credit_of_a_deducted_deposit_is_refused_when_posted(self):
        job = self.job
        deposit = self._deposit_half_deducted()
        credit = self._reverse(deposit, user=self.accountant)
        with self.assertRefused(
            r"Credit note .* credits \$\xa02,000\.00 of the deposits of job .*, but "
            r"only \$\xa01,000\.00 of them is not yet deducted .* already deducted "
            r".* Edit the credit note down to \$\xa01,000\.00 at most"
        ):
            credit.with_user(self.accountant).action_post()
        self.assertEqual(credit.state, "draft")
        # a little too much is refused as well
        credit.invoice_line_ids.price_unit = 1000.01
        with self.assertRefused(r"down to \$\xa01,000\.00 at most"):
            credit.with_user(self.accountant).action_post()
        # Reverse and create new draft posts its credit note at once: refused
        with self.assertRefused("already deducted"):
            self._reverse(deposit, modify=True, user=self.accountant)
        self.assertEqual(job.invoice_ids.mapped("state").count("posted"), 2)
        # the draft can still be deleted; the deposit stays as it was
        credit.with_user(self.accountant).unlink()
        self.assertAlmostEqual(job.deposit_balance, 1000.0, places=2)

    def test_draft_credit_note_still_counts(self):
        """While in draft, the credit note counts in the job's figures as
        drafts do; the final invoice waits for it (a draft partial)."""
        job = self.job
        deposit = self._deposit_half_deducted()
        credit = self._reverse(deposit)
        self.assertAlmostEqual(job.deposit_invoiced, 0.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, -1000.0, places=2)
        credit.invoice_line_ids.price_unit = 400.0
        self.assertAlmostEqual(job.deposit_balance, 600.0, places=2)
        job.action_close()
        with self.assertRefused("draft partial invoices"):
            self._invoice(job, "final")
        credit.action_post()
        final = self._invoice(job, "final", post=True)
        # 5,000.00 left, less the 600.00 of deposit left
        self.assertMoney(final, 4400.0, 660.0, 5060.0)
        self.assertBilled(job, 10000.0, 11500.0)
