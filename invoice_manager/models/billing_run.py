import base64
import io
import logging
import os
import random
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, time
from time import sleep

import psycopg2.errors
import pytz
import xlsxwriter
from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tools import SQL, split_every
from odoo.tools.pdf import merge_pdf
from odoo.tools.safe_eval import safe_eval

from .billing_scenario import BILLING_ACTIONS, INVOICE_DATE_MODES

_logger = logging.getLogger(__name__)

# Fewer lines per chunk cost more in per-chunk overhead than they save in overlap.
MIN_RENDER_CHUNK = 8


class BillingRun(models.Model):
    """One invoicing of a billing scenario's sales: the Invoice Manager wizard.

    Step 1 (``draft``) picks the scenario, step 2 (``ready``) holds the billing
    rule values, fetches the sales into lines and processes them; a processed run
    (``done``) is kept with every line's result and can be reopened.
    """

    _name = "billing.run"
    _description = "Billing Run"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    scenario_id = fields.Many2one(
        "billing.scenario",
        string="Billing Scenario",
        check_company=True,
        ondelete="restrict",
        tracking=True,
        domain="[('company_id', 'in', allowed_company_ids)]",
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        precompute=True,
        readonly=False,
        required=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(
        [("draft", "Scenario"), ("ready", "Billing Rules"), ("done", "Processed")],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
    )
    user_id = fields.Many2one(
        "res.users", string="Run by", default=lambda self: self.env.user, copy=False
    )

    # Billing rule values, prefilled from the scenario and editable.
    date_from = fields.Date(
        string="Period From", compute="_compute_period", store=True, readonly=False
    )
    date_to = fields.Date(
        string="Period To", compute="_compute_period", store=True, readonly=False
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    salesperson_ids = fields.Many2many(
        "res.users",
        string="Salespersons",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales Teams",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    tag_ids = fields.Many2many(
        "crm.tag", string="Tags", compute="_compute_rules", store=True, readonly=False
    )
    sale_domain = fields.Char(
        string="Extra Filter", compute="_compute_rules", store=True, readonly=False
    )
    require_approval = fields.Boolean(
        string="Approved for Invoicing Only",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    billing_action = fields.Selection(
        BILLING_ACTIONS,
        compute="_compute_rules",
        store=True,
        readonly=False,
        help="The billing action of new lines; 'Apply to All Lines' sets it on every "
        "line still to process.",
    )
    invoice_date_mode = fields.Selection(
        INVOICE_DATE_MODES,
        string="Invoice Date",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    invoice_date = fields.Date(
        string="Fixed Invoice Date",
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    journal_id = fields.Many2one(
        "account.journal",
        compute="_compute_rules",
        store=True,
        readonly=False,
        check_company=True,
        domain="[('type', '=', 'sale')]",
    )
    grouping = fields.Selection(
        [("order", "One Invoice per Order"), ("customer", "One Invoice per Customer")],
        compute="_compute_rules",
        store=True,
        readonly=False,
    )
    auto_post = fields.Boolean(
        string="Post Invoices", compute="_compute_rules", store=True, readonly=False
    )

    line_ids = fields.One2many("billing.run.line", "run_id", string="Sales")
    fetch_date = fields.Datetime(string="Fetched on", readonly=True, copy=False)
    process_date = fields.Datetime(string="Processed on", readonly=True, copy=False)
    process_uid = fields.Many2one(
        "res.users", string="Processed by", readonly=True, copy=False
    )
    line_count = fields.Integer(compute="_compute_counts")
    not_done_count = fields.Integer(string="Not Done", compute="_compute_counts")
    processed_count = fields.Integer(string="Processed", compute="_compute_counts")
    error_count = fields.Integer(string="Errors", compute="_compute_counts")
    amount_total = fields.Monetary(
        string="Amount to Invoice", compute="_compute_counts"
    )
    invoice_ids = fields.Many2many(
        "account.move", string="Invoices", compute="_compute_invoice_ids"
    )
    invoice_count = fields.Integer(compute="_compute_invoice_ids")
    print_attachment_id = fields.Many2one(
        "ir.attachment", string="Printed Invoices", readonly=True, copy=False
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.depends("scenario_id")
    def _compute_company_id(self):
        for run in self:
            if run.scenario_id:
                run.company_id = run.scenario_id.company_id

    @api.depends("scenario_id")
    def _compute_period(self):
        for run in self:
            if run.scenario_id:
                run.date_from, run.date_to = run.scenario_id._get_next_period()
            elif not run.date_from:
                today = fields.Date.context_today(run)
                run.date_to = today.replace(day=1) - relativedelta(days=1)
                run.date_from = run.date_to.replace(day=1)

    @api.depends("scenario_id")
    def _compute_rules(self):
        for run in self:
            run.update(run._prepare_rule_values(run.scenario_id))

    @api.model
    def _prepare_rule_values(self, scenario):
        """Values of a run's billing rules, copied from ``scenario``."""
        return {
            "partner_ids": [Command.set(scenario.partner_ids.ids)],
            "salesperson_ids": [Command.set(scenario.user_ids.ids)],
            "team_ids": [Command.set(scenario.team_ids.ids)],
            "tag_ids": [Command.set(scenario.tag_ids.ids)],
            "sale_domain": scenario.sale_domain or "[]",
            "require_approval": scenario.require_approval if scenario else True,
            "billing_action": scenario.billing_action or "email",
            "invoice_date_mode": scenario.invoice_date_mode or "today",
            "invoice_date": scenario.invoice_date,
            "journal_id": scenario.journal_id.id,
            "grouping": scenario.grouping or "order",
            "auto_post": scenario.auto_post if scenario else True,
        }

    @api.depends("line_ids.state", "line_ids.amount_total")
    def _compute_counts(self):
        for run in self:
            states = run.line_ids.mapped("state")
            run.line_count = len(states)
            run.not_done_count = states.count("not_done")
            run.processed_count = states.count("processed")
            run.error_count = states.count("error")
            run.amount_total = sum(run.line_ids.mapped("amount_total"))

    @api.depends("line_ids.invoice_ids")
    def _compute_invoice_ids(self):
        for run in self:
            run.invoice_ids = run.line_ids.invoice_ids
            run.invoice_count = len(run.invoice_ids)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("billing.run") or "/"
                )
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if self.line_ids.invoice_ids:
            raise UserError(
                self.env._(
                    "A billing run that made invoices is kept as their record: "
                    "it cannot be deleted."
                )
            )

    # ------------------------------------------------------------------
    # Step 1 -> step 2
    # ------------------------------------------------------------------

    def action_next(self):
        for run in self:
            if not run.scenario_id:
                raise UserError(self.env._("Pick a billing scenario first."))
        self.filtered(lambda run: run.state == "draft").state = "ready"
        return True

    def action_back(self):
        if self.line_ids.filtered(lambda line: line.state != "not_done"):
            raise UserError(
                self.env._("This run already processed sales: start a new run instead.")
            )
        self.line_ids.unlink()
        self.state = "draft"
        return True

    def action_reopen(self):
        """Reopen a processed run so that its Error lines can be processed again."""
        self.filtered(lambda run: run.state == "done").state = "ready"
        return True

    # ------------------------------------------------------------------
    # Fetch
    # ------------------------------------------------------------------

    def _get_period_domain(self):
        self.ensure_one()
        # Billing users read the scenario's date field (no access to ir.model.fields).
        field = self.scenario_id.sudo().date_field_id
        if not field:
            return []
        name = field.name
        if field.ttype == "datetime":
            # The period's days are the user's (stored datetimes are UTC).
            tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")

            def utc(day):
                local = tz.localize(datetime.combine(day, time.min))
                return local.astimezone(pytz.UTC).replace(tzinfo=None)

            stop = self.date_to + relativedelta(days=1)
            return [(name, ">=", utc(self.date_from)), (name, "<", utc(stop))]
        return [(name, ">=", self.date_from), (name, "<=", self.date_to)]

    def _get_fetch_domain(self):
        """Domain of the sales this run invoices: the billing rules, in one domain."""
        self.ensure_one()
        domains = [
            [
                ("company_id", "=", self.company_id.id),
                ("state", "=", "sale"),
                ("invoice_status", "=", "to invoice"),
            ],
            self._get_period_domain(),
            safe_eval(self.sale_domain or "[]"),
        ]
        if self.partner_ids:
            domains.append([("partner_id", "child_of", self.partner_ids.ids)])
        if self.salesperson_ids:
            domains.append([("user_id", "in", self.salesperson_ids.ids)])
        if self.team_ids:
            domains.append([("team_id", "in", self.team_ids.ids)])
        if self.tag_ids:
            domains.append([("tag_ids", "in", self.tag_ids.ids)])
        if self.require_approval:
            domains.append([("approved_for_invoicing", "=", True)])
        kept_orders = self.line_ids.filtered(
            lambda line: line.state != "not_done"
        ).sale_order_ids
        if kept_orders:
            domains.append([("id", "not in", kept_orders.ids)])
        return expression.AND(domains)

    def _check_editable(self):
        for run in self:
            if run.state != "ready":
                raise UserError(
                    self.env._(
                        "Run %s is not at the billing rules step: reopen it first.",
                        run.name,
                    )
                )
            if not run.date_from or not run.date_to or run.date_from > run.date_to:
                raise UserError(self.env._("Set a valid billing period."))

    def action_fetch(self):
        """Fill the run with one line per invoice to make (idempotent)."""
        self._check_editable()
        for run in self:
            run = run.with_company(run.company_id)
            run.line_ids.filtered(lambda line: line.state == "not_done").unlink()
            orders = self.env["sale.order"].search(
                run._get_fetch_domain(), order="partner_invoice_id, id"
            )
            amounts = orders._get_billing_amounts()
            orders = orders.filtered(lambda order, amounts=amounts: order.id in amounts)
            self.env["billing.run.line"].create(
                run._prepare_line_values(orders, amounts)
            )
            run.fetch_date = fields.Datetime.now()
        return True

    def _get_line_grouping_key(self, order):
        """Sales sharing a key become one line, and one invoice."""
        if self.grouping == "customer":
            return (order.partner_invoice_id.id, order.currency_id.id)
        return (order.id,)

    def _prepare_line_values(self, orders, amounts):
        self.ensure_one()
        vals_list = []
        groups = defaultdict(list)
        for order in orders:
            groups[self._get_line_grouping_key(order)].append(order)
        for sequence, group in enumerate(groups.values(), start=1):
            first = group[0]
            vals_list.append(
                {
                    "run_id": self.id,
                    "sequence": sequence,
                    "partner_id": first.partner_invoice_id.id,
                    "currency_id": first.currency_id.id,
                    "sale_order_ids": [Command.set([order.id for order in group])],
                    "amount_untaxed": sum(amounts[order.id][0] for order in group),
                    "amount_total": sum(amounts[order.id][1] for order in group),
                    "billing_action": self.billing_action,
                }
            )
        return vals_list

    def action_apply_billing_action(self):
        """Set the run's billing action on every line still to process."""
        for run in self:
            run.line_ids.filtered(lambda line: line.state != "processed").write(
                {"billing_action": run.billing_action}
            )
        return True

    # ------------------------------------------------------------------
    # Process
    # ------------------------------------------------------------------

    def _get_chunk_size(self, line_count=0):
        """Lines invoiced per transaction. A small run whose ``line_count`` lines
        are rendered now is cut in one chunk per delivery worker (at least
        ``MIN_RENDER_CHUNK`` lines, below which a chunk costs more than it
        saves): the PDFs of a chunk render while the next one is invoiced, and
        the last chunk, whose rendering nothing overlaps, stays small."""
        size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.chunk_size", 100)
        )
        workers = self._get_delivery_workers()
        if workers > 1 and line_count and self._can_commit():
            size = min(size, max(MIN_RENDER_CHUNK, -(-line_count // workers)))
        return size

    def _get_sync_delivery_limit(self):
        """Up to this many invoices, a run renders and emails them right away;
        beyond, it queues them to Odoo's own sending cron."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.sync_delivery_limit", 100)
        )

    def _can_commit(self):
        return not modules.module.current_test and not self.env.context.get(
            "billing_run_no_commit"
        )

    def _commit_batch(self):
        """Batch boundary of a run: keep what a chunk of lines did.

        Each chunk is committed so that a later failure, a crash or a time-out
        never rolls back invoices already made and their lines' status; a line's
        state always says whether its invoice exists. Not in tests, nor when the
        caller forbids it (context ``billing_run_no_commit``).
        """
        if self._can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    def action_process(self):
        """Create, post and deliver the invoices of every line still to process.

        Lines are invoiced chunk by chunk, each chunk committed (a batch boundary,
        see ``_commit_batch``); while the next chunk is invoiced, the PDFs of the
        previous one are rendered and sent by worker transactions.
        """
        self._check_editable()
        for run in self:
            run = run.with_company(run.company_id)
            lines = run.line_ids.filtered(lambda line: line.state != "processed")
            run.write(
                {"process_date": fields.Datetime.now(), "process_uid": self.env.uid}
            )
            email_lines = lines.filtered(lambda line: line.billing_action == "email")
            print_lines = lines.filtered(lambda line: line.billing_action == "print")
            queue_email = len(email_lines) > run._get_sync_delivery_limit()
            rendered = print_lines if queue_email else print_lines | email_lines
            chunk_size = run._get_chunk_size(len(rendered))
            with run._delivery_pool() as deliver:
                for chunk in split_every(chunk_size, lines.ids, lines.browse):
                    run._process_lines(chunk)
                    run._commit_batch()
                    run._deliver_lines(chunk, deliver, queue_email)
            if print_lines:
                run._make_print_attachment()
            run.state = "done"
            run._commit_batch()
        return True

    def _process_lines(self, lines):
        """Invoice ``lines``: the whole chunk at once, else line by line.

        A failing line turns to Error with its reason and never stops or rolls
        back the others.
        """
        self.ensure_one()
        lines = lines._check_before_invoicing()
        to_invoice = lines.filtered(lambda line: not line.invoice_ids)
        if to_invoice:
            self._isolate_failures(
                to_invoice,
                self._invoice_lines,
                lambda line, error: line._set_error(error),
            )

    def _isolate_failures(self, lines, apply, on_error, reraise=()):
        """Run ``apply(lines)`` in a savepoint; if it fails, run it again line by
        line, each in its own savepoint, and hand each failing line and its error
        to ``on_error``. Errors of the types ``reraise`` are not handled."""
        # pylint: disable=broad-exception-caught
        try:
            with self.env.cr.savepoint():
                apply(lines)
            return
        except Exception:
            # Each line is retried alone just below.
            _logger.info(
                "Billing run %s: a chunk of %s lines failed, retrying line by line",
                self.name,
                len(lines),
            )
        for line in lines.browse(lines.ids):
            try:
                with self.env.cr.savepoint():
                    apply(line)
            except reraise:
                raise
            except Exception as error:
                # Reported on the line.
                on_error(line, error)

    def _lock_orders(self, orders):
        """Lock the orders for this transaction, or fail at once if another one holds
        them: two runs (or a user) can never invoice the same sale at once."""
        self._lock_rows_nowait("sale_order", orders.ids)

    def _lock_rows_nowait(self, table, ids):
        """Lock rows ``ids`` of ``table``; a row another transaction holds (SKIP
        LOCKED leaves it out) or changed meanwhile fails in plain words."""
        message = self.env._(
            "The sale is being changed by another user or process right now: "
            "process this line again in a moment."
        )
        try:
            locked = self.env.execute_query(
                SQL(
                    "SELECT id FROM %s WHERE id IN %s FOR UPDATE SKIP LOCKED",
                    SQL.identifier(table),
                    tuple(ids),
                )
            )
        except psycopg2.errors.SerializationFailure as error:
            raise UserError(message) from error
        if len(locked) != len(set(ids)):
            raise UserError(message)

    def _prepare_invoice_values(self, order):  # pylint: disable=unused-argument
        """Invoice values a run sets on top of ``order``'s own (hook)."""
        self.ensure_one()
        values = {"invoice_date": self._get_invoice_date()}
        if self.journal_id:
            values["journal_id"] = self.journal_id.id
        return values

    def _get_invoice_date(self):
        self.ensure_one()
        if self.invoice_date_mode == "fixed" and self.invoice_date:
            return self.invoice_date
        if self.invoice_date_mode == "period_end" and self.date_to:
            return self.date_to
        return fields.Date.context_today(self)

    def _invoice_lines(self, lines):
        """Create (and post) the invoices of ``lines``; raise on any failure."""
        self.ensure_one()
        orders = lines.sale_order_ids
        self._lock_orders(orders)
        orders.invalidate_recordset()
        orders.order_line.invalidate_recordset(["billing_qty_to_invoice"])
        invoices = orders.with_context(
            billing_run_id=self.id, raise_if_nothing_to_invoice=False
        )._create_invoices(grouped=self.grouping == "order", final=True)
        line_by_order = {
            order.id: line for line in lines for order in line.sale_order_ids
        }
        invoices_by_line = defaultdict(set)
        for invoice in invoices:
            for order in invoice.invoice_line_ids.sale_line_ids.order_id:
                invoices_by_line[line_by_order[order.id]].add(invoice.id)
        to_post = self.env["account.move"]
        for line in lines:
            line_invoices = invoices.browse(sorted(invoices_by_line.get(line, ())))
            if self.auto_post or line.billing_action != "create_only":
                to_post |= line_invoices
        to_post.filtered(lambda move: move.state == "draft").action_post()
        now = fields.Datetime.now()
        for line in lines:
            line_invoices = invoices_by_line.get(line)
            if not line_invoices:
                line._set_error(
                    self.env._(
                        "Nothing left to invoice: these sales were invoiced in the "
                        "meantime (a credit note makes its quantities billable "
                        "again only when 'Bill Credited Quantities Again' is set "
                        "on it)."
                    )
                )
                continue
            values = {
                "invoice_ids": [Command.set(sorted(line_invoices))],
                "error_message": False,
                "process_date": now,
            }
            if line.billing_action == "create_only":
                values.update(state="processed", delivery_channel="none")
            line.write(values)

    # ------------------------------------------------------------------
    # Delivery
    # ------------------------------------------------------------------

    def _deliver_lines(self, lines, deliver, queue_email=False):
        """Email or print the invoices of ``lines`` (Create Only delivers nothing)."""
        self.ensure_one()
        lines = lines.filtered(
            lambda line: (
                line.invoice_ids
                and line.state != "processed"
                and line.billing_action != "create_only"
            )
        )._check_before_invoicing()
        email_lines = lines.filtered(lambda line: line.billing_action == "email")
        print_lines = lines - email_lines
        if email_lines and queue_email:
            self._queue_email(email_lines)
        elif email_lines:
            deliver(email_lines, "email")
        if print_lines:
            deliver(print_lines, "manual")

    def _queue_email(self, lines):
        """Hand the invoices to Odoo's own sending cron (PDF, email, chatter)."""
        lines.invoice_ids.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "sending_methods": ["email"],
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()
        lines._set_delivered("email")

    def _get_delivery_workers(self):
        """How many transactions render and send a run's invoices at once.

        A wkhtmltopdf process spends most of its time waiting: Odoo makes it
        wait ``report.print_delay`` (1 s) for the pages, then again for their
        headers and footers. Two renders per core keep the cores busy.
        """
        default = min(2 * (os.cpu_count() or 1), 8)
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.delivery_workers", default)
        )

    @contextmanager
    def _delivery_pool(self):
        """Yield ``deliver(lines, method)``: renders and sends their invoices.

        wkhtmltopdf renders a batch in one process on one core. When the run may
        commit, each batch goes to a worker thread with its own transaction (the
        invoices are committed before), so that rendering uses every core and
        overlaps the invoicing of the next chunk; otherwise batches are sent in
        this transaction. Leaving the block waits for every batch.
        """
        workers = self._get_delivery_workers()
        if workers < 2 or not self._can_commit():
            yield self._send_lines_batched
            return
        submitted = []
        with ThreadPoolExecutor(max_workers=workers) as executor:

            def deliver(lines, method):
                future = executor.submit(
                    self._send_lines_in_new_transaction, lines.ids, method
                )
                submitted.append((future, lines.ids))

            yield deliver
        # A new transaction (snapshot) sees what the workers committed.
        self._commit_batch()
        self.env.invalidate_all()
        for future, line_ids in submitted:
            if error := future.exception():
                lines = self.line_ids.browse(line_ids)
                lines.filtered(lambda line: line.state != "processed")._set_error(
                    error, delivery=True
                )

    def _send_lines_in_new_transaction(self, line_ids, method):
        """Send in a transaction of its own, retried from scratch when it collides
        with a concurrent one (as Odoo retries an RPC call)."""
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            try:
                with self.env.registry.cursor() as cr:
                    run = self.with_env(self.env(cr=cr))
                    lines = run.line_ids.browse(line_ids).filtered(
                        lambda line: line.state != "processed"
                    )
                    run._send_lines_batched(lines, method)
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    raise
                _logger.info(
                    "Billing run %s: delivery collided with another transaction, "
                    "retry %s",
                    self.name,
                    attempt,
                )
                sleep(random.uniform(0.1, 0.5 * attempt))

    def _send_lines_batched(self, lines, method):
        """Render the PDFs in batches and send them through ``account.move.send``."""

        def send(lines):
            self._send_invoices(lines.invoice_ids, method)
            lines._set_delivered(method)

        for chunk in split_every(self._get_chunk_size(), lines.ids, lines.browse):
            self._isolate_failures(
                chunk,
                send,
                lambda line, error: line._set_error(error, delivery=True),
                # Retried whole: see _send_lines_in_new_transaction.
                reraise=PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
            )
            self._commit_batch()

    def _send_invoices(self, invoices, method):
        # Queue the emails (Odoo's mail queue sends them) instead of sending them
        # inside this transaction; the context must ride on the invoices.
        invoices = invoices.with_context(mail_notify_force_send=False)
        self.env["account.move.send"].with_env(
            invoices.env
        )._generate_and_send_invoices(
            invoices, allow_raising=True, sending_methods={method}
        )

    def _make_print_attachment(self):
        """One PDF of all the run's printed invoices, to print in one go."""
        self.ensure_one()
        invoices = self.line_ids.filtered(
            lambda line: line.billing_action == "print" and line.state == "processed"
        ).invoice_ids
        pdfs = [
            invoice.invoice_pdf_report_id.raw
            for invoice in invoices
            if invoice.invoice_pdf_report_id
        ]
        if not pdfs:
            return
        content = merge_pdf(pdfs) if len(pdfs) > 1 else pdfs[0]
        self.print_attachment_id.unlink()
        self.print_attachment_id = self.env["ir.attachment"].create(
            {
                "name": self.env._("%s - invoices to print.pdf", self.name),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": self.id,
            }
        )

    # ------------------------------------------------------------------
    # Other actions
    # ------------------------------------------------------------------

    def action_print_invoices(self):
        self.ensure_one()
        if not self.print_attachment_id:
            raise UserError(self.env._("This run printed no invoice."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.print_attachment_id.id}",
            "target": "new",
        }

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        return action

    def action_export_xlsx(self):
        """The run's lines as an XLSX file, for the accountants' records."""
        self.ensure_one()
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(self.name[:31])
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        headers = self._get_xlsx_headers()
        for col, title in enumerate(headers):
            sheet.write(0, col, title, bold)
        for row, values in enumerate(self.line_ids._get_xlsx_rows(), start=1):
            for col, value in enumerate(values):
                if isinstance(value, float):
                    sheet.write_number(row, col, value, money)
                else:
                    sheet.write(row, col, value or "")
        sheet.set_column(0, len(headers) - 1, 18)
        workbook.close()
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name.replace('/', '-')}.xlsx",
                "datas": base64.b64encode(output.getvalue()),
                "mimetype": "application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def _get_xlsx_headers(self):
        return [
            self.env._("Customer"),
            self.env._("Sales"),
            self.env._("Amount to Invoice"),
            self.env._("Billing Action"),
            self.env._("Invoice Status"),
            self.env._("Invoices"),
            self.env._("Invoiced Amount"),
            self.env._("Delivery Channel"),
            self.env._("Error"),
        ]
