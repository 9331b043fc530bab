from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .billing_scenario import BILLING_ACTIONS
from .res_partner import HEAD_OFFICE_INVOICING, INVOICING_MODES

# What users may change on a line (the rest is the run's to write).
USER_FIELDS = {"billing_action", "sequence"}


class BillingRunLine(models.Model):
    """One invoice to make in a billing run: its sales, action and result."""

    _name = "billing.run.line"
    _description = "Billing Run Line"
    _order = "run_id, sequence, id"
    _check_company_auto = True

    run_id = fields.Many2one(
        "billing.run",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, check_company=True
    )
    sale_order_ids = fields.Many2many(
        "sale.order",
        "billing_run_line_sale_order_rel",
        "line_id",
        "sale_order_id",
        string="Sales",
        readonly=True,
        check_company=True,
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount_untaxed = fields.Monetary(string="Untaxed to Invoice", readonly=True)
    amount_total = fields.Monetary(string="Amount to Invoice", readonly=True)
    billing_action = fields.Selection(BILLING_ACTIONS, required=True, default="email")
    state = fields.Selection(
        [
            ("not_done", "Not Done"),
            ("processed", "Processed"),
            ("error", "Error"),
            ("skipped", "Not Invoiced"),
            ("elsewhere", "Invoiced Elsewhere"),
        ],
        string="Invoice Status",
        help="Not Invoiced: the line's sales no longer met the run's rules when it "
        "was processed (the message says why). Invoiced Elsewhere: another run or "
        "a user invoiced them in the meantime (see their invoices).",
        default="not_done",
        required=True,
        readonly=True,
        copy=False,
    )
    invoice_ids = fields.Many2many(
        "account.move",
        "billing_run_line_account_move_rel",
        "line_id",
        "move_id",
        string="Invoices",
        readonly=True,
        copy=False,
        check_company=True,
    )
    invoice_amount = fields.Monetary(
        string="Invoiced", compute="_compute_invoice_amount"
    )
    elsewhere_invoice_ids = fields.Many2many(
        "account.move",
        "billing_run_line_elsewhere_move_rel",
        "line_id",
        "move_id",
        string="Invoiced by",
        readonly=True,
        check_company=True,
        copy=False,
        help="The invoices made in the meantime by another run or a user.",
    )
    elsewhere_run_ids = fields.Many2many(
        "billing.run",
        string="Invoiced by Runs",
        compute="_compute_elsewhere_run_ids",
    )
    delivery_channel = fields.Selection(
        [("email", "Email"), ("print", "Print"), ("none", "None")],
        readonly=True,
        copy=False,
        help="How the invoice actually reached the customer.",
    )
    delivery_email = fields.Char(
        string="Sent to", readonly=True, copy=False, help="The addresses emailed."
    )
    delivery_state = fields.Selection(
        [
            ("queued", "Queued"),
            ("sent", "Sent"),
            ("printed", "Printed"),
            ("failed", "Failed"),
        ],
        compute="_compute_delivery_state",
        help="Queued: Odoo's sending cron or mail queue still has to render or send "
        "the email. Sent: the email left the mail server. Failed: see the reason.",
    )
    delivery_error = fields.Text(
        string="Delivery Failure", compute="_compute_delivery_state"
    )
    delivery_retry_count = fields.Integer(
        string="Delivery Retries",
        readonly=True,
        copy=False,
        default=0,
        help="Times the failed emails of the line were handed to the mail queue "
        "again (Retry Failed Emails, or the scheduler when the mail server could "
        "not be reached).",
    )
    error_message = fields.Text(string="Message", readonly=True, copy=False)
    # Lines made by the customers' invoicing modes (scenario "Follow the
    # Customers' Invoicing Modes"): what made the line, and what it invoices.
    invoicing_mode = fields.Selection(
        INVOICING_MODES,
        readonly=True,
        help="The customer's invoicing mode that made this line.",
    )
    head_office_invoicing = fields.Selection(
        HEAD_OFFICE_INVOICING,
        string="Head Office",
        readonly=True,
        help="Set when the line invoices a head office for its sites.",
    )
    cycle_date_from = fields.Date(string="Cycle From", readonly=True)
    cycle_date_to = fields.Date(string="Cycle To", readonly=True)
    is_late = fields.Boolean(
        string="Late",
        readonly=True,
        help="Bills sales or deliveries of an earlier period (approved or "
        "delivered late): they are billed now, not lost.",
    )
    split_reason = fields.Char(
        string="Split",
        readonly=True,
        help="Why this customer's sales of the period are on more than one invoice.",
    )
    replaced_invoice_ids = fields.Many2many(
        "account.move",
        "billing_run_line_replaced_move_rel",
        "line_id",
        "move_id",
        string="Replaces",
        readonly=True,
        copy=False,
        check_company=True,
        help="Invoices of an earlier run of this cycle that this line replaces: "
        "a draft is regenerated in place, a posted invoice reversed by a credit "
        "note and invoiced anew.",
    )
    item_ids = fields.One2many(
        "billing.run.line.item",
        "line_id",
        string="Preview",
        readonly=True,
        help="What the line invoices, sale line by sale line. At Process, no more "
        "is billed than Odoo's own quantity to invoice at that moment.",
    )
    process_date = fields.Datetime(string="Processed on", readonly=True, copy=False)

    @api.depends("invoice_ids.amount_total_in_currency_signed")
    def _compute_invoice_amount(self):
        """In the line's (and its invoices') currency."""
        for line in self:
            line.invoice_amount = sum(
                line.invoice_ids.mapped("amount_total_in_currency_signed")
            )

    @api.depends("elsewhere_invoice_ids.billing_run_id")
    def _compute_elsewhere_run_ids(self):
        for line in self:
            line.elsewhere_run_ids = line.elsewhere_invoice_ids.billing_run_id

    @api.depends(
        "delivery_channel", "invoice_ids.sending_data", "invoice_ids.is_move_sent"
    )
    def _compute_delivery_state(self):
        """What became of the delivery, from Odoo's own records: the invoice's
        ``sending_data`` while its sending cron has not run, the email in the mail
        queue (``mail.mail``) while it is not sent or when it failed."""
        emailed = self.filtered(
            lambda line: line.delivery_channel == "email" and line.invoice_ids
        )
        mails = (
            self.env["mail.mail"]
            .sudo()
            .search(
                [
                    ("model", "=", "account.move"),
                    ("res_id", "in", emailed.invoice_ids.ids),
                    ("state", "in", ("outgoing", "exception")),
                ]
            )
            if emailed
            else self.env["mail.mail"]
        )
        mails_by_invoice = mails.grouped("res_id")
        for line in self:
            line.delivery_error = False
            if line.delivery_channel == "print" and line.invoice_ids:
                line.delivery_state = "printed"
                continue
            if line not in emailed:
                line.delivery_state = False
                continue
            state, errors = "sent", []
            for invoice in line.invoice_ids:
                mail = mails_by_invoice.get(invoice.id, self.env["mail.mail"])
                if (invoice.sending_data or {}).get("error"):
                    state = "failed"
                    errors.append(
                        self.env._(
                            "%(invoice)s: Odoo's sending failed: %(reason)s",
                            invoice=invoice.name,
                            reason=invoice._get_last_sending_error(),
                        )
                    )
                elif failed := mail.filtered(lambda m: m.state == "exception"):
                    state = "failed"
                    errors.extend(
                        f"{invoice.name}: {reason}"
                        for reason in failed.mapped("failure_reason")
                    )
                elif state != "failed" and (invoice.sending_data or mail):
                    state = "queued"
                elif not invoice.is_move_sent and not invoice.sending_data:
                    state = "failed"
                    errors.append(
                        self.env._(
                            "%s was not sent (see the invoice's chatter).",
                            invoice.name,
                        )
                    )
            line.delivery_state = state
            line.delivery_error = "\n".join(errors) or False

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            raise AccessError(
                self.env._("Lines of a billing run are made by its Fetch.")
            )
        return super().create(vals_list)

    def write(self, vals):
        if not self.env.su:
            forbidden = set(vals) - USER_FIELDS
            if forbidden:
                raise AccessError(
                    self.env._(
                        "A billing run line's %(fields)s change only through the "
                        "run's own actions.",
                        fields=", ".join(sorted(forbidden)),
                    )
                )
            if self.filtered(lambda line: not line._is_action_editable()):
                raise ValidationError(
                    self.env._(
                        "Only the billing action of a line without invoice (still "
                        "to process, in error or not invoiced), in a run at the "
                        "billing rules step, can change."
                    )
                )
        return super().write(vals)

    def _is_action_editable(self):
        """Whether a user may change the line's billing action: it has no
        invoice, is still to process or will be tried again at the next Process
        (Error, Not Invoiced), and its run is at the billing rules step (a
        processed run reopened, too)."""
        self.ensure_one()
        return (
            self.state in ("not_done", "error", "skipped")
            and not self.invoice_ids
            and self.run_id.state == "ready"
        )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_processed(self):
        if self.filtered("invoice_ids"):
            raise UserError(self.env._("A line with invoices cannot be deleted."))
        if not self.env.su and self.filtered(
            lambda line: line.state != "not_done" or line.run_id.state != "ready"
        ):
            raise UserError(
                self.env._(
                    "Only lines still to process, in a run at the billing rules "
                    "step, can be removed."
                )
            )

    # ------------------------------------------------------------------
    # Processing helpers
    # ------------------------------------------------------------------
    @api.model
    def _get_lines_action(self, domain, name, state_filter=None):
        """The run lines of ``domain`` in their flat list, filtered on
        ``state_filter`` (a filter of their search view: not_done, processed,
        error, skipped) when given: the counters and the overview open it."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "invoice_manager.billing_run_line_action"
        )
        action.update(name=name, domain=domain)
        action["context"] = {
            "list_view_ref": "invoice_manager.billing_run_line_view_list_flat",
            **({f"search_default_{state_filter}": 1} if state_filter else {}),
        }
        return action

    def _get_delivery_action(self):
        """What processing does with the line's invoices once made: its billing
        action, or Create Only when the run's post-invoicing tasks are off."""
        self.ensure_one()
        if not self.run_id.post_invoicing_tasks:
            return "create_only"
        return self.billing_action

    def action_open_pdf(self):
        """The line's invoice PDF: the one sent if any, else rendered now."""
        self.ensure_one()
        if not self.invoice_ids:
            raise UserError(self.env._("This line has no invoice yet."))
        stored = self.invoice_ids.invoice_pdf_report_id
        if len(stored) == 1 and len(self.invoice_ids) == 1:
            url = f"/web/content/{stored.id}"
        else:
            ids = ",".join(str(invoice_id) for invoice_id in self.invoice_ids.ids)
            url = f"/report/pdf/account.report_invoice/{ids}"
        return {"type": "ir.actions.act_url", "url": url, "target": "new"}

    def action_open_preview(self):
        """What the line invoices, sale line by sale line."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Invoice Preview"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [
                (self.env.ref("invoice_manager.billing_run_line_view_form").id, "form")
            ],
            "target": "new",
        }

    def action_open_invoices(self):
        """The line's invoices, or those that invoiced its sales elsewhere."""
        self.ensure_one()
        invoices = self.invoice_ids or self.elsewhere_invoice_ids
        return invoices._get_records_action(name=self.env._("Invoices"))
