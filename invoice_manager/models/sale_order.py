from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero


class SaleOrder(models.Model):
    _inherit = "sale.order"

    approved_for_invoicing = fields.Boolean(
        copy=False,
        tracking=True,
        help="Billing scenarios that require approval only invoice approved sales.",
    )
    approved_for_invoicing_uid = fields.Many2one(
        "res.users", string="Approved by", copy=False, readonly=True
    )
    approved_for_invoicing_date = fields.Datetime(
        string="Approved on", copy=False, readonly=True
    )
    billing_run_line_ids = fields.Many2many(
        "billing.run.line",
        "billing_run_line_sale_order_rel",
        "sale_order_id",
        "line_id",
        string="Billing Run Lines",
        copy=False,
        readonly=True,
    )

    def action_approve_for_invoicing(self):
        to_approve = self.filtered(lambda order: not order.approved_for_invoicing)
        not_confirmed = to_approve.filtered(lambda order: order.state != "sale")
        if not_confirmed:
            raise UserError(
                self.env._(
                    "Only confirmed sales can be approved for invoicing: %(orders)s",
                    orders=", ".join(not_confirmed.mapped("name")),
                )
            )
        to_approve.write(
            {
                "approved_for_invoicing": True,
                "approved_for_invoicing_uid": self.env.uid,
                "approved_for_invoicing_date": fields.Datetime.now(),
            }
        )
        return True

    def action_unapprove_for_invoicing(self):
        self.filtered("approved_for_invoicing").write(
            {
                "approved_for_invoicing": False,
                "approved_for_invoicing_uid": False,
                "approved_for_invoicing_date": False,
            }
        )
        return True

    @api.model
    def _billing_run(self):
        """The billing run invoicing these orders (context), or an empty one."""
        return self.env["billing.run"].browse(self.env.context.get("billing_run_id"))

    def _get_invoiceable_lines(self, final=False):
        lines = super()._get_invoiceable_lines(final=final)
        if not self.env.context.get("billing_run_id"):
            return lines
        # A billing run bills only quantities never invoiced: drop what a credit
        # note reopened, then the sections left without lines.
        lines = lines.filtered(lambda line: line._is_billing_run_invoiceable())
        kept_ids = []
        pending_section_id = None
        for line in lines:
            if line.display_type == "line_section":
                pending_section_id = line.id
                continue
            if not line.display_type and pending_section_id:
                kept_ids.append(pending_section_id)
                pending_section_id = None
            kept_ids.append(line.id)
        return self.env["sale.order.line"].browse(kept_ids)

    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        run = self._billing_run()
        if run:
            values.update(run._prepare_invoice_values(self))
        return values

    def _get_billing_amounts(self):
        """{order id: (untaxed, total)} a billing run would invoice, for the orders
        with something left to invoice; computed in a few queries for any number
        of orders (ordered or delivered quantities never invoiced, less down
        payments not yet deducted)."""
        lines = self.env["sale.order.line"].search_fetch(
            [("order_id", "in", self.ids), ("display_type", "=", False)],
            [
                "order_id",
                "product_id",
                "product_uom",
                "product_uom_qty",
                "qty_delivered",
                "qty_to_invoice",
                "price_unit",
                "price_subtotal",
                "price_total",
                "is_downpayment",
                "state",
            ],
        )
        amounts = defaultdict(lambda: [0.0, 0.0, False])
        for line in lines:
            order_amounts = amounts[line.order_id.id]
            if line.is_downpayment:
                # Down payments invoiced and not deducted yet: deducted by the run.
                if line.qty_to_invoice < 0:
                    taxes = line.tax_id.compute_all(
                        line.price_unit, line.currency_id, line.qty_to_invoice
                    )
                    order_amounts[0] += taxes["total_excluded"]
                    order_amounts[1] += taxes["total_included"]
                continue
            qty = line.billing_qty_to_invoice
            if float_is_zero(qty, precision_rounding=line.product_uom.rounding or 0.01):
                continue
            order_amounts[2] = True
            if line.product_uom_qty:
                ratio = qty / line.product_uom_qty
                order_amounts[0] += line.price_subtotal * ratio
                order_amounts[1] += line.price_total * ratio
            else:
                taxes = line.tax_id.compute_all(line.price_unit, line.currency_id, qty)
                order_amounts[0] += taxes["total_excluded"]
                order_amounts[1] += taxes["total_included"]
        return {
            order_id: (untaxed, total)
            for order_id, (untaxed, total, billable) in amounts.items()
            if billable
        }
