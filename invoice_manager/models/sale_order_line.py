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
        "'Bill Credited Quantities Again' is set on it, they were invoiced again "
        "outside billing runs (for instance by 'Reverse and Create Invoice'), or "
        "they were returned by the customer: billing runs never invoice a sale "
        "twice. Negative when returned quantities are still to credit.",
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
        "invoice_lines.move_id.billing_run_id",
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
        """Quantity credited by credit notes that billing runs must not bill again
        (the settled credits), per line, in the line's unit of measure.

        A credit note without 'Bill Credited Quantities Again' settles what it
        credits, except the part that was billed again or that came back:

        - billed again: an invoice made outside billing runs after the credit
          note (Odoo's 'Reverse and Create Invoice', or Odoo's own 'Create
          Invoice', which bills credited quantities again) re-bills the credited
          quantities first;
        - came back: quantities returned by the customer
          (``_get_billing_qty_returned``) and not credited by a credit note that
          bills again are what a credit note of a return credited, whenever and
          however it was made (credit notes made before this addon was installed
          carry no flag).

        The larger of the two is taken off: a re-invoice of returned goods
        delivered again is both. Drafts count, as Odoo's 'Invoiced' counts them.
        """
        result = defaultdict(float)
        history = self._get_billing_credit_history()
        if not history:
            return result
        lines = self.browse(list(history))
        returned = lines._get_billing_qty_returned()
        for line_id, figures in history.items():
            came_back = max(returned.get(line_id, 0.0) - figures["rebillable"], 0.0)
            came_back = min(came_back, figures["settled"])
            result[line_id] = max(
                figures["settled"] - max(came_back, figures["billed_again"]), 0.0
            )
        return result

    def _get_billing_credit_history(self):
        """{line id: {settled, billed_again, rebillable}} for the lines of
        ``self`` that a settling credit note credited, in the line's unit.

        Replays the line's invoices and credit notes in the order they were made
        (non-cancelled, drafts included): ``settled`` sums the positive quantities
        of credit notes without 'Bill Credited Quantities Again'; an invoice made
        outside billing runs after them bills those quantities again first
        (``billed_again``, never more than was credited before it);
        ``rebillable`` sums the credit notes that bill again. A negative invoice
        switched to a credit note (negative quantities) bills, as Odoo counts it.
        One query for the whole recordset: fetching thousands of sales stays flat.
        """
        line_ids = [line_id for line_id in self.ids if line_id]
        if not line_ids:
            return {}
        self.env["account.move.line"].flush_model(["quantity", "product_uom_id"])
        self.env["account.move"].flush_model(
            [
                "state",
                "move_type",
                "payment_state",
                "billing_run_id",
                "billing_rebill_credited_qty",
            ]
        )
        rows = self.env.execute_query(
            SQL(
                """
                WITH moves AS (
                    SELECT rel.order_line_id, am.id AS move_id, am.move_type,
                           am.billing_run_id IS NOT NULL AS by_run,
                           am.billing_rebill_credited_qty IS TRUE AS rebill,
                           aml.product_uom_id, aml.quantity
                      FROM sale_order_line_invoice_rel rel
                      JOIN account_move_line aml ON aml.id = rel.invoice_line_id
                      JOIN account_move am ON am.id = aml.move_id
                     WHERE rel.order_line_id IN %s
                       AND am.move_type IN ('out_invoice', 'out_refund')
                       AND (am.state != 'cancel'
                            OR am.payment_state = 'invoicing_legacy')
                )
                SELECT order_line_id, move_id, move_type, by_run, rebill,
                       product_uom_id, quantity
                  FROM moves
                 WHERE order_line_id IN (
                        SELECT order_line_id FROM moves
                         WHERE move_type = 'out_refund' AND NOT rebill
                           AND quantity > 0)
              ORDER BY order_line_id, move_id
                """,
                tuple(line_ids),
            )
        )
        if not rows:
            return {}
        return self._replay_billing_credits(rows)

    def _replay_billing_credits(self, rows):
        """The figures of ``_get_billing_credit_history`` from its rows (sale
        line, move, type, made by a run, bills again, unit, quantity), in the
        order the moves were made."""
        history = {}
        pool = defaultdict(float)
        for line_id, move_type, by_run, rebill, qty in self._billing_rows_in_line_uom(
            rows
        ):
            figures = history.setdefault(
                line_id, {"settled": 0.0, "billed_again": 0.0, "rebillable": 0.0}
            )
            billed = qty if move_type == "out_invoice" else -qty
            if billed < 0 and move_type == "out_refund":
                figures["rebillable" if rebill else "settled"] += qty
                if not rebill:
                    pool[line_id] += qty
            elif billed > 0 and not by_run:
                again = min(billed, pool[line_id])
                pool[line_id] -= again
                figures["billed_again"] += again
        return history

    def _billing_rows_in_line_uom(self, rows):
        """(sale line id, move type, made by a run, bills again, quantity in the
        sale line's unit) of each row of ``_get_billing_credit_history``."""
        uoms = self.env["uom.uom"].browse({row[5] for row in rows if row[5]})
        uom_by_id = {uom.id: uom for uom in uoms}
        line_by_id = {line.id: line for line in self.browse({row[0] for row in rows})}
        for line_id, __, move_type, by_run, rebill, uom_id, qty in rows:
            line = line_by_id[line_id]
            uom = uom_by_id.get(uom_id)
            if uom and line.product_uom and uom != line.product_uom:
                qty = uom._compute_quantity(qty, line.product_uom)
            yield line_id, move_type, by_run, rebill, qty

    def _get_billing_qty_returned(self):
        """{line id: quantity the customer sent back}, in the line's unit: what a
        credit note of a return credited. Sales alone know no returns; the
        deliveries bridge counts the returns Odoo deducts from 'Delivered'."""
        return {}

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
