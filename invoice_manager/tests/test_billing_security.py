from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingSecurity(InvoiceManagerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.setup_other_company(name="Billing Co B")["company"]
        cls.sale_a = cls._create_sale(cls.customer_alpha, date(2026, 10, 3))
        product_b = cls.product_service.with_company(cls.company_b)
        cls.sale_b = cls._create_sale(
            cls.customer_alpha,
            date(2026, 10, 3),
            [(product_b, 1.0, 100.0)],
            company_id=cls.company_b.id,
        )
        cls.scenario_b = cls.env["billing.scenario"].create(
            {"name": "Company B monthly", "company_id": cls.company_b.id}
        )
        cls.billing_user_a = new_test_user(
            cls.env,
            login="biller_a",
            groups="invoice_manager.group_billing_user",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )
        cls.salesman = new_test_user(
            cls.env,
            login="salesman_a",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_a.id,
            company_ids=[Command.set(cls.company_a.ids)],
        )

    def test_billing_user_runs_own_company_scenarios_only(self):
        env = self.env(user=self.billing_user_a)
        scenarios = env["billing.scenario"].search([])
        self.assertIn(self.scenario, scenarios.sudo())
        self.assertNotIn(self.scenario_b, scenarios.sudo())
        with self.assertRaises(AccessError):
            env["billing.scenario"].browse(self.scenario_b.id).read(["name"])

        run = env["billing.run"].create({"scenario_id": self.scenario.id})
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids.sudo(), self.sale_a)
        run.action_process(force_synchronous=True)
        self.assertEqual(run.line_ids.state, "processed")
        self.assertEqual(run.invoice_ids.sudo().company_id, self.company_a)
        self.assertFalse(self.sale_b.invoice_ids)

    def test_billing_user_cannot_configure_scenarios(self):
        env = self.env(user=self.billing_user_a)
        with self.assertRaises(AccessError):
            env["billing.scenario"].create({"name": "Mine"})
        with self.assertRaises(AccessError):
            env["billing.scenario"].browse(self.scenario.id).write({"name": "Renamed"})

    def test_runs_of_another_company_are_hidden(self):
        run_b = (
            self.env["billing.run"]
            .with_company(self.company_b)
            .create({"scenario_id": self.scenario_b.id})
        )
        self.assertEqual(run_b.company_id, self.company_b)
        env = self.env(user=self.billing_user_a)
        self.assertNotIn(run_b.id, env["billing.run"].search([]).ids)
        with self.assertRaises(AccessError):
            env["billing.run"].browse(run_b.id).read(["name"])

    def test_users_without_billing_group_cannot_run_scenarios(self):
        env = self.env(user=self.salesman)
        with self.assertRaises(AccessError):
            env["billing.run"].create({"scenario_id": self.scenario.id})
        with self.assertRaises(AccessError):
            env["billing.scenario"].search([])

    def test_company_b_run_invoices_in_company_b(self):
        run = (
            self.env["billing.run"]
            .with_company(self.company_b)
            .create({"scenario_id": self.scenario_b.id})
        )
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        run.with_context(
            allowed_company_ids=[self.company_a.id, self.company_b.id]
        ).action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_b)
        run.with_context(
            allowed_company_ids=[self.company_a.id, self.company_b.id]
        ).action_process(force_synchronous=True)
        invoice = run.invoice_ids
        self.assertEqual(invoice.company_id, self.company_b)
        self.assertEqual(invoice.journal_id.company_id, self.company_b)
        self.assertAlmostEqual(invoice.amount_total, 115.00, places=2)

    def test_user_of_two_companies_working_in_a_processes_b_by_the_scheduler(self):
        """A Billing User allowed in A and B, working in A, processes a run of
        B: the scheduler invoices it in B (115.00), and the run's progress
        goes to B's Billing Users only."""
        biller = new_test_user(
            self.env,
            login="biller_ab",
            groups="invoice_manager.group_billing_user",
            company_id=self.company_a.id,
            company_ids=[Command.set((self.company_a | self.company_b).ids)],
        )
        run = (
            self.env["billing.run"]
            .with_user(biller)
            .with_context(allowed_company_ids=[self.company_a.id, self.company_b.id])
            .create({"scenario_id": self.scenario_b.id})
        )
        run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
        run.action_fetch()
        run.line_ids.billing_action = "create_only"
        run.action_process()
        self.assertEqual(run.process_uid, biller)
        self.assertIn(biller, run._get_progress_listeners())
        self.assertNotIn(self.billing_user_a, run._get_progress_listeners())
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        invoice = run.invoice_ids
        self.assertEqual(invoice.company_id, self.company_b)
        self.assertAlmostEqual(invoice.amount_total, 115.00, places=2)
        self.assertEqual(self.sale_b.invoice_ids, invoice, "invoiced once")
