# One model in several files, by concern (see billing_job.py / account_move.py).
# pylint: disable=consider-merging-classes-inherited
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError


class AccountMove(models.Model):
    """The rules a job invoice keeps: its job's status allows its type, its
    date, its approval and scheduled posting, its deposits' customer, what a
    credit note of deposits credits, and the lock of an exported invoice."""

    _inherit = "account.move"

    # ------------------------------------------------------------------ export
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

    # ------------------------------------------------------------------ approval
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

    # ------------------------------------------------------------------ deposits
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
            "Credit note %(credit_note)s credits %(credited)s of the deposits "
            "of job %(job)s, but only %(left)s of them is not yet deducted on "
            "its invoices: a deposit already deducted cannot be credited. Edit "
            "the credit note down to %(left)s at most, or credit the invoices "
            "deducting the deposit first.",
            credit_note=self._get_job_invoice_label(),
            credited=job._format_amount(self._get_job_deposit_credited()),
            job=job.name,
            left=job._format_amount(max(left, 0.0)),
        )
