from odoo import api, fields, models


class BillingJobAllocation(models.Model):
    """What an invoice line bills of one invoiceable: a grouped line bills
    several invoiceables, so each gets its quantity and untaxed amount here."""

    _name = "billing.job.allocation"
    _description = "Job Invoiceable Billed on an Invoice Line"
    _order = "id"
    _check_company_auto = True

    move_line_id = fields.Many2one(
        "account.move.line",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    move_id = fields.Many2one(
        related="move_line_id.move_id", store=True, index=True, string="Invoice"
    )
    invoiceable_id = fields.Many2one(
        "billing.job.invoiceable",
        required=True,
        ondelete="restrict",
        index=True,
        check_company=True,
    )
    job_id = fields.Many2one(related="invoiceable_id.job_id", store=True)
    company_id = fields.Many2one(related="invoiceable_id.company_id", store=True)
    currency_id = fields.Many2one(related="invoiceable_id.currency_id")
    is_correction = fields.Boolean(
        compute="_compute_is_correction",
        store=True,
        help="Billed by a correction invoice: does not count towards the job price.",
    )
    quantity = fields.Float(digits="Product Unit of Measure")
    amount = fields.Monetary(
        help="Untaxed amount, negative for a credit.",
    )

    @api.depends("move_line_id.job_line_kind")
    def _compute_is_correction(self):
        for allocation in self:
            allocation.is_correction = (
                allocation.move_line_id.job_line_kind == "correction"
            )
