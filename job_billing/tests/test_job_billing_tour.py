from odoo.tests import HttpCase, new_test_user, tagged

from .common import JobBillingCommon, PhoneWidthMixin


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


@tagged("post_install", "-at_install")
class TestJobBillingScreensTour(PhoneWidthMixin, JobBillingCommon, HttpCase):
    """The accountant's review in the browser: a job with a 30 % deposit and
    40 % of progress posted, and its final invoice of 4,200.00 in draft."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.job = cls._create_heat_pump_job()
        cls.job.partner_id.name = "Tour Heating Customer"
        cls.job_users = [
            new_test_user(cls.env, login=login, groups=group)
            for login, group in (
                ("screens_job_user", "job_billing.group_job_billing_user"),
                ("screens_job_manager", "job_billing.group_job_billing_manager"),
            )
        ]

    def setUp(self):
        super().setUp()
        self._invoice(self.job, "deposit", percent=30.0, post=True)
        self._invoice(self.job, "progress_summary", percent=40.0, post=True)
        self.job.action_close()
        self.final = self._invoice(self.job, "final")

    def test_job_screens_tour(self):
        """Posted and draft amounts apart, the job invoices listed as Odoo
        lists invoices, with their totals."""
        self.assertAlmostEqual(self.final.amount_untaxed, 4200.0, places=2)
        for user in self.job_users:  # a Job Billing User and Manager
            self.start_tour(
                f"/odoo/action-job_billing.action_billing_job/{self.job.id}",
                "job_billing_screens_tour",
                login=user.login,
            )

    def test_job_phone_tour(self):
        """At a phone's width the jobs are cards, and neither the cards nor
        the job card scroll sideways."""
        self.browser_size = "390x844"
        self.touch_enabled = True
        for user in self.job_users:  # a Job Billing User and Manager
            self.start_tour(
                "/odoo/action-job_billing.action_billing_job",
                "job_billing_mobile_tour",
                login=user.login,
            )
