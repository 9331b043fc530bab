from collections import defaultdict
from dataclasses import replace

from odoo import Command, api, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero

from ..models.job_invoice_policy import (
    PRICE_LINE_KINDS,
    JobInvoiceChoices,
    JobInvoicePolicy,
)


class BillingJobInvoicer(models.AbstractModel):
    """The job invoicing engine: builds one invoice of a job with one of its
    policies and creates it, or rebuilds a draft from the job card. The
    wizard (``billing.job.invoice``), its RPC entry point and the job's
    *Regenerate Draft Invoice* all go through it.

    Every method takes the job first, then, when it needs them, what the
    invoice is asked for as plain values (``JobInvoiceChoices``). The line
    builders are in ``billing_job_invoicer_lines.py``, one method per policy
    in ``billing_job_invoicer_policies.py``."""

    _name = "billing.job.invoicer"
    _description = "Job Invoicer"

    # ------------------------------------------------------------------ policies
    @api.model
    def _get_job_invoice_policies(self):
        """{key: JobInvoicePolicy}: the properties of every policy of
        ``account.move.job_invoice_policy``. Built at each call, so each
        database has the policies of its own addons: an addon adds its
        policy's key to that field (``selection_add``, ``ondelete``) and its
        properties here through ``super()``, and writes the policy's
        ``_prepare_<builder>_lines(job, choices, policy)``."""
        return {
            "deposit": JobInvoicePolicy(
                invoice_type="partial",
                builder="deposit",
                fields=("percent", "amount"),
            ),
            "progress_summary": JobInvoicePolicy(
                invoice_type="partial",
                builder="progress_summary",
                deposit="proportional",
                fields=("percent",),
            ),
            "progress_itemized": JobInvoicePolicy(
                invoice_type="partial",
                builder="progress_itemized",
                lines="itemized",
                deposit="proportional",
            ),
            "progress_itemized_grouped": JobInvoicePolicy(
                invoice_type="partial",
                builder="progress_itemized",
                lines="grouped",
                deposit="proportional",
            ),
            "final": JobInvoicePolicy(
                invoice_type="complete",
                builder="final",
                lines="itemized",
                deposit="all",
            ),
            "final_grouped": JobInvoicePolicy(
                invoice_type="complete",
                builder="final",
                lines="grouped",
                deposit="all",
            ),
            "correction": JobInvoicePolicy(
                invoice_type="correction",
                builder="correction",
                lines="itemized",
                fields=("amount",),
            ),
            "correction_grouped": JobInvoicePolicy(
                invoice_type="correction",
                builder="correction",
                lines="grouped",
                fields=("amount",),
            ),
        }

    @api.model
    def _get_job_invoice_policy(self, key):
        """The properties of policy ``key``; refused when this database has
        no such policy (e.g. its addon was uninstalled)."""
        policy = self._get_job_invoice_policies().get(key)
        if not policy:
            raise UserError(
                self.env._(
                    "The invoicing policy %(policy)s is not available: choose "
                    "another one.",
                    policy=key or "-",
                )
            )
        return policy

    # ------------------------------------------------------------------ choices
    def _prepare_choices(self, job, choices):
        """The invoicer, ``job`` and ``choices`` in the job's company: whatever
        the user's current company, the invoice is built from the job
        company's accounts, taxes and settings (company dependent values are
        read in it); the fiscal position of the invoiced partner."""
        invoicer = self.with_company(job.company_id)
        job = job.with_env(invoicer.env)
        choices = choices.with_env(invoicer.env)
        if choices.fiscal_position is None:
            choices = replace(
                choices,
                fiscal_position=invoicer._get_fiscal_position(job, choices.partner),
            )
        return invoicer, job, choices

    @api.model
    def _get_fiscal_position(self, job, partner):
        return (
            self.env["account.fiscal.position"]
            .with_company(job.company_id)
            ._get_fiscal_position(partner)
        )

    def _get_default_line_values(self, job, policy_key):
        """The invoiceables an itemized policy offers to bill, with suggested
        quantities: what remains (nothing for a correction); none for a
        summary policy."""
        policy = self._get_job_invoice_policies().get(policy_key)
        if not policy or not policy.itemized:
            return []
        is_correction = policy.invoice_type == "correction"
        values = []
        for item in job.invoiceable_ids:
            remaining = item.qty_to_invoice
            if not is_correction and float_is_zero(remaining, precision_digits=6):
                continue
            values.append(
                {
                    "invoiceable_id": item.id,
                    "quantity": 0.0 if is_correction else remaining,
                    "price_unit": item.price_unit,
                }
            )
        return values

    def _get_invoice_choices(self, job, move):
        """What the draft ``move`` of ``job`` was asked for (its lines aside)."""
        policy = self._get_job_invoice_policies().get(move.job_invoice_policy)
        if not policy:
            raise UserError(
                self.env._(
                    "Invoice %(invoice)s has no invoicing policy this database "
                    "knows (its addon may have been uninstalled): it cannot be "
                    "regenerated. Delete it and create the invoice again.",
                    invoice=move._get_job_invoice_label(),
                )
            )
        return JobInvoiceChoices(
            policy=move.job_invoice_policy,
            partner=move.partner_id or job.partner_id,
            percent=move.job_invoice_percent,
            amount=move.job_invoice_amount
            if policy.invoice_type != "correction"
            else 0.0,
            invoice_date=move.invoice_date,
        )

    # ------------------------------------------------------------------ invoice
    @api.model
    def _get_lines_total(self, lines, kinds=None):
        """Untaxed total of invoice line values, of the ``kinds`` given if any:
        an itemized line counts what its allocations bill (untaxed)."""
        return sum(
            sum(command[2]["amount"] for command in line["job_allocation_ids"])
            if line.get("job_allocation_ids")
            else line["quantity"] * line["price_unit"]
            for line in lines
            if kinds is None or line["job_line_kind"] in kinds
        )

    def _prepare_invoice_line_values(self, job, choices):
        """The invoice lines of the chosen policy, signed as for an invoice:
        its builder's lines, checked within the job price for a partial
        invoice, then the deposit deduction the policy declares."""
        invoicer, job, choices = self._prepare_choices(job, choices)
        policy = invoicer._get_job_invoice_policy(choices.policy)
        builder = getattr(invoicer, f"_prepare_{policy.builder}_lines")
        lines = builder(job, choices, policy)
        billed = invoicer._get_lines_total(lines, kinds=PRICE_LINE_KINDS)
        if policy.invoice_type == "partial":
            invoicer._check_within_job_price(job, billed)
        if policy.deposit == "proportional":
            lines += invoicer._prepare_deposit_deduction_lines(job, choices, billed)
        elif policy.deposit == "all":
            lines += invoicer._prepare_deposit_deduction_lines(
                job, choices, 0.0, final=True
            )
        if not lines and policy.invoice_type == "complete":
            lines = invoicer._prepare_billed_in_full_lines(job, choices)
        if not lines:
            raise UserError(
                self.env._("Nothing is left to invoice on job %(job)s.", job=job.name)
            )
        return lines

    def _prepare_invoice_values(self, job, choices, lines):
        """The values of the invoice of ``lines``: a correction billing less
        than nothing is a credit note."""
        invoice_type = self._get_job_invoice_policy(choices.policy).invoice_type
        move_type = "out_invoice"
        total = self._get_lines_total(lines)
        if invoice_type == "correction" and total < 0:
            move_type = "out_refund"
            for line in lines:
                # credit note lines are positive; allocations keep the sign
                if line["quantity"] < 0:
                    line["quantity"] = -line["quantity"]
                else:
                    line["price_unit"] = -line["price_unit"]
        billed = total if invoice_type != "correction" else 0.0
        deposits = self._get_lines_total(lines, kinds=("deposit", "deposit_deduction"))
        price_billed = job.amount_invoiced + billed - deposits
        origin = ", ".join([job.name] + job.sale_order_ids.mapped("name"))
        self._set_tax_included_prices(job, lines)
        return {
            "move_type": move_type,
            "partner_id": choices.partner.id,
            "invoice_date": choices.invoice_date,
            "invoice_origin": origin,
            "ref": (choices.reason or False) if invoice_type == "correction" else False,
            "job_id": job.id,
            "job_invoice_type": invoice_type,
            "job_invoice_policy": choices.policy,
            "job_invoice_percent": choices.percent,
            "job_invoice_amount": choices.amount,
            "job_progress_percent": 100.0 * price_billed / job.suggested_price
            if job.suggested_price
            else 0.0,
            "invoice_line_ids": [Command.create(line) for line in lines],
        }

    def _get_amount_preview(self, job, choices):
        """(untaxed amount, False) of the invoice ``choices`` would create, or
        (0.0, the reason it would be refused)."""
        preview = self._get_preview_totals(job, choices)
        return preview["amount"], preview["error"]

    def _get_preview_totals(self, job, choices):
        """The untaxed totals of the invoice ``choices`` would create:
        {"amount": the invoice's, "deposits": the deposits it deducts
        (positive), "billed": its lines before the deposit deduction,
        "error": False}; or zeros and the reason it would be refused."""
        invoicer, job, choices = self._prepare_choices(job, choices)
        try:
            lines = invoicer._prepare_invoice_line_values(job, choices)
        except UserError as error:
            return {
                "amount": 0.0,
                "deposits": 0.0,
                "billed": 0.0,
                "error": error.args[0],
            }
        amount = invoicer._get_lines_total(lines)
        deposits = -invoicer._get_lines_total(lines, kinds=("deposit_deduction",))
        return {
            "amount": amount,
            "deposits": deposits,
            "billed": amount + deposits,
            "error": False,
        }

    def _create_invoice(self, job, choices):
        """Create the invoice of ``job`` that ``choices`` ask for (draft)."""
        job.ensure_one()
        invoicer, job, choices = self._prepare_choices(job, choices)
        policy = invoicer._get_job_invoice_policy(choices.policy)
        job._check_invoice_type_allowed(policy.invoice_type)
        values = invoicer._prepare_invoice_values(
            job, choices, invoicer._prepare_invoice_line_values(job, choices)
        )
        move = (
            invoicer.env["account.move"]
            .with_context(default_move_type=values["move_type"])
            .create(values)
        )
        job._message_job_invoice_created(move)
        return move

    def _regenerate_invoice(self, job, move):
        """Replace the lines of the draft ``move`` of ``job`` by its policy's
        lines now; a partial itemized invoice keeps the quantities it billed
        (at most what remains)."""
        job.ensure_one()
        move.ensure_one()
        chosen = defaultdict(float)
        for allocation in move.invoice_line_ids.job_allocation_ids:
            chosen[allocation.invoiceable_id.id] += allocation.quantity
        choices = self._get_invoice_choices(job, move)
        # the job's figures without this draft; its checks wait for the new
        # lines (a deposit deducted elsewhere would be missing meanwhile)
        deferred = job._with_figure_checks_deferred()
        move.with_env(deferred.env).write(
            {
                "invoice_line_ids": [
                    Command.delete(line.id) for line in move.invoice_line_ids
                ]
            }
        )
        invoicer, deferred, choices = self.with_env(deferred.env)._prepare_choices(
            deferred, choices
        )
        policy = invoicer._get_job_invoice_policy(choices.policy)
        lines = []
        for values in invoicer._get_default_line_values(deferred, choices.policy):
            quantity = values["quantity"]
            if policy.invoice_type == "partial":
                quantity = min(chosen[values["invoiceable_id"]], quantity)
            item = deferred.invoiceable_ids.browse(values["invoiceable_id"])
            lines.append((item, quantity, values["price_unit"]))
        choices = replace(choices, lines=tuple(lines))
        deferred._check_invoice_type_allowed(policy.invoice_type, move)
        values = invoicer._prepare_invoice_values(
            deferred,
            choices,
            invoicer._prepare_invoice_line_values(deferred, choices),
        )
        move.with_company(job.company_id).write(
            {
                "invoice_line_ids": values["invoice_line_ids"],
                "job_progress_percent": values["job_progress_percent"],
            }
        )
        job._check_job_figures()
        move.message_post(body=self.env._("Regenerated from the job card."))
        return move
