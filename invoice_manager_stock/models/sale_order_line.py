from odoo import models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _is_billed_by_shipment(self):
        """Whether invoicing modes bill this line delivery by delivery: goods
        invoiced on delivered quantities, delivered through stock moves."""
        self.ensure_one()
        return (
            self.product_id.invoice_policy == "delivery"
            and self.qty_delivered_method == "stock_move"
        )

    def _get_billing_returns(self):
        """The returns Odoo deducts from 'Delivered': done incoming moves of the
        line (``_get_outgoing_incoming_moves``), when done, in the line's unit."""
        returns = super()._get_billing_returns()
        for line in self.filtered(
            lambda line: line.qty_delivered_method == "stock_move"
        ):
            __, incoming = line._get_outgoing_incoming_moves()
            done = [
                (
                    move.date,
                    move.product_uom._compute_quantity(
                        move.quantity, line.product_uom, rounding_method="HALF-UP"
                    ),
                )
                for move in incoming
                if move.state == "done"
            ]
            if done:
                returns.setdefault(line.id, []).extend(done)
        return returns
