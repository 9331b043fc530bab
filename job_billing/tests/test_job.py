from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
class TestJob(JobBillingCommon):
    def test_number_and_invoiceables(self):
        job = self._create_job(
            charges=[("labour", self.product_installer, 3, 80.0)],
        )
        self.assertTrue(job.name.startswith("JOB/"))
        self.assertEqual(job.state, "open")
        self.assertAlmostEqual(job.suggested_price, 240.0, places=2)
        self.assertEqual(job.invoicing_stage, "new")

    def test_order_items_follow_the_sale_order(self):
        order = self._create_sale(
            self.customer,
            [(self.product_boiler, 2, 1200.0), (self.product_installer, 4, 80.0)],
        )
        job = self._create_job(orders=order)
        self.assertEqual(
            sorted(
                job.invoiceable_ids.mapped(lambda i: (i.name, i.quantity, i.amount))
            ),
            [("Condensing boiler", 2.0, 2400.0), ("Installer hours", 4.0, 320.0)],
        )
        self.assertEqual(set(job.invoiceable_ids.mapped("source")), {"order_item"})
        order.order_line[0].product_uom_qty = 3
        job.action_update_order_items()
        self.assertAlmostEqual(job.suggested_price, 3920.0, places=2)
        job.sale_order_ids = [Command.clear()]
        self.assertFalse(job.invoiceable_ids)

    def test_charge_needs_a_category(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self._create_job(
                charges=[(False, self.product_installer, 1, 80.0)],
            )

    def test_close_and_reopen(self):
        job = self._create_job(charges=[("labour", self.product_installer, 3, 80.0)])
        with self.assertRaisesRegex(UserError, "Only a closed job can be reopened"):
            job.action_reopen()
        job.action_close()
        self.assertEqual(job.state, "closed")
        with self.assertRaisesRegex(UserError, "Only an open job can be closed"):
            job.action_close()
        job.action_reopen()
        self.assertEqual(job.state, "open")

    def test_job_with_invoices_cannot_be_deleted(self):
        job = self._create_job(charges=[("labour", self.product_installer, 3, 80.0)])
        other = self._create_job(charges=[("labour", self.product_installer, 1, 80.0)])
        other.unlink()
        self._invoice(job, "deposit", amount=100.0)
        with self.assertRaisesRegex(UserError, "a job with any invoice cannot be"):
            job.unlink()

    def test_invoiced_item_cannot_be_deleted_or_reduced(self):
        job = self._create_job(charges=[("labour", self.product_installer, 3, 80.0)])
        item = job.invoiceable_ids
        self._invoice(job, "progress_itemized", quantities={item: 2})
        with self.assertRaisesRegex(UserError, "already invoiced"):
            item.unlink()
        with self.assertRaises(ValidationError):
            item.quantity = 1
        item.quantity = 5
        self.assertEqual(item.qty_to_invoice, 3.0)

    def test_billed_job_is_frozen(self):
        job = self._create_job(charges=[("labour", self.product_installer, 3, 80.0)])
        job.action_close()
        self._invoice(job, "final", post=True)
        self.assertEqual(job.state, "billed")
        with self.assertRaisesRegex(UserError, "billed: it can no longer be modified"):
            job.description = "Changed"
        with self.assertRaisesRegex(UserError, "billed"):
            job.invoiceable_ids.price_unit = 90.0
        with self.assertRaisesRegex(UserError, "billed"):
            job.invoiceable_ids = [
                Command.create(
                    {
                        "charge_category": "other",
                        "product_id": self.product_travel.id,
                    }
                )
            ]
        with self.assertRaisesRegex(UserError, "billed"):
            job.unlink()
        with self.assertRaisesRegex(UserError, "Only a closed job can be reopened"):
            job.action_reopen()

    def test_company_rule(self):
        job = self._create_job(charges=[("labour", self.product_installer, 3, 80.0)])
        other_company = self.env["res.company"].create({"name": "Other Heating Co"})
        user = self.env["res.users"].create(
            {
                "name": "Other company biller",
                "login": "jb_other_company",
                "company_id": other_company.id,
                "company_ids": [Command.set(other_company.ids)],
                "groups_id": [
                    Command.set(self.env.ref("job_billing.group_job_billing_user").ids)
                ],
            }
        )
        jobs = self.env["billing.job"].with_user(user).search([])
        self.assertNotIn(job, jobs)
        with self.assertRaises(AccessError):
            job.with_user(user).read(["name"])
