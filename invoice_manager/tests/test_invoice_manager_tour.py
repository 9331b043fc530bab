import threading
from unittest.mock import patch

from dateutil.relativedelta import relativedelta

from odoo import api, fields
from odoo.tests import HttpCase, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestInvoiceManagerTour(InvoiceManagerCommon, HttpCase):
    def test_invoice_manager_two_steps(self):
        """Pick a scenario, Next, Fetch Sales, set actions, Process Invoices."""
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
        self.start_tour("/odoo", "invoice_manager_tour", login=self.env.user.login)
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

    def _wake_scheduler_on_trigger(self):
        """Do what Odoo's cron worker does when Process triggers the cron: a
        thread calls the cron's action in a cursor of its own (in test mode, a
        cursor on the test transaction, as the HTTP requests have), a few
        seconds later so that the form shows the run processing first."""
        cron = self.env.ref("invoice_manager.ir_cron_billing_run_process")
        IrCron = type(self.env["ir.cron"])
        trigger = IrCron._trigger
        threads = []

        def run_cron():
            with self.registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                env["billing.run"]._cron_process_runs()

        def wake(crons, at=None):
            if crons.id == cron.id and not threads:
                threads.append(threading.Timer(3, run_cron))
                threads[0].start()
            return trigger(crons, at)

        patcher = patch.object(IrCron, "_trigger", wake)
        patcher.start()
        self.addCleanup(patcher.stop)
        return threads
