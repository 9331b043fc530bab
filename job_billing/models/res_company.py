from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    job_invoice_backdating_days = fields.Integer(
        string="Job Invoice Backdating (days)",
        default=0,
        help="How many days before today the date of a job invoice may be. "
        "0: a job invoice cannot be backdated.",
    )
    job_accounting_integration = fields.Boolean(
        help="Job invoices go Draft -> Approved -> Exported -> Posted: a Job "
        "Billing Manager approves them, they are exported to the accounting "
        "system and then marked posted.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        if any(vals.get("job_accounting_integration") for vals in vals_list):
            self._sync_job_accounting_integration_group()
        return companies

    def write(self, vals):
        res = super().write(vals)
        if "job_accounting_integration" in vals:
            self._sync_job_accounting_integration_group()
        return res

    @api.model
    def _sync_job_accounting_integration_group(self):
        """Job Billing Managers see the export to the accounting system (its
        menu and buttons) while a company has the integration on: Odoo's
        implied group, as a settings checkbox would set it. (Also run at each
        update of the module.)"""
        manager = self.env.ref("job_billing.group_job_billing_manager").sudo()
        group = self.env.ref("job_billing.group_job_accounting_integration").sudo()
        integration = self.sudo().search_count(
            [("job_accounting_integration", "=", True)], limit=1
        )
        if integration:
            manager._apply_group(group)
        else:
            manager._remove_group(group)

    def _get_job_deposit_product(self):
        """The product of deposit lines and of their deductions (hook)."""
        return self.env.ref("job_billing.product_job_deposit")

    def _get_job_progress_product(self):
        """The product of summary progress and job price adjustment lines (hook)."""
        return self.env.ref("job_billing.product_job_progress")
