from collections import defaultdict

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import float_compare, float_is_zero

from ..models.billing_job import DEFER_CHECKS, PRICE_LINE_KINDS
from ..models.job_invoice_policy import (
    JOB_INVOICE_TYPES,
    POLICIES,
    get_policy_selection,
)


class BillingJobInvoice(models.TransientModel):
    """Create one invoice of a job with one of the eight invoicing policies."""

    _name = "billing.job.invoice"
    _description = "Create a Job Invoice"
    _check_company_auto = True

    job_id = fields.Many2one(
        "billing.job", required=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="job_id.company_id")
    currency_id = fields.Many2one(related="job_id.currency_id")
    job_state = fields.Selection(related="job_id.state")
    policy = fields.Selection("_get_policy_selection", required=True, default="deposit")
    invoice_type = fields.Selection(JOB_INVOICE_TYPES, compute="_compute_invoice_type")
    policy_uses_percent = fields.Boolean(compute="_compute_invoice_type")
    policy_uses_amount = fields.Boolean(compute="_compute_invoice_type")
    policy_itemized = fields.Boolean(compute="_compute_invoice_type")
    percent = fields.Float(
        digits=(16, 2),
        help="Deposit: percent of the suggested job price (when no amount is "
        "given). Progress, Summary: cumulative percent of the job complete.",
    )
    amount = fields.Monetary(
        help="Deposit: untaxed amount of the deposit. Correction: an untaxed "
        "amount to correct, on one line labelled with the reason; negative "
        "for a credit.",
    )
    reason = fields.Char(help="Correction: why (error, credit, discount...).")
    partner_id = fields.Many2one(
        "res.partner",
        string="Invoice To",
        compute="_compute_partner_id",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        check_company=True,
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position", compute="_compute_fiscal_position_id"
    )
    invoice_date = fields.Date(
        help="Leave empty to date the invoice when it is posted."
    )
    line_ids = fields.One2many(
        "billing.job.invoice.line",
        "wizard_id",
        string="Lines",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
    )
    suggested_price = fields.Monetary(related="job_id.suggested_price")
    job_amount_invoiced = fields.Monetary(related="job_id.amount_invoiced")
    job_deposit_balance = fields.Monetary(related="job_id.deposit_balance")
    job_amount_to_invoice = fields.Monetary(related="job_id.amount_to_invoice")
    amount_preview = fields.Monetary(
        string="Untaxed Amount of the Invoice", compute="_compute_amount_preview"
    )
    preview_error = fields.Char(compute="_compute_amount_preview")

    @api.model
    def _get_policy_selection(self):
        return get_policy_selection(self.env)

    def _get_policy(self):
        """The chosen policy's declaration (``job_invoice_policy.POLICIES``)."""
        self.ensure_one()
        return POLICIES[self.policy]

    @api.depends("policy")
    def _compute_invoice_type(self):
        for wizard in self:
            policy = POLICIES.get(wizard.policy)
            wizard.invoice_type = policy and policy.invoice_type
            wizard.policy_uses_percent = policy and "percent" in policy.fields
            wizard.policy_uses_amount = policy and "amount" in policy.fields
            wizard.policy_itemized = policy and policy.itemized

    @api.depends("job_id")
    def _compute_partner_id(self):
        for wizard in self:
            wizard.partner_id = wizard.job_id.partner_id

    @api.depends("job_id", "policy")
    def _compute_line_ids(self):
        for wizard in self:
            commands = [Command.clear()]
            if wizard.policy and wizard._get_policy().itemized:
                commands += [
                    Command.create(values)
                    for values in wizard._prepare_wizard_lines_values()
                ]
            wizard.line_ids = commands

    def _prepare_wizard_lines_values(self):
        """The invoiceables the user may bill, with suggested quantities."""
        self.ensure_one()
        values = []
        is_correction = self.policy.startswith("correction")
        for item in self.job_id.invoiceable_ids:
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

    @api.depends(
        "policy",
        "percent",
        "amount",
        "reason",
        "line_ids.quantity",
        "line_ids.price_unit",
    )
    def _compute_amount_preview(self):
        for wizard in self:
            wizard.preview_error = False
            wizard.amount_preview = 0.0
            if not wizard.job_id:
                continue
            try:
                lines = wizard._with_job_company()._prepare_invoice_line_values()
            except UserError as error:
                wizard.preview_error = error.args[0]
                continue
            wizard.amount_preview = wizard._get_lines_total(lines)

    # ------------------------------------------------------------------ checks
    def _check_policy_allowed(self, move=None):
        """The job's status must allow the invoice type; ``move`` is the draft
        being regenerated."""
        self.ensure_one()
        self.job_id._check_invoice_type_allowed(self.invoice_type, move)

    # ------------------------------------------------------------------ lines
    @api.depends("partner_id", "company_id")
    def _compute_fiscal_position_id(self):
        for wizard in self:
            wizard.fiscal_position_id = (
                self.env["account.fiscal.position"]
                .with_company(wizard.company_id)
                ._get_fiscal_position(wizard.partner_id)
            )

    def _get_default_taxes(self):
        """Taxes of summary and deposit lines: the company's default sale tax."""
        return self.fiscal_position_id.map_tax(self.company_id.account_sale_tax_id)

    def _get_price_unit_from_untaxed(self, untaxed, taxes):
        """The unit price of a line of ``untaxed`` amount (quantity 1) with
        ``taxes``: the taxes included in the price added, so that the invoice
        line's untaxed amount, computed by Odoo, is ``untaxed`` to the cent."""
        included = taxes.flatten_taxes_hierarchy().filtered("price_include")
        if not included:
            return untaxed
        details = taxes.compute_all(
            untaxed, currency=self.currency_id, handle_price_include=False
        )
        return untaxed + sum(
            tax["amount"] for tax in details["taxes"] if tax["id"] in included.ids
        )

    def _set_tax_included_prices(self, lines):
        """Lines without allocations whose taxes the wizard sets (summary and
        informative lines) are built with their untaxed amount as unit price:
        make it the price Odoo reads with these taxes. Lines with allocations
        (items, grouped charges, price revisions) are priced when built: what
        they bill untaxed is what their allocations say."""
        for line in lines:
            commands = line.get("tax_ids")
            if not commands or line.get("job_allocation_ids"):
                continue
            tax_ids = [i for command in commands if command[0] == 6 for i in command[2]]
            taxes = self.env["account.tax"].browse(tax_ids)
            line["price_unit"] = self._get_price_unit_from_untaxed(
                line["price_unit"], taxes
            )
        return lines

    def _prepare_line(self, kind, name, price_unit, quantity=1.0, **values):
        return {
            "name": name,
            "quantity": quantity,
            "price_unit": price_unit,
            "job_line_kind": kind,
            **values,
        }

    def _get_tax_split(self, amount, downpayment=False):
        """[(taxes, account, amount)]: ``amount`` split as the job's
        invoiceables split by their taxes (mapped by the fiscal position) and,
        for deposits, by the down payment account of their product category,
        as Odoo's own down payments; the company's default sale tax for a job
        without invoiceables."""
        currency = self.currency_id
        weights = self._get_tax_weights(downpayment)
        total = sum(weights.values())
        if currency.is_zero(total):
            return [(self._get_default_taxes(), self.env["account.account"], amount)]
        return self._split_by_weights(amount, weights)

    def _get_item_taxes(self, item):
        """The taxes ``item`` is billed with: an order item's sale line taxes
        as they are (the order's fiscal position mapped them), a job charge's
        product taxes mapped by the invoice's fiscal position."""
        taxes = item._get_taxes()
        if item._is_order_line_item():
            return taxes
        return self.fiscal_position_id.map_tax(taxes)

    def _get_product_accounts(self, product):
        """The accounts of ``product`` in the job's company (they are company
        dependent), mapped by the invoice's fiscal position."""
        return product.product_tmpl_id.with_company(
            self.company_id
        ).get_product_accounts(fiscal_pos=self.fiscal_position_id)

    def _get_tax_weights(self, downpayment=False):
        """{(taxes, account): untaxed amount} of the job's invoiceables."""
        weights = defaultdict(float)
        for item in self.job_id.invoiceable_ids:
            taxes = self._get_item_taxes(item)
            account = self.env["account.account"]
            if downpayment:
                accounts = self._get_product_accounts(item.product_id)
                account = accounts.get("downpayment") or account
            weights[taxes, account] += item.amount
        return weights

    def _get_deposit_weights(self):
        """{(taxes, account): untaxed amount} of the job's deposits not yet
        deducted, as their invoice lines carry them (deposits less credit
        notes and deductions, draft and posted)."""
        lines = self.env["account.move.line"].search(
            expression.AND(
                [
                    self.job_id._get_invoiced_line_domain(),
                    [("job_line_kind", "in", ("deposit", "deposit_deduction"))],
                ]
            )
        )
        weights = defaultdict(float)
        for line in lines:
            sign = -1 if line.move_type == "out_refund" else 1
            weights[line.tax_ids, line.account_id] += sign * line.price_subtotal
        return {
            key: weight
            for key, weight in weights.items()
            if self.currency_id.compare_amounts(weight, 0.0) > 0
        }

    def _split_by_weights(self, amount, weights):
        """[(taxes, account, amount)]: ``amount`` split as ``weights``, the
        last part taking the rounding."""
        currency = self.currency_id
        total = sum(weights.values())
        split, rest = [], amount
        *firsts, last = weights
        for key in firsts:
            part = currency.round(amount * weights[key] / total)
            split.append((*key, part))
            rest -= part
        split.append((*last, currency.round(rest)))
        return [part for part in split if not currency.is_zero(part[2])]

    def _get_deposit_deduction_split(self, amount):
        """A deposit deduction mirrors the tax split of the deposits it
        deducts (the taxes and accounts of their lines when issued), whatever
        the items' taxes are now."""
        weights = self._get_deposit_weights()
        if not weights:
            return self._get_tax_split(amount, downpayment=True)
        return self._split_by_weights(amount, weights)

    def _prepare_summary_lines(self, kind, name, amount, product, split=None):
        """Summary lines (deposit, deduction, progress, adjustment, lump
        correction): one per tax of what they stand for (``split`` if
        given)."""
        if split is None:
            split = self._get_tax_split(
                amount, downpayment=kind in ("deposit", "deposit_deduction")
            )
        lines = []
        for taxes, account, part in split:
            label = name
            if len(split) > 1:
                tax_names = ", ".join(taxes.mapped("name")) or self.env._("no tax")
                label = f"{name} ({tax_names})"
            values = self._prepare_line(
                kind,
                label,
                part,
                product_id=product.id,
                tax_ids=[Command.set(taxes.ids)],
            )
            if account:
                values["account_id"] = account.id
            lines.append(values)
        return lines

    def _get_deposit_amount(self):
        job = self.job_id
        if self.amount:
            return self.currency_id.round(self.amount)
        return self.currency_id.round(job.suggested_price * self.percent / 100.0)

    def _prepare_deposit_lines(self):
        job = self.job_id
        amount = self._get_deposit_amount()
        if self.currency_id.compare_amounts(amount, 0.0) <= 0:
            raise UserError(
                self.env._("Enter the deposit as a positive amount or percent.")
            )
        room = job.amount_to_invoice - job.deposit_balance
        if self.currency_id.compare_amounts(amount, room) > 0:
            raise UserError(
                self.env._(
                    "A deposit of %(amount).2f would exceed what remains to invoice "
                    "on job %(job)s (%(room).2f after the deposits not yet "
                    "balanced).",
                    amount=amount,
                    job=job.name,
                    room=room,
                )
            )
        name = self.env._("Deposit for job %(job)s", job=job.name)
        if not self.amount and self.percent:
            name = self.env._(
                "Deposit for job %(job)s: %(percent)s%% of %(price).2f",
                job=job.name,
                percent=format(self.percent, "g"),
                price=job.suggested_price,
            )
        product = self.company_id._get_job_deposit_product()
        return self._prepare_summary_lines("deposit", name, amount, product)

    def _prepare_deposit_deduction_lines(self, billed, final=False):
        """Deduct deposit: in proportion to the share of the job price billed,
        or, on the final invoice, whatever deposit remains. The deposits not
        yet deducted never exceed what remains to bill of the job price, so
        the final invoice is never negative."""
        job = self.job_id
        balance = job.deposit_balance
        if final:
            deduction = balance
        else:
            proportional = (
                self.currency_id.round(
                    job.deposit_invoiced * billed / job.suggested_price
                )
                if job.suggested_price
                else 0.0
            )
            left_after = job.amount_to_invoice - billed
            deduction = min(balance, max(proportional, balance - left_after))
        if self.currency_id.compare_amounts(deduction, 0.0) <= 0:
            return []
        product = self.company_id._get_job_deposit_product()
        name = self.env._("Less deposit received (job %(job)s)", job=job.name)
        return self._prepare_summary_lines(
            "deposit_deduction",
            name,
            -deduction,
            product,
            split=self._get_deposit_deduction_split(-deduction),
        )

    def _prepare_progress_summary_lines(self):
        job = self.job_id
        if not 0 < self.percent <= 100:
            raise UserError(
                self.env._("Enter the percent complete, between 0 and 100.")
            )
        target = self.currency_id.round(job.suggested_price * self.percent / 100.0)
        amount = target - job.amount_invoiced
        if self.currency_id.compare_amounts(amount, 0.0) <= 0:
            raise UserError(
                self.env._(
                    "Nothing to bill: %(invoiced).2f of job %(job)s is already "
                    "invoiced, %(percent)s%% of its price is %(target).2f.",
                    invoiced=job.amount_invoiced,
                    job=job.name,
                    percent=format(self.percent, "g"),
                    target=target,
                )
            )
        name = self.env._(
            "Progress billing, %(percent)s%% of the job %(job)s",
            percent=format(self.percent, "g"),
            job=job.name,
        )
        product = self.company_id._get_job_progress_product()
        return self._prepare_summary_lines("progress", name, amount, product)

    def _get_itemized_quantities(self):
        """{invoiceable: quantity} to bill with a progress policy, checked."""
        quantities = {}
        for line in self.line_ids:
            item = line.invoiceable_id
            if float_is_zero(line.quantity, precision_digits=6):
                continue
            if line.quantity < 0 or (
                float_compare(line.quantity, item.qty_to_invoice, precision_digits=6)
                > 0
            ):
                raise UserError(
                    self.env._(
                        "%(item)s: %(qty)s cannot be billed, %(remaining)s remain "
                        "to invoice.",
                        item=item.name,
                        qty=line.quantity,
                        remaining=item.qty_to_invoice,
                    )
                )
            quantities[item] = quantities.get(item, 0.0) + line.quantity
        if not quantities:
            raise UserError(self.env._("Enter the quantities done to invoice."))
        return quantities

    def _prepare_invoiceable_lines(self, billed, grouped, kind="invoiceable"):
        """Invoice lines for ``billed``: [(invoiceable, quantity, price_unit)];
        charges grouped by category (and taxes) when ``grouped``."""
        groups = defaultdict(list)
        for item, quantity, price_unit in billed:
            taxes = item._get_taxes()
            key = item._get_group_key(grouped) + (tuple(taxes.ids),)
            groups[key].append((item, quantity, price_unit))
        lines = []
        for key, members in groups.items():
            if key[0] == "item":
                lines.append(self._prepare_item_line(kind, *members[0]))
            else:
                taxes = self.env["account.tax"].browse(key[-1])
                lines.append(self._prepare_grouped_line(kind, key[1], members, taxes))
        return lines

    def _prepare_allocation(self, item, quantity, price_unit):
        return Command.create(
            {
                "invoiceable_id": item.id,
                "quantity": quantity,
                "amount": item._get_untaxed_amount(quantity, price_unit),
            }
        )

    def _prepare_item_line(self, kind, item, quantity, price_unit):
        """One invoiceable on its own line: its product, taxes and account."""
        values = self._prepare_line(
            kind,
            item.name,
            price_unit,
            quantity=quantity,
            product_id=item.product_id.id,
            job_allocation_ids=[self._prepare_allocation(item, quantity, price_unit)],
        )
        values.update(self._get_item_line_price_values(item, price_unit))
        if item.sale_line_id and kind == "invoiceable":
            values["sale_line_ids"] = [Command.link(item.sale_line_id.id)]
        return values

    def _get_item_line_price_values(self, item, price_unit):
        """Unit price, discount and taxes of ``item``'s own invoice line. An
        order item's are its sale line's; a job charge takes its product's
        taxes mapped by the invoice (Odoo sets them), a price-included tax
        the fiscal position maps away taken out of the price, as Odoo does
        on sale and invoice lines."""
        if item._is_order_line_item():
            return {
                "price_unit": price_unit,
                "discount": item.discount,
                "tax_ids": [Command.set(self._get_item_taxes(item).ids)],
            }
        taxes = item._get_taxes()
        price_unit = self.env["account.tax"]._fix_tax_included_price_company(
            price_unit,
            taxes,
            self.fiscal_position_id.map_tax(taxes),
            self.company_id,
        )
        return {"price_unit": price_unit}

    def _prepare_price_revision_lines(self):
        """An invoiceable's price changed after part of it was billed: what
        remains of its amount is not its remaining quantity at its price. The
        difference is billed for the invoiceable (an allocation of no
        quantity), not left to the fixed price adjustment."""
        lines = []
        for item in self.job_id.invoiceable_ids:
            remaining = item._get_untaxed_amount(item.qty_to_invoice, item.price_unit)
            revision = self.currency_id.round(item.amount_to_invoice - remaining)
            if self.currency_id.is_zero(revision):
                continue
            taxes = self._get_item_taxes(item)
            lines.append(
                self._prepare_line(
                    "invoiceable",
                    self.env._(
                        "%(item)s: price revision on the quantity already billed",
                        item=item.name,
                    ),
                    self._get_price_unit_from_untaxed(revision, taxes),
                    product_id=item.product_id.id,
                    tax_ids=[Command.set(taxes.ids)],
                    job_allocation_ids=[
                        Command.create(
                            {
                                "invoiceable_id": item.id,
                                "quantity": 0.0,
                                "amount": revision,
                            }
                        )
                    ],
                )
            )
        return lines

    def _prepare_grouped_line(self, kind, category, members, taxes):
        """Job charges of one category (and taxes) on one line."""
        fiscal_position = self.fiscal_position_id
        categories = dict(
            self.env["billing.job.invoiceable"]._fields["charge_category"].selection
        )
        allocations = [self._prepare_allocation(*member) for member in members]
        taxes = fiscal_position.map_tax(taxes)
        values = self._prepare_line(
            kind,
            categories[category],
            # what its allocations bill untaxed, the taxes included in the
            # price added
            self._get_price_unit_from_untaxed(
                sum(command[2]["amount"] for command in allocations), taxes
            ),
            job_allocation_ids=allocations,
            tax_ids=[Command.set(taxes.ids)],
        )
        accounts = self._get_product_accounts(members[0][0].product_id)
        if accounts.get("income"):
            values["account_id"] = accounts["income"].id
        return values

    def _prepare_progress_itemized_lines(self):
        grouped = self._get_policy().grouped
        billed = [
            (item, quantity, item.price_unit)
            for item, quantity in self._get_itemized_quantities().items()
        ]
        return self._prepare_invoiceable_lines(billed, grouped)

    def _check_within_job_price(self, amount):
        """Partial invoices share one notion of what is left to bill: the job
        price less what every invoice (summary, itemized, grouped) billed."""
        job = self.job_id
        if self.currency_id.compare_amounts(amount, job.amount_to_invoice) > 0:
            raise UserError(
                self.env._(
                    "These quantities bill %(amount).2f, more than the %(left).2f "
                    "left to bill of job %(job)s (price %(price).2f, %(billed).2f "
                    "already billed): bill smaller quantities.",
                    amount=amount,
                    left=job.amount_to_invoice,
                    job=job.name,
                    price=job.suggested_price,
                    billed=job.amount_invoiced,
                )
            )

    def _prepare_final_lines(self):
        """Everything left to reach the suggested price: the invoiceables'
        remaining quantities, less summary progress billing already invoiced,
        plus the fixed price adjustment, less the deposits not yet balanced."""
        grouped = self._get_policy().grouped
        job = self.job_id
        billed = [
            (item, item.qty_to_invoice, item.price_unit)
            for item in job.invoiceable_ids
            if not float_is_zero(item.qty_to_invoice, precision_digits=6)
        ]
        lines = self._prepare_invoiceable_lines(billed, grouped)
        lines += self._prepare_price_revision_lines()
        totals = job._get_invoiced_totals()
        progress = totals[job.id, "progress"] - totals[job.id, "progress_discount"]
        product = self.company_id._get_job_progress_product()
        if not self.currency_id.is_zero(progress):
            name = self.env._("Less progress billing already invoiced")
            lines += self._prepare_summary_lines("progress", name, -progress, product)
        itemized = self._get_lines_total(lines)
        adjustment = self.currency_id.round(job.amount_to_invoice - itemized)
        if not self.currency_id.is_zero(adjustment):
            name = self.env._(
                "Fixed price adjustment (job price %(price).2f)",
                price=job.suggested_price,
            )
            lines += self._prepare_summary_lines(
                "adjustment", name, adjustment, product
            )
        return lines

    def _prepare_billed_in_full_lines(self):
        """The final invoice of a job its partial invoices already bill in
        full (deposits balanced): one informative line of no amount, so that
        posting the final invoice still makes the job Billed."""
        job = self.job_id
        name = self.env._(
            "Job %(job)s: its price of %(price).2f is billed in full by its "
            "previous invoices, nothing is left to invoice.",
            job=job.name,
            price=job.suggested_price,
        )
        product = self.company_id._get_job_progress_product()
        return [
            self._prepare_line(
                "adjustment",
                name,
                0.0,
                product_id=product.id,
                tax_ids=[Command.clear()],
            )
        ]

    def _prepare_correction_lines(self):
        grouped = self._get_policy().grouped
        if not self.reason:
            raise UserError(self.env._("Give the reason of the correction."))
        billed = [
            (line.invoiceable_id, line.quantity, line.price_unit)
            for line in self.line_ids
            if not float_is_zero(line.quantity * line.price_unit, precision_digits=6)
        ]
        lines = self._prepare_invoiceable_lines(billed, grouped, kind="correction")
        for line in lines:
            line["name"] = f"{line['name']} - {self.reason}"
        if not self.currency_id.is_zero(self.amount):
            product = self.company_id._get_job_progress_product()
            name = self.env._("Correction: %(reason)s", reason=self.reason)
            lines += self._prepare_summary_lines(
                "correction", name, self.amount, product
            )
        if not lines:
            raise UserError(
                self.env._(
                    "Enter the quantities or the amount to correct (negative for a "
                    "credit)."
                )
            )
        return lines

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

    def _prepare_invoice_line_values(self):
        """The invoice lines of the chosen policy, signed as for an invoice:
        its builder's lines, checked within the job price for a partial
        invoice, then the deposit deduction the policy declares."""
        self.ensure_one()
        policy = self._get_policy()
        lines = getattr(self, f"_prepare_{policy.builder}_lines")()
        billed = self._get_lines_total(lines, kinds=PRICE_LINE_KINDS)
        if policy.invoice_type == "partial":
            self._check_within_job_price(billed)
        if policy.deposit == "proportional":
            lines += self._prepare_deposit_deduction_lines(billed)
        elif policy.deposit == "all":
            lines += self._prepare_deposit_deduction_lines(0.0, final=True)
        if not lines and policy.invoice_type == "complete":
            lines = self._prepare_billed_in_full_lines()
        if not lines:
            raise UserError(
                self.env._(
                    "Nothing is left to invoice on job %(job)s.", job=self.job_id.name
                )
            )
        return lines

    def _prepare_invoice_values(self, lines):
        self.ensure_one()
        job = self.job_id
        move_type = "out_invoice"
        total = self._get_lines_total(lines)
        if self.invoice_type == "correction" and total < 0:
            move_type = "out_refund"
            for line in lines:
                # credit note lines are positive; allocations keep the sign
                if line["quantity"] < 0:
                    line["quantity"] = -line["quantity"]
                else:
                    line["price_unit"] = -line["price_unit"]
        billed = total if self.invoice_type != "correction" else 0.0
        deposits = self._get_lines_total(lines, kinds=("deposit", "deposit_deduction"))
        price_billed = job.amount_invoiced + billed - deposits
        origin = ", ".join([job.name] + job.sale_order_ids.mapped("name"))
        self._set_tax_included_prices(lines)
        return {
            "move_type": move_type,
            "partner_id": self.partner_id.id,
            "invoice_date": self.invoice_date,
            "invoice_origin": origin,
            "ref": self.reason if self.invoice_type == "correction" else False,
            "job_id": job.id,
            "job_invoice_type": self.invoice_type,
            "job_invoice_policy": self.policy,
            "job_invoice_percent": self.percent,
            "job_invoice_amount": self.amount,
            "job_progress_percent": 100.0 * price_billed / job.suggested_price
            if job.suggested_price
            else 0.0,
            "invoice_line_ids": [Command.create(line) for line in lines],
        }

    # ------------------------------------------------------------------ actions
    def _with_job_company(self):
        """The wizard in its job's company: whatever the user's current
        company, the invoice is built from the job company's accounts,
        taxes and settings (company dependent values are read in it)."""
        self.ensure_one()
        return self.with_company(self.company_id)

    def _create_invoice(self):
        self.ensure_one()
        wizard = self._with_job_company()
        wizard._check_policy_allowed()
        values = wizard._prepare_invoice_values(wizard._prepare_invoice_line_values())
        move = (
            wizard.env["account.move"]
            .with_context(default_move_type=values["move_type"])
            .create(values)
        )
        wizard.job_id._message_job_invoice_created(move)
        return move

    def action_create_invoice(self):
        move = self._create_invoice()
        return self.job_id._notify(
            self.env._(
                "Invoice %(invoice)s has been created successfully.",
                invoice=move._get_job_invoice_label(),
            ),
            next_action={
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "res_id": move.id,
                "views": [(False, "form")],
                "target": "current",
            },
            title=self.env._("Invoice created"),
        )

    @api.model
    def create_job_invoice(self, vals, post=False):
        """RPC and import entry point: create the wizard from ``vals`` (job_id,
        policy, percent, amount, reason, ...), create the invoice and return
        its id; ``post`` also posts it."""
        line_vals = vals.pop("lines", None)
        wizard = self.create(vals)
        if line_vals is not None:
            by_item = {line.invoiceable_id.id: line for line in wizard.line_ids}
            for item_id, quantity in line_vals.items():
                by_item[int(item_id)].quantity = quantity
        move = wizard._create_invoice()
        if post:
            move.action_post()
        return move.id

    def _regenerate(self, move):
        """Replace the lines of the draft ``move`` by the policy's lines now;
        an itemized progress invoice keeps the quantities it billed (at most
        what remains)."""
        self.ensure_one()
        chosen = defaultdict(float)
        for allocation in move.invoice_line_ids.job_allocation_ids:
            chosen[allocation.invoiceable_id] += allocation.quantity
        deferred = move.with_context(job_billing_defer_checks=DEFER_CHECKS)
        deferred.write(
            {
                "invoice_line_ids": [
                    Command.delete(line.id) for line in move.invoice_line_ids
                ]
            }
        )
        self.env.flush_all()
        self.env.invalidate_all()
        self._compute_line_ids()
        if self.invoice_type == "partial" and self._get_policy().itemized:
            for line in self.line_ids:
                line.quantity = min(
                    chosen.get(line.invoiceable_id, 0.0), line.qty_remaining
                )
        self._check_policy_allowed(move)
        values = self._prepare_invoice_values(self._prepare_invoice_line_values())
        deferred.write(
            {
                "invoice_line_ids": values["invoice_line_ids"],
                "job_progress_percent": values["job_progress_percent"],
            }
        )
        move.job_id._check_job_figures()
        move.message_post(body=self.env._("Regenerated from the job card."))
        return move
