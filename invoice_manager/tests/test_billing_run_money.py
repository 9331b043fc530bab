from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunMoney(InvoiceManagerCommon):
    """What billing runs bill, to the cent, through an accountant's everyday moves.

    One sale of 10 x 100.00 invoiced on delivered quantities: 1,000.00 untaxed,
    1,150.00 with the 15 % tax. Each test checks what the run shows at fetch, the
    invoice it makes, what the customer is billed net (posted invoices less credit
    notes, taxes included) and the sale's own 'Invoiced' quantity.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_hours = cls._create_product(
            name="Installation hours",
            lst_price=100.0,
            type="service",
            invoice_policy="delivery",
            taxes_id=[Command.set(cls.tax_15.ids)],
        )
        cls.customer = cls._create_customer("Delta Builders", "ap@delta.test")
        cls.accountant = new_test_user(
            cls.env,
            login="accountant_money",
            # down payments are made with Sales' own wizard
            groups="invoice_manager.group_billing_user,"
            "sales_team.group_sale_salesman_all_leads",
        )
        cls.salesman = new_test_user(
            cls.env, login="salesman_money", groups="sales_team.group_sale_salesman"
        )

    # ------------------------------------------------------------------
    # Helpers: what a user does
    # ------------------------------------------------------------------

    def _sale(self, **values):
        return self._create_sale(
            self.customer,
            date(2026, 10, 5),
            [(self.product_hours, 10.0, 100.0)],
            **values,
        )

    def _hours_line(self, order):
        return order.order_line.filtered(
            lambda line: line.product_id == self.product_hours
        )

    def _deliver(self, order, qty):
        self._hours_line(order).qty_delivered = qty

    def _down_payment(self, order, user=None, **values):
        return super()._down_payment(order, user=user or self.accountant, **values)

    def _credit_note(self, invoice, reason="Wrong delivery address"):
        """A credit note of ``invoice`` made with Odoo's reversal wizard, posted."""
        reversal = (
            self.env["account.move.reversal"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": reason})
        )
        action = reversal.refund_moves()
        credit = self.env["account.move"].browse(action["res_id"])
        credit.action_post()
        return credit

    def _fetch(self):
        run = self._new_run(partner_ids=[Command.set(self.customer.ids)])
        run.action_fetch()
        return run

    def _bill(self, untaxed, total):
        """Fetch and process a run: it shows ``untaxed`` / ``total`` (signed, in
        the sale's currency) and makes one invoice of exactly those amounts."""
        run = self._fetch()
        line = run.line_ids
        self.assertEqual(len(line), 1)
        self.assertAlmostEqual(line.amount_untaxed, untaxed, places=2)
        self.assertAlmostEqual(line.amount_total, total, places=2)
        run.action_process(force_synchronous=True)
        self.assertEqual(line.state, "processed", line.error_message)
        invoice = line.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.currency_id, line.currency_id)
        self.assertAlmostEqual(
            invoice.amount_untaxed_in_currency_signed, untaxed, places=2
        )
        self.assertAlmostEqual(invoice.amount_total_in_currency_signed, total, places=2)
        self.assertAlmostEqual(line.invoice_amount, total, places=2)
        return invoice

    def _assert_nothing_to_bill(self):
        self.assertFalse(self._fetch().line_ids, "nothing left to bill")

    def _net_billed(self):
        """What the customer owes: posted invoices less posted credit notes."""
        moves = self.env["account.move"].search(
            [
                ("partner_id", "=", self.customer.id),
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
            ]
        )
        return sum(moves.mapped("amount_total_in_currency_signed"))

    def _assert_fully_billed(self, order):
        self.assertAlmostEqual(self._net_billed(), 1150.00, places=2)
        self.assertEqual(self._hours_line(order).qty_invoiced, 10.0)
        self.assertEqual(order.invoice_status, "invoiced")
        self._assert_nothing_to_bill()

    # ------------------------------------------------------------------
    # Down payments
    # ------------------------------------------------------------------

    def test_down_payment_bigger_than_first_delivery_is_never_billed_twice(self):
        order = self._sale()
        down_payment = self._down_payment(
            order, advance_payment_method="fixed", fixed_amount=500.0
        )
        self.assertAlmostEqual(down_payment.amount_total, 500.00, places=2)
        # 2 delivered: 230.00 less the 500.00 down payment (434.78 untaxed).
        self._deliver(order, 2.0)
        credit = self._bill(untaxed=200.00 - 434.78, total=-270.00)
        self.assertEqual(credit.move_type, "out_refund", "Odoo makes it a credit")
        credited_hours = credit.invoice_line_ids.filtered(
            lambda line: line.product_id == self.product_hours
        )
        self.assertEqual(credited_hours.quantity, -2.0, "it bills the 2 hours")
        line = self._hours_line(order)
        self.assertEqual(line.qty_invoiced, 2.0)
        self.assertEqual(line.billing_qty_to_invoice, 0.0)
        self._assert_nothing_to_bill()
        # The rest delivered: the 8 hours left, the down payment already deducted.
        self._deliver(order, 10.0)
        invoice = self._bill(untaxed=800.00, total=920.00)
        self.assertEqual(invoice.move_type, "out_invoice")
        self._assert_fully_billed(order)

    def test_percentage_down_payment_is_deducted_once_across_partial_runs(self):
        order = self._sale()
        down_payment = self._down_payment(
            order, advance_payment_method="percentage", amount=30
        )
        self.assertAlmostEqual(down_payment.amount_total, 345.00, places=2)
        self._deliver(order, 4.0)
        self._bill(untaxed=400.00 - 300.00, total=460.00 - 345.00)
        self._deliver(order, 7.0)
        self._bill(untaxed=300.00, total=345.00)
        self._deliver(order, 10.0)
        self._bill(untaxed=300.00, total=345.00)
        self._assert_fully_billed(order)
        deduction = order.order_line.filtered(
            lambda line: line.is_downpayment and not line.display_type
        )
        self.assertEqual(deduction.qty_invoiced, 0.0, "invoiced once, deducted once")

    def test_fixed_down_payment_is_deducted_to_the_cent(self):
        order = self._sale()
        # 333.00 of 1,150.00: 289.57 untaxed + 43.44 tax = 333.01, which Odoo
        # brings back to 333.00 on the down payment and on the final invoice.
        down_payment = self._down_payment(
            order, advance_payment_method="fixed", fixed_amount=333.0
        )
        self.assertAlmostEqual(down_payment.amount_total, 333.00, places=2)
        self._deliver(order, 10.0)
        self._bill(untaxed=1000.00 - 289.57, total=1150.00 - 333.00)
        self._assert_fully_billed(order)

    # ------------------------------------------------------------------
    # Credit notes
    # ------------------------------------------------------------------

    def test_credit_note_is_billed_again_only_when_the_accountant_says_so(self):
        order = self._sale()
        self._deliver(order, 10.0)
        invoice = self._bill(untaxed=1000.00, total=1150.00)
        credit = self._credit_note(invoice)
        self.assertFalse(credit.billing_rebill_credited_qty)
        line = self._hours_line(order)
        # Odoo's own invoicing would bill the 10 hours again; a run does not.
        self.assertEqual(line.qty_invoiced, 0.0)
        self.assertEqual(line.qty_to_invoice, 10.0)
        self.assertEqual(order.invoice_status, "to invoice")
        self.assertEqual(line.billing_qty_to_invoice, 0.0)
        self._assert_nothing_to_bill()
        self.assertAlmostEqual(self._net_billed(), 0.0, places=2)
        # The accountant says the credited hours are to bill again: once.
        with self.assertRaises(AccessError):
            credit.with_user(self.salesman).billing_rebill_credited_qty = True
        credit.with_user(self.accountant).billing_rebill_credited_qty = True
        self._bill(untaxed=1000.00, total=1150.00)
        self._assert_fully_billed(order)

    def test_credit_note_of_a_final_invoice_never_refunds_the_down_payment(self):
        order = self._sale()
        self._down_payment(order, advance_payment_method="percentage", amount=30)
        self._deliver(order, 10.0)
        final = self._bill(untaxed=700.00, total=805.00)
        credit = self._credit_note(final)
        # Odoo would deduct the down payment again; with nothing else to bill, a
        # run makes no invoice at all, not even from a line fetched before.
        deduction = order.order_line.filtered(
            lambda line: line.is_downpayment and not line.display_type
        )
        self.assertEqual(deduction.qty_to_invoice, -1.0)
        self._assert_nothing_to_bill()
        stale = self._new_run(partner_ids=[Command.set(self.customer.ids)])
        self.env["billing.run.line"].sudo().create(
            {
                "run_id": stale.id,
                "partner_id": self.customer.id,
                "sale_order_ids": [Command.set(order.ids)],
                "billing_action": "create_only",
            }
        )
        stale.action_process(force_synchronous=True)
        self.assertEqual(stale.line_ids.state, "elsewhere")
        self.assertFalse(stale.invoice_ids)
        self.assertAlmostEqual(self._net_billed(), 345.00, places=2)
        # Billed again as the accountant asks: the down payment deducted again.
        credit.billing_rebill_credited_qty = True
        self._bill(untaxed=700.00, total=805.00)
        self._assert_fully_billed(order)

    def test_return_is_credited_once_and_billed_again_when_delivered_again(self):
        order = self._sale()
        self._deliver(order, 10.0)
        self._bill(untaxed=1000.00, total=1150.00)
        # 2 hours taken back after invoicing: the run credits them.
        self._deliver(order, 8.0)
        self.assertEqual(self._hours_line(order).billing_qty_to_invoice, -2.0)
        credit = self._bill(untaxed=-200.00, total=-230.00)
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(credit.invoice_line_ids.quantity, 2.0)
        self.assertAlmostEqual(self._net_billed(), 920.00, places=2)
        self.assertEqual(self._hours_line(order).qty_invoiced, 8.0)
        self._assert_nothing_to_bill()
        # The credit follows the deliveries: delivered again, billed again.
        self.assertTrue(credit.billing_rebill_credited_qty)
        self._deliver(order, 10.0)
        self._bill(untaxed=200.00, total=230.00)
        self._assert_fully_billed(order)

    def test_goodwill_credit_note_bills_nothing_again(self):
        order = self._sale()
        self._deliver(order, 10.0)
        self._bill(untaxed=1000.00, total=1150.00)
        goodwill = (
            self.env["account.move"]
            .with_user(self.accountant)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": self.customer.id,
                    "invoice_date": date(2026, 10, 31),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Goodwill: late installation",
                                "quantity": 1.0,
                                "price_unit": 50.0,
                                "tax_ids": [Command.set(self.tax_15.ids)],
                            }
                        )
                    ],
                }
            )
        )
        goodwill.action_post()
        self._assert_nothing_to_bill()
        self.assertEqual(self._hours_line(order).qty_invoiced, 10.0)
        self.assertAlmostEqual(self._net_billed(), 1150.00 - 57.50, places=2)

    # ------------------------------------------------------------------
    # Credit notes that Odoo billed again
    #
    # A sale of 25 hours, 12 delivered and billed by a run (1,200.00 untaxed,
    # 1,380.00 with tax), then the other 13 delivered: whatever Odoo's own
    # buttons did in between, the customer ends up billed for the 25 hours
    # (2,875.00) less only what a credit note gave away and nobody billed again.
    # ------------------------------------------------------------------

    def _sale_of_25(self):
        order = self._create_sale(
            self.customer, date(2026, 10, 5), [(self.product_hours, 25.0, 100.0)]
        )
        self._deliver(order, 12.0)
        return order, self._bill(untaxed=1200.00, total=1380.00)

    def _reverse(self, invoice, create_invoice=False, quantity=None):
        """Odoo's reversal wizard on ``invoice`` as the accountant: 'Reverse'
        (a credit note, of ``quantity`` hours when given) or 'Reverse and
        Create Invoice' (the credit note, and a new invoice copied from
        ``invoice`` on the same sale lines); what it made is posted."""
        reversal = (
            self.env["account.move.reversal"]
            .with_user(self.accountant)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Address"})
        )
        if create_invoice:
            action = reversal.modify_moves()
            new_invoice = self.env["account.move"].browse(action["res_id"])
            self.assertEqual(new_invoice.move_type, "out_invoice")
            new_invoice.with_user(self.accountant).action_post()
            return new_invoice
        credit = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        if quantity is not None:
            with Form(credit.with_user(self.accountant)) as form:
                with form.invoice_line_ids.edit(0) as line:
                    line.quantity = quantity
        credit.with_user(self.accountant).action_post()
        return credit

    def _bill_the_other_13(self, order, untaxed=1300.00, total=1495.00):
        self._deliver(order, 25.0)
        line = self._hours_line(order)
        self.assertEqual(line.billing_qty_to_invoice, untaxed / 100.0)
        invoice = self._bill(untaxed=untaxed, total=total)
        self.assertEqual(invoice.invoice_line_ids.quantity, untaxed / 100.0)
        self._assert_nothing_to_bill()
        return invoice

    def test_reverse_and_create_invoice_does_not_lower_later_runs(self):
        order, invoice = self._sale_of_25()
        new_invoice = self._reverse(invoice, create_invoice=True)
        self.assertFalse(invoice.reversal_move_ids.billing_rebill_credited_qty)
        self.assertAlmostEqual(new_invoice.amount_total, 1380.00, places=2)
        self.assertAlmostEqual(self._net_billed(), 1380.00, places=2)
        line = self._hours_line(order)
        self.assertEqual(line.qty_invoiced, 12.0)
        self.assertEqual(line.billing_qty_to_invoice, 0.0)
        self._assert_nothing_to_bill()
        # The other 13 delivered: Odoo says 13 to invoice, and so does the run.
        self._bill_the_other_13(order)
        self.assertAlmostEqual(self._net_billed(), 2875.00, places=2)
        self.assertEqual(line.qty_invoiced, 25.0)
        self.assertEqual(order.invoice_status, "invoiced")

    def test_credit_note_invoiced_again_from_the_sale_is_not_deducted_again(self):
        order, invoice = self._sale_of_25()
        self._reverse(invoice)
        self._assert_nothing_to_bill()
        # The accountant bills the credited hours again with Odoo's own button.
        again = self._down_payment(order, advance_payment_method="delivered")
        self.assertAlmostEqual(again.amount_total, 1380.00, places=2)
        self.assertFalse(again.billing_run_id)
        self._bill_the_other_13(order)
        self.assertAlmostEqual(self._net_billed(), 2875.00, places=2)

    def test_goodwill_credit_stays_settled_through_a_reverse_and_create(self):
        order, invoice = self._sale_of_25()
        # 2 hours given away, then the invoice reissued to another address.
        self._reverse(invoice, quantity=2.0)
        self.assertAlmostEqual(self._net_billed(), 1380.00 - 230.00, places=2)
        self._reverse(invoice, create_invoice=True)
        self.assertAlmostEqual(self._net_billed(), 1380.00 - 230.00, places=2)
        line = self._hours_line(order)
        self.assertEqual(line.qty_invoiced, 10.0)
        self._assert_nothing_to_bill()
        # Odoo would bill 15 (the 2 given away again); the run bills the 13.
        self._deliver(order, 25.0)
        self.assertEqual(line.qty_to_invoice, 15.0)
        self._bill_the_other_13(order)
        self.assertAlmostEqual(self._net_billed(), 2875.00 - 230.00, places=2)
        self.assertEqual(line.qty_invoiced, 23.0)

    def test_goodwill_stays_settled_when_the_rest_is_invoiced_by_hand(self):
        order, invoice = self._sale_of_25()
        self._reverse(invoice, quantity=2.0)  # 2 hours given away
        self._deliver(order, 25.0)
        # Odoo's Create Invoice proposes 15 (the 2 given away again); the
        # accountant bills the 13 delivered since.
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_user(self.accountant)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create({"advance_payment_method": "delivered"})
        )
        wizard.create_invoices()
        draft = order.invoice_ids.filtered(lambda move: move.state == "draft")
        self.assertEqual(draft.invoice_line_ids.quantity, 15.0)
        with Form(draft.with_user(self.accountant)) as form:
            with form.invoice_line_ids.edit(0) as line:
                line.quantity = 13.0
        draft.with_user(self.accountant).action_post()
        self.assertAlmostEqual(self._net_billed(), 1380.00 - 230.00 + 1495.00, places=2)
        self.assertEqual(self._hours_line(order).billing_qty_to_invoice, 0.0)
        self._assert_nothing_to_bill()

    # ------------------------------------------------------------------
    # Invoices cancelled or reset to draft
    # ------------------------------------------------------------------

    def test_cancelled_invoice_is_billed_again_once(self):
        order = self._sale()
        self._deliver(order, 10.0)
        invoice = self._bill(untaxed=1000.00, total=1150.00)
        invoice.with_user(self.accountant).button_draft()
        invoice.with_user(self.accountant).button_cancel()
        self.assertEqual(self._hours_line(order).qty_invoiced, 0.0)
        self.assertAlmostEqual(self._net_billed(), 0.0, places=2)
        self._bill(untaxed=1000.00, total=1150.00)
        self._assert_fully_billed(order)

    def test_invoice_reset_to_draft_is_not_billed_again(self):
        order = self._sale()
        self._deliver(order, 10.0)
        invoice = self._bill(untaxed=1000.00, total=1150.00)
        invoice.with_user(self.accountant).button_draft()
        self.assertEqual(self._hours_line(order).qty_invoiced, 10.0)
        self._assert_nothing_to_bill()
        invoice.with_user(self.accountant).action_post()
        self._assert_fully_billed(order)

    # ------------------------------------------------------------------
    # Currencies
    # ------------------------------------------------------------------

    def test_sale_in_another_currency_is_billed_in_that_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2016-01-01", 2.0)])
        self.assertNotEqual(self.env.company.currency_id, eur)
        pricelist = self.env["product.pricelist"].create(
            {"name": "Euro customers", "currency_id": eur.id}
        )
        order = self._sale(pricelist_id=pricelist.id)
        self.assertEqual(order.currency_id, eur)
        down_payment = self._down_payment(
            order, advance_payment_method="percentage", amount=30
        )
        self.assertEqual(down_payment.currency_id, eur)
        self._deliver(order, 4.0)
        invoice = self._bill(untaxed=100.00, total=115.00)
        self.assertEqual(invoice.currency_id, eur)
        self.assertAlmostEqual(invoice.amount_total_signed, 57.50, places=2)
        self._deliver(order, 10.0)
        self._bill(untaxed=600.00, total=690.00)
        self._assert_fully_billed(order)
