# billing.run.line: its states, one file (the rest in billing_run_line.py).
# pylint: disable=consider-merging-classes-inherited
import logging

import psycopg2

from odoo import fields, models
from odoo.exceptions import UserError, ValidationError

_logger = logging.getLogger(__name__)


class BillingRunLine(models.Model):
    """A line's state machine, written only by the invoicer
    (``billing.run.invoicer``), the sender (``billing.run.sender``) and the
    executor (``billing.run.executor``), as superuser (users cannot write a
    line's result):

    - Not Done -> Processed: its invoices made (Create Only: ``_set_created``)
      and delivered (``_set_delivered``);
    - Not Done -> Error: it cannot succeed (``_mark_blocked_lines_as_errors``)
      or failed (``_set_error``), the reason on the line;
    - Not Done -> Not Invoiced: its sales no longer meet the run's rules
      (``_set_skipped``);
    - Not Done -> Invoiced Elsewhere: its sales were invoiced meanwhile,
      checked before any other reason (``_set_invoiced_elsewhere``);
    - Error / Not Invoiced -> Not Done: the run processed again after Reopen
      (``billing.run._prepare_processing``).
    """

    _inherit = "billing.run.line"

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
