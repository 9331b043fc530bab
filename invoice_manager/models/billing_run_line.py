import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import html2plaintext

from .billing_scenario import BILLING_ACTIONS

_logger = logging.getLogger(__name__)


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
        [("not_done", "Not Done"), ("processed", "Processed"), ("error", "Error")],
        string="Invoice Status",
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
        [("queued", "Queued"), ("sent", "Sent"), ("failed", "Failed")],
        compute="_compute_delivery_state",
        help="Queued: Odoo's sending cron still has to render and email the invoice.",
    )
    error_message = fields.Text(string="Error", readonly=True, copy=False)
    process_date = fields.Datetime(string="Processed on", readonly=True, copy=False)

    @api.depends("invoice_ids.amount_total_in_currency_signed")
    def _compute_invoice_amount(self):
        # In the line's currency (the sales'), signed: a credit note is negative.
        for line in self:
            line.invoice_amount = sum(
                line.invoice_ids.mapped("amount_total_in_currency_signed")
            )

    @api.depends(
        "delivery_channel", "invoice_ids.sending_data", "invoice_ids.is_move_sent"
    )
    def _compute_delivery_state(self):
        for line in self:
            invoices = line.invoice_ids
            if line.delivery_channel in (False, "none") or not invoices:
                line.delivery_state = False
            elif any((move.sending_data or {}).get("error") for move in invoices):
                line.delivery_state = "failed"
            elif any(move.sending_data for move in invoices):
                line.delivery_state = "queued"
            else:
                line.delivery_state = "sent"

    @api.ondelete(at_uninstall=False)
    def _unlink_except_processed(self):
        if self.filtered("invoice_ids"):
            raise UserError(self.env._("A line with invoices cannot be deleted."))

    def write(self, vals):
        if "billing_action" in vals and self.filtered(
            lambda line: line.state == "processed"
        ):
            raise ValidationError(
                self.env._("The billing action of a processed line cannot change.")
            )
        return super().write(vals)

    # ------------------------------------------------------------------
    # Processing helpers (called by billing.run)
    # ------------------------------------------------------------------

    def _check_before_invoicing(self):
        """Turn to Error the lines that cannot succeed; return the others."""
        no_account = self._get_products_without_income_account()
        failing = self.browse()
        for line in self:
            message = line._get_blocking_issue(no_account)
            if message:
                line._set_error(message)
                failing |= line
        return self - failing

    def _get_blocking_issue(self, products_without_account):
        """Why this line cannot be processed, in plain words (hook), or False."""
        self.ensure_one()
        if self.billing_action == "email" and not self.partner_id.email:
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
        self.write({"state": "error", "error_message": message})

    def _set_delivered(self, method):
        """Mark the lines delivered: one write per distinct set of values (all
        printed lines at once; emailed lines grouped by their addresses)."""
        values = {
            "state": "processed",
            "error_message": False,
            "process_date": fields.Datetime.now(),
            "delivery_channel": "email" if method == "email" else "print",
        }
        if method != "email":
            self.write(values)
            return
        by_address = self.grouped(
            lambda line: ", ".join(
                sorted(set(line.invoice_ids.partner_id.mapped("email")) - {False})
            )
        )
        for address, lines in by_address.items():
            lines.write(dict(values, delivery_email=address))

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

    def action_open_invoices(self):
        self.ensure_one()
        return self.invoice_ids._get_records_action(name=self.env._("Invoices"))

    def _get_xlsx_rows(self):
        channels = dict(self._fields["delivery_channel"].selection)
        actions = dict(self._fields["billing_action"].selection)
        states = dict(self._fields["state"].selection)
        for line in self:
            channel = channels.get(line.delivery_channel, "")
            if line.delivery_email:
                channel = f"{channel} ({line.delivery_email})"
            yield [
                line.partner_id.display_name,
                ", ".join(line.sale_order_ids.mapped("name")),
                line.amount_total,
                actions.get(line.billing_action),
                states.get(line.state),
                ", ".join(line.invoice_ids.mapped("name")),
                line.invoice_amount,
                channel,
                html2plaintext(line.error_message or ""),
            ]
