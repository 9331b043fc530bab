from odoo import api, fields, models


class BillingJobInvoiceLine(models.TransientModel):
    _name = "billing.job.invoice.line"
    _description = "Job Invoice Wizard Line"

    wizard_id = fields.Many2one(
        "billing.job.invoice", required=True, ondelete="cascade"
    )
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    invoiceable_id = fields.Many2one(
        "billing.job.invoiceable", required=True, ondelete="cascade"
    )
    name = fields.Char(related="invoiceable_id.name")
    source = fields.Selection(related="invoiceable_id.source")
    charge_category = fields.Selection(related="invoiceable_id.charge_category")
    qty_ordered = fields.Float(related="invoiceable_id.quantity", string="Job Quantity")
    qty_invoiced = fields.Float(related="invoiceable_id.qty_invoiced")
    qty_remaining = fields.Float(
        related="invoiceable_id.qty_to_invoice", string="Remaining"
    )
    quantity = fields.Float(
        string="To Invoice",
        digits="Product Unit of Measure",
        help="Progress: the quantity done and not yet invoiced. Correction: the "
        "quantity to credit (negative) or to bill in addition (positive).",
    )
    price_unit = fields.Float(string="Unit Price", digits="Product Price")
    amount = fields.Monetary(
        compute="_compute_amount", help="Untaxed, as the invoice line bills it."
    )

    @api.depends("quantity", "price_unit", "invoiceable_id")
    def _compute_amount(self):
        for line in self:
            item = line.invoiceable_id
            line.amount = (
                item._get_untaxed_amount(line.quantity, line.price_unit)
                if item
                else line.quantity * line.price_unit
            )
