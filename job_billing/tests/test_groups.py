from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
class TestJobBillingGroups(JobBillingCommon):
    """The Job Billing groups grant Invoicing's Billing level and the reading
    of the jobs' sale orders; not Sales "All Documents" nor bookkeeping."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(
            cls.env, login="jb_seller", groups="sales_team.group_sale_salesman"
        )
        cls.job_biller = new_test_user(
            cls.env,
            login="jb_selling_biller",
            groups="job_billing.group_job_billing_user,sales_team.group_sale_salesman",
        )
        cls.order = cls._create_sale(
            cls.customer,
            [(cls.product_boiler, 2, 1200.0), (cls.product_installer, 4, 80.0)],
        )
        cls.order.user_id = cls.seller

    def test_job_biller_gets_billing_rights_only(self):
        for group in (
            "sales_team.group_sale_salesman_all_leads",
            "account.group_account_user",
            "account.group_account_manager",
        ):
            self.assertFalse(self.job_biller.has_group(group), group)
        env = self.env(user=self.job_biller)
        with self.assertRaises(AccessError):
            env["sale.order"].browse(self.order.id).write({"client_order_ref": "x"})
        with self.assertRaises(AccessError):
            env["sale.order"].browse(self.order.id).unlink()

    def test_job_biller_bills_a_colleagues_sale_order(self):
        env = self.env(user=self.job_biller)
        job = env["billing.job"].create(
            {"partner_id": self.customer.id, "sale_order_ids": [(6, 0, self.order.ids)]}
        )
        self.assertEqual(sorted(job.invoiceable_ids.mapped("amount")), [320.0, 2400.0])
        job.action_close()
        wizard = env["billing.job.invoice"].create(
            {"job_id": job.id, "policy": "final"}
        )
        move = wizard._create_invoice()
        move.action_post()
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_untaxed, 2720.0)
        self.assertEqual(
            move.sudo().invoice_line_ids.sale_line_ids.order_id, self.order
        )
        self.assertEqual(self.order.invoice_status, "invoiced")
