from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression


class BillingJobExportWizard(models.TransientModel):
    """Export the approved job invoices of a date range, or the selected ones,
    to the external accounting system."""

    _name = "billing.job.export.wizard"
    _description = "Export Job Invoices to Accounting"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    job_accounting_integration = fields.Boolean(
        related="company_id.job_accounting_integration"
    )
    date_from = fields.Date()
    date_to = fields.Date()
    move_ids = fields.Many2many(
        "account.move",
        string="Invoices",
        default=lambda self: self._default_move_ids(),
        check_company=True,
        help="Approved job invoices to export; when empty, all approved job "
        "invoices of the company dated in the range.",
    )

    @api.model
    def _default_move_ids(self):
        if self.env.context.get("active_model") == "account.move":
            moves = self.env["account.move"].browse(
                self.env.context.get("active_ids", [])
            )
            return moves.filtered(lambda m: m.job_workflow_state == "approved")
        return self.env["account.move"]

    def _get_moves_domain(self):
        """Approved job invoices of the range (hook)."""
        domain = [
            ("company_id", "=", self.company_id.id),
            ("job_id", "!=", False),
            ("job_workflow_state", "=", "approved"),
        ]
        if self.date_from:
            domain = expression.AND([domain, [("invoice_date", ">=", self.date_from)]])
        if self.date_to:
            domain = expression.AND([domain, [("invoice_date", "<=", self.date_to)]])
        return domain

    def _check_integration(self):
        """Exporting needs the company's accounting integration: say where it
        is switched on."""
        self.ensure_one()
        if not self.company_id.job_accounting_integration:
            raise UserError(
                self.env._(
                    "The accounting integration is off for %(company)s: its job "
                    "invoices are posted in Odoo and never exported. An "
                    "administrator switches it on in Invoicing > Configuration > "
                    "Settings, Job Billing, Accounting Integration.",
                    company=self.company_id.name,
                )
            )

    def action_export(self):
        self.ensure_one()
        self._check_integration()
        moves = self.move_ids or self.env["account.move"].search(
            self._get_moves_domain()
        )
        if not moves:
            raise UserError(self.env._("There is no approved job invoice to export."))
        return self.env["billing.job.export"]._export_moves(moves)._get_records_action()
