from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

# invoice line kinds that bill the job price (deposits are balanced separately)
PRICE_LINE_KINDS = ("invoiceable", "progress", "adjustment")


class BillingJob(models.Model):
    _name = "billing.job"
    _description = "Job"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        string="Number", required=True, copy=False, readonly=True, default="/"
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        domain="[('company_id', 'in', (False, company_id))]",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user
    )
    description = fields.Text()
    sale_order_ids = fields.Many2many(
        "sale.order",
        string="Sale Orders",
        copy=False,
        domain="[('company_id', '=', company_id), ('state', '=', 'sale')]",
    )
    invoiceable_ids = fields.One2many(
        "billing.job.invoiceable", "job_id", string="Invoiceables", copy=True
    )
    billing_type = fields.Selection(
        [("fixed_price", "Fixed Price"), ("time_material", "Time and Material")],
        required=True,
        default="time_material",
        tracking=True,
        help="Fixed Price: the suggested job price is the agreed fixed price. "
        "Time and Material: it is the sum of the job's invoiceables.",
    )
    fixed_price = fields.Monetary(tracking=True, help="Untaxed agreed job price.")
    state = fields.Selection(
        [("open", "Open"), ("closed", "Closed"), ("billed", "Billed")],
        default="open",
        required=True,
        copy=False,
        tracking=True,
    )
    invoice_ids = fields.One2many("account.move", "job_id", string="Invoices")
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    has_complete_invoice = fields.Boolean(compute="_compute_invoice_count")

    amount_invoiceables = fields.Monetary(
        string="Invoiceables Total",
        compute="_compute_suggested_price",
        store=True,
    )
    suggested_price = fields.Monetary(
        string="Suggested Job Price",
        compute="_compute_suggested_price",
        store=True,
        help="Untaxed target amount of the job's invoices, corrections aside.",
    )
    amount_invoiced = fields.Monetary(
        string="Invoiced So Far",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount of the job price already invoiced (draft or posted), "
        "deposits and corrections aside.",
    )
    deposit_invoiced = fields.Monetary(
        string="Deposits", compute="_compute_amounts", store=True
    )
    deposit_balance = fields.Monetary(
        string="Deposits Not Yet Balanced",
        compute="_compute_amounts",
        store=True,
    )
    amount_corrected = fields.Monetary(
        string="Corrections",
        compute="_compute_amounts",
        store=True,
        help="Untaxed net amount of the correction invoices (credits negative).",
    )
    amount_to_invoice = fields.Monetary(
        string="Remaining to Invoice", compute="_compute_amounts", store=True
    )
    progress_percent = fields.Float(
        string="Invoiced %",
        compute="_compute_amounts",
        store=True,
        digits=(16, 2),
    )
    invoicing_stage = fields.Selection(
        [("new", "New"), ("active", "Active"), ("completed", "Completed")],
        compute="_compute_invoicing_stage",
        store=True,
        index=True,
        help="New: something to bill. Active: a draft invoice exists, or an "
        "invoice is neither sent to the customer nor exported yet. Completed: "
        "everything is invoiced and sent or exported.",
    )
    sync_error = fields.Text(
        string="Sync Errors", compute="_compute_sync_error", store=True
    )

    # ------------------------------------------------------------------ computes
    @api.depends("invoice_ids.state", "invoice_ids.job_invoice_type")
    def _compute_invoice_count(self):
        for job in self:
            job.invoice_count = len(job.invoice_ids)
            job.has_complete_invoice = bool(job._get_complete_invoices())

    @api.depends("billing_type", "fixed_price", "invoiceable_ids.amount")
    def _compute_suggested_price(self):
        for job in self:
            job.amount_invoiceables = sum(job.invoiceable_ids.mapped("amount"))
            job.suggested_price = (
                job.fixed_price
                if job.billing_type == "fixed_price"
                else job.amount_invoiceables
            )

    def _get_invoiced_line_domain(self):
        """Job invoice lines that count: draft or posted, not cancelled."""
        return [
            ("job_id", "in", self._origin.ids),
            ("display_type", "=", "product"),
            ("parent_state", "!=", "cancel"),
            ("job_line_kind", "!=", False),
        ]

    def _get_invoiced_totals(self):
        """Untaxed amounts of the jobs' draft and posted invoice lines, by job
        and line kind: {(job_id, job_line_kind): amount}, credits negative."""
        totals = defaultdict(float)
        if not self._origin.ids:
            return totals
        groups = self.env["account.move.line"]._read_group(
            self._get_invoiced_line_domain(),
            ["job_id", "job_line_kind", "move_type"],
            ["price_subtotal:sum"],
        )
        for job, kind, move_type, subtotal in groups:
            sign = -1 if move_type == "out_refund" else 1
            totals[job.id, kind] += sign * subtotal
        return totals

    @api.depends(
        "suggested_price",
        "invoice_ids.state",
        "invoice_ids.line_ids.price_subtotal",
        "invoice_ids.line_ids.job_line_kind",
    )
    def _compute_amounts(self):
        totals = self._get_invoiced_totals()
        for job in self:
            key = job._origin.id
            invoiced = sum(totals[key, kind] for kind in PRICE_LINE_KINDS)
            job.amount_invoiced = invoiced
            job.deposit_invoiced = totals[key, "deposit"]
            job.deposit_balance = (
                job.deposit_invoiced + totals[key, "deposit_deduction"]
            )
            job.amount_corrected = totals[key, "correction"]
            job.amount_to_invoice = job.suggested_price - invoiced
            job.progress_percent = (
                100.0 * invoiced / job.suggested_price if job.suggested_price else 0.0
            )

    @api.depends(
        "state",
        "amount_to_invoice",
        "deposit_balance",
        "invoice_ids.state",
        "invoice_ids.is_move_sent",
        "invoice_ids.job_workflow_state",
    )
    def _compute_invoicing_stage(self):
        for job in self:
            invoices = job.invoice_ids.filtered(lambda m: m.state != "cancel")
            rounding = job.currency_id or self.env.company.currency_id
            to_bill = job.state != "billed" and (
                not rounding.is_zero(job.amount_to_invoice)
                or not rounding.is_zero(job.deposit_balance)
            )
            if any(not move._is_job_invoice_delivered() for move in invoices):
                job.invoicing_stage = "active"
            elif to_bill:
                job.invoicing_stage = "new"
            elif invoices:
                job.invoicing_stage = "completed"
            else:
                job.invoicing_stage = False

    @api.depends("invoice_ids.job_export_error")
    def _compute_sync_error(self):
        for job in self:
            errors = [
                f"{move.name}: {move.job_export_error}"
                for move in job.invoice_ids
                if move.job_export_error
            ]
            job.sync_error = "\n".join(errors) or False

    # ------------------------------------------------------------------ CRUD
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                vals["name"] = (
                    self.env["ir.sequence"]
                    .with_company(company)
                    .next_by_code("billing.job")
                    or "/"
                )
        jobs = super().create(vals_list)
        jobs.filtered("sale_order_ids")._sync_order_items()
        return jobs

    def _get_billed_writable_fields(self):
        """Fields a billed job still accepts (hook): its status and chatter."""
        return {
            "state",
            "message_main_attachment_id",
            "activity_ids",
            "message_follower_ids",
        }

    def write(self, vals):
        if set(vals) - self._get_billed_writable_fields():
            self._check_editable()
        res = super().write(vals)
        if "sale_order_ids" in vals:
            self._sync_order_items()
        return res

    def _check_editable(self):
        billed = self.filtered(lambda job: job.state == "billed")
        if billed:
            raise UserError(
                self.env._(
                    "Job %(jobs)s is billed: it can no longer be modified. Issue a "
                    "correction invoice instead.",
                    jobs=", ".join(billed.mapped("name")),
                )
            )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        self._check_editable()
        invoiced = self.with_context(active_test=False).filtered("invoice_ids")
        if invoiced:
            raise UserError(
                self.env._(
                    "Job %(jobs)s has invoices: a job with any invoice cannot be "
                    "deleted.",
                    jobs=", ".join(invoiced.mapped("name")),
                )
            )

    # ------------------------------------------------------------------ order items
    def _prepare_order_item_values(self, sale_line):
        return {
            "job_id": self.id,
            "sale_line_id": sale_line.id,
            "source": "order_item",
            "name": sale_line.name,
            "product_id": sale_line.product_id.id,
            "quantity": sale_line.product_uom_qty,
            "price_unit": sale_line.price_reduce_taxexcl,
        }

    def _get_order_item_lines(self):
        return self.sale_order_ids.order_line.filtered(
            lambda line: not line.display_type and not line.is_downpayment
        )

    def _sync_order_items(self):
        """Create the order items of the linked sale order lines, update them,
        and drop those of unlinked orders that nothing invoiced."""
        Invoiceable = self.env["billing.job.invoiceable"]
        to_create, to_update, stale = [], defaultdict(Invoiceable.browse), Invoiceable
        for job in self:
            sale_lines = job._get_order_item_lines()
            items = job.invoiceable_ids.filtered(lambda i: i.source == "order_item")
            by_line = {item.sale_line_id: item for item in items}
            for sale_line in sale_lines:
                values = job._prepare_order_item_values(sale_line)
                item = by_line.get(sale_line)
                if not item:
                    to_create.append(values)
                elif (item.quantity, item.price_unit) != (
                    values["quantity"],
                    values["price_unit"],
                ):
                    to_update[values["quantity"], values["price_unit"]] |= item
            stale |= items.filtered(
                lambda i, lines=sale_lines: (
                    i.sale_line_id not in lines and not i.allocation_ids
                )
            )
        for (quantity, price_unit), changed in to_update.items():
            changed.write({"quantity": quantity, "price_unit": price_unit})
        stale.unlink()
        Invoiceable.create(to_create)

    def action_update_order_items(self):
        self._check_editable()
        self._sync_order_items()

    # ------------------------------------------------------------------ status
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
        return self.invoice_ids.filtered(
            lambda m: m.job_invoice_type == "complete" and m.state != "cancel"
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

    # ------------------------------------------------------------------ actions
    def _get_default_policy(self):
        self.ensure_one()
        return {
            "open": "progress_itemized",
            "closed": "final",
            "billed": "correction",
        }[self.state]

    def action_generate_invoice(self, policy=None):
        """Open the invoice wizard on this job (the job card's Generate Invoice)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Generate Invoice"),
            "res_model": "billing.job.invoice",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_job_id": self.id,
                "default_policy": policy or self._get_default_policy(),
            },
        }

    def action_regenerate_drafts(self):
        """Regenerate the job's draft invoices from the job card as it is now."""
        drafts = self.invoice_ids.filtered(
            lambda m: m.state == "draft" and m.job_invoice_type != "correction"
        )
        if not drafts:
            raise UserError(self.env._("There is no draft invoice to regenerate."))
        for move in drafts:
            move._regenerate_job_invoice()
        return self._notify(
            self.env._(
                "%(count)s draft invoice(s) regenerated from the job card.",
                count=len(drafts),
            )
        )

    @api.model
    def _notify(self, message, next_action=None, title=False):
        """A success notification, then ``next_action`` (or a reload)."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": title,
                "message": message,
                "next": next_action
                or {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "job_billing.action_job_invoices"
        )
        action["domain"] = [("job_id", "=", self.id)]
        action["context"] = {
            "default_job_id": self.id,
            "default_move_type": "out_invoice",
        }
        return action

    def action_print_invoices(self):
        invoices = self.invoice_ids.filtered(lambda m: m.state != "cancel")
        if not invoices:
            raise UserError(self.env._("This job has no invoice to print."))
        return invoices.action_job_print_invoices()

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            # copied order items would not follow their sale order
            vals["invoiceable_ids"] = [
                command
                for command in vals.get("invoiceable_ids", [])
                if command[2].get("source") != "order_item"
            ]
        return vals_list

    def _message_job_invoice_created(self, move):
        self.message_post(
            body=self.env._(
                "Invoice %(invoice)s (%(policy)s) created: %(amount)s untaxed.",
                invoice=move._get_job_invoice_label(),
                policy=move._get_job_policy_label(),
                amount=format(move.amount_untaxed, ".2f"),
            )
        )
