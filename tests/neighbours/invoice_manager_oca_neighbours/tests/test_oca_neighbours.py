from datetime import date

from odoo.tests import Form, tagged

from odoo.addons.invoice_manager.tests.common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestOcaNeighbours(InvoiceManagerCommon):
    """invoice_manager beside OCA partner_invoicing_mode (its own
    ``invoicing_mode`` field) and sale_line_refund_to_invoice_qty (its own rule
    for credited quantities): no clash, and no quantity counted twice. 10 x
    100.00 + 15 % = 1,150.00."""

    def _invoiced_ten(self):
        self.scenario.auto_post = True
        order = self._create_sale(
            self.customer_alpha, date(2026, 10, 3), [(self.product_service, 10, 100.0)]
        )
        run = self._new_run()
        run.action_fetch()
        run.action_process(force_synchronous=True)
        return order, run.invoice_ids

    def _credit_two(self, invoice, reinvoice):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "2 broken"})
        )
        credit_note = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        with Form(credit_note) as form:
            with form.invoice_line_ids.edit(0) as line:
                line.quantity = 2
        credit_note.invoice_line_ids.sale_qty_to_reinvoice = reinvoice
        credit_note.action_post()
        return credit_note

    def test_both_invoicing_mode_fields_keep_their_values(self):
        partner = self.customer_alpha
        partner.write({"invoicing_mode": "standard", "billing_invoicing_mode": "batch"})
        self.assertEqual(partner.invoicing_mode, "standard")
        self.assertEqual(partner.billing_invoicing_mode, "batch")
        fields = self.env["res.partner"]._fields
        self.assertIn("standard", dict(fields["invoicing_mode"].selection))
        self.assertEqual(
            set(dict(fields["billing_invoicing_mode"].selection)),
            {"per_shipment", "per_order", "batch"},
        )

    def test_credit_note_not_to_reinvoice_is_not_subtracted_twice(self):
        order, invoice = self._invoiced_ten()
        self._credit_two(invoice, reinvoice=False)
        line = order.order_line
        self.assertEqual(line.qty_to_invoice, 0.0)
        self.assertEqual(line.billing_qty_to_invoice, 0.0)
        again = self._new_run()
        again.action_fetch()
        self.assertFalse(again.line_ids)

    def test_credit_note_to_reinvoice_is_billed_again_once(self):
        order, invoice = self._invoiced_ten()
        self._credit_two(invoice, reinvoice=True)
        self.assertEqual(order.order_line.billing_qty_to_invoice, 2.0)
        again = self._new_run()
        again.action_fetch()
        again.action_process(force_synchronous=True)
        self.assertEqual(again.invoice_ids.amount_total, 230.00)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)

    def test_replacement_after_a_credit_note_bills_net_of_it(self):
        order, invoice = self._invoiced_ten()
        self._credit_two(invoice, reinvoice=False)
        order.order_line.price_unit = 90.0
        run = self._new_run(replace_invoices=True)
        run.action_fetch()
        run.action_process(force_synchronous=True)
        new = run.line_ids.invoice_ids
        self.assertEqual(new.amount_total, 828.00)
        moves = self.env["account.move"].search(
            [
                ("partner_id", "=", self.customer_alpha.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
        )
        self.assertEqual(sum(moves.mapped("amount_total_signed")), 828.00)
        self.assertEqual(order.order_line.qty_to_invoice, 0.0)
