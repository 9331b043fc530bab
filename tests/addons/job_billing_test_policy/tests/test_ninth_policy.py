from freezegun import freeze_time

from odoo.tests import Form, tagged

from odoo.addons.job_billing.tests.common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestNinthPolicy(JobBillingCommon):
    """An addon's ninth policy (a selection value with its ondelete, its
    properties and one method): offered by the wizard, typed, deducting the
    deposit in proportion, and the job still billed its price to the cent."""

    def test_a_ninth_policy_from_an_addon(self):
        job = self._create_repair_job()
        self._invoice(job, "deposit", amount=210.0, post=True)
        Wizard = self.env["billing.job.invoice"]
        self.assertIn(
            ("progress_half", "Progress, Half of What Remains"),
            Wizard.fields_get(["policy"])["policy"]["selection"],
        )
        # uninstalling the addon empties the policy of its invoices
        field = self.env["account.move"]._fields["job_invoice_policy"]
        self.assertEqual(field.ondelete["progress_half"], "set null")
        with Form(Wizard.with_context(default_job_id=job.id)) as wizard:
            wizard.policy = "progress_half"
            self.assertEqual(wizard.invoice_type, "partial")
            # 1,050.00 / 2, less 210.00 x 525.00 / 1,050.00 of deposit
            self.assertAlmostEqual(wizard.amount_preview, 420.0, places=2)
        result = wizard.record.action_create_invoice()
        move = self.env["account.move"].browse(result["params"]["next"]["res_id"])
        self.assertEqual(
            (move.job_invoice_policy, move.job_invoice_type),
            ("progress_half", "partial"),
        )
        self.assertMoney(move, 420.0, 63.0, 483.0)
        move.action_post()
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 420.0, 63.0, 483.0)
        self.assertBilled(job, 1050.0, 1207.5)
