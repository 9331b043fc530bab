from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

# kinds a line's billed invoiceables (allocations) may be recorded on
ALLOCATION_LINE_KINDS = ("invoiceable", "correction")


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    job_id = fields.Many2one(
        related="move_id.job_id", store=True, index="btree_not_null"
    )
    job_line_kind = fields.Selection(
        [
            ("invoiceable", "Invoiceable"),
            ("deposit", "Deposit"),
            ("deposit_deduction", "Deposit Deduction"),
            ("progress", "Progress Billing"),
            ("adjustment", "Job Price Adjustment"),
            ("correction", "Correction"),
        ],
        copy=True,
        readonly=True,
        help="What the line bills of its job: invoiceables (see the allocations), "
        "a deposit or its deduction, summary progress billing, the fixed price "
        "adjustment of a final invoice, or a correction. A line without a kind "
        "on a job invoice (added by hand) counts as a correction.",
    )
    job_allocation_ids = fields.One2many(
        "billing.job.allocation",
        "move_line_id",
        string="Billed Invoiceables",
        copy=True,
        readonly=True,
    )

    def _get_job_export_locked_fields(self):
        """Line fields an exported invoice refuses to change (hook)."""
        return {
            "account_id",
            "partner_id",
            "product_id",
            "name",
            "quantity",
            "price_unit",
            "discount",
            "tax_ids",
            "debit",
            "credit",
            "balance",
            "amount_currency",
            "currency_id",
            "date",
            "move_id",
            "job_line_kind",
        }

    def _get_job_gross_amount(self):
        """Untaxed amount of the line before its discount."""
        self.ensure_one()
        if not self.discount:
            return self.price_subtotal
        return self.tax_ids.compute_all(
            self.price_unit,
            currency=self.currency_id,
            quantity=self.quantity,
            product=self.product_id,
            partner=self.partner_id,
            is_refund=self.move_id.move_type == "out_refund",
        )["total_excluded"]

    # ------------------------------------------------------------------ ORM
    @api.model_create_multi
    def create(self, vals_list):
        # what a line bills (its allocations) is recorded by the server only,
        # never by a user: taken out here, checked and written as superuser
        allocations = [vals.pop("job_allocation_ids", None) for vals in vals_list]
        lines = super().create(vals_list)
        lines._check_job_sale_lines()
        if any(allocations):
            lines._create_job_allocations(allocations)
        return lines

    def _check_job_sale_lines(self):
        """A sale order linked to a job is billed by the job only: an invoice
        made from the order itself (Odoo's Create Invoice, a down payment)
        would bill it a second time."""
        orders = self.sale_line_ids.order_id
        if not orders:
            return
        jobs = (
            self.env["billing.job"]
            .sudo()
            .search([("sale_order_ids", "in", orders.ids)])
        )
        for line in self:
            for job in jobs - line.move_id.job_id:
                billed = line.sale_line_ids.order_id & job.sale_order_ids
                if billed:
                    raise UserError(
                        self.env._(
                            "Sale order %(order)s is billed by job %(job)s: create "
                            "its invoices from the job (Generate Invoice), not from "
                            "the sale order.",
                            order=", ".join(billed.mapped("name")),
                            job=job.name,
                        )
                    )

    def _create_job_allocations(self, commands_list):
        values = []
        for line, commands in zip(self, commands_list, strict=True):
            for command in commands or []:
                if command[0] != 0:
                    raise AccessError(
                        self.env._("The invoiceables a job line bills cannot be set.")
                    )
                item = self.env["billing.job.invoiceable"].browse(
                    command[2]["invoiceable_id"]
                )
                if (
                    not line.job_id
                    or item.job_id != line.job_id
                    or line.job_line_kind not in ALLOCATION_LINE_KINDS
                ):
                    raise UserError(
                        self.env._(
                            "Invoice line %(line)s cannot bill %(item)s: it is not a "
                            "line of one of its job's invoices.",
                            line=line.name,
                            item=item.name,
                        )
                    )
                values.append({**command[2], "move_line_id": line.id})
        self.env["billing.job.allocation"].sudo().create(values)

    def write(self, vals):
        if set(vals) & self._get_job_export_locked_fields():
            self.move_id._check_job_export_lock()
        if "job_allocation_ids" in vals:
            raise AccessError(
                self.env._(
                    "The invoiceables a job invoice line bills are set when the job "
                    "invoice is created; they cannot be changed."
                )
            )
        has_job = bool(self.job_id)
        res = super().write(vals)
        if has_job:
            self.move_id._check_job_auto_post()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_job_exported(self):
        self.move_id._check_job_export_lock()
