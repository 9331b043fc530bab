# One model in several files, by concern (see billing_job.py / account_move.py).
# pylint: disable=consider-merging-classes-inherited
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare


class DeferredFigureChecks(frozenset):
    """Ids of the jobs whose figure checks wait while the server rebuilds one
    of their invoices: a context value no RPC client can send."""


class BillingJob(models.Model):
    """The job's status, which follows its final invoice, and the rules its
    figures keep: constraints on its stored amounts and status, checked
    whenever they are recomputed, whatever changed them."""

    _inherit = "billing.job"

    # set by Close and Reopen; Billed follows the final invoice
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("billed", "Billed")],
        compute="_compute_state",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        copy=False,
        tracking=True,
    )

    # ------------------------------------------------------------------ status
    @api.depends(
        "invoice_ids.state",
        "invoice_ids.move_type",
        "invoice_ids.job_invoice_type",
        "invoice_ids.reversal_move_ids.state",
    )
    def _compute_state(self):
        """A closed job is billed once its final invoice is posted, and
        closed again when that invoice is reset to draft, cancelled or
        credited (even by a draft credit note); a new job is open."""
        for job in self:
            state = job.state or "open"
            if state == "closed" and job._get_effective_final_invoice():
                state = "billed"
            elif state == "billed" and not job._get_effective_final_invoice():
                state = "closed"
            job.state = state

    def _get_effective_final_invoice(self):
        """The posted final invoice that no credit note reverses."""
        self.ensure_one()
        return self.invoice_ids.filtered(
            lambda m: (
                m.job_invoice_type == "complete"
                and m.move_type == "out_invoice"
                and m.state == "posted"
                and not m.reversal_move_ids.filtered(lambda r: r.state != "cancel")
            )
        )

    def _check_state(self):
        """The status follows the job's invoices, whoever writes it."""
        for job in self:
            final = job._get_effective_final_invoice()
            if job.state == "billed" and not final:
                raise ValidationError(
                    self.env._(
                        "Job %(job)s cannot be billed without its posted final "
                        "invoice: posting the final invoice bills the job.",
                        job=job.name,
                    )
                )
            if job.state != "billed" and final:
                raise ValidationError(
                    self.env._(
                        "Job %(job)s is billed by its final invoice %(invoice)s: "
                        "reset it to draft, cancel or credit it to reopen billing.",
                        job=job.name,
                        invoice=final[0].name,
                    )
                )
            if job.state == "open" and job._get_complete_invoices():
                raise ValidationError(
                    self.env._(
                        "Job %(job)s has a complete (final) invoice: cancel it "
                        "before reopening the job.",
                        job=job.name,
                    )
                )

    def action_close(self):
        for job in self:
            if job.state != "open":
                raise UserError(
                    self.env._(
                        "Only an open job can be closed (%(job)s).", job=job.name
                    )
                )
        self.write({"state": "closed"})

    def action_reopen(self):
        for job in self:
            if job.state != "closed":
                raise UserError(
                    self.env._(
                        "Only a closed job can be reopened (%(job)s is %(state)s).",
                        job=job.name,
                        state=dict(self._fields["state"].selection)[job.state],
                    )
                )
            if job._get_complete_invoices():
                raise UserError(
                    self.env._(
                        "Job %(job)s has a complete (final) invoice: cancel it before "
                        "reopening the job.",
                        job=job.name,
                    )
                )
        self.write({"state": "open"})

    def _get_complete_invoices(self):
        """The final invoice: not cancelled, nor reversed by a credit note."""
        return self.invoice_ids.filtered(
            lambda m: (
                m.job_invoice_type == "complete"
                and m.move_type == "out_invoice"
                and m.state != "cancel"
                and not m.reversal_move_ids.filtered(lambda r: r.state != "cancel")
            )
        )

    def _get_pending_partial_invoices(self):
        """Draft partial invoices (and credit notes of partial invoices)."""
        return self.invoice_ids.filtered(
            lambda m: m.job_invoice_type == "partial" and m.state == "draft"
        )

    def _check_invoice_type_allowed(self, invoice_type, move=None):
        """Refuse an invoice of ``invoice_type`` that the job's status does not
        allow (product document); ``move`` is the invoice being checked, if it
        exists already."""
        self.ensure_one()
        if invoice_type == "correction":
            return
        if self.state == "billed":
            raise UserError(
                self.env._(
                    "Job %(job)s is billed: it takes only correction invoices.",
                    job=self.name,
                )
            )
        if invoice_type != "complete":
            return
        if self.state != "closed":
            raise UserError(
                self.env._(
                    "A complete (final) invoice can only be issued for a closed "
                    "job: close job %(job)s first.",
                    job=self.name,
                )
            )
        pending = self._get_pending_partial_invoices()
        if pending:
            raise UserError(
                self.env._(
                    "Job %(job)s has draft partial invoices (%(invoices)s): post or "
                    "delete them before its complete (final) invoice, which bills "
                    "what they leave.",
                    job=self.name,
                    invoices=", ".join(m._get_job_invoice_label() for m in pending),
                )
            )
        others = self._get_complete_invoices() - (move or self.env["account.move"])
        if others:
            raise UserError(
                self.env._(
                    "Job %(job)s already has a complete invoice (%(invoice)s): "
                    "there is only one per job.",
                    job=self.name,
                    invoice=others[0]._get_job_invoice_label(),
                )
            )

    # ------------------------------------------------------------------ rules
    @api.constrains(
        "state",
        "suggested_price",
        "amount_invoiced",
        "deposit_invoiced",
        "deposit_balance",
        "amount_to_invoice",
    )
    def _check_job_figures(self):
        """The rules the job's figures keep whatever is done to its invoices
        or to the job card: nothing billed twice, nothing credited that was not
        billed, deposits never deducted beyond what was received, the job price
        never below what is billed, and a billed job billed in full.

        Checked whenever the job's stored amounts or status are recomputed
        (when what they depend on changed: an invoice, its lines and their
        allocations, the job card), once the step is done (at the flush that
        ends it), and whenever called; its invoiceables' quantities are checked
        as theirs change (``billing.job.invoiceable._check_invoiced_quantity``).
        The status is checked first: it follows the job's invoices, whoever
        writes it."""
        jobs = self.exists() - self._get_figure_checks_deferred()
        jobs._check_state()
        for job in jobs:
            error = job._get_figures_error()
            if error:
                raise ValidationError(error)

    def _with_figure_checks_deferred(self):
        """The jobs in an environment where their figures are not checked
        (the server rebuilding an invoice checks them at the end)."""
        return self.with_context(
            job_billing_deferred_checks=DeferredFigureChecks(self.ids)
        )

    def _get_figure_checks_deferred(self):
        """Those of the jobs whose figure checks wait."""
        deferred = self.env.context.get("job_billing_deferred_checks")
        if not isinstance(deferred, DeferredFigureChecks):
            return self.browse()
        return self.filtered(lambda job: job.id in deferred)

    def _get_figures_error(self):
        """Why the job's figures break a rule, or False (hook)."""
        self.ensure_one()
        return self._get_items_figures_error() or self._get_price_figures_error()

    def _get_items_figures_error(self):
        """Each invoiceable billed at most once, and never credited more."""
        self.ensure_one()
        for item in self.invoiceable_ids:
            if float_compare(item.qty_invoiced, item.quantity, precision_digits=6) > 0:
                return self.env._(
                    "Job %(job)s: %(item)s would be billed %(billed)s times of "
                    "%(qty)s: nothing is billed twice.",
                    job=self.name,
                    item=item.name,
                    billed=item.qty_invoiced,
                    qty=item.quantity,
                )
            if float_compare(item.qty_invoiced, 0.0, precision_digits=6) < 0:
                return self.env._(
                    "Job %(job)s: %(item)s would be credited more than it was billed.",
                    job=self.name,
                    item=item.name,
                )
        return False

    def _get_price_figures_error(self):
        """The job price: billed at most once, deposits deducted at most once,
        and billed in full once the job is billed."""
        self.ensure_one()
        currency = self.currency_id
        if currency.compare_amounts(self.amount_invoiced, 0.0) < 0 and (
            currency.compare_amounts(
                self.amount_invoiced - self._get_draft_credits()["price"], 0.0
            )
            < 0
        ):
            return self.env._(
                "Job %(job)s: this would credit more of the job price than was "
                "billed (%(amount)s).",
                job=self.name,
                amount=self._format_amount(self.amount_invoiced),
            )
        deposit_balance = self._get_deposit_balance_to_check()
        if currency.compare_amounts(deposit_balance, 0.0) < 0:
            return self._get_deposit_figures_error(deposit_balance)
        if (
            currency.compare_amounts(
                self.amount_invoiced + self.deposit_balance, self.suggested_price
            )
            > 0
        ):
            return self.env._(
                "Job %(job)s: %(billed)s of its price is billed and %(deposit)s "
                "of deposits is not yet deducted, more than the job price of "
                "%(price)s. Bill less, or raise the job price; to give the "
                "customer a discount, issue a correction.",
                job=self.name,
                billed=self._format_amount(self.amount_invoiced),
                deposit=self._format_amount(self.deposit_balance),
                price=self._format_amount(self.suggested_price),
            )
        if self.state == "billed" and (
            not currency.is_zero(self.amount_to_invoice)
            or not currency.is_zero(self.deposit_balance)
            or any(
                float_compare(item.qty_to_invoice, 0.0, precision_digits=6)
                for item in self.invoiceable_ids
            )
        ):
            return self.env._(
                "Job %(job)s is billed: its final invoice bills what remains and "
                "balances the deposits. This would leave %(remaining)s to "
                "invoice and %(deposit)s of deposits not balanced: issue a "
                "correction invoice instead, or credit (or reset to draft) the "
                "final invoice first.",
                job=self.name,
                remaining=self._format_amount(self.amount_to_invoice),
                deposit=self._format_amount(self.deposit_balance),
            )
        return False

    def _get_deposit_figures_error(self, deposit_balance):
        """The deposits would be deducted beyond what was received."""
        self.ensure_one()
        deducted = self.deposit_invoiced - self.deposit_balance
        return self.env._(
            "Job %(job)s: %(deducted)s of its deposits is deducted on its "
            "invoices, more than the %(received)s received (deposits less "
            "their credit notes). A deposit already deducted on another invoice "
            "cannot be credited, cancelled or deleted: credit or cancel the "
            "invoices deducting it first, or credit only what is not yet "
            "deducted.",
            job=self.name,
            deducted=self._format_amount(deducted),
            received=self._format_amount(deducted + deposit_balance),
        )
