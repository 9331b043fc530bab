import json
from datetime import date

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import InvoiceManagerCommon, PhoneWidthMixin, SchedulerWakeMixin


@tagged("post_install", "-at_install")
class TestInvoiceManagerTour(
    PhoneWidthMixin, SchedulerWakeMixin, InvoiceManagerCommon, HttpCase
):
    def test_invoice_manager_two_steps(self):
        """Pick a scenario, Next, Fetch Sales, set actions, Process Invoices."""
        self._two_steps(self.env.user)

    def test_invoice_manager_two_steps_as_a_billing_user(self):
        """The same walk as a Billing User: Invoicing's Billing level and the
        billing group, no Sales group."""
        self._two_steps(
            new_test_user(
                self.env,
                login="tour_billing_user",
                groups="invoice_manager.group_billing_user",
            )
        )

    def test_invoice_manager_two_steps_on_a_phone(self):
        """At 390 px, as a Billing User and a Billing Manager: the wizard,
        Fetch and Process from the gear menu, the lines as cards."""
        self.scenario.write(
            {"name": "Tour monthly scenario", "billing_action": "create_only"}
        )
        month = fields.Date.today().replace(day=1) - relativedelta(months=1)
        biller = new_test_user(
            self.env,
            login="phone_billing_user",
            groups="invoice_manager.group_billing_user",
        )
        self.url_open("/web/login")
        self.browser_size = "390x844"
        self.touch_enabled = True
        scenario = self.scenario
        for user in (biller, self.env.user):
            # each walk on a scenario of its own, last month still to bill
            scenario.name = f"Walked by {user.login}"
            scenario = scenario.copy({"name": "Tour monthly scenario"})
            sales = [
                self._create_sale(self.customer_alpha, month.replace(day=3)),
                self._create_sale(self.customer_beta, month.replace(day=9)),
            ]
            scheduler = self._wake_scheduler_on_trigger()
            self.start_tour(
                "/odoo/action-invoice_manager.billing_run_wizard_action",
                "invoice_manager_phone_tour",
                login=user.login,
            )
            scheduler[0].join()
            for sale in sales:
                self.assertEqual(sale.invoice_status, "invoiced")

    def _two_steps(self, user):
        self.scenario.write(
            {"name": "Tour monthly scenario", "billing_action": "email"}
        )
        month = fields.Date.today().replace(day=1) - relativedelta(months=1)
        sales = [
            self._create_sale(self.customer_alpha, month.replace(day=3)),
            self._create_sale(self.customer_beta, month.replace(day=9)),
            self._create_sale(self.customer_gamma, month.replace(day=21)),
        ]
        # One request first: Python 3.11.7's ast module can fail on a fresh
        # server's concurrent first requests (a CPython bug).
        self.url_open("/web/login")
        scheduler = self._wake_scheduler_on_trigger()
        self.start_tour("/odoo", "invoice_manager_tour", login=user.login)
        self.assertEqual(len(scheduler), 1, "Process woke the scheduler once")
        scheduler[0].join()
        run = self.env["billing.run"].search([("scenario_id", "=", self.scenario.id)])
        self.assertEqual(len(run), 1)
        self.assertEqual(run.state, "done")
        self.assertEqual(
            (run.date_from, run.date_to),
            (month, month + relativedelta(months=1, days=-1)),
        )
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        by_order = {line.sale_order_ids: line for line in run.line_ids}
        self.assertEqual(by_order[sales[0]].delivery_channel, "email")
        self.assertEqual(by_order[sales[0]].delivery_email, "billing@alpha.test")
        self.assertEqual(
            by_order[sales[1]].delivery_channel, "none", "set to Create Only"
        )
        for sale in sales:
            self.assertEqual(sale.invoice_status, "invoiced")
            self.assertAlmostEqual(sale.invoice_ids.amount_total, 115.00, places=2)


@tagged("post_install", "-at_install")
class TestBillingRunReopenTour(SchedulerWakeMixin, InvoiceManagerCommon, HttpCase):
    """In the browser: a line in error fixed after Reopen, and a second run over
    the same sales warned about the first."""

    def setUp(self):
        super().setUp()
        # One request first: Python 3.11.7's ast module can fail on a fresh
        # server's concurrent first requests (a CPython bug).
        self.url_open("/web/login")

    def test_error_line_switched_to_create_only_after_reopen(self):
        self.customer_beta.email = False
        beta = self._create_sale(self.customer_beta, date(2026, 10, 4))
        alpha = self._create_sale(self.customer_alpha, date(2026, 10, 3))
        run = self._new_run(billing_action="email")
        run.action_fetch()
        run.action_process(force_synchronous=True)
        self.assertEqual(self._line_of(run, beta).state, "error")
        scheduler = self._wake_scheduler_on_trigger()
        self.start_tour(
            f"/odoo/billing.run/{run.id}",
            "billing_run_reopen_tour",
            login=self.env.user.login,
        )
        scheduler[0].join()
        line = self._line_of(run, beta)
        self.assertEqual((run.state, line.state), ("done", "processed"))
        self.assertEqual(line.billing_action, "create_only")
        self.assertAlmostEqual(beta.invoice_ids.amount_total, 115.00, places=2)
        self.assertEqual(len(alpha.invoice_ids), 1, "not invoiced again")

    def test_second_run_over_the_same_sales_warns(self):
        self._create_sale(self.customer_gamma, date(2026, 10, 5))
        first = self._new_run()
        first.action_fetch()
        second = self._new_run()
        second.action_fetch()
        self.assertEqual(second.overlapping_run_ids, first)
        self.start_tour(
            f"/odoo/billing.run/{second.id}",
            "billing_run_overlap_tour",
            login=self.env.user.login,
        )

    def test_synchronous_processing_in_a_request_is_for_small_runs(self):
        for customer, day in (
            (self.customer_alpha, 3),
            (self.customer_beta, 4),
            (self.customer_gamma, 5),
        ):
            self._create_sale(customer, date(2026, 10, day))
        run = self._new_run()
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 3)
        self.authenticate(self.env.user.login, self.env.user.login)
        params = {
            "model": "billing.run",
            "method": "action_process",
            "args": [run.ids],
            "kwargs": {"force_synchronous": True},
        }
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.sync_request_limit", 2
        )
        error = self._call_kw(params)["error"]["data"]
        self.assertEqual(error["name"], "odoo.exceptions.UserError")
        self.assertIn("3 lines are too many", error["message"])
        self.assertEqual(run.state, "ready", "left as it was")
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.sync_request_limit", 3
        )
        self.assertIs(self._call_kw(params)["result"], True)
        run.invalidate_recordset()
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.invoice_ids), 3)

    def _call_kw(self, params):
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "params": params}),
            headers={"Content-Type": "application/json"},
        )
        return response.json()
