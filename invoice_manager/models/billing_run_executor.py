import logging
import random
import time

from odoo import api, models, modules
from odoo.http import request
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)

from ..services import worker_clock
from ..services.chunk_sizer import ChunkSizer

_logger = logging.getLogger(__name__)

# A chunk of one line killed this many times in a row: the line cannot be
# invoiced within the limit (once could be a restart or another job's time).
KILLS_BEFORE_STOP = 2


class BillingRunExecutor(models.AbstractModel):
    """Cuts runs into chunks and drives the invoicer and the sender on them.

    Its entry points are the only places a run's work is committed: a call of
    the scheduler's job (``_cron_process_runs``), a script processing a run
    (``_process_now`` outside a request), and, with ``invoice_manager_queue``,
    a queue job (queue_job commits it). In a request, a test or a queue job it
    never commits. Chunks are sized to end within the time the worker has
    (``services/worker_clock.py``, ``services/chunk_sizer.py``); a chunk killed
    on the worker's time limit makes the next ones smaller.
    """

    _name = "billing.run.executor"
    _description = "Billing Run Executor"

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def _process_now(self, runs):
        """Process ``runs`` to the end in this process (scripts, RPC clients
        that wait); their lines are already queued (``_prepare_processing``)."""
        self._commit()
        for run in runs:
            run = run._get_processing_env_run()
            run.env[self._name]._process_pending(run, deadline=None)

    @api.model
    def _hand_to_background(self, runs):  # pylint: disable=unused-argument
        """Process ``runs`` in Odoo's background workers (hook): by default the
        scheduler's job ``ir_cron_billing_run_process``, triggered at once."""
        self.env.ref("invoice_manager.ir_cron_billing_run_process")._trigger()

    @api.model
    def _get_cron_runs_domain(self):
        """The runs the scheduler's job processes (hook)."""
        return [("state", "=", "processing")]

    @api.model
    def _cron_process_runs(self):
        """Scheduler: process the runs queued for processing, one batch of lines
        per call, reporting progress so that Odoo calls again while work remains.

        Each call stops after the time the worker has; what it did is
        committed, so a worker killed on its time limit loses at most the chunk
        it was in, and the next call carries on where it stopped.
        """
        runs = self.env["billing.run"].search(self._get_cron_runs_domain(), order="id")
        if not runs:
            return
        try:
            self._process_runs_in_time(runs)
        finally:
            worker_clock.end_cron_call()

    @api.model
    def _get_cron_batch_seconds(self):
        """How long one scheduler call processes (system parameter
        ``invoice_manager.cron_batch_seconds``, else from the time limits)."""
        return worker_clock.cron_batch_seconds(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.cron_batch_seconds")
        )

    @api.model
    def _process_runs_in_time(self, runs):
        seconds = worker_clock.cron_call_seconds(
            self.env.cr, self._get_cron_batch_seconds()
        )
        deadline = time.monotonic() + seconds
        done_before = sum(runs.mapped("done_count"))
        for run in runs if seconds else ():
            run = run._get_processing_env_run()
            run.env[self._name]._process_pending(run, deadline=deadline)
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
        done = sum(runs.mapped("done_count")) - done_before
        self.env["ir.cron"]._notify_progress(done=max(done, 0), remaining=remaining)
        if remaining:
            # Odoo calls again within this tick; past its last call, a prefork
            # cron worker would sleep up to a minute before the next tick
            # unless a trigger wakes it.
            self.env.ref("invoice_manager.ir_cron_billing_run_process")._trigger()

    # ------------------------------------------------------------------
    # Transactions
    # ------------------------------------------------------------------

    @api.model
    def _can_commit(self):
        """Commits happen at the executor's entry points only: a scheduler
        call or a script, never in a request (buttons, RPC: Odoo commits the
        request), a test, or a queue job (context ``billing_run_no_commit``)."""
        return (
            not request
            and not modules.module.current_test
            and not self.env.context.get("billing_run_no_commit")
        )

    @api.model
    def _commit(self):
        """Keep what a chunk did: a later failure, a crash or a time-out never
        rolls back invoices already made and their lines' status; a line's
        state always says whether its invoice exists."""
        if self._can_commit():
            self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _in_transaction(self, run, lines, work, delivery=False):
        """Run ``work(lines)`` and commit. When it collides with a concurrent
        transaction (another run or a user invoicing the same sales), it is
        rolled back and done again in a new transaction, whose snapshot sees
        what the other one committed: sales the other one invoiced then show
        its invoice instead of being invoiced twice."""
        line_ids = lines.ids
        for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            try:
                work(lines.browse(line_ids))
                self._commit()
                return
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                if not self._can_commit():
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
                _logger.info(
                    "Billing run %s: chunk of %s lines collided with another "
                    "transaction (%s), attempt %s",
                    run.id,
                    len(line_ids),
                    type(error).__name__,
                    attempt,
                )
                if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                    # Only the lines the failed step still had to do.
                    lines.browse(line_ids).filtered(
                        lambda line: line.state == "not_done"
                    )._set_error(
                        self.env["billing.run.invoicer"]._get_locked_message(),
                        delivery=delivery,
                    )
                    self._commit()
                    return
                time.sleep(random.uniform(0.1, 0.5 * attempt))

    @api.model
    def _process_chunk(self, run, lines, queue_email=False):
        """Invoice ``lines`` in a transaction, then deliver them in another:
        the sales stay locked only while they are invoiced."""
        invoicer = self.env["billing.run.invoicer"]
        sender = self.env["billing.run.sender"]

        def deliver(chunk):
            sender._deliver_lines(run, chunk, queue_email)
            # Sent over the bus when this transaction commits.
            run._push_progress()

        self._in_transaction(run, lines, lambda c: invoicer._invoice_chunk(run, c))
        self._in_transaction(run, lines, deliver, delivery=True)

    # ------------------------------------------------------------------
    # Chunks
    # ------------------------------------------------------------------

    @api.model
    def _get_chunk_size(self):
        """Lines invoiced per transaction at most (``invoice_manager.chunk_size``)."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.chunk_size", 100)
        )

    @api.model
    def _process_pending(self, run, deadline=None):
        """Process the run's pending lines chunk by chunk until none is left, or
        ``deadline`` (``time.monotonic()``) passed; finish the run when none is
        left. With a deadline (the scheduler), chunks are sized to end before it,
        and a chunk killed on the worker's time limit makes the next ones
        smaller."""
        run.ensure_one()
        timed = deadline is not None
        if timed and not self._check_killed_chunk(run):
            return
        lines = run._get_pending_lines()
        queue_email = self.env["billing.run.sender"]._queues_email(lines)
        sizer = ChunkSizer(
            self._get_chunk_size(),
            line_seconds=run.process_line_seconds,
            cap=run.process_chunk_cap,
        )
        ids = lines.ids
        position = 0
        while position < len(ids):
            seconds_left = None
            if timed:
                seconds_left = deadline - time.monotonic()
                if position and not sizer.has_time_for_a_line(seconds_left):
                    break
            size = sizer.next_size(seconds_left)
            chunk = lines.browse(ids[position : position + size])
            position += size
            if timed:
                self._write_processing_state(run, {"process_chunk_started": len(chunk)})
            started = time.monotonic()
            self._process_chunk(run, chunk, queue_email)
            if timed:
                sizer.record(len(chunk), time.monotonic() - started)
                self._write_processing_state(
                    run,
                    {
                        "process_chunk_started": 0,
                        "process_chunk_kills": 0,
                        "process_line_seconds": sizer.line_seconds,
                    },
                )
        run.invalidate_recordset()
        if not run._get_pending_lines():
            run._finish_processing()
            self._commit()

    # ------------------------------------------------------------------
    # Time limits
    # ------------------------------------------------------------------

    @api.model
    def _write_processing_state(self, run, values):
        """Written by the executor only, committed at once: a worker killed
        later must not take it with it."""
        run.sudo().with_context(tracking_disable=True).write(values)
        self._commit()

    @api.model
    def _check_killed_chunk(self, run):
        """Before the scheduler goes on with the run: was its last chunk killed?
        Then the next ones are half its size; a run whose single line was killed
        ``KILLS_BEFORE_STOP`` times in a row stops (False) with a message that
        names the limit to raise."""
        started = run.process_chunk_started
        if not started:
            return True
        kills = run.process_chunk_kills + 1 if started <= 1 else 0
        _logger.warning(
            "Billing run %s: a chunk of %s lines was killed before it ended "
            "(time limit of the scheduler: %s s)",
            run.name,
            started,
            worker_clock.cron_time_limit() or "none",
        )
        if kills >= KILLS_BEFORE_STOP:
            self._stop_over_time_limit(run)
            return False
        self._write_processing_state(
            run,
            {
                "process_chunk_started": 0,
                "process_chunk_cap": max(started // 2, 1),
                "process_chunk_kills": kills,
            },
        )
        return True

    @api.model
    def _stop_over_time_limit(self, run):
        limit = worker_clock.cron_time_limit()
        message = self.env._(
            "Processing stopped: invoicing a single line of this run takes longer "
            "than the scheduler may work at once (%(limit)s s: the server's "
            "--limit-time-real-cron option, or --limit-time-real when that one is "
            "not set). Raise that limit, then process the run again: the lines "
            "already invoiced are kept.",
            limit=limit or "?",
        )
        self._write_processing_state(
            run,
            {
                "state": "ready",
                "process_stop_message": message,
                "process_chunk_started": 0,
                "process_chunk_cap": 0,
                "process_chunk_kills": 0,
            },
        )
        run.message_post(body=message)
        (run.process_uid or self.env.user)._bus_send(
            "simple_notification",
            {
                "type": "danger",
                "title": self.env._("Billing run %s stopped", run.name),
                "message": message,
                "sticky": True,
            },
        )
        run._push_progress()
        self._commit()
