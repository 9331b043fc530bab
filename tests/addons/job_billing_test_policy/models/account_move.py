from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    # The policy's key and label: uninstalling the addon empties the policy
    # of its invoices (no value left that this database does not know).
    job_invoice_policy = fields.Selection(
        selection_add=[("progress_half", "Progress, Half of What Remains")],
        ondelete={"progress_half": "set null"},
    )
