from odoo import fields, models


class BillingRunLineItem(models.Model):
    _inherit = "billing.run.line.item"

    picking_id = fields.Many2one(
        "stock.picking",
        string="Delivery",
        readonly=True,
        check_company=True,
        help="The validated delivery whose goods this item invoices.",
    )
