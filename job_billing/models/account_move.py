from odoo import api, fields, models

from .job_invoice_policy import JOB_INVOICE_POLICIES, JOB_INVOICE_TYPES

# "invoiced" (its code, kept for RPC clients and the export files) is a job
# invoice not posted yet: a draft, shown as such
JOB_WORKFLOW_STATES = (
    ("invoiced", "Draft"),
    ("approved", "Approved"),
    ("exported", "Exported"),
    ("posted", "Posted"),
)


class AccountMove(models.Model):
    """Job invoices: the job, its invoice type and policy, the job invoice
    status. The rules a job invoice keeps are in ``account_move_job_rules.py``,
    its actions in ``account_move_job_actions.py``; the job's own figures
    are checked by ``billing.job`` (constraints on its stored amounts)."""

    _inherit = "account.move"

    # copied: a credit note, a duplicate or the new draft of "Reverse and
    # create new draft" bills the same job, with the same line kinds
    job_id = fields.Many2one(
        "billing.job",
        index="btree_not_null",
        copy=True,
        readonly=True,
        tracking=True,
        check_company=True,
    )
    job_invoice_type = fields.Selection(
        list(JOB_INVOICE_TYPES), copy=True, readonly=True
    )
    # an addon adds its policy with selection_add and an ondelete: its
    # properties come from billing.job.invoicer._get_job_invoice_policies()
    job_invoice_policy = fields.Selection(
        list(JOB_INVOICE_POLICIES),
        copy=True,
        readonly=True,
        string="Invoicing Policy",
    )
    job_workflow_state = fields.Selection(
        list(JOB_WORKFLOW_STATES),
        string="Job Invoice Status",
        copy=False,
        readonly=True,
        tracking=True,
        index="btree_not_null",
        help="Draft: created from the job, not posted yet (code: invoiced). "
        "Approved: posted by a Job Billing Manager, to export (accounting "
        "integration). Exported: sent to the accounting system. Posted: "
        "posted (and, with the integration, recorded by the accounting system).",
    )
    job_invoice_percent = fields.Float(
        string="Policy Percent",
        copy=True,
        readonly=True,
        help="Deposit: percent of the job price. Progress, Summary: cumulative "
        "percent complete.",
    )
    job_invoice_amount = fields.Monetary(
        string="Policy Amount", copy=True, readonly=True
    )
    job_progress_percent = fields.Float(
        string="Job Invoiced %",
        copy=False,
        readonly=True,
        digits=(16, 2),
        help="Share of the job price invoiced once this invoice is counted.",
    )
    job_deposit_deducted = fields.Monetary(
        string="Deposits Deducted", compute="_compute_job_deposit_deducted"
    )
    job_export_id = fields.Many2one(
        "billing.job.export",
        string="Export Batch",
        copy=False,
        readonly=True,
        check_company=True,
    )
    job_export_error = fields.Text(
        string="Export Error", copy=False, readonly=True, tracking=True
    )
    job_accounting_integration = fields.Boolean(
        related="company_id.job_accounting_integration"
    )

    @api.depends("invoice_line_ids.price_subtotal", "invoice_line_ids.job_line_kind")
    def _compute_job_deposit_deducted(self):
        for move in self:
            move.job_deposit_deducted = -sum(
                move.invoice_line_ids.filtered(
                    lambda line: line.job_line_kind == "deposit_deduction"
                ).mapped("price_subtotal")
            )

    # ------------------------------------------------------------------ helpers
    def _get_job_invoice_label(self):
        self.ensure_one()
        if self.name and self.name != "/":
            return self.name
        return self.env._("Draft #%(id)s", id=self.id)

    def _get_job_policy_label(self):
        self.ensure_one()
        field = self._fields["job_invoice_policy"]
        return dict(field._description_selection(self.env)).get(
            self.job_invoice_policy, ""
        )

    def _get_job_amount_in_words(self):
        """The total in words, in the customer's language (num2words)."""
        self.ensure_one()
        lang = self.partner_id.lang or self.env.lang or "en_US"
        return self.currency_id.with_context(lang=lang).amount_to_text(
            self.amount_total
        )

    def _is_job_invoice_delivered(self):
        """Sent to the customer or pushed to the accounting system."""
        self.ensure_one()
        return self.state == "posted" and (
            self.is_move_sent or bool(self.job_export_id)
        )

    # ------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("job_id"):
                vals.setdefault("job_workflow_state", "invoiced")
                if vals.get("job_invoice_policy"):
                    policy = self.env["billing.job.invoicer"]._get_job_invoice_policy(
                        vals["job_invoice_policy"]
                    )
                    vals.setdefault("job_invoice_type", policy.invoice_type)
                if not vals.get("reversed_entry_id"):
                    # before its lines: the clearer reason first
                    self.env["billing.job"].browse(
                        vals["job_id"]
                    )._check_invoice_type_allowed(vals.get("job_invoice_type"))
        moves = super().create(vals_list)
        job_moves = moves.filtered("job_id")
        if job_moves:
            job_moves._check_job_invoice_allowed()
            job_moves._check_job_invoice_backdating()
            job_moves._check_job_auto_post()
        return moves

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        if default and default.get("reversed_entry_id"):
            # a credit note un-bills what its invoice billed
            for vals in vals_list:
                for command in vals.get("line_ids", []):
                    line_vals = command[2] if len(command) > 2 else None
                    if not isinstance(line_vals, dict):
                        continue
                    for alloc in line_vals.get("job_allocation_ids") or []:
                        alloc[2]["quantity"] = -alloc[2].get("quantity", 0.0)
                        alloc[2]["amount"] = -alloc[2].get("amount", 0.0)
        return vals_list

    def write(self, vals):
        self._check_job_export_lock(vals)
        if vals.get("invoice_date"):
            self.filtered(
                lambda m: m.job_id and m.state == "draft"
            )._check_job_invoice_backdating(fields.Date.to_date(vals["invoice_date"]))
        scheduled = self.filtered(lambda m: m.job_id and m.auto_post != "no")
        res = super().write(vals)
        if "auto_post" in vals or scheduled:
            (self.filtered("job_id") | scheduled)._check_job_auto_post()
        if vals.get("state") == "draft":
            # reset to draft (Odoo's button_draft): invoiced again
            self.filtered("job_id").write({"job_workflow_state": "invoiced"})
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_job_exported(self):
        self._check_job_export_lock()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_job_figures(self):
        """Deleting job invoices must leave their jobs' figures true (a deposit
        deducted elsewhere cannot go): Odoo deletes a move's lines first, so
        the jobs' figures are those without these invoices; checked here for
        the job's reason to come before Odoo's own refusals (a number in the
        sequence), and again when the deletion is flushed."""
        self.job_id._check_job_figures()

    def _post(self, soft=True):
        job_moves = self.filtered("job_id")
        if job_moves:
            job_moves._check_job_invoice_allowed()
            job_moves._check_job_invoice_approval()
            job_moves._check_job_invoice_backdating()
            job_moves._check_job_deposit_credit_notes()
        posted = super()._post(soft=soft)
        posted_jobs = posted.filtered("job_id")
        if posted_jobs:
            for integration, moves in posted_jobs.grouped(
                lambda m: m.company_id.job_accounting_integration
            ).items():
                moves.write(
                    {
                        "job_workflow_state": "approved" if integration else "posted",
                        "job_export_error": False,
                    }
                )
        return posted
