from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import Form, tagged

from odoo.addons.job_billing.models.job_invoice_policy import (
    POLICIES,
    JobInvoicePolicy,
)
from odoo.addons.job_billing.wizards.billing_job_invoice import BillingJobInvoice

from .common import JobBillingCommon


def _prepare_progress_half_lines(self):
    """Half of what remains to bill, on one summary line."""
    amount = self.currency_id.round(self.job_id.amount_to_invoice / 2)
    product = self.company_id._get_job_progress_product()
    return self._prepare_summary_lines("progress", "Half", amount, product)


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestPolicyTable(JobBillingCommon):
    """Each policy is one declaration in ``job_invoice_policy.POLICIES``: a
    ninth policy is one entry and one ``_prepare_<builder>_lines`` method."""

    def setUp(self):
        super().setUp()
        policy = JobInvoicePolicy(
            "progress_half",
            "Progress, Half of What Remains",
            "partial",
            "progress_half",
            deposit="proportional",
        )
        self.startPatcher(patch.dict(POLICIES, {policy.key: policy}))
        self.startPatcher(
            patch.object(
                BillingJobInvoice,
                "_prepare_progress_half_lines",
                _prepare_progress_half_lines,
                create=True,
            )
        )

    def test_a_ninth_policy(self):
        job = self._create_repair_job()
        self._invoice(job, "deposit", amount=210.0, post=True)
        Wizard = self.env["billing.job.invoice"]
        self.assertIn(
            ("progress_half", "Progress, Half of What Remains"),
            Wizard.fields_get(["policy"])["policy"]["selection"],
        )
        with Form(Wizard.with_context(default_job_id=job.id)) as wizard:
            wizard.policy = "progress_half"
            self.assertFalse(wizard.policy_itemized)
            self.assertFalse(wizard.policy_uses_percent)
            self.assertEqual(wizard.invoice_type, "partial")
            # 1,050.00 / 2, less 210.00 x 525.00 / 1,050.00 of deposit
            self.assertAlmostEqual(wizard.amount_preview, 420.0, places=2)
        result = wizard.record.action_create_invoice()
        move = self.env["account.move"].browse(result["params"]["next"]["res_id"])
        self.assertEqual(
            (move.job_invoice_policy, move.job_invoice_type),
            ("progress_half", "partial"),
        )
        self.assertEqual(move._get_job_policy_label(), "Progress, Half of What Remains")
        self.assertMoney(move, 420.0, 63.0, 483.0)
        move.action_post()
        self.assertAlmostEqual(job.amount_invoiced, 525.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 105.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 420.0, 63.0, 483.0)
        self.assertBilled(job, 1050.0, 1207.5)
