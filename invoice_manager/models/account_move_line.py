from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    billing_billable_qty = fields.Float(
        string="Billable by Billing Runs",
        digits="Product Unit of Measure",
        readonly=True,
        copy=False,
        help="On an invoice line made from a sale outside billing runs: what "
        "billing runs would have billed of the sale line when it was made (in "
        "the sale line's unit). What the line bills beyond it bills credited "
        "quantities again. Empty on lines made before Invoice Manager was "
        "installed, or copied.",
    )
