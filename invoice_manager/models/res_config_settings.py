from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    billing_forbid_self_approval = fields.Boolean(
        related="company_id.billing_forbid_self_approval", readonly=False
    )
