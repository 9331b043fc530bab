from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.misc import formatLang


class BillingJob(models.Model):
    """A job billed in several invoices. Its amounts are in
    ``billing_job_amounts.py``, its status and the rules its figures keep in
    ``billing_job_state.py``, its order items in ``billing_job_order_items.py``;
    its invoices are built by ``billing.job.invoicer``."""

    _name = "billing.job"
    _description = "Job"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

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
        check_company=True,
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
        check_company=True,
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
    invoice_ids = fields.One2many("account.move", "job_id", string="Invoices")
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    has_complete_invoice = fields.Boolean(compute="_compute_invoice_count")
    has_draft_to_regenerate = fields.Boolean(
        string="Has a Draft Invoice",
        compute="_compute_invoice_count",
        help="The job has a draft invoice (corrections aside) that Regenerate "
        "Draft Invoice rebuilds from the job card.",
    )
    last_invoice_date = fields.Date(
        string="Last Invoiced On",
        compute="_compute_last_invoice_date",
        store=True,
        help="Date of the job's latest posted invoice or credit note.",
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
            job.has_draft_to_regenerate = bool(job._get_drafts_to_regenerate())

    @api.depends("invoice_ids.state", "invoice_ids.invoice_date")
    def _compute_last_invoice_date(self):
        for job in self:
            dates = job.invoice_ids.filtered(
                lambda m: m.state == "posted" and m.invoice_date
            ).mapped("invoice_date")
            job.last_invoice_date = max(dates) if dates else False

    @api.depends(
        "state",
        "amount_to_invoice",
        "deposit_balance",
        "invoice_ids.state",
        "invoice_ids.is_move_sent",
        "invoice_ids.job_workflow_state",
        "invoice_ids.job_export_id",
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

    def _get_drafts_to_regenerate(self):
        """The draft invoices *Regenerate Draft Invoice* rebuilds: all but
        corrections (a correction is what its user entered)."""
        return self.invoice_ids.filtered(
            lambda m: m.state == "draft" and m.job_invoice_type != "correction"
        )

    def action_regenerate_drafts(self):
        """Regenerate the job's draft invoices from the job card as it is now."""
        drafts = self._get_drafts_to_regenerate()
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

    def _format_amount(self, amount, currency=None):
        """``amount`` written as Odoo shows money: in ``currency`` (the job's
        by default), with its symbol and decimals, grouped as the user's
        language groups digits."""
        currency = currency or self[:1].currency_id or self.env.company.currency_id
        return formatLang(self.env, amount, currency_obj=currency)

    def _message_job_invoice_created(self, move):
        # a Markup argument (the link) escapes the others and the text
        self.message_post(
            body=self.env._(
                "Invoice %(invoice)s (%(policy)s) created: %(amount)s untaxed.",
                invoice=move._get_html_link(title=move._get_job_invoice_label()),
                policy=move._get_job_policy_label(),
                amount=self._format_amount(move.amount_untaxed, move.currency_id),
            )
        )
