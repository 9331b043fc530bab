from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    job_id = fields.Many2one(
        related="move_id.job_id", store=True, index="btree_not_null"
    )
    job_line_kind = fields.Selection(
        [
            ("invoiceable", "Invoiceable"),
            ("deposit", "Deposit"),
            ("deposit_deduction", "Deposit Deduction"),
            ("progress", "Progress Billing"),
            ("adjustment", "Job Price Adjustment"),
            ("correction", "Correction"),
        ],
        copy=False,
        readonly=True,
        help="What the line bills of its job: invoiceables (see the allocations), "
        "a deposit or its deduction, summary progress billing, the fixed price "
        "adjustment of a final invoice, or a correction.",
    )
    job_allocation_ids = fields.One2many(
        "billing.job.allocation",
        "move_line_id",
        string="Billed Invoiceables",
        copy=False,
    )

    def _get_job_export_locked_fields(self):
        """Line fields an exported invoice refuses to change (hook)."""
        return {
            "account_id",
            "partner_id",
            "product_id",
            "name",
            "quantity",
            "price_unit",
            "discount",
            "tax_ids",
            "debit",
            "credit",
            "balance",
            "amount_currency",
            "currency_id",
            "date",
            "move_id",
            "job_line_kind",
        }

    def write(self, vals):
        if set(vals) & self._get_job_export_locked_fields():
            self.move_id._check_job_export_lock()
        return super().write(vals)

    def unlink(self):
        if self:
            self.move_id._check_job_export_lock()
        return super().unlink()
