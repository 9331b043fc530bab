from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingGroups(InvoiceManagerCommon):
    """The Billing groups grant what billing needs: reading every sale of the
    allowed companies, creating, posting and sending their invoices through
    the run. Not Sales "All Documents", not the bookkeeping groups: the
    salesperson rules of Odoo still hold for what the user writes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seller = new_test_user(
            cls.env, login="seller_g", groups="sales_team.group_sale_salesman"
        )
        cls.biller = new_test_user(
            cls.env, login="biller_g", groups="invoice_manager.group_billing_user"
        )
        cls.selling_biller = new_test_user(
            cls.env,
            login="selling_biller_g",
            groups="invoice_manager.group_billing_user,sales_team.group_sale_salesman",
        )
        cls.sale_of_seller = cls._create_sale(
            cls.customer_alpha, date(2026, 10, 3), user_id=cls.seller.id
        )
        cls.sale_of_biller = cls._create_sale(
            cls.customer_beta,
            date(2026, 10, 5),
            [(cls.product_service, 2.0, 100.0)],
            user_id=cls.selling_biller.id,
        )

    def test_billing_user_gets_billing_rights_only(self):
        for user in (self.biller, self.selling_biller):
            self.assertTrue(user.has_group("account.group_account_invoice"))
            self.assertFalse(user.has_group("sales_team.group_sale_salesman_all_leads"))
            self.assertFalse(user.has_group("account.group_account_user"))
            self.assertFalse(user.has_group("account.group_account_manager"))
        env = self.env(user=self.biller)
        with self.assertRaises(AccessError):
            env["sale.order"].create({"partner_id": self.customer_alpha.id})
        with self.assertRaises(AccessError):
            env["sale.order"].browse(self.sale_of_seller.id).unlink()
        with self.assertRaises(AccessError):
            env["account.journal"].browse(
                self.company_data["default_journal_sale"].id
            ).write({"name": "Renamed"})

    def test_billing_user_who_sells_own_documents_bills_every_sale(self):
        env = self.env(user=self.selling_biller)
        # Odoo's "Own Documents Only" rule still holds for what they write...
        colleague_sale = env["sale.order"].browse(self.sale_of_seller.id)
        with self.assertRaises(AccessError):
            colleague_sale.write({"client_order_ref": "mine now"})
        # ...while the run reads, invoices and posts every sale of the period.
        self.scenario.billing_action = "email"
        run = env["billing.run"].create({"scenario_id": self.scenario.id})
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        run.action_fetch()
        self.assertEqual(
            run.line_ids.sale_order_ids.sudo(),
            self.sale_of_seller | self.sale_of_biller,
        )
        self.assertEqual(colleague_sale.amount_total, 115.0)
        run.action_process(force_synchronous=True)
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        invoices = run.invoice_ids.sudo()
        self.assertEqual(invoices.mapped("state"), ["posted", "posted"])
        self.assertTrue(all(invoices.mapped("is_move_sent")))
        self.assertEqual(sorted(invoices.mapped("amount_total")), [115.0, 230.0])
        self.assertEqual(
            (self.sale_of_seller | self.sale_of_biller).mapped("invoice_status"),
            ["invoiced", "invoiced"],
        )

    def test_colleagues_sale_with_a_down_payment_is_billed_net(self):
        """Posting the final invoice updates the sale's down payment line
        (Odoo's own action_post): a billing user who sells with "Own
        Documents Only" bills a colleague's sale with a down payment too."""
        self._down_payment(
            self.sale_of_seller, advance_payment_method="percentage", amount=30
        )
        env = self.env(user=self.selling_biller)
        run = env["billing.run"].create({"scenario_id": self.scenario.id})
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        run.action_fetch()
        run.action_process(force_synchronous=True)
        line = run.line_ids.filtered(
            lambda line: line.sudo().sale_order_ids == self.sale_of_seller
        )
        self.assertEqual(line.state, "processed", line.error_message)
        final = line.invoice_ids.sudo()
        self.assertEqual(final.state, "posted")
        # 100.00 + 15 % tax, less the down payment's 30 %: 80.50
        self.assertAlmostEqual(final.amount_total, 80.50, places=2)
        self.assertAlmostEqual(
            sum(self.sale_of_seller.invoice_ids.mapped("amount_total")), 115.0, 2
        )
        self.assertEqual(self.sale_of_seller.invoice_status, "invoiced")

    def test_billing_user_alone_bills_without_sales_access(self):
        """Without any Sales group, the user reads the sales (Invoicing's
        access to them) and bills them through the run."""
        self.scenario.billing_action = "email"
        env = self.env(user=self.biller)
        run = env["billing.run"].create({"scenario_id": self.scenario.id})
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 2)
        run.action_process(force_synchronous=True)
        self.assertEqual(
            sorted(run.invoice_ids.sudo().mapped("amount_residual")), [115.0, 230.0]
        )

    def test_approver_who_sells_own_documents_approves_a_colleagues_sale(self):
        approver = new_test_user(
            self.env,
            login="selling_approver_g",
            groups="invoice_manager.group_billing_approver,"
            "sales_team.group_sale_salesman",
        )
        self.sale_of_seller.action_unapprove_for_invoicing()
        sale = self.sale_of_seller.with_user(approver)
        sale.action_approve_for_invoicing()
        self.assertTrue(self.sale_of_seller.approved_for_invoicing)
        self.assertEqual(self.sale_of_seller.approved_for_invoicing_uid, approver)
        with self.assertRaises(AccessError):
            sale.write({"client_order_ref": "not theirs to edit"})

    def test_manager_configures_scenarios_without_more_sales_rights(self):
        manager = new_test_user(
            self.env,
            login="billing_manager_g",
            groups="invoice_manager.group_billing_manager",
        )
        self.assertFalse(manager.has_group("sales_team.group_sale_salesman_all_leads"))
        env = self.env(user=manager)
        scenario = env["billing.scenario"].create({"name": "Weekly by manager"})
        self.assertEqual(scenario.company_id, self.env.company)
        env["sale.order"].browse(
            self.sale_of_seller.id
        ).action_unapprove_for_invoicing()
        self.assertFalse(self.sale_of_seller.approved_for_invoicing)
