from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    billing_run_id = fields.Many2one(
        "billing.run",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The billing run that made this invoice.",
    )
