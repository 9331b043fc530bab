# pylint: disable=unused-argument
from collections import defaultdict

from odoo import Command, api, models
from odoo.tools import float_compare, float_is_zero

from odoo.addons.invoice_manager.models.billing_run_selector_modes import BillingUnit


class BillingRunSelector(models.AbstractModel):
    """Invoicing modes on validated deliveries: one unit per delivery, dated by
    the day it was validated (the cut-off of batch invoicing)."""

    _inherit = "billing.run.selector"

    @api.model
    def _get_order_unit_lines(self, run, order):
        return (
            super()
            ._get_order_unit_lines(run, order)
            .filtered(lambda line: not line._is_billed_by_shipment())
        )

    @api.model
    def _get_billing_units(self, run, orders):
        return super()._get_billing_units(run, orders) + self._get_shipment_units(
            run, orders
        )

    @api.model
    def _get_shipment_units(self, run, orders):
        """One unit per validated delivery not invoiced by a billing run yet, with
        the quantities it delivered (in the sale lines' units). Each sale line
        bills no more than Odoo's quantity to invoice, given to the newest
        deliveries first: what was invoiced otherwise (by hand, from the order)
        covered the oldest ones, which are not billed again. Returns are
        credited through Odoo's credit notes: they lower what is left to
        invoice, they are not units of their own."""
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        sale_lines = orders.order_line.filtered(
            lambda line: (
                not line.display_type
                and line._is_billed_by_shipment()
                and float_compare(
                    line.billing_qty_to_invoice, 0.0, precision_digits=precision
                )
                > 0
            )
        )
        delivered = self._get_delivered_by_picking(run, sale_lines)
        pickings = self.env["stock.picking"].union(
            *(picking for __, picking in delivered)
        )
        billed = self._get_billed_pickings(run, pickings)
        remaining = {line: line.billing_qty_to_invoice for line in sale_lines}
        by_picking = defaultdict(dict)
        for (sale_line, picking), qty in sorted(
            delivered.items(),
            key=lambda item: (item[0][1].date_done, item[0][1].id),
            reverse=True,
        ):
            if picking in billed or not picking:
                continue
            qty = min(qty, remaining[sale_line])
            if float_is_zero(qty, precision_digits=precision) or qty < 0:
                continue
            remaining[sale_line] -= qty
            by_picking[picking][sale_line] = qty
        units = [
            BillingUnit(
                next(iter(quantities)).order_id,
                quantities,
                self._to_local_date(run, picking.date_done),
                ("picking", picking.id),
                pickings=picking,
            )
            for picking, quantities in by_picking.items()
        ]
        units.reverse()
        return units

    @api.model
    def _get_delivered_by_picking(self, run, sale_lines):
        """{(sale line, picking): quantity} validated, in the sale line's unit,
        from the moves Odoo counts as delivered (``_get_outgoing_incoming_moves``)."""
        delivered = defaultdict(float)
        for sale_line in sale_lines:
            outgoing, __ = sale_line._get_outgoing_incoming_moves()
            for move in outgoing.filtered(lambda move: move.state == "done"):
                delivered[sale_line, move.picking_id] += (
                    move.product_uom._compute_quantity(
                        move.quantity, sale_line.product_uom, rounding_method="HALF-UP"
                    )
                )
        return delivered

    @api.model
    def _get_billed_pickings(self, run, pickings):
        """Those of ``pickings`` a billing run invoiced (invoice not cancelled)."""
        if not pickings:
            return pickings
        invoices = self.env["account.move"].search(
            [("billing_picking_ids", "in", pickings.ids), ("state", "!=", "cancel")]
        )
        return invoices.billing_picking_ids & pickings

    @api.model
    def _is_order_complete_for_billing(self, run, order):
        """Fully delivered: every delivery validated or cancelled (a refused
        backorder is cancelled), as Odoo's own delivery status says."""
        return order.delivery_status in (False, "full")

    @api.model
    def _prepare_item_values(self, run, unit, sale_line, quantity):
        values = super()._prepare_item_values(run, unit, sale_line, quantity)
        if unit.pickings:
            values["picking_id"] = unit.pickings[:1].id
        return values

    @api.model
    def _prepare_invoice_values(self, run, order):
        values = super()._prepare_invoice_values(run, order)
        line = self.env["billing.run.line"].browse(values.get("billing_run_line_id"))
        if line.item_ids.picking_id:
            values["billing_picking_ids"] = [Command.set(line.item_ids.picking_id.ids)]
        return values
