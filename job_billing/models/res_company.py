from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    job_invoice_backdating_days = fields.Integer(
        string="Job Invoice Backdating (days)",
        default=0,
        help="How many days before today the date of a job invoice may be. "
        "0: a job invoice cannot be backdated.",
    )
    job_accounting_integration = fields.Boolean(
        help="Job invoices go Invoiced -> Approved -> Exported -> Posted: a Job "
        "Billing Manager approves them, they are exported to the accounting "
        "system and then marked posted.",
    )

    def _get_job_deposit_product(self):
        """The product of deposit lines and of their deductions (hook)."""
        return self.env.ref("job_billing.product_job_deposit")

    def _get_job_progress_product(self):
        """The product of summary progress and job price adjustment lines (hook)."""
        return self.env.ref("job_billing.product_job_progress")
