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

    # ------------------------------------------------------------------
    # Replace existing invoice
    # ------------------------------------------------------------------

    def _invoiced_october(self, **scenario_values):
        self.scenario.write(scenario_values)
        order = self._create_sale(self.customer_alpha, date(2026, 10, 3))
        first = self._new_run()
        first.action_fetch()
        first.action_process(force_synchronous=True)
        # The price was wrong: 120.00, not 100.00.
        order.order_line.price_unit = 120.0
        return order, first.invoice_ids

    def _billed_net(self, partner):
        moves = self.env["account.move"].search(
            [
                ("partner_id", "=", partner.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
        )
        return sum(moves.mapped("amount_total_signed"))

    def test_cycle_invoiced_is_not_invoiced_again_without_replace(self):
        order, invoice = self._invoiced_october()
        again = self._new_run()
        again.action_fetch()
        self.assertFalse(again.line_ids)
        self.assertEqual(order.invoice_ids, invoice)

    def test_replace_regenerates_a_draft_in_place(self):
        order, draft = self._invoiced_october(auto_post=False)
        self.assertEqual((draft.state, draft.amount_total), ("draft", 115.00))
        run = self._new_run(replace_invoices=True)
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 1)
        line = run.line_ids
        self.assertEqual(line.replaced_invoice_ids, draft)
        self.assertEqual(line.amount_total, 138.00, "previewed at the new price")
        run.action_process(force_synchronous=True)
        self.assertEqual(line.state, "processed")
        self.assertEqual(line.invoice_ids, draft, "the same draft, in place")
        self.assertEqual(draft.amount_total, 138.00)
        self.assertEqual(order.invoice_ids, draft)
        self.assertEqual(order.order_line.qty_invoiced, 1.0)
        self.assertIn("Regenerated in place", draft.message_ids[0].body)

    def test_replace_reverses_a_posted_invoice_and_links_the_three(self):
        order, posted = self._invoiced_october(auto_post=True)
        self.assertEqual((posted.state, posted.amount_total), ("posted", 115.00))
        run = self._new_run(replace_invoices=True)
        run.action_fetch()
        self.assertEqual(run.line_ids.replaced_invoice_ids, posted)
        summary = (
            self.env["billing.run.process.wizard"].create({"run_id": run.id}).summary
        )
        self.assertIn("Invoices credited and replaced: 1", summary)
        run.action_process(force_synchronous=True)
        new = run.line_ids.invoice_ids
        credit_note = posted.reversal_move_ids
        self.assertEqual(len(new), 1)
        self.assertNotEqual(new, posted)
        self.assertEqual(new.amount_total, 138.00)
        self.assertEqual(new.state, "posted")
        self.assertEqual(credit_note.move_type, "out_refund")
        self.assertEqual(credit_note.amount_total, 115.00)
        self.assertEqual(posted.payment_state, "reversed")
        self.assertEqual(posted.billing_replaced_by_id, new)
        # Billed net: 115.00 - 115.00 + 138.00.
        self.assertEqual(self._billed_net(self.customer_alpha), 138.00)
        self.assertEqual(order.order_line.qty_invoiced, 1.0)
        self.assertIn(new.name, posted.message_ids[0].body)
        self.assertIn(posted.name, new.message_ids[0].body)
        self.assertIn(new.name, credit_note.message_ids[0].body)
        # Replacing once more replaces the new invoice, not the old one again.
        again = self._new_run(replace_invoices=True)
        again.action_fetch()
        self.assertEqual(again.line_ids.replaced_invoice_ids, new)
