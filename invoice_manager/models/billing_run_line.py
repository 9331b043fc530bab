import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .billing_scenario import BILLING_ACTIONS
from .res_partner import HEAD_OFFICE_INVOICING, INVOICING_MODES

_logger = logging.getLogger(__name__)

# What users may change on a line (the rest is the run's to write).
USER_FIELDS = {"billing_action", "sequence"}


class BillingRunLine(models.Model):
    """One invoice to make in a billing run: its sales, action and result."""

    _name = "billing.run.line"
    _description = "Billing Run Line"
    _order = "run_id, sequence, id"
    _check_company_auto = True

    run_id = fields.Many2one(
        "billing.run", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    sale_order_ids = fields.Many2many(
        "sale.order",
        "billing_run_line_sale_order_rel",
        "line_id",
        "sale_order_id",
        string="Sales",
        readonly=True,
        # No check_company: fetch only takes the run's company's sales, and the
        # check costs a query per line on runs of thousands of sales.
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
    # Processing helpers (called by billing.run)
    # ------------------------------------------------------------------

    def _mark_blocked_lines_as_errors(self):
        """Turn to Error the lines that cannot succeed (writes their state);
        return the others."""
        no_account = self._get_products_without_income_account()
        blocked = {}
        for line in self:
            message = line._get_blocking_issue(no_account)
            if message:
                blocked[line.id] = message
        if not blocked:
            return self
        failing = self.browse(list(blocked))
        # Sales invoiced in the meantime are said so before any other issue:
        # fixing an email address would not bill them again.
        elsewhere = failing._get_lines_with_nothing_left_to_bill()
        elsewhere._set_invoiced_elsewhere()
        for line in failing - elsewhere:
            line._set_error(blocked[line.id])
        return self - failing

    def _get_lines_with_nothing_left_to_bill(self):
        """Those of the lines without invoice whose sales have nothing left that
        a billing run would bill."""
        lines = self.filtered(lambda line: not line.invoice_ids)
        if not lines:
            return lines
        billable = lines.sale_order_ids._get_billing_amounts()
        return lines.filtered(
            lambda line: not any(order.id in billable for order in line.sale_order_ids)
        )

    def _get_delivery_action(self):
        """What processing does with the line's invoices once made: its billing
        action, or Create Only when the run's post-invoicing tasks are off."""
        self.ensure_one()
        if not self.run_id.post_invoicing_tasks:
            return "create_only"
        return self.billing_action

    def _get_blocking_issue(self, products_without_account):
        """Why this line cannot be processed, in plain words (hook), or False."""
        self.ensure_one()
        if self._get_delivery_action() == "email" and not self.partner_id.email:
            return self.env._(
                "%(customer)s has no email address: add one on the customer, or "
                "choose Print or Create Only for this line.",
                customer=self.partner_id.display_name,
            )
        if not self.invoice_ids:
            products = (
                self.sale_order_ids.order_line.product_id & products_without_account
            )
            if products:
                return self.env._(
                    "No income account for %(products)s: set one on the product or "
                    "its category (Accounting tab), or a default account on the "
                    "sales journal.",
                    products=", ".join(products.mapped("display_name")),
                )
        return False

    def _get_products_without_income_account(self):
        """Products of these lines' sales that no income account can be found for
        (Odoo would refuse the invoice with a database error)."""
        journals = self.run_id.journal_id | self.sale_order_ids.journal_id
        if not self.run_id.journal_id:
            journals |= self.env["account.journal"].search(
                [
                    *self.env["account.journal"]._check_company_domain(self.company_id),
                    ("type", "=", "sale"),
                ],
                limit=1,
            )
        if journals and all(journal.default_account_id for journal in journals):
            return self.env["product.product"]
        return self.sale_order_ids.order_line.product_id.filtered(
            lambda product: (
                not product.product_tmpl_id._get_product_accounts()["income"]
            )
        )

    def _set_error(self, error, delivery=False):
        """Record why the line failed, in words an accountant can act on."""
        if isinstance(error, (UserError, ValidationError)):
            message = error.args[0]
        elif isinstance(error, psycopg2.IntegrityError):
            _logger.info(
                "Billing run line %s refused by the database: %s", self.ids, error
            )
            message = self.env._(
                "The invoice could not be saved: %s", str(error).splitlines()[0]
            )
        elif isinstance(error, Exception):
            _logger.exception("Billing run line %s failed", self.ids)
            message = self.env._("Unexpected error: %s", error)
        else:
            message = error
        if delivery:
            message = self.env._(
                "The invoice was created, but could not be delivered: %s", message
            )
        self.sudo().write({"state": "error", "error_message": message})

    def _set_skipped(self, message):
        """The line's sales no longer qualify: not invoiced, and why."""
        self.sudo().write({"state": "skipped", "error_message": message})

    def _set_created(self):
        """Create Only lines whose invoices exist: done, nothing delivered."""
        self.sudo().write(
            {
                "state": "processed",
                "delivery_channel": "none",
                "process_date": fields.Datetime.now(),
            }
        )

    def _set_invoiced_elsewhere(self):
        """Nothing was left to invoice: show who invoiced the sales meanwhile, or
        turn to Error when nobody did."""
        for line in self:
            run = line.run_id
            invoices = line.sale_order_ids.invoice_ids.filtered(
                lambda move, run=run: (
                    move.state != "cancel" and move.billing_run_id != run
                )
            )
            # Those made since the sales were fetched, when the clocks tell.
            since = run.fetch_date
            invoices = (
                invoices.filtered(
                    lambda move, since=since: since and move.create_date >= since
                )
                or invoices
            )
            if not invoices:
                line._set_error(
                    self.env._(
                        "Nothing left to invoice: these sales were invoiced in the "
                        "meantime (credit notes do not make a sale billable again "
                        "for billing runs, unless set so on the credit note)."
                    )
                )
                continue
            runs = invoices.billing_run_id
            message = self.env._(
                "Invoiced in the meantime by %(invoices)s%(runs)s.",
                invoices=", ".join(invoices.mapped("display_name")),
                runs=self.env._(" (billing run %s)", ", ".join(runs.mapped("name")))
                if runs
                else "",
            )
            line.sudo().write(
                {
                    "state": "elsewhere",
                    "elsewhere_invoice_ids": [fields.Command.set(invoices.ids)],
                    "error_message": message,
                    "process_date": fields.Datetime.now(),
                }
            )

    def _set_delivered(self, method):
        """Mark the lines delivered: one write per distinct set of values (all
        printed lines at once; emailed lines grouped by their addresses)."""
        values = {
            "state": "processed",
            "process_date": fields.Datetime.now(),
            "delivery_channel": "email" if method == "email" else "print",
        }
        if method != "email":
            self.sudo().write(values)
            return
        by_address = self.grouped(
            lambda line: ", ".join(
                sorted(set(line.invoice_ids.partner_id.mapped("email")) - {False})
            )
        )
        for address, lines in by_address.items():
            lines.sudo().write(dict(values, delivery_email=address))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

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
