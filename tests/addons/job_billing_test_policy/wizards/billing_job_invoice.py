from odoo import models

from odoo.addons.job_billing.models.job_invoice_policy import (
    JobInvoicePolicy,
    register_policy,
)

# The one entry: a partial invoice of half of what remains to bill, summary
# lines, deducting deposits in proportion.
register_policy(
    JobInvoicePolicy(
        "progress_half",
        "Progress, Half of What Remains",
        "partial",
        "progress_half",
        deposit="proportional",
    )
)


class BillingJobInvoice(models.TransientModel):
    _inherit = "billing.job.invoice"

    # The one method: the policy's lines before any deposit deduction.
    def _prepare_progress_half_lines(self):
        """Half of what remains to bill, on one summary line."""
        amount = self.currency_id.round(self.job_id.amount_to_invoice / 2)
        product = self.company_id._get_job_progress_product()
        return self._prepare_summary_lines("progress", "Half", amount, product)
