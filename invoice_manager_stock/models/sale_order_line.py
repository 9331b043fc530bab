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
