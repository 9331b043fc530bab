# The invoicer in three files: the engine, its building blocks, its policies.
# pylint: disable=consider-merging-classes-inherited,unused-argument
from collections import defaultdict

from odoo import Command, api, models
from odoo.osv import expression


class BillingJobInvoicer(models.AbstractModel):
    """The invoicer's building blocks: lines, their taxes and accounts, and
    the split of an amount as the job's invoiceables (or deposits) split."""

    _inherit = "billing.job.invoicer"

    # ------------------------------------------------------------------ prices
    @api.model
    def _prepare_line(self, kind, name, price_unit, quantity=1.0, **values):
        return {
            "name": name,
            "quantity": quantity,
            "price_unit": price_unit,
            "job_line_kind": kind,
            **values,
        }

    @api.model
    def _get_default_taxes(self, job, choices):
        """Taxes of summary and deposit lines of a job without invoiceables:
        the company's default sale tax."""
        return choices.fiscal_position.map_tax(job.company_id.account_sale_tax_id)

    @api.model
    def _get_price_unit_from_untaxed(self, job, untaxed, taxes):
        """The unit price of a line of ``untaxed`` amount (quantity 1) with
        ``taxes``: the taxes included in the price added, so that the invoice
        line's untaxed amount, computed by Odoo, is ``untaxed`` to the cent."""
        included = taxes.flatten_taxes_hierarchy().filtered("price_include")
        if not included:
            return untaxed
        details = taxes.compute_all(
            untaxed, currency=job.currency_id, handle_price_include=False
        )
        return untaxed + sum(
            tax["amount"] for tax in details["taxes"] if tax["id"] in included.ids
        )

    @api.model
    def _set_tax_included_prices(self, job, lines):
        """Lines without allocations whose taxes the invoicer sets (summary and
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
                job, line["price_unit"], taxes
            )
        return lines

    # ------------------------------------------------------------------ taxes
    @api.model
    def _get_item_taxes(self, job, choices, item):
        """The taxes ``item`` is billed with: an order item's sale line taxes
        as they are (the order's fiscal position mapped them), a job charge's
        product taxes mapped by the invoice's fiscal position."""
        taxes = item._get_taxes()
        if item._is_order_line_item():
            return taxes
        return choices.fiscal_position.map_tax(taxes)

    @api.model
    def _get_product_accounts(self, job, choices, product):
        """The accounts of ``product`` in the job's company (they are company
        dependent), mapped by the invoice's fiscal position."""
        return product.product_tmpl_id.with_company(
            job.company_id
        ).get_product_accounts(fiscal_pos=choices.fiscal_position)

    @api.model
    def _get_tax_split(self, job, choices, amount, downpayment=False):
        """[(taxes, account, amount)]: ``amount`` split as the job's
        invoiceables split by their taxes (mapped by the fiscal position) and,
        for deposits, by the down payment account of their product category,
        as Odoo's own down payments; the company's default sale tax for a job
        without invoiceables."""
        weights = self._get_tax_weights(job, choices, downpayment)
        if job.currency_id.is_zero(sum(weights.values())):
            return [
                (
                    self._get_default_taxes(job, choices),
                    self.env["account.account"],
                    amount,
                )
            ]
        return self._split_by_weights(job, amount, weights)

    @api.model
    def _get_tax_weights(self, job, choices, downpayment=False):
        """{(taxes, account): untaxed amount} of the job's invoiceables."""
        weights = defaultdict(float)
        for item in job.invoiceable_ids:
            taxes = self._get_item_taxes(job, choices, item)
            account = self.env["account.account"]
            if downpayment:
                accounts = self._get_product_accounts(job, choices, item.product_id)
                account = accounts.get("downpayment") or account
            weights[taxes, account] += item.amount
        return weights

    @api.model
    def _get_deposit_weights(self, job):
        """{(taxes, account): untaxed amount} of the job's deposits not yet
        deducted, as their invoice lines carry them (deposits less credit
        notes and deductions, draft and posted)."""
        lines = self.env["account.move.line"].search(
            expression.AND(
                [
                    job._get_invoiced_line_domain(),
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
            if job.currency_id.compare_amounts(weight, 0.0) > 0
        }

    @api.model
    def _split_by_weights(self, job, amount, weights):
        """[(taxes, account, amount)]: ``amount`` split as ``weights``, the
        last part taking the rounding."""
        currency = job.currency_id
        total = sum(weights.values())
        split, rest = [], amount
        *firsts, last = weights
        for key in firsts:
            part = currency.round(amount * weights[key] / total)
            split.append((*key, part))
            rest -= part
        split.append((*last, currency.round(rest)))
        return [part for part in split if not currency.is_zero(part[2])]

    @api.model
    def _get_deposit_deduction_split(self, job, choices, amount):
        """A deposit deduction mirrors the tax split of the deposits it
        deducts (the taxes and accounts of their lines when issued), whatever
        the items' taxes are now."""
        weights = self._get_deposit_weights(job)
        if not weights:
            return self._get_tax_split(job, choices, amount, downpayment=True)
        return self._split_by_weights(job, amount, weights)

    # ------------------------------------------------------------------ lines
    @api.model
    def _prepare_summary_lines(
        self, job, choices, kind, name, amount, product, split=None
    ):
        """Summary lines (deposit, deduction, progress, adjustment, lump
        correction): one per tax of what they stand for (``split`` if
        given)."""
        if split is None:
            split = self._get_tax_split(
                job,
                choices,
                amount,
                downpayment=kind in ("deposit", "deposit_deduction"),
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

    @api.model
    def _prepare_invoiceable_lines(
        self, job, choices, billed, grouped, kind="invoiceable"
    ):
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
                lines.append(self._prepare_item_line(job, choices, kind, *members[0]))
            else:
                taxes = self.env["account.tax"].browse(key[-1])
                lines.append(
                    self._prepare_grouped_line(
                        job, choices, kind, key[1], members, taxes
                    )
                )
        return lines

    @api.model
    def _prepare_allocation(self, item, quantity, price_unit):
        return Command.create(
            {
                "invoiceable_id": item.id,
                "quantity": quantity,
                "amount": item._get_untaxed_amount(quantity, price_unit),
            }
        )

    @api.model
    def _prepare_item_line(self, job, choices, kind, item, quantity, price_unit):
        """One invoiceable on its own line: its product, taxes and account."""
        values = self._prepare_line(
            kind,
            item.name,
            price_unit,
            quantity=quantity,
            product_id=item.product_id.id,
            job_allocation_ids=[self._prepare_allocation(item, quantity, price_unit)],
        )
        values.update(self._get_item_line_price_values(job, choices, item, price_unit))
        if item.sale_line_id and kind == "invoiceable":
            values["sale_line_ids"] = [Command.link(item.sale_line_id.id)]
            # Quantity and price are in the sale line's unit: Odoo's invoiced
            # quantity of the order reads the invoice line's unit.
            values["product_uom_id"] = item.sale_line_id.product_uom.id
        return values

    @api.model
    def _get_item_line_price_values(self, job, choices, item, price_unit):
        """Unit price, discount and taxes of ``item``'s own invoice line. An
        order item's are its sale line's; a job charge takes its product's
        taxes mapped by the invoice (Odoo sets them), a price-included tax
        the fiscal position maps away taken out of the price, as Odoo does
        on sale and invoice lines."""
        if item._is_order_line_item():
            return {
                "price_unit": price_unit,
                "discount": item.discount,
                "tax_ids": [Command.set(self._get_item_taxes(job, choices, item).ids)],
            }
        taxes = item._get_taxes()
        price_unit = self.env["account.tax"]._fix_tax_included_price_company(
            price_unit,
            taxes,
            choices.fiscal_position.map_tax(taxes),
            job.company_id,
        )
        return {"price_unit": price_unit}

    @api.model
    def _prepare_grouped_line(self, job, choices, kind, category, members, taxes):
        """Job charges of one category (and taxes) on one line."""
        categories = dict(
            self.env["billing.job.invoiceable"]._fields["charge_category"].selection
        )
        allocations = [self._prepare_allocation(*member) for member in members]
        taxes = choices.fiscal_position.map_tax(taxes)
        values = self._prepare_line(
            kind,
            categories[category],
            # what its allocations bill untaxed, the taxes included in the
            # price added
            self._get_price_unit_from_untaxed(
                job, sum(command[2]["amount"] for command in allocations), taxes
            ),
            job_allocation_ids=allocations,
            tax_ids=[Command.set(taxes.ids)],
        )
        accounts = self._get_product_accounts(job, choices, members[0][0].product_id)
        if accounts.get("income"):
            values["account_id"] = accounts["income"].id
        return values
