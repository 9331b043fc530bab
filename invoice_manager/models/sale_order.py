from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare, float_is_zero

APPROVAL_STAMP_FIELDS = ("approved_for_invoicing_uid", "approved_for_invoicing_date")


class SaleOrder(models.Model):
    _inherit = "sale.order"

    approved_for_invoicing = fields.Boolean(
        copy=False,
        tracking=True,
        help="Billing scenarios that require approval only invoice approved sales.",
    )
    approved_for_invoicing_uid = fields.Many2one(
        "res.users", string="Approved by", copy=False, readonly=True
    )
    approved_for_invoicing_date = fields.Datetime(
        string="Approved on", copy=False, readonly=True
    )
    billing_run_line_ids = fields.Many2many(
        "billing.run.line",
        "billing_run_line_sale_order_rel",
        "sale_order_id",
        "line_id",
        string="Billing Run Lines",
        copy=False,
        readonly=True,
        check_company=True,
    )

    # ------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        # A sale created approved goes through the approval (rights, confirmed
        # state, who and when), as the same sale approved right after creation.
        approvals = {}
        new_vals_list = []
        for index, vals in enumerate(vals_list):
            self._check_billing_approval_stamp_access(vals, creating=True)
            if vals.get("approved_for_invoicing"):
                vals = dict(vals)
                approvals[index] = {
                    fname: vals.pop(fname)
                    for fname in ("approved_for_invoicing", *APPROVAL_STAMP_FIELDS)
                    if fname in vals
                }
            new_vals_list.append(vals)
        if approvals:
            self._check_billing_approval_rights()
        orders = super().create(new_vals_list)
        order_ids_by_approval = defaultdict(list)
        for index, approval_vals in approvals.items():
            order_ids_by_approval[tuple(approval_vals.items())].append(orders[index].id)
        for approval_items, order_ids in order_ids_by_approval.items():
            self.browse(order_ids).write(dict(approval_items))
        return orders

    def write(self, vals):
        self._check_billing_approval_stamp_access(vals)
        if "approved_for_invoicing" not in vals:
            return super().write(vals)
        self._check_billing_approval_rights()
        vals = dict(vals)
        approve = bool(vals.pop("approved_for_invoicing"))
        stamp = {
            fname: vals.pop(fname) for fname in APPROVAL_STAMP_FIELDS if fname in vals
        }
        # Only the sales whose approval changes: an approved sale keeps its
        # approver and date.
        to_change = self.filtered(lambda order: order.approved_for_invoicing != approve)
        result = super().write(vals) if vals else True
        if to_change:
            if approve:
                to_change._check_can_approve_for_invoicing()
            values = {**to_change._prepare_billing_approval_values(approve), **stamp}
            # The approval is a right of its own (checked above) over the
            # sales the user reads: an approver who sells with "Own Documents
            # Only" approves a colleague's sale, and edits nothing else of it.
            to_change.check_access("read")
            super(SaleOrder, to_change.sudo()).write(values)
        return result

    # ------------------------------------------------------------------ approval
    def action_approve_for_invoicing(self):
        self.write({"approved_for_invoicing": True})
        return True

    def action_unapprove_for_invoicing(self):
        self.write({"approved_for_invoicing": False})
        return True

    @api.model
    def _prepare_billing_approval_values(self, approve):
        """Values recording an approval (who, when) or its withdrawal."""
        if not approve:
            return dict.fromkeys(
                ("approved_for_invoicing", *APPROVAL_STAMP_FIELDS), False
            )
        return {
            "approved_for_invoicing": True,
            "approved_for_invoicing_uid": self.env.uid,
            "approved_for_invoicing_date": fields.Datetime.now(),
        }

    @api.model
    def _check_billing_approval_stamp_access(self, vals, creating=False):
        """Who approved and when are recorded by approving, never written."""
        if self.env.su:
            return
        written = [
            fname
            for fname in APPROVAL_STAMP_FIELDS
            if fname in vals and (vals[fname] or not creating)
        ]
        if written:
            raise AccessError(
                self.env._(
                    "Who approved a sale for invoicing and when are recorded by "
                    "approving it; they cannot be written directly."
                )
            )

    @api.model
    def _check_billing_approval_rights(self):
        """Approving sales for invoicing, or withdrawing an approval, is a right."""
        if self.env.su or self.env.user.has_group(
            "invoice_manager.group_billing_approver"
        ):
            return
        raise AccessError(
            self.env._(
                "Only users with the right “%(group)s” can approve sales for "
                "invoicing or withdraw their approval.",
                group=self.env.ref("invoice_manager.group_billing_approver")
                .sudo()
                .name,
            )
        )

    def _check_can_approve_for_invoicing(self):
        """These sales may be approved by the current user (confirmed sales only;
        no one approves their own sales where their company forbids it)."""
        not_confirmed = self.filtered(lambda order: order.state != "sale")
        if not_confirmed:
            raise UserError(
                self.env._(
                    "Only confirmed sales can be approved for invoicing: %(orders)s",
                    orders=", ".join(not_confirmed.mapped("name")),
                )
            )
        if self.env.su:
            return
        own = self.filtered(
            lambda order: (
                order.user_id == self.env.user
                and order.company_id.billing_forbid_self_approval
            )
        )
        if own:
            raise UserError(
                self.env._(
                    "You are the salesperson of %(orders)s and their company does "
                    "not allow salespeople to approve their own sales for "
                    "invoicing: another approver has to approve them.",
                    orders=", ".join(own.mapped("name")),
                )
            )

    @api.model
    def _billing_run(self):
        """The billing run invoicing these orders (context), or an empty one."""
        return self.env["billing.run"].browse(self.env.context.get("billing_run_id"))

    def _get_invoiceable_lines(self, final=False):
        lines = super()._get_invoiceable_lines(final=final)
        if not self.env.context.get("billing_run_id"):
            return lines
        # A billing run bills what Odoo would, less what credit notes settled: drop
        # the lines left with nothing to bill, then the sections left without lines.
        # Down payments are deducted only from an invoice that bills something.
        lines = lines.filtered(lambda line: line._is_billing_run_invoiceable())
        if not any(not line.display_type and not line.is_downpayment for line in lines):
            return self.env["sale.order.line"]
        kept_ids = []
        pending_section_id = None
        for line in lines:
            if line.display_type == "line_section":
                pending_section_id = line.id
                continue
            if not line.display_type and pending_section_id:
                kept_ids.append(pending_section_id)
                pending_section_id = None
            kept_ids.append(line.id)
        return self.env["sale.order.line"].browse(kept_ids)

    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        run = self._billing_run()
        if run:
            selector = self.env["billing.run.selector"]
            values.update(selector._prepare_invoice_values(run, self))
        return values

    def _get_invoice_grouping_keys(self):
        keys = super()._get_invoice_grouping_keys()
        if self.env.context.get("billing_run_id"):
            # A billing run makes one invoice per run line; Odoo's own invoicing
            # keeps its grouping.
            keys = [*keys, "billing_run_line_id"]
        return keys

    def _create_account_invoices(self, invoice_vals_list, final):
        run = self._billing_run()
        if run:
            Line = self.env["billing.run.line"]
            selector = self.env["billing.run.selector"]
            for invoice_vals in invoice_vals_list:
                line = Line.browse(invoice_vals.get("billing_run_line_id"))
                if line:
                    invoice_vals["invoice_line_ids"] = selector._get_site_sections(
                        run, line, invoice_vals["invoice_line_ids"]
                    )
            regenerated, invoice_vals_list = selector._get_regenerated_moves(
                run, invoice_vals_list
            )
            if not invoice_vals_list:
                return regenerated
            return regenerated | super()._create_account_invoices(
                invoice_vals_list, final
            )
        return super()._create_account_invoices(invoice_vals_list, final)

    def _get_billing_amounts(self):
        """{order id: (untaxed, total)} a billing run would invoice, for the orders
        with something left to bill, in the order's currency and signed (a credit
        is negative): the quantities to bill (``billing_qty_to_invoice``) less the
        down payments to deduct, with the taxes Odoo computes on the invoice.
        A few queries for any number of orders; an order billed whole (its ordered
        quantities, nothing deducted) is billed its own amounts."""
        lines = self._fetch_billing_lines()
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        to_bill = defaultdict(list)
        billable = set()
        partial = set()
        for line in lines:
            if line.is_downpayment:
                # Final invoices deduct the down payments invoiced, not deducted yet.
                qty = line.qty_to_invoice if line.qty_to_invoice < 0 else 0.0
            else:
                qty = line.billing_qty_to_invoice
            order = line.order_id
            whole = 0.0 if line.is_downpayment else line.product_uom_qty
            if float_compare(qty, whole, precision_digits=precision):
                partial.add(order)
            if float_is_zero(qty, precision_digits=precision):
                continue
            to_bill[order].append((line, qty))
            if not line.is_downpayment:
                billable.add(order)
        amounts = {}
        for order in billable:
            if order in partial:
                base_lines = [
                    line._prepare_base_line_for_taxes_computation(quantity=qty)
                    for line, qty in to_bill[order]
                ]
                amounts[order.id] = order._get_billing_amounts_of(base_lines)
            else:
                # The invoice of the whole order: the order's own amounts.
                amounts[order.id] = (order.amount_untaxed, order.amount_total)
        return amounts

    def _fetch_billing_lines(self):
        """The product and down payment lines of these orders, with what the
        billing amounts are computed from, in one query."""
        return self.env["sale.order.line"].search_fetch(
            [("order_id", "in", self.ids), ("display_type", "=", False)],
            [
                "order_id",
                "company_id",
                "currency_id",
                "product_id",
                "product_uom",
                "product_uom_qty",
                "qty_to_invoice",
                "price_unit",
                "discount",
                "tax_id",
                "is_downpayment",
                "state",
            ],
        )

    def _get_billing_amounts_for(self, quantities, group_of=None):
        """{(key, order id): (untaxed, total)} of the invoices billing
        ``quantities`` ({(key, order id): {sale line id: quantity}}), signed, in
        the orders' currencies. Each order's down payments still to deduct are
        deducted from its first key, as Odoo's final invoice deducts them.

        With ``group_of`` (key -> invoice), the keys of one invoice are computed
        together, as the invoice computes them (one rounding over all its lines
        when the company rounds taxes globally): the invoice's amounts are given
        to its first key, nothing to the others."""
        base_lines_by_key = self._get_billing_base_lines_for(quantities)
        invoices = defaultdict(list)
        for key_order in base_lines_by_key:
            invoices[group_of(key_order[0]) if group_of else key_order].append(
                key_order
            )
        amounts = {}
        for keys in invoices.values():
            base_lines = [
                base_line for key in keys for base_line in base_lines_by_key[key]
            ]
            amounts[keys[0]] = self.browse(keys[0][1])._get_billing_amounts_of(
                base_lines
            )
            for key in keys[1:]:
                amounts[key] = (0.0, 0.0)
        return amounts

    def _get_billing_base_lines_for(self, quantities):
        """{(key, order id): base lines} of ``quantities``, each order's down
        payments still to deduct on its first key (Odoo's tax base lines)."""
        lines = self._fetch_billing_lines()
        line_by_id = {line.id: line for line in lines}
        down_payments = defaultdict(list)
        for line in lines:
            if line.is_downpayment and line.qty_to_invoice < 0:
                down_payments[line.order_id.id].append(line)
        deducted = set()
        base_lines_by_key = {}
        for (key, order_id), by_line in quantities.items():
            base_lines = [
                line_by_id[line_id]._prepare_base_line_for_taxes_computation(
                    quantity=qty
                )
                for line_id, qty in by_line.items()
                if line_id in line_by_id
            ]
            if order_id not in deducted:
                deducted.add(order_id)
                base_lines += [
                    line._prepare_base_line_for_taxes_computation(
                        quantity=line.qty_to_invoice
                    )
                    for line in down_payments[order_id]
                ]
            base_lines_by_key[key, order_id] = base_lines
        return base_lines_by_key

    def _get_billing_group_amounts(self):
        """(untaxed, total) of one invoice of all these orders' quantities to
        bill (``_get_billing_amounts``), computed as that invoice computes them."""
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        lines = self._fetch_billing_lines()
        quantities = {
            (0, line.order_id.id): {} for line in lines if not line.is_downpayment
        }
        for line in lines:
            if line.is_downpayment or float_is_zero(
                line.billing_qty_to_invoice, precision_digits=precision
            ):
                continue
            quantities[0, line.order_id.id][line.id] = line.billing_qty_to_invoice
        amounts = self._get_billing_amounts_for(quantities, group_of=lambda key: 0)
        return amounts[next(iter(amounts))] if amounts else (0.0, 0.0)

    def _get_billing_amounts_of(self, base_lines):
        """(untaxed, total) of an invoice of this order's ``base_lines``, as Odoo
        computes them on the invoice."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        company = self.company_id
        currency = self.currency_id or company.currency_id
        AccountTax._add_tax_details_in_base_lines(base_lines, company)
        AccountTax._round_base_lines_tax_details(base_lines, company)
        totals = AccountTax._get_tax_totals_summary(
            base_lines=base_lines, currency=currency, company=company
        )
        delta = self._get_billing_down_payment_delta(base_lines)
        return (
            currency.round(totals["base_amount_currency"]),
            currency.round(totals["total_amount_currency"] - delta),
        )

    def _get_billing_down_payment_delta(self, base_lines):
        """The cents Odoo's final invoice moves (``_create_invoices(final=True)``)
        so that it deducts exactly what the down payment invoices billed, tax
        included (a fixed down payment's taxes are rounded on its invoice)."""
        self.ensure_one()
        AccountTax = self.env["account.tax"]
        currency = self.currency_id or self.company_id.currency_id
        down_payments = [
            base_line for base_line in base_lines if base_line["record"].is_downpayment
        ]
        has_tax_lines = any(
            tax.amount_type != "fixed"
            for base_line in base_lines
            for tax in base_line["tax_ids"].flatten_taxes_hierarchy()
        )
        if not down_payments or not has_tax_lines:
            return 0.0
        delta = 0.0
        for down_payment in down_payments:
            line = down_payment["record"]
            # The deduction line's total, as the invoice line computes it.
            deduction = line._prepare_base_line_for_taxes_computation(
                quantity=down_payment["quantity"]
            )
            AccountTax._add_tax_details_in_base_line(deduction, self.company_id)
            invoiced = sum(
                invoice_line.price_total
                * (1 if invoice_line.move_id.is_inbound() else -1)
                for invoice_line in line.invoice_lines
                if invoice_line.move_id.state != "cancel"
            )
            if invoiced:
                delta += deduction["tax_details"]["total_included_currency"] + invoiced
        return 0.0 if currency.is_zero(delta) else delta
