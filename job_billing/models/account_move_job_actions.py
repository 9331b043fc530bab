# One model in several files, by concern (see billing_job.py / account_move.py).
# pylint: disable=consider-merging-classes-inherited
from odoo import models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    """The job invoice buttons: approve, mark posted, retry the export, print,
    regenerate a draft from its job card."""

    _inherit = "account.move"

    def action_job_approve(self):
        """Approve job invoices for the accounting export (posts them)."""
        moves = self.filtered(lambda m: m.job_id and m.state == "draft")
        if not moves:
            raise UserError(self.env._("Select draft job invoices to approve."))
        moves._check_job_invoice_approval()
        moves.action_post()
        return True

    def action_job_mark_posted(self):
        """The accounting system recorded the exported invoices."""
        not_exported = self.filtered(lambda m: m.job_workflow_state != "exported")
        if not_exported:
            raise UserError(
                self.env._(
                    "Only exported job invoices can be marked as posted: "
                    "%(invoices)s is not exported.",
                    invoices=", ".join(
                        m._get_job_invoice_label() for m in not_exported
                    ),
                )
            )
        self._check_job_invoice_approval()
        self.write({"job_workflow_state": "posted"})
        return True

    def action_mark_posted(self):
        return self.action_job_mark_posted()

    def action_job_retry_export(self):
        failed = self.filtered(
            lambda m: m.job_workflow_state == "approved" and m.job_export_error
        )
        if not failed:
            raise UserError(self.env._("There is no failed export to retry."))
        batch = self.env["billing.job.export"]._export_moves(failed)
        return batch._get_records_action()

    def action_job_print_invoices(self):
        """All selected invoices in one PDF."""
        moves = self.filtered(lambda m: m.is_invoice(include_receipts=True))
        if not moves:
            raise UserError(self.env._("Select customer invoices to print."))
        return self.env.ref("account.account_invoices").report_action(moves)

    def _regenerate_job_invoice(self):
        """Rebuild a draft job invoice from its job card as it is now."""
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._("Only a draft invoice can be regenerated."))
        return self.env["billing.job.invoicer"]._regenerate_invoice(self.job_id, self)
