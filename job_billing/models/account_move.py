from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .job_invoice_policy import JOB_INVOICE_TYPES, POLICIES, get_policy_selection

JOB_WORKFLOW_STATES = [
    ("invoiced", "Invoiced"),
    ("approved", "Approved"),
    ("exported", "Exported"),
    ("posted", "Posted"),
]


class AccountMove(models.Model):
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
    job_invoice_type = fields.Selection(JOB_INVOICE_TYPES, copy=True, readonly=True)
    job_invoice_policy = fields.Selection(
        "_get_job_policy_selection",
        copy=True,
        readonly=True,
        string="Invoicing Policy",
    )
    job_workflow_state = fields.Selection(
        JOB_WORKFLOW_STATES,
        string="Job Invoice Status",
        copy=False,
        readonly=True,
        tracking=True,
        index="btree_not_null",
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
        "billing.job.export", string="Export Batch", copy=False, readonly=True
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

    @api.model
    def _get_job_policy_selection(self):
        return get_policy_selection(self.env)

    def _get_job_policy_label(self):
        self.ensure_one()
        return dict(self._get_job_policy_selection()).get(self.job_invoice_policy, "")

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

    def _check_exportable(self):
        """Why the accounting system would reject this invoice: an empty string
        when it can be exported (hook)."""
        self.ensure_one()
        errors = []
        partner = self.commercial_partner_id
        if self.state != "posted" or not self.name or self.name == "/":
            errors.append(self.env._("the invoice is not approved (posted)."))
        if not partner.vat and not partner.ref:
            errors.append(
                self.env._(
                    "customer %(partner)s has neither a VAT number nor a customer "
                    "reference: the accounting system identifies customers by one "
                    "of them.",
                    partner=partner.display_name,
                )
            )
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        if lines.filtered(lambda line: not line.account_id.code):
            errors.append(self.env._("an invoice line has no account code."))
        return "\n".join(errors)

    def _get_job_export_locked_fields(self):
        """Fields an exported invoice refuses to change (hook)."""
        return {
            "partner_id",
            "commercial_partner_id",
            "invoice_date",
            "date",
            "invoice_date_due",
            "invoice_line_ids",
            "line_ids",
            "ref",
            "name",
            "currency_id",
            "journal_id",
            "fiscal_position_id",
            "invoice_payment_term_id",
            "payment_reference",
            "state",
            "move_type",
            "job_id",
            "job_invoice_type",
            "job_invoice_policy",
            "job_export_id",
        }

    def _check_job_export_lock(self, field_names=None):
        exported = self.filtered("job_export_id")
        if not exported:
            return
        if field_names is not None:
            locked = set(field_names) & self._get_job_export_locked_fields()
            if not locked:
                return
        raise UserError(
            self.env._(
                "Invoice %(invoices)s was exported to the accounting system "
                "(batch %(batch)s): it can no longer be changed. Issue a correction "
                "invoice instead.",
                invoices=", ".join(exported.mapped("name")),
                batch=", ".join(exported.job_export_id.mapped("name")),
            )
        )

    def _check_job_invoice_backdating(self, invoice_date=None):
        """Refuse a job invoice dated before today minus the company's
        backdating days; ``invoice_date`` checks a date about to be written."""
        for move in self.filtered("job_id"):
            date = invoice_date or move.invoice_date
            if not date or move.state == "cancel":
                continue
            days = move.company_id.job_invoice_backdating_days
            today = fields.Date.context_today(move)
            limit = today - timedelta(days=max(days, 0))
            if date < limit:
                raise UserError(
                    self.env._(
                        "The invoice date %(date)s of job %(job)s is too far in the "
                        "past: job invoices may be backdated by %(days)s day(s) at "
                        "most, to %(limit)s. Change the invoice date, or ask a "
                        "manager to change the backdating setting.",
                        date=date,
                        job=move.job_id.name,
                        days=days,
                        limit=limit,
                    )
                )

    @api.constrains("partner_id", "job_id", "state", "invoice_line_ids")
    def _check_job_deposit_customer(self):
        """A job's deposits are received from, and deducted for, one customer:
        an invoice with deposit or deposit deduction lines is made out to the
        same customer (commercial entity) as the job's other deposit invoices,
        so that a deposit paid by one customer is never deducted on another's
        invoice."""
        deposit_kinds = {"deposit", "deposit_deduction"}
        moves = self.filtered(
            lambda m: (
                m.job_id
                and m.state != "cancel"
                and deposit_kinds & set(m.invoice_line_ids.mapped("job_line_kind"))
            )
        )
        for move in moves:
            others = move.job_id.invoice_ids.filtered(
                lambda m, move=move: (
                    m != move
                    and m.state != "cancel"
                    and deposit_kinds & set(m.invoice_line_ids.mapped("job_line_kind"))
                )
            )
            customers = others.commercial_partner_id - move.commercial_partner_id
            if customers:
                raise ValidationError(
                    self.env._(
                        "Job %(job)s: its deposits are received from %(customers)s; "
                        "an invoice with a deposit or a deposit deduction must be "
                        "made out to that customer, not to %(customer)s. Invoice "
                        "the other customer once the deposits are balanced, or "
                        "without deposit (a correction).",
                        job=move.job_id.name,
                        customers=", ".join(customers.mapped("display_name")),
                        customer=move.commercial_partner_id.display_name,
                    )
                )

    def _check_job_invoice_allowed(self):
        """The job's status must allow the invoice type (product document).
        A credit note reversing a job invoice is judged by what it does to the
        job's figures (``billing.job._check_job_figures``)."""
        for move in self.filtered(lambda m: m.job_id and not m.reversed_entry_id):
            move.job_id._check_invoice_type_allowed(move.job_invoice_type, move)

    def _is_job_approver(self):
        return self.env.su or self.env.user.has_group(
            "job_billing.group_job_billing_manager"
        )

    def _check_job_invoice_approval(self):
        to_approve = self.filtered(
            lambda m: m.job_id and m.company_id.job_accounting_integration
        )
        if to_approve and not self._is_job_approver():
            raise UserError(
                self.env._(
                    "With the accounting integration, job invoices are approved by a "
                    "Job Billing Manager: you cannot approve %(invoices)s.",
                    invoices=", ".join(m._get_job_invoice_label() for m in to_approve),
                )
            )

    def _check_job_auto_post(self):
        """Scheduling a job invoice to be posted by the cron (auto-post) is
        posting it: with the accounting integration only a Job Billing Manager
        may schedule a job invoice or change a scheduled one; job invoices do
        not recur."""
        scheduled = self.filtered(
            lambda m: m.job_id and m.state == "draft" and m.auto_post != "no"
        )
        recurring = scheduled.filtered(lambda m: m.auto_post != "at_date")
        if recurring:
            raise UserError(
                self.env._(
                    "Job invoice %(invoices)s cannot recur: each job invoice is "
                    "created from its job.",
                    invoices=", ".join(m._get_job_invoice_label() for m in recurring),
                )
            )
        to_approve = scheduled.filtered("company_id.job_accounting_integration")
        if to_approve and not self._is_job_approver():
            raise UserError(
                self.env._(
                    "With the accounting integration, job invoices are approved by a "
                    "Job Billing Manager: you cannot schedule or change the "
                    "scheduled posting of %(invoices)s.",
                    invoices=", ".join(m._get_job_invoice_label() for m in to_approve),
                )
            )

    # ------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("job_id"):
                vals.setdefault("job_workflow_state", "invoiced")
                if vals.get("job_invoice_policy"):
                    vals.setdefault(
                        "job_invoice_type",
                        POLICIES[vals["job_invoice_policy"]].invoice_type,
                    )
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
            job_moves.job_id._check_job_figures()
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

    def _get_job_money_fields(self):
        """Move fields whose change may change what the job is billed (hook)."""
        return {
            "job_id",
            "state",
            "move_type",
            "line_ids",
            "invoice_line_ids",
            "job_invoice_type",
            "currency_id",
        }

    def write(self, vals):
        self._check_job_export_lock(vals)
        if vals.get("invoice_date"):
            self.filtered(
                lambda m: m.job_id and m.state == "draft"
            )._check_job_invoice_backdating(fields.Date.to_date(vals["invoice_date"]))
        jobs = self.job_id
        scheduled = self.filtered(lambda m: m.job_id and m.auto_post != "no")
        res = super().write(vals)
        if "auto_post" in vals or scheduled:
            (self.filtered("job_id") | scheduled)._check_job_auto_post()
        if set(vals) & self._get_job_money_fields():
            (jobs | self.job_id)._check_job_figures()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_job_exported(self):
        self._check_job_export_lock()

    def unlink(self):
        jobs = self.job_id
        res = super().unlink()
        if jobs:
            jobs.exists()._check_job_figures()
        return res

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
            posted_jobs.job_id._check_job_figures()
        return posted

    def _get_job_deposit_credited(self):
        """Untaxed amount of deposit a credit note credits."""
        self.ensure_one()
        if self.move_type != "out_refund":
            return 0.0
        return sum(
            self.invoice_line_ids.filtered(
                lambda line: line.job_line_kind == "deposit"
            ).mapped("price_subtotal")
        )

    def _check_job_deposit_credit_notes(self):
        """A credit note of a deposit, when posted, credits at most what is
        left of the job's deposits (not yet deducted); in draft it may
        credit more, to be edited down first (Odoo's Credit Note makes a full
        reversal draft). Checked before posting, to say how far down."""
        credit_notes = self.filtered(
            lambda m: (
                m.job_id
                and m.state == "draft"
                and not m.currency_id.is_zero(m._get_job_deposit_credited())
            )
        )
        if not credit_notes:
            return
        credit_notes.job_id._refresh_figures()
        left = {}
        for move in credit_notes:
            job = move.job_id
            if job not in left:
                left[job] = job._get_deposit_left_to_credit()
            credited = move._get_job_deposit_credited()
            if job.currency_id.compare_amounts(credited, left[job]) > 0:
                raise UserError(move._get_job_deposit_credit_error(left[job]))
            left[job] -= credited

    def _get_job_deposit_credit_error(self, left):
        """This credit note credits more deposit than the ``left`` of it."""
        self.ensure_one()
        job = self.job_id
        return self.env._(
            "Credit note %(credit_note)s credits %(credited).2f of the deposits "
            "of job %(job)s, but only %(left).2f of them is not yet deducted on "
            "its invoices: a deposit already deducted cannot be credited. Edit "
            "the credit note down to %(left).2f at most, or credit the invoices "
            "deducting the deposit first.",
            credit_note=self._get_job_invoice_label(),
            credited=self._get_job_deposit_credited(),
            job=job.name,
            left=max(left, 0.0),
        )

    def button_draft(self):
        self._check_job_export_lock()
        res = super().button_draft()
        job_moves = self.filtered("job_id")
        if job_moves:
            job_moves.write({"job_workflow_state": "invoiced"})
            job_moves.job_id._check_job_figures()
        return res

    def button_cancel(self):
        res = super().button_cancel()
        self.job_id._check_job_figures()
        return res

    # ------------------------------------------------------------------ actions
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
        wizard = (
            self.env["billing.job.invoice"]
            .with_company(self.company_id)
            .create(
                {
                    "job_id": self.job_id.id,
                    "policy": self.job_invoice_policy,
                    "percent": self.job_invoice_percent,
                    "amount": self.job_invoice_amount
                    if POLICIES[self.job_invoice_policy].invoice_type != "correction"
                    else 0.0,
                    "partner_id": self.partner_id.id,
                    "invoice_date": self.invoice_date,
                }
            )
        )
        wizard._regenerate(self)
