from odoo.tests import HttpCase, tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
class TestJobBillingTour(JobBillingCommon, HttpCase):
    def test_job_billing_tour(self):
        """Open the job from the menu, Generate Invoice, confirm, pick the
        Deposit policy for 30 %, create it: the invoice opens."""
        job = self._create_job(
            charges=[
                ("labour", self.product_installer, 20, 150.0),
                ("materials", self.product_pipe, 10, 50.0),
            ],
            billing_type="fixed_price",
            fixed_price=10000.0,
            description="Tour heat pump installation",
        )
        job.partner_id.name = "Tour Heating Customer"
        self.start_tour("/odoo", "job_billing_tour", login=self.env.user.login)
        self.assertEqual(len(job.invoice_ids), 1)
        deposit = job.invoice_ids
        self.assertEqual(deposit.job_invoice_policy, "deposit")
        self.assertEqual(deposit.job_workflow_state, "invoiced")
        self.assertMoney(deposit, 3000.0, 450.0, 3450.0)
        self.assertEqual(job.invoicing_stage, "active")
