from datetime import date

from freezegun import freeze_time

from odoo.tests import Form, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingCycles(InvoiceManagerCommon):
    """Billing cycles: the Invoice Manager opened from selected customers or sales,
    preloaded with their next un-invoiced cycle; post-invoicing tasks off."""

    def _wizard(self, model, records):
        context = {"active_model": model, "active_ids": records.ids}
        with Form(self.env["billing.run.wizard"].with_context(**context)) as wizard:
            wizard.scenario_id = self.scenario
        return wizard.record

    @freeze_time("2026-11-05 10:00")
    def test_from_customers_preloaded_with_their_next_cycle(self):
        # October was invoiced for Alpha; a September sale of Beta was left
        # behind (approved late): Beta's next cycle is September.
        self._create_sale(self.customer_alpha, date(2026, 10, 3))
        left_behind = self._create_sale(self.customer_beta, date(2026, 9, 14))
        self._create_sale(self.customer_gamma, date(2026, 10, 20))

        wizard = self._wizard("res.partner", self.customer_alpha)
        self.assertEqual(wizard.partner_ids, self.customer_alpha)
        self.assertEqual(
            (wizard.date_from, wizard.date_to), (date(2026, 10, 1), date(2026, 10, 31))
        )
        wizard = self._wizard("res.partner", self.customer_beta | self.customer_alpha)
        self.assertEqual(
            (wizard.date_from, wizard.date_to), (date(2026, 9, 1), date(2026, 9, 30))
        )
        action = wizard.action_next()
        run = self.env["billing.run"].browse(action["res_id"])
        self.assertEqual(run.partner_ids, self.customer_beta | self.customer_alpha)
        self.assertEqual(run.date_from, date(2026, 9, 1))
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, left_behind)
        run.action_process(force_synchronous=True)
        self.assertEqual(left_behind.invoice_ids.amount_total, 115.00)

    @freeze_time("2026-11-05 10:00")
    def test_from_sales_only_those_sales(self):
        first = self._create_sale(self.customer_alpha, date(2026, 10, 3))
        self._create_sale(self.customer_alpha, date(2026, 10, 4))
        wizard = self._wizard("sale.order", first)
        self.assertEqual(wizard.sale_order_ids, first)
        run = self.env["billing.run"].browse(wizard.action_next()["res_id"])
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, first)

    def test_post_invoicing_tasks_off_only_creates(self):
        self.customer_alpha.email = False
        order = self._create_sale(self.customer_alpha, date(2026, 10, 3))
        run = self._new_run(billing_action="email", post_invoicing_tasks=False)
        run.action_fetch()
        self.assertEqual(run.line_ids.billing_action, "email")
        run.action_process(force_synchronous=True)
        line = run.line_ids
        self.assertEqual(line.state, "processed", "no email needed: none is sent")
        self.assertEqual(line.delivery_channel, "none")
        self.assertEqual(order.invoice_ids.state, "posted")
        self.assertFalse(order.invoice_ids.is_move_sent)
        self.assertFalse(
            self.env["mail.mail"].search(
                [("model", "=", "account.move"), ("res_id", "=", order.invoice_ids.id)]
            )
        )
