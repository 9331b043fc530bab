from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    job_invoice_backdating_days = fields.Integer(
        related="company_id.job_invoice_backdating_days", readonly=False
    )
    job_accounting_integration = fields.Boolean(
        related="company_id.job_accounting_integration", readonly=False
    )
