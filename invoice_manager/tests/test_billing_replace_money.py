from datetime import date

from odoo import Command
from odoo.tests import Form, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingReplaceMoney(InvoiceManagerCommon):
    """Replace Existing Invoices bills what the customer owes at the corrected
    price: net of what was credited, and keeping what was paid. 10 x 100.00 +
    15 % = 1,150.00 invoiced; the price is corrected to 90.00 (103.50 with
    tax)."""

    def _invoiced_ten(self):
        self.scenario.auto_post = True
        order = self._create_sale(
            self.customer_alpha, date(2026, 10, 3), [(self.product_service, 10, 100.0)]
        )
        first = self._new_run()
        first.action_fetch()
        first.action_process(force_synchronous=True)
        invoice = first.invoice_ids
        self.assertEqual(invoice.amount_total, 1150.00)
        order.order_line.price_unit = 90.0
        return order, invoice

    def _replace(self):
        run = self._new_run(replace_invoices=True)
        run.action_fetch()
        run.action_process(force_synchronous=True)
        self.assertEqual(run.line_ids.state, "processed")
        return run, run.line_ids.invoice_ids

    def _billed_net(self):
        moves = self.env["account.move"].search(
            [
                ("partner_id", "=", self.customer_alpha.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
        )
        return sum(moves.mapped("amount_total_signed"))

    def _owed(self):
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "=", self.customer_alpha.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ]
        )
        return sum(lines.mapped("amount_residual"))

    def _pay(self, invoice, amount):
        register = self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        )
        register.create(
            {"amount": amount, "payment_date": date(2026, 11, 10)}
        )._create_payments()

    def test_replacing_a_partly_paid_invoice_keeps_the_payment(self):
        __, invoice = self._invoiced_ten()
        self._pay(invoice, 500.0)
        self.assertEqual(invoice.payment_state, "partial")
        __, new = self._replace()
        self.assertEqual(new.amount_total, 1035.00)
        self.assertEqual(self._billed_net(), 1035.00)
        # The customer owes 535.00, and the new invoice says so.
        self.assertEqual(self._owed(), 535.00)
        self.assertEqual(new.amount_residual, 535.00)
        self.assertEqual(new.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 0.0)
        credit_note = invoice.reversal_move_ids
        self.assertEqual(credit_note.amount_total, 1150.00)
        self.assertEqual(credit_note.amount_residual, 0.0)
        # The rest paid: the customer owes nothing, everything is matched.
        self._pay(new, 535.0)
        self.assertEqual(self._owed(), 0.0)
        self.assertIn(new.payment_state, ("paid", "in_payment"))

    def test_replacing_after_a_credit_note_bills_net_of_the_credit(self):
        order, invoice = self._invoiced_ten()
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "2 broken"})
        )
        credit_note = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        with Form(credit_note) as form:
            with form.invoice_line_ids.edit(0) as line:
                line.quantity = 2
        credit_note.action_post()
        self.assertEqual(credit_note.amount_total, 230.00)
        self.assertEqual(self._billed_net(), 920.00)
        __, new = self._replace()
        # 8 units at 103.50: billed net 828.00, owed 828.00.
        self.assertEqual(new.amount_total, 828.00)
        self.assertEqual(new.invoice_line_ids.quantity, 8)
        self.assertEqual(self._billed_net(), 828.00)
        self.assertEqual(self._owed(), 828.00)
        self.assertEqual(new.amount_residual, 828.00)
        self.assertEqual(order.order_line.qty_invoiced, 8)
        replacing_credit = invoice.reversal_move_ids - credit_note
        self.assertEqual(replacing_credit.amount_total, 920.00)
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_a_fully_paid_invoice_is_not_replaced(self):
        __, invoice = self._invoiced_ten()
        self._pay(invoice, 1150.0)
        run = self._new_run(replace_invoices=True)
        run.action_fetch()
        self.assertFalse(run.line_ids)
        self.assertEqual(self._billed_net(), 1150.00)

    def test_a_replacement_left_in_draft_gets_the_payment_when_posted(self):
        __, invoice = self._invoiced_ten()
        self._pay(invoice, 500.0)
        run = self._new_run(replace_invoices=True, auto_post=False)
        run.action_fetch()
        run.action_process(force_synchronous=True)
        new = run.line_ids.invoice_ids
        self.assertEqual(new.state, "draft")
        # Until it is posted the customer owes the old invoice's rest, 650.00,
        # less the 1,150.00 credit: -500.00 (what was paid waits as a credit).
        self.assertEqual(self._owed(), -500.00)
        new.action_post()
        self.assertEqual(new.amount_residual, 535.00)
        self.assertEqual(self._owed(), 535.00)

    def test_replacing_a_final_invoice_deducts_the_down_payment_once(self):
        self.scenario.auto_post = True
        order = self._create_sale(
            self.customer_alpha, date(2026, 10, 3), [(self.product_service, 10, 100.0)]
        )
        self._down_payment(order, advance_payment_method="percentage", amount=30)
        first = self._new_run()
        first.action_fetch()
        first.action_process(force_synchronous=True)
        self.assertEqual(first.invoice_ids.amount_total, 805.00)
        self.assertEqual(self._billed_net(), 1150.00)
        order.order_line.filtered(lambda line: not line.is_downpayment).price_unit = 90
        __, new = self._replace()
        # 10 x 103.50 less the 345.00 paid up front.
        self.assertEqual(new.amount_total, 690.00)
        self.assertEqual(self._billed_net(), 1035.00)
        self.assertEqual(self._owed(), 1035.00)

    def test_an_invoice_with_a_line_added_by_hand_is_not_replaced(self):
        __, invoice = self._invoiced_ten()
        invoice.button_draft()
        invoice.write(
            {
                "invoice_line_ids": [
                    Command.create({"name": "Call-out fee", "price_unit": 50.0})
                ]
            }
        )
        invoice.action_post()
        billed = self._billed_net()
        run = self._new_run(replace_invoices=True)
        run.action_fetch()
        self.assertFalse(run.line_ids)
        self.assertEqual(self._billed_net(), billed)
