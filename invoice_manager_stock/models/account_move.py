from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    billing_picking_ids = fields.Many2many(
        "stock.picking",
        "account_move_billing_picking_rel",
        "move_id",
        "picking_id",
        string="Invoiced Deliveries",
        readonly=True,
        check_company=True,
        copy=False,
        help="The deliveries a billing run invoiced with this invoice: a billing "
        "run never invoices them again while this invoice is not cancelled.",
    )
