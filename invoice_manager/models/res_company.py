from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    billing_forbid_self_approval = fields.Boolean(
        string="Forbid Approving One's Own Sales",
        help="A user may not approve for invoicing a sale of which they are the "
        "salesperson: another approver does it.",
    )
