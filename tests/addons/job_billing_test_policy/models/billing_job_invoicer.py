from odoo import api, models

from odoo.addons.job_billing.models.job_invoice_policy import JobInvoicePolicy


class BillingJobInvoicer(models.AbstractModel):
    _inherit = "billing.job.invoicer"

    @api.model
    def _get_job_invoice_policies(self):
        """The policy's properties: a partial invoice of half of what remains
        to bill, summary lines, deducting deposits in proportion."""
        policies = super()._get_job_invoice_policies()
        policies["progress_half"] = JobInvoicePolicy(
            invoice_type="partial", builder="progress_half", deposit="proportional"
        )
        return policies

    # The one method: the policy's lines before any deposit deduction.
    @api.model
    def _prepare_progress_half_lines(self, job, choices, policy):
        """Half of what remains to bill, on one summary line."""
        amount = job.currency_id.round(job.amount_to_invoice / 2)
        product = job.company_id._get_job_progress_product()
        return self._prepare_summary_lines(
            job, choices, "progress", "Half", amount, product
        )
