from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, float_is_zero


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    billing_qty_to_invoice = fields.Float(
        string="Quantity to Invoice by Billing Runs",
        compute="_compute_billing_qty_to_invoice",
        digits="Product Unit of Measure",
        help="Ordered (or delivered) quantity that no customer invoice has billed yet. "
        "Unlike 'To Invoice', a credit note does not make a quantity billable again: "
        "billing runs never invoice a sale twice. Re-invoicing after a credit note "
        "stays a deliberate, manual step.",
    )

    @api.depends(
        "product_uom_qty",
        "qty_delivered",
        "product_id.invoice_policy",
        "invoice_lines.quantity",
        "invoice_lines.parent_state",
    )
    def _compute_billing_qty_to_invoice(self):
        invoiced = self._get_billing_qty_invoiced()
        for line in self:
            if line.display_type or line.is_downpayment or line.state != "sale":
                line.billing_qty_to_invoice = 0.0
                continue
            if line.product_id.invoice_policy == "delivery":
                base_qty = line.qty_delivered
            else:
                base_qty = line.product_uom_qty
            line.billing_qty_to_invoice = max(base_qty - invoiced[line.id], 0.0)

    def _get_billing_qty_invoiced(self):
        """Quantity billed by customer invoices (not net of credit notes), per line.

        One query for the whole recordset: fetching thousands of sales stays flat.
        Quantities are converted to the sale line's unit of measure.
        """
        result = defaultdict(float)
        line_ids = [line_id for line_id in self.ids if line_id]
        if not line_ids:
            return result
        self.env["account.move.line"].flush_model(["quantity", "product_uom_id"])
        self.env["account.move"].flush_model(["state", "move_type"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT rel.order_line_id, aml.product_uom_id, SUM(aml.quantity)
                  FROM sale_order_line_invoice_rel rel
                  JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                  JOIN account_move am ON am.id = aml.move_id
                 WHERE rel.order_line_id IN %s
                   AND am.move_type = 'out_invoice'
                   AND am.state != 'cancel'
              GROUP BY rel.order_line_id, aml.product_uom_id
                """,
                tuple(line_ids),
            )
        )
        lines = self.browse(line_ids)
        uoms = self.env["uom.uom"].browse({uom_id for __, uom_id, __ in rows if uom_id})
        uom_by_id = {uom.id: uom for uom in uoms}
        line_by_id = {line.id: line for line in lines}
        for line_id, uom_id, qty in rows:
            line = line_by_id[line_id]
            uom = uom_by_id.get(uom_id)
            if uom and line.product_uom and uom != line.product_uom:
                qty = uom._compute_quantity(qty, line.product_uom)
            result[line_id] += qty
        return result

    def _is_billing_run_invoiceable(self):
        """Whether a billing run invoices this line (sections and notes: always)."""
        self.ensure_one()
        if self.display_type or self.is_downpayment:
            return True
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        return not float_is_zero(
            self.billing_qty_to_invoice, precision_digits=precision
        )

    def _prepare_invoice_line(self, **optional_values):
        values = super()._prepare_invoice_line(**optional_values)
        if (
            self.env.context.get("billing_run_id")
            and not self.display_type
            and not self.is_downpayment
        ):
            values["quantity"] = self.billing_qty_to_invoice
        return values
