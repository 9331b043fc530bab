from odoo import api, fields, models


class BillingRunLineItem(models.Model):
    """What a billing run line invoices, sale line by sale line: the preview of
    its invoice, and the quantities the run bills (never more than Odoo's own
    quantity to invoice at the time it invoices)."""

    _name = "billing.run.line.item"
    _description = "Billing Run Line Item"
    _check_company_auto = True
    _order = "line_id, order_id, sequence, id"

    line_id = fields.Many2one(
        "billing.run.line",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="line_id.company_id", store=True)
    # Indexed: deleting a sale line cascades here; runs look items up by sale.
    sale_line_id = fields.Many2one(
        "sale.order.line",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    order_id = fields.Many2one(related="sale_line_id.order_id", store=True, index=True)
    sequence = fields.Integer(related="sale_line_id.sequence")
    product_id = fields.Many2one(related="sale_line_id.product_id")
    name = fields.Text(related="sale_line_id.name")
    site_id = fields.Many2one(
        "res.partner",
        compute="_compute_site_id",
        help="The customer of the sale (a site, when its head office is invoiced).",
    )
    quantity = fields.Float(digits="Product Unit of Measure", readonly=True)
    product_uom = fields.Many2one(related="sale_line_id.product_uom")
    currency_id = fields.Many2one(related="sale_line_id.currency_id")
    price_unit = fields.Float(related="sale_line_id.price_unit")
    discount = fields.Float(related="sale_line_id.discount")
    price_subtotal = fields.Monetary(
        string="Untaxed", compute="_compute_price_subtotal"
    )
    date = fields.Date(
        readonly=True,
        help="The date that makes it billable: the delivery's, or the order's for "
        "services and goods invoiced on ordered quantities.",
    )
    is_late = fields.Boolean(
        string="Late",
        readonly=True,
        help="Billable since before the run's period (approved or delivered late): "
        "billed now, not lost.",
    )

    @api.depends("order_id")
    def _compute_site_id(self):
        for item in self:
            item.site_id = item.order_id.partner_id.commercial_partner_id

    @api.depends("quantity", "price_unit", "discount")
    def _compute_price_subtotal(self):
        for item in self:
            item.price_subtotal = item.currency_id.round(
                item.quantity * item.price_unit * (1 - (item.discount or 0.0) / 100.0)
            )
