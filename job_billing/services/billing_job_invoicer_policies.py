# The invoicer in three files: the engine, its building blocks, its policies;
# every policy method takes (job, choices, policy), whatever it uses of them.
# pylint: disable=consider-merging-classes-inherited,unused-argument
from odoo import Command, api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero


class BillingJobInvoicer(models.AbstractModel):
    """One method per policy (``_prepare_<builder>_lines(job, choices,
    policy)``): the policy's invoice lines before any deposit deduction;
    then the deposit deduction itself."""

    _inherit = "billing.job.invoicer"

    # ------------------------------------------------------------------ deposit
    @api.model
    def _get_deposit_amount(self, job, choices):
        if choices.amount:
            return job.currency_id.round(choices.amount)
        return job.currency_id.round(job.suggested_price * choices.percent / 100.0)

    @api.model
    def _prepare_deposit_lines(self, job, choices, policy):
        """A deposit: an amount, or a percent of the suggested job price."""
        currency = job.currency_id
        amount = self._get_deposit_amount(job, choices)
        if currency.compare_amounts(amount, 0.0) <= 0:
            raise UserError(
                self.env._("Enter the deposit as a positive amount or percent.")
            )
        room = job.amount_to_invoice - job.deposit_balance
        if currency.compare_amounts(amount, room) > 0:
            raise UserError(
                self.env._(
                    "A deposit of %(amount)s would exceed what remains to invoice "
                    "on job %(job)s (%(room)s after the deposits not yet "
                    "balanced).",
                    amount=job._format_amount(amount),
                    job=job.name,
                    room=job._format_amount(room),
                )
            )
        name = self.env._("Deposit for job %(job)s", job=job.name)
        if not choices.amount and choices.percent:
            name = self.env._(
                "Deposit for job %(job)s: %(percent)s%% of %(price)s",
                job=job.name,
                percent=format(choices.percent, "g"),
                price=job._format_amount(job.suggested_price),
            )
        product = job.company_id._get_job_deposit_product()
        return self._prepare_summary_lines(
            job, choices, "deposit", name, amount, product
        )

    @api.model
    def _prepare_deposit_deduction_lines(self, job, choices, billed, final=False):
        """Deduct deposit: in proportion to the share of the job price billed,
        or, on the final invoice, whatever deposit remains. The deposits not
        yet deducted never exceed what remains to bill of the job price, so
        the final invoice is never negative."""
        currency = job.currency_id
        balance = job.deposit_balance
        if final:
            deduction = balance
        else:
            proportional = (
                currency.round(job.deposit_invoiced * billed / job.suggested_price)
                if job.suggested_price
                else 0.0
            )
            left_after = job.amount_to_invoice - billed
            deduction = min(balance, max(proportional, balance - left_after))
        if currency.compare_amounts(deduction, 0.0) <= 0:
            return []
        product = job.company_id._get_job_deposit_product()
        name = self.env._("Less deposit received (job %(job)s)", job=job.name)
        return self._prepare_summary_lines(
            job,
            choices,
            "deposit_deduction",
            name,
            -deduction,
            product,
            split=self._get_deposit_deduction_split(job, choices, -deduction),
        )

    # ------------------------------------------------------------------ progress
    @api.model
    def _prepare_progress_summary_lines(self, job, choices, policy):
        """The cumulative percent of the job price, less what is billed."""
        if not 0 < choices.percent <= 100:
            raise UserError(
                self.env._("Enter the percent complete, between 0 and 100.")
            )
        target = job.currency_id.round(job.suggested_price * choices.percent / 100.0)
        amount = target - job.amount_invoiced
        if job.currency_id.compare_amounts(amount, 0.0) <= 0:
            raise UserError(
                self.env._(
                    "Nothing to bill: %(invoiced)s of job %(job)s is already "
                    "invoiced, %(percent)s%% of its price is %(target)s.",
                    invoiced=job._format_amount(job.amount_invoiced),
                    job=job.name,
                    percent=format(choices.percent, "g"),
                    target=job._format_amount(target),
                )
            )
        name = self.env._(
            "Progress billing, %(percent)s%% of the job %(job)s",
            percent=format(choices.percent, "g"),
            job=job.name,
        )
        product = job.company_id._get_job_progress_product()
        return self._prepare_summary_lines(
            job, choices, "progress", name, amount, product
        )

    @api.model
    def _get_itemized_quantities(self, job, choices):
        """{invoiceable: quantity} to bill with a progress policy, checked."""
        quantities = {}
        for item, quantity, _price_unit in choices.lines:
            if float_is_zero(quantity, precision_digits=6):
                continue
            if quantity < 0 or (
                float_compare(quantity, item.qty_to_invoice, precision_digits=6) > 0
            ):
                raise UserError(
                    self.env._(
                        "%(item)s: %(qty)s cannot be billed, %(remaining)s remain "
                        "to invoice.",
                        item=item.name,
                        qty=quantity,
                        remaining=item.qty_to_invoice,
                    )
                )
            quantities[item] = quantities.get(item, 0.0) + quantity
        if not quantities:
            raise UserError(self.env._("Enter the quantities done to invoice."))
        return quantities

    @api.model
    def _prepare_progress_itemized_lines(self, job, choices, policy):
        """The quantities done of the invoiceables, at their prices."""
        billed = [
            (item, quantity, item.price_unit)
            for item, quantity in self._get_itemized_quantities(job, choices).items()
        ]
        return self._prepare_invoiceable_lines(job, choices, billed, policy.grouped)

    @api.model
    def _check_within_job_price(self, job, amount):
        """Partial invoices share one notion of what is left to bill: the job
        price less what every invoice (summary, itemized, grouped) billed."""
        if job.currency_id.compare_amounts(amount, job.amount_to_invoice) > 0:
            raise UserError(
                self.env._(
                    "These quantities bill %(amount)s, more than the %(left)s "
                    "left to bill of job %(job)s (price %(price)s, %(billed)s "
                    "already billed): bill smaller quantities.",
                    amount=job._format_amount(amount),
                    left=job._format_amount(job.amount_to_invoice),
                    job=job.name,
                    price=job._format_amount(job.suggested_price),
                    billed=job._format_amount(job.amount_invoiced),
                )
            )

    # ------------------------------------------------------------------ final
    @api.model
    def _prepare_final_lines(self, job, choices, policy):
        """Everything left to reach the suggested price: the invoiceables'
        remaining quantities, less summary progress billing already invoiced,
        plus the fixed price adjustment (the deposits not yet balanced are
        deducted by the policy's deposit rule)."""
        currency = job.currency_id
        billed = [
            (item, item.qty_to_invoice, item.price_unit)
            for item in job.invoiceable_ids
            if not float_is_zero(item.qty_to_invoice, precision_digits=6)
        ]
        lines = self._prepare_invoiceable_lines(job, choices, billed, policy.grouped)
        lines += self._prepare_price_revision_lines(job, choices)
        totals = job._get_invoiced_totals()
        progress = totals[job.id, "progress"] - totals[job.id, "progress_discount"]
        product = job.company_id._get_job_progress_product()
        if not currency.is_zero(progress):
            name = self.env._("Less progress billing already invoiced")
            lines += self._prepare_summary_lines(
                job, choices, "progress", name, -progress, product
            )
        itemized = self._get_lines_total(lines)
        adjustment = currency.round(job.amount_to_invoice - itemized)
        if not currency.is_zero(adjustment):
            name = self.env._(
                "Fixed price adjustment (job price %(price)s)",
                price=job._format_amount(job.suggested_price),
            )
            lines += self._prepare_summary_lines(
                job, choices, "adjustment", name, adjustment, product
            )
        return lines

    @api.model
    def _prepare_price_revision_lines(self, job, choices):
        """An invoiceable's price changed after part of it was billed: what
        remains of its amount is not its remaining quantity at its price. The
        difference is billed for the invoiceable (an allocation of no
        quantity), not left to the fixed price adjustment."""
        lines = []
        for item in job.invoiceable_ids:
            remaining = item._get_untaxed_amount(item.qty_to_invoice, item.price_unit)
            revision = job.currency_id.round(item.amount_to_invoice - remaining)
            if job.currency_id.is_zero(revision):
                continue
            taxes = self._get_item_taxes(job, choices, item)
            allocation = {
                "invoiceable_id": item.id,
                "quantity": 0.0,
                "amount": revision,
            }
            lines.append(
                self._prepare_line(
                    "invoiceable",
                    self.env._(
                        "%(item)s: price revision on the quantity already billed",
                        item=item.name,
                    ),
                    self._get_price_unit_from_untaxed(job, revision, taxes),
                    product_id=item.product_id.id,
                    tax_ids=[Command.set(taxes.ids)],
                    job_allocation_ids=[Command.create(allocation)],
                )
            )
        return lines

    @api.model
    def _prepare_billed_in_full_lines(self, job, choices):
        """The final invoice of a job its partial invoices already bill in
        full (deposits balanced): one informative line of no amount, so that
        posting the final invoice still makes the job Billed."""
        name = self.env._(
            "Job %(job)s: its price of %(price)s is billed in full by its "
            "previous invoices, nothing is left to invoice.",
            job=job.name,
            price=job._format_amount(job.suggested_price),
        )
        product = job.company_id._get_job_progress_product()
        return [
            self._prepare_line(
                "adjustment",
                name,
                0.0,
                product_id=product.id,
                tax_ids=[Command.clear()],
            )
        ]

    # ------------------------------------------------------------------ correction
    @api.model
    def _prepare_correction_lines(self, job, choices, policy):
        """Quantities per invoiceable and/or an amount, with a reason."""
        if not choices.reason:
            raise UserError(self.env._("Give the reason of the correction."))
        billed = [
            (item, quantity, price_unit)
            for item, quantity, price_unit in choices.lines
            if not float_is_zero(quantity * price_unit, precision_digits=6)
        ]
        lines = self._prepare_invoiceable_lines(
            job, choices, billed, policy.grouped, kind="correction"
        )
        for line in lines:
            line["name"] = f"{line['name']} - {choices.reason}"
        if not job.currency_id.is_zero(choices.amount):
            product = job.company_id._get_job_progress_product()
            name = self.env._("Correction: %(reason)s", reason=choices.reason)
            lines += self._prepare_summary_lines(
                job, choices, "correction", name, choices.amount, product
            )
        if not lines:
            raise UserError(
                self.env._(
                    "Enter the quantities or the amount to correct (negative for a "
                    "credit)."
                )
            )
        return lines
