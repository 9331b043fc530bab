from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestJobMultiCompany(JobBillingCommon):
    """A job is billed in its company, whatever the company the user works
    in: its invoices take that company's journal, accounts and taxes; and a
    job is linked to nothing of another company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.company
        cls.company_b_data = cls.setup_other_company(name="Heating Company B")
        cls.company_b = cls.company_b_data["company"]
        cls.tax_b = cls.company_b_data["default_tax_sale"]
        cls.company_b.account_sale_tax_id = cls.tax_b
        cls.income_b = cls.company_b_data["default_account_revenue"]
        # each company books down payments and income to its own accounts
        cls.downpayment_a = cls.company_data["default_account_revenue"].copy(
            {"name": "Down payments A", "code": "DPA100"}
        )
        cls.downpayment_b = cls.income_b.copy(
            {"name": "Down payments B", "code": "DPB100"}
        )
        category = cls.env["product.category"].create({"name": "Heating works"})
        for company, account in (
            (cls.company_a, cls.downpayment_a),
            (cls.company_b, cls.downpayment_b),
        ):
            category.with_company(
                company
            ).property_account_downpayment_categ_id = account
        taxes = [Command.set((cls.tax_15 | cls.tax_b).ids)]
        cls.product_fitter = cls._create_product(
            name="Fitter hours", type="service", categ_id=category.id, taxes_id=taxes
        )
        cls.product_valve = cls._create_product(
            name="Valve", type="consu", categ_id=category.id, taxes_id=taxes
        )
        for product in cls.product_fitter | cls.product_valve:
            product.with_company(
                cls.company_b
            ).property_account_income_id = cls.income_b
        cls.user_ab = cls.env["res.users"].create(
            {
                "name": "Biller of A and B",
                "login": "jb_biller_a_and_b",
                "email": "biller.ab@example.com",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set((cls.company_a | cls.company_b).ids)],
                "groups_id": [
                    Command.set(cls.env.ref("job_billing.group_job_billing_user").ids)
                ],
            }
        )
        env_b = cls.env(
            context=dict(cls.env.context, allowed_company_ids=cls.company_b.ids)
        )
        cls.order_b = env_b["sale.order"].create(
            {
                "partner_id": cls.customer.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.product_fitter.id,
                            "product_uom_qty": 1,
                            "price_unit": 90.0,
                        }
                    )
                ],
            }
        )
        cls.order_b.action_confirm()
        # 90.00 ordered + 4 h x 90.00 + 2 x 70.00: 590.00
        cls.job_b = env_b["billing.job"].create(
            {
                "company_id": cls.company_b.id,
                "partner_id": cls.customer.id,
                "sale_order_ids": [Command.set(cls.order_b.ids)],
                "invoiceable_ids": [
                    Command.create(
                        {
                            "charge_category": "labour",
                            "product_id": cls.product_fitter.id,
                            "quantity": 4,
                            "price_unit": 90.0,
                        }
                    ),
                    Command.create(
                        {
                            "charge_category": "materials",
                            "product_id": cls.product_valve.id,
                            "quantity": 2,
                            "price_unit": 70.0,
                        }
                    ),
                ],
            }
        )

    def _env_of_user_ab(self):
        """The user of A and B, working in A."""
        env = self.env(
            user=self.user_ab,
            context=dict(
                self.env.context,
                allowed_company_ids=(self.company_a | self.company_b).ids,
            ),
        )
        self.assertEqual(env.company, self.company_a)
        return env

    def _invoice_as(self, env, job, policy, **values):
        wizard = env["billing.job.invoice"].create(
            {"job_id": job.id, "policy": policy, **values}
        )
        move = wizard._create_invoice()
        move.action_post()
        return move

    def assertInCompanyB(self, move):
        self.assertEqual(move.company_id, self.company_b)
        self.assertEqual(move.journal_id.company_id, self.company_b)
        self.assertEqual(move.line_ids.account_id.company_ids, self.company_b)
        self.assertEqual(move.line_ids.tax_ids | move.line_ids.tax_line_id, self.tax_b)

    def test_user_working_in_a_bills_a_job_of_b(self):
        env = self._env_of_user_ab()
        job = self.job_b.with_env(env)
        self.assertEqual(job.suggested_price, 590.0)
        deposit = self._invoice_as(env, job, "deposit", amount=200.0)
        self.assertInCompanyB(deposit)
        self.assertEqual(deposit.invoice_line_ids.account_id, self.downpayment_b)
        self.assertMoney(deposit, 200.0, 30.0, 230.0)
        job.action_close()
        final = self._invoice_as(env, job, "final_grouped")
        self.assertInCompanyB(final)
        grouped = final.invoice_line_ids.filtered(
            lambda line: line.job_line_kind == "invoiceable" and not line.product_id
        )
        self.assertEqual(len(grouped), 2)
        self.assertEqual(grouped.account_id, self.income_b)
        deduction = final.invoice_line_ids.filtered(
            lambda line: line.job_line_kind == "deposit_deduction"
        )
        self.assertEqual(deduction.account_id, self.downpayment_b)
        # 90.00 + 360.00 + 140.00 less the 200.00 deposit
        self.assertMoney(final, 390.0, 58.5, 448.5)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 590.0, 678.5)
        self.assertEqual(self.order_b.order_line.qty_invoiced, 1.0)

    def test_job_is_linked_to_nothing_of_another_company(self):
        env = self._env_of_user_ab()
        job = self.job_b.with_env(env)
        order_a = self._create_sale(self.customer, [(self.product_fitter, 1, 90.0)])
        with self.assertRefused("Incompatible companies"):
            job.write({"sale_order_ids": [Command.link(order_a.id)]})
        partner_a = self.env["res.partner"].create(
            {"name": "Customer of A only", "company_id": self.company_a.id}
        )
        with self.assertRefused("Incompatible companies"):
            job.write({"partner_id": partner_a.id})
        product_a = self._create_product(
            name="Product of A only", company_id=self.company_a.id
        )
        with self.assertRefused("Incompatible companies"):
            job.write(
                {
                    "invoiceable_ids": [
                        Command.create(
                            {"charge_category": "other", "product_id": product_a.id}
                        )
                    ]
                }
            )
        with self.assertRefused("Incompatible companies"):
            env["billing.job"].create(
                {
                    "company_id": self.company_b.id,
                    "partner_id": self.customer.id,
                    "sale_order_ids": [Command.set(order_a.ids)],
                }
            )
        # an invoice of A cannot be made an invoice of B's job
        job_a = self._create_repair_job()
        invoice_a = self._invoice(job_a, "deposit", amount=100.0)
        with self.assertRefused("Incompatible companies"):
            invoice_a.with_env(env).write({"job_id": self.job_b.id})
        self.assertEqual(job.sale_order_ids, self.order_b)
        self.assertEqual(job.partner_id, self.customer)
        self.assertEqual(invoice_a.job_id, job_a)
