from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_is_zero

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
            super(SaleOrder, to_change).write(
                {**to_change._prepare_billing_approval_values(approve), **stamp}
            )
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
        # A billing run bills only quantities never invoiced: drop what a credit
        # note reopened, then the sections left without lines.
        lines = lines.filtered(lambda line: line._is_billing_run_invoiceable())
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
            values.update(run._prepare_invoice_values(self))
        return values

    def _get_billing_amounts(self):
        """{order id: (untaxed, total)} a billing run would invoice, for the orders
        with something left to invoice; computed in a few queries for any number
        of orders (ordered or delivered quantities never invoiced, less down
        payments not yet deducted)."""
        lines = self.env["sale.order.line"].search_fetch(
            [("order_id", "in", self.ids), ("display_type", "=", False)],
            [
                "order_id",
                "product_id",
                "product_uom",
                "product_uom_qty",
                "qty_delivered",
                "qty_to_invoice",
                "price_unit",
                "price_subtotal",
                "price_total",
                "is_downpayment",
                "state",
            ],
        )
        amounts = defaultdict(lambda: [0.0, 0.0, False])
        for line in lines:
            order_amounts = amounts[line.order_id.id]
            if line.is_downpayment:
                # Down payments invoiced and not deducted yet: deducted by the run.
                if line.qty_to_invoice < 0:
                    taxes = line.tax_id.compute_all(
                        line.price_unit, line.currency_id, line.qty_to_invoice
                    )
                    order_amounts[0] += taxes["total_excluded"]
                    order_amounts[1] += taxes["total_included"]
                continue
            qty = line.billing_qty_to_invoice
            if float_is_zero(qty, precision_rounding=line.product_uom.rounding or 0.01):
                continue
            order_amounts[2] = True
            if line.product_uom_qty:
                ratio = qty / line.product_uom_qty
                order_amounts[0] += line.price_subtotal * ratio
                order_amounts[1] += line.price_total * ratio
            else:
                taxes = line.tax_id.compute_all(line.price_unit, line.currency_id, qty)
                order_amounts[0] += taxes["total_excluded"]
                order_amounts[1] += taxes["total_included"]
        return {
            order_id: (untaxed, total)
            for order_id, (untaxed, total, billable) in amounts.items()
            if billable
        }
