# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
import logging
import random
import time
from collections import defaultdict

import psycopg2.errors

from odoo import Command, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.http import request
from odoo.osv import expression
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Lines action_process(force_synchronous=True) processes at most in a request.
SYNC_REQUEST_LIMIT = 20


def is_connection_lost(error):
    """Whether a database error means the connection is gone (server restarted
    or shut down, network cut): the transaction is lost, nothing can be written
    in it; not a collision to retry in it, nor a line's own failure."""
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if not isinstance(error, psycopg2.OperationalError):
        return False
    code = error.pgcode
    return code is None or code.startswith(("08", "57P"))


class BillingRun(models.Model):
    """Processing: lines invoiced chunk by chunk, each chunk a transaction of its
    own, in Odoo's scheduler (or synchronously for scripts)."""

    _inherit = "billing.run"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    def action_process(self, force_synchronous=False):
        """Create, post and deliver the invoices of every line still to process.

        By default the runs are handed to Odoo's scheduler (the cron
        ``ir_cron_billing_run_process``, triggered at once) and this returns
        right away; the run shows its progress. ``force_synchronous=True``
        processes them now, in this process (scripts, scheduled actions, RPC
        clients that wait), committing chunk by chunk only outside a request;
        from a request (a button, an RPC call) it processes at most
        ``invoice_manager.sync_request_limit`` lines (20), in the request's
        transaction, and refuses more. Calling it again on an interrupted run
        resumes it: lines already processed are never processed again.
        """
        self._check_processable()
        if force_synchronous and request:
            self._check_request_size()
        for run in self:
            run._prepare_processing()
        if force_synchronous:
            self._commit_batch()
            for run in self:
                run._get_processing_env_run()._process_pending(deadline=None)
            return True
        self._hand_to_background()
        return True

    def _check_request_size(self):
        """A request has seconds (``--limit-time-real``) and one transaction:
        only small runs are processed in it."""
        limit = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.sync_request_limit", SYNC_REQUEST_LIMIT)
        )
        pending = self.env["billing.run.line"].search_count(
            [
                ("run_id", "in", self.ids),
                ("state", "in", ("not_done", "error", "skipped")),
            ]
        )
        if pending > limit:
            raise UserError(
                self.env._(
                    "%(count)s lines are too many to process within one request "
                    "(at most %(limit)s): call action_process() without "
                    "force_synchronous, and Odoo's background workers process "
                    "them, or process them from a script (odoo shell).",
                    count=pending,
                    limit=limit,
                )
            )

    def _hand_to_background(self):
        """Process the runs in Odoo's background workers (hook): by default the
        scheduler's job ``ir_cron_billing_run_process``, triggered at once."""
        self.env.ref("invoice_manager.ir_cron_billing_run_process")._trigger()

    @api.model
    def _get_cron_runs_domain(self):
        """The runs the scheduler's job processes (hook)."""
        return [("state", "=", "processing")]

    def _check_processable(self):
        """Whether the runs can be processed as they are now: checked before
        anything is queued, so that a run that cannot be processed is left as
        it was, with a clear error."""
        for run in self:
            if run.state != "processing":
                run._check_editable()
            # The rules are checked again on each line at Process: a filter
            # that no longer parses would fail every line.
            run._get_extra_domain()
            if run.journal_id and run.journal_id.company_id != run.company_id:
                raise UserError(
                    self.env._(
                        "Run %(run)s: journal %(journal)s belongs to another company.",
                        run=run.name,
                        journal=run.journal_id.display_name,
                    )
                )

    def _prepare_processing(self):
        """Queue the run: its Error and Not Invoiced lines are tried again."""
        self.ensure_one()
        self._search_lines([("state", "in", ("error", "skipped"))]).sudo().write(
            {"state": "not_done", "error_message": False}
        )
        values = {"state": "processing", "process_stop_message": False}
        if self.state != "processing":
            # Who asked; Processed on is set when the run ends.
            values.update(process_date=False, process_uid=self.env.uid)
        self.sudo().write(values)

    def _get_processing_env_run(self):
        """The run as the user who asked to process it, in its company."""
        self.ensure_one()
        run = self
        user = self.process_uid
        if user and user.active and user != self.env.user:
            run = run.with_user(user)
        return run.with_company(self.company_id)

    @api.model
    def _cron_process_runs(self):
        """Scheduler: process the runs queued for processing, one batch of lines
        per call, reporting progress so that Odoo calls again while work remains.

        Each call stops after ``_get_cron_batch_seconds()``; what it did is
        committed, so a worker killed on its time limit loses at most the chunk
        it was in, and the next call carries on where it stopped.
        """
        runs = self.search(self._get_cron_runs_domain(), order="id")
        if not runs:
            return
        try:
            self._process_runs_in_time(runs)
        finally:
            self._end_cron_call()

    @api.model
    def _process_runs_in_time(self, runs):
        seconds = self._get_cron_call_seconds(self._get_cron_batch_seconds())
        deadline = time.monotonic() + seconds
        done_before = sum(runs.mapped("line_count")) - sum(
            runs.mapped("not_done_count")
        )
        for run in runs if seconds else ():
            run._get_processing_env_run()._process_pending(deadline=deadline)
            if time.monotonic() >= deadline:
                break
        runs.invalidate_recordset()
        runs = runs.exists()
        # A run stopped on the time limit is no longer the scheduler's.
        remaining = sum(
            runs.filtered(lambda run: run.state == "processing").mapped(
                "not_done_count"
            )
        )
        done = (
            sum(runs.mapped("line_count"))
            - sum(runs.mapped("not_done_count"))
            - done_before
        )
        self.env["ir.cron"]._notify_progress(done=max(done, 0), remaining=remaining)
        if remaining:
            # Odoo calls again within this tick; past its last call, a prefork
            # cron worker would sleep up to a minute before the next tick
            # unless a trigger wakes it.
            self.env.ref("invoice_manager.ir_cron_billing_run_process")._trigger()

    # ------------------------------------------------------------------
    # Batches and chunks
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
            size = min(
                size, max(self._get_min_render_chunk(), -(-line_count // workers))
            )
        return size

    def _can_commit(self):
        """Commits happen at the executor's entry points only: a scheduler
        call or a script, never in a request (buttons, RPC: Odoo commits the
        request), a test, or a queue job (context ``billing_run_no_commit``)."""
        return (
            not request
            and not modules.module.current_test
            and not self.env.context.get("billing_run_no_commit")
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

    def _get_pending_lines(self):
        """The lines still to process, with what choosing their delivery reads
        (not every field of every line: a run may have tens of thousands)."""
        self.ensure_one()
        lines = self._search_lines([("state", "=", "not_done")])
        lines.fetch(["run_id", "state", "billing_action"])
        return lines

    def _process_pending(self, deadline=None):
        """Process the run's pending lines chunk by chunk until none is left, or
        ``deadline`` (``time.monotonic()``) passed; finish the run when none is
        left. Each chunk is committed; while the next chunk is invoiced, the
        PDFs of the previous one are rendered and sent by worker transactions.
        With a deadline (the scheduler), chunks are sized to end before it and
        a chunk killed on the worker's time limit makes the next ones smaller
        (``billing_run_time_limit.py``)."""
        self.ensure_one()
        if deadline is not None and not self._check_killed_chunk():
            return
        lines = self._get_pending_lines()
        email_lines = lines.filtered(
            lambda line: line._get_delivery_action() == "email"
        )
        print_lines = lines.filtered(
            lambda line: line._get_delivery_action() == "print"
        )
        queue_email = len(email_lines) > self._get_sync_delivery_limit()
        rendered = print_lines if queue_email else print_lines | email_lines
        with self._delivery_pool() as deliver:
            self._invoice_pending_in_time(
                lines,
                deadline,
                deliver,
                queue_email,
                self._get_chunk_size(len(rendered)),
            )
        self.invalidate_recordset()
        if not self._get_pending_lines():
            self._finish_processing()

    def _process_chunk(self, lines):
        """Invoice ``lines`` in a transaction of its own.

        When it collides with a concurrent transaction (another run or a user
        invoicing the same sales), it is rolled back and done again in a new
        transaction, whose snapshot sees what the other one committed: sales the
        other one invoiced then show its invoice instead of being invoiced twice.
        """
        self.ensure_one()
        line_ids = lines.ids
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            try:
                self._invoice_chunk(lines.browse(line_ids))
                self._commit_batch()
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                if not self._can_commit():
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
                _logger.info(
                    "Billing run %s: chunk of %s lines collided with another "
                    "transaction (%s), attempt %s",
                    self.id,
                    len(line_ids),
                    type(error).__name__,
                    attempt,
                )
                if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    lines.browse(line_ids)._set_error(self._get_locked_message())
                    self._commit_batch()
                    return
                time.sleep(random.uniform(0.1, 0.5 * attempt))

    def _invoice_chunk(self, lines):
        """Invoice ``lines``: the whole chunk at once, else line by line.

        A failing line turns to Error with its reason and never stops or rolls
        back the others; a collision with another transaction is raised for the
        whole chunk to be done again (see ``_process_chunk``).
        """
        self.ensure_one()
        lines = lines._mark_blocked_lines_as_errors()
        to_invoice = lines.filtered(lambda line: not line.invoice_ids)
        if to_invoice:
            self._isolate_failures(
                to_invoice,
                self._invoice_lines,
                lambda line, error: line._set_error(error),
                reraise=PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
            )
        # Lines whose invoice exists already (made before an interruption):
        # Create Only ones are done.
        lines.filtered(
            lambda line: (
                line.invoice_ids
                and line.state == "not_done"
                and line._get_delivery_action() == "create_only"
            )
        )._set_created()

    def _isolate_failures(self, lines, apply, on_error, reraise=()):
        """Run ``apply(lines)`` in a savepoint; if it fails, run it again line by
        line, each in its own savepoint, and hand each failing line and its error
        to ``on_error``. Errors of the types ``reraise`` are not handled."""
        # pylint: disable=broad-exception-caught
        try:
            with self.env.cr.savepoint():
                apply(lines)
            return
        except reraise:
            raise
        except Exception as error:
            if is_connection_lost(error):
                raise
            # Each line is retried alone just below.
            _logger.info(
                "Billing run %s: a chunk of %s lines failed, retrying line by line",
                self.id,
                len(lines),
                exc_info=_logger.isEnabledFor(logging.DEBUG),
            )
        for line in lines.browse(lines.ids):
            try:
                with self.env.cr.savepoint():
                    apply(line)
            except reraise:
                raise
            except Exception as error:
                if is_connection_lost(error):
                    raise
                # Reported on the line.
                on_error(line, error)

    # ------------------------------------------------------------------
    # Invoicing
    # ------------------------------------------------------------------

    def _get_locked_message(self):
        return self.env._(
            "The sale is being changed by another user or process right now: "
            "process this line again in a moment."
        )

    def _lock_orders(self, orders):
        """Lock ``orders`` for this transaction (see ``_lock_rows``)."""
        self._lock_rows("sale_order", orders.ids)

    def _lock_rows(self, table, ids):
        """Lock rows ``ids`` of ``table``, waiting for a transaction that holds
        them up to ``invoice_manager.lock_timeout`` seconds (then the lines fail
        in plain words).

        The rows are also touched (a no-op update): a transaction that locked and
        invoiced them before us makes our lock fail with a serialization error
        once it commits, and the chunk is done again on a fresh snapshot that
        sees its invoices (``_process_chunk``).
        """
        if not ids:
            return
        timeout = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.lock_timeout", 30)
        )
        ids = tuple(sorted(ids))
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(SQL("SET LOCAL lock_timeout = %s", f"{max(timeout, 1)}s"))
                cr.execute(
                    SQL(
                        "SELECT id FROM %s WHERE id IN %s "
                        "ORDER BY id FOR NO KEY UPDATE",
                        SQL.identifier(table),
                        ids,
                    )
                )
                cr.execute(
                    SQL(
                        "UPDATE %s SET write_date = write_date WHERE id IN %s",
                        SQL.identifier(table),
                        ids,
                    )
                )
        except psycopg2.errors.LockNotAvailable as error:
            raise UserError(self._get_locked_message()) from error
        finally:
            cr.execute(SQL("SET LOCAL lock_timeout = DEFAULT"))

    def _prepare_invoice_values(self, order):
        """Invoice values a run sets on top of ``order``'s own (hook): its date,
        journal, the run and line that make it; a head office invoiced for its
        site's sale is the invoice's customer (the site stays the delivery
        address)."""
        self.ensure_one()
        values = {"invoice_date": self._get_invoice_date(), "billing_run_id": self.id}
        if self.journal_id:
            values["journal_id"] = self.journal_id.id
        line = self.env["billing.run.line"].browse(
            (self.env.context.get("billing_run_line_by_order") or {}).get(order.id)
        )
        if line:
            values["billing_run_line_id"] = line.id
            if line.head_office_invoicing:
                values["partner_id"] = line.partner_id.id
        return values

    def _get_invoice_date(self):
        self.ensure_one()
        if self.invoice_date_mode == "fixed" and self.invoice_date:
            return self.invoice_date
        if self.invoice_date_mode == "period_end" and self.date_to:
            return self.date_to
        return fields.Date.context_today(self)

    def _exclude_unqualified_orders(self, lines):
        """Check the lines' sales against the run's rules again, now that they are
        locked: a sale that no longer qualifies is not invoiced, and its line says
        why. Return the lines with sales left to invoice."""
        self.ensure_one()
        orders = lines.sale_order_ids
        reasons = defaultdict(list)
        for reason, domain in self._get_rule_domains().items():
            qualifying = self.env["sale.order"].search(
                expression.AND([[("id", "in", orders.ids)], domain])
            )
            for order in orders - qualifying:
                reasons[order].append(reason)
        if not reasons:
            return lines
        kept = lines.browse()
        for line in lines:
            excluded = line.sale_order_ids.filtered(lambda order: order in reasons)
            if not excluded:
                kept |= line
                continue
            message = "\n".join(
                self.env._(
                    "%(sale)s was not invoiced: %(reasons)s.",
                    sale=order.name,
                    reasons=", ".join(reasons[order]),
                )
                for order in excluded
            )
            if excluded == line.sale_order_ids:
                line._set_skipped(message)
            else:
                # The other sales of the line are invoiced; the excluded ones can
                # be fetched again once they qualify.
                line.sudo().write(
                    {
                        "sale_order_ids": [Command.unlink(o.id) for o in excluded],
                        "error_message": message,
                    }
                )
                kept |= line
        return kept

    def _invoice_lines(self, lines):
        """Create (and post) the invoices of ``lines``; raise on any failure."""
        self.ensure_one()
        self._lock_orders(lines.sale_order_ids)
        lines.sale_order_ids.invalidate_recordset()
        lines.sale_order_ids.order_line.invalidate_recordset()
        lines = self._exclude_unqualified_orders(lines)
        if not lines.sale_order_ids:
            return
        regenerate = self._release_replaced_invoices(lines)
        invoices = self.env["account.move"]
        for wave in self._split_in_waves(lines):
            invoices |= self._create_wave_invoices(wave, regenerate)
        invoices_by_line = defaultdict(set)
        for invoice in invoices:
            invoices_by_line[invoice.billing_run_line_id].add(invoice.id)
        to_post = self.env["account.move"]
        for line in lines:
            line_invoices = invoices.browse(sorted(invoices_by_line.get(line, ())))
            if self.auto_post or line._get_delivery_action() != "create_only":
                to_post |= line_invoices
        to_post.filtered(lambda move: move.state == "draft").action_post()
        now = fields.Datetime.now()
        nothing_left = lines.browse()
        for line in lines:
            line_invoices = invoices_by_line.get(line)
            if not line_invoices:
                nothing_left |= line
                continue
            values = {
                "invoice_ids": [Command.set(sorted(line_invoices))],
                "process_date": now,
            }
            if line._get_delivery_action() == "create_only":
                values.update(state="processed", delivery_channel="none")
            line.sudo().write(values)
        nothing_left._set_invoiced_elsewhere()
        self._link_replacements(lines)

    def _split_in_waves(self, lines):
        """``lines`` in waves where each sale is on one line at most: Odoo makes
        one invoice per order and call, so two deliveries of one order invoiced
        on their own are invoiced one call after the other."""
        waves = []
        for line in lines:
            orders = set(line.sale_order_ids.ids)
            for wave in waves:
                if not orders & wave[1]:
                    wave[0].append(line.id)
                    wave[1].update(orders)
                    break
            else:
                waves.append(([line.id], orders))
        return [lines.browse(line_ids) for line_ids, __ in waves]

    def _create_wave_invoices(self, lines, regenerate=None):
        """The invoices of ``lines`` (no sale on two of them), through Odoo's own
        ``_create_invoices``: one invoice per line, with what each line bills."""
        if lines.item_ids:
            # A wave bills what the previous one left.
            self.env.flush_all()
            lines.sale_order_ids.order_line.invalidate_recordset()
        line_by_order = {
            order.id: line.id for line in lines for order in line.sale_order_ids
        }
        return lines.sale_order_ids.with_context(
            billing_run_id=self.id,
            billing_run_line_by_order=line_by_order,
            billing_run_quantities=self._get_line_quantities(lines),
            billing_run_regenerate=regenerate or {},
            raise_if_nothing_to_invoice=False,
        )._create_invoices(final=True)
