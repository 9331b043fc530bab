from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, float_is_zero


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    billing_qty_to_invoice = fields.Float(
        string="Quantity to Invoice by Billing Runs",
        compute="_compute_billing_qty_to_invoice",
        digits="Product Unit of Measure",
        help="What Odoo's own invoicing would invoice ('To Invoice'), except that "
        "a credit note does not make its quantities billable again unless "
        "'Bill Credited Quantities Again' is set on it: billing runs never "
        "invoice a sale twice. Negative when returned quantities are still to "
        "credit.",
    )

    @api.depends(
        "qty_to_invoice",
        "display_type",
        "is_downpayment",
        "state",
        "product_uom",
        "invoice_lines.quantity",
        "invoice_lines.product_uom_id",
        "invoice_lines.move_id.state",
        "invoice_lines.move_id.move_type",
        "invoice_lines.move_id.billing_rebill_credited_qty",
    )
    def _compute_billing_qty_to_invoice(self):
        credited = self._get_billing_qty_credited_not_rebillable()
        for line in self:
            if line.display_type or line.is_downpayment or line.state != "sale":
                line.billing_qty_to_invoice = 0.0
                continue
            qty = line.qty_to_invoice
            if qty > 0:
                # What a credit note gave back stays settled (never re-billed).
                qty = max(qty - credited[line.id], 0.0)
            line.billing_qty_to_invoice = qty

    def _get_billing_qty_credited_not_rebillable(self):
        """Quantity credited by credit notes that billing runs must not bill again,
        per line, in the line's unit of measure.

        Counts the lines of positive quantity of non-cancelled customer credit
        notes without 'Bill Credited Quantities Again' (drafts included, as Odoo's
        'Invoiced' counts them). A negative final invoice switched to a credit
        note has negative quantities: it bills them, and Odoo counts them so.
        One query for the whole recordset: fetching thousands of sales stays flat.
        """
        result = defaultdict(float)
        line_ids = [line_id for line_id in self.ids if line_id]
        if not line_ids:
            return result
        self.env["account.move.line"].flush_model(["quantity", "product_uom_id"])
        self.env["account.move"].flush_model(
            ["state", "move_type", "payment_state", "billing_rebill_credited_qty"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT rel.order_line_id, aml.product_uom_id, SUM(aml.quantity)
                  FROM sale_order_line_invoice_rel rel
                  JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                  JOIN account_move am ON am.id = aml.move_id
                 WHERE rel.order_line_id IN %s
                   AND am.move_type = 'out_refund'
                   AND (am.state != 'cancel' OR am.payment_state = 'invoicing_legacy')
                   AND am.billing_rebill_credited_qty IS NOT TRUE
                   AND aml.quantity > 0
              GROUP BY rel.order_line_id, aml.product_uom_id
                """,
                tuple(line_ids),
            )
        )
        if not rows:
            return result
        uoms = self.env["uom.uom"].browse({uom_id for __, uom_id, __ in rows if uom_id})
        uom_by_id = {uom.id: uom for uom in uoms}
        line_by_id = {line.id: line for line in self.browse(line_ids)}
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
            self._get_billing_run_quantity(), precision_digits=precision
        )

    def _get_billing_run_quantity(self):
        """The quantity the billing run invoicing this line bills now: what it
        fetched for it (context ``billing_run_quantities``: a delivery, the lines
        of a period), never more than Odoo's own quantity to invoice less the
        settled credits (``billing_qty_to_invoice``)."""
        self.ensure_one()
        qty = self.billing_qty_to_invoice
        wanted = (self.env.context.get("billing_run_quantities") or {}).get(
            self.order_id.id
        )
        if wanted is None:
            return qty
        wanted_qty = wanted.get(self.id, 0.0)
        if wanted_qty <= 0 or qty <= 0:
            return 0.0
        return min(wanted_qty, qty)

    def _prepare_invoice_line(self, **optional_values):
        values = super()._prepare_invoice_line(**optional_values)
        if (
            self.env.context.get("billing_run_id")
            and not self.display_type
            and not self.is_downpayment
        ):
            values["quantity"] = self._get_billing_run_quantity()
        return values
