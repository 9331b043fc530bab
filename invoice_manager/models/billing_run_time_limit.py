# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
import logging
import time
import weakref

import psutil

from odoo import api, fields, models
from odoo.tools import config

from ..services.chunk_sizer import ChunkSizer

_logger = logging.getLogger(__name__)

# A chunk of one line killed this many times in a row: the line cannot be
# invoiced within the limit (once could be a restart or another job's time).
KILLS_BEFORE_STOP = 2
# Odoo's scheduler calls a batched job up to this many times in one tick
# (odoo.addons.base.models.ir_cron.MAX_BATCH_PER_CRON_JOB), all within the
# cron's time limit.
CRON_BATCHES_PER_TICK = 10
# Processing time of one scheduler call when no time limit applies (threaded
# server, or a limit of 0).
DEFAULT_CRON_BATCH_SECONDS = 60
# Share of the cron time limit the scheduler's calls of one pass may use: the
# rest is left to the other scheduled actions of the pass and to commits.
CRON_TIME_SHARE = 0.6
# Below this share of the limit left, a call gives the worker back at once.
MIN_CALL_SHARE = 0.1
# A prefork cron worker tells its master it is alive only between two passes
# over the database's jobs (Odoo calls a batched job up to 10 times in a pass,
# on one cursor): the time a pass has counts from then. Per process (a prefork
# cron worker runs one pass at a time): when its last call of the billing job
# ended (time.time()), and the pass under way (its cursor, when it started).
_worker_pass = {"last_call_end": 0.0, "cursor": lambda: None, "started": 0.0}


class BillingRun(models.Model):
    """The scheduler's chunks fit the time a worker has: sized from the measured
    cost of a line and the time left in the call, halved after a chunk was
    killed, and the run stopped with a message when a single line cannot be
    invoiced within the limit."""

    _inherit = "billing.run"

    process_line_seconds = fields.Float(
        string="Seconds per Line",
        readonly=True,
        copy=False,
        help="What invoicing one line of this run took, measured by the scheduler: "
        "it sizes the chunks so that each call ends within the server's time limit.",
    )
    process_chunk_started = fields.Integer(
        readonly=True,
        copy=False,
        help="Lines of the chunk the scheduler is invoicing; still set when the "
        "scheduler calls again, that chunk was killed (its worker's time limit).",
    )
    process_chunk_cap = fields.Integer(
        readonly=True,
        copy=False,
        help="Chunks are at most this size since one was killed (0: no cap).",
    )
    process_chunk_kills = fields.Integer(readonly=True, copy=False)
    process_stop_message = fields.Text(
        string="Why Processing Stopped",
        readonly=True,
        copy=False,
    )

    def _get_chunk_sizer(self, max_size):
        self.ensure_one()
        return ChunkSizer(
            max_size,
            line_seconds=self.process_line_seconds,
            cap=self.process_chunk_cap,
        )

    def _write_processing_state(self, values):
        """Written by the scheduler only, committed at once: a worker killed
        later must not take it with it."""
        self.sudo().with_context(tracking_disable=True).write(values)
        self._commit_batch()

    def _start_chunk(self, size):
        self._write_processing_state({"process_chunk_started": size})

    def _end_chunk(self, sizer, size, seconds):
        sizer.record(size, seconds)
        self._write_processing_state(
            {
                "process_chunk_started": 0,
                "process_chunk_kills": 0,
                "process_line_seconds": sizer.line_seconds,
            }
        )

    def _check_killed_chunk(self):
        """Before the scheduler goes on with the run: was its last chunk killed?
        Then the next ones are half its size; a run whose single line was killed
        ``KILLS_BEFORE_STOP`` times in a row stops (False) with a message that
        names the limit to raise."""
        self.ensure_one()
        started = self.process_chunk_started
        if not started:
            return True
        kills = self.process_chunk_kills + 1 if started <= 1 else 0
        _logger.warning(
            "Billing run %s: a chunk of %s lines was killed before it ended "
            "(time limit of the scheduler: %s s)",
            self.name,
            started,
            self._get_cron_time_limit() or "none",
        )
        if kills >= KILLS_BEFORE_STOP:
            self._stop_processing_over_time_limit()
            return False
        self._write_processing_state(
            {
                "process_chunk_started": 0,
                "process_chunk_cap": max(started // 2, 1),
                "process_chunk_kills": kills,
            }
        )
        return True

    def _stop_processing_over_time_limit(self):
        self.ensure_one()
        limit = self._get_cron_time_limit()
        message = self.env._(
            "Processing stopped: invoicing a single line of this run takes longer "
            "than the scheduler may work at once (%(limit)s s: the server's "
            "--limit-time-real-cron option, or --limit-time-real when that one is "
            "not set). Raise that limit, then process the run again: the lines "
            "already invoiced are kept.",
            limit=limit or "?",
        )
        self._write_processing_state(
            {
                "state": "ready",
                "process_stop_message": message,
                "process_chunk_started": 0,
                "process_chunk_cap": 0,
                "process_chunk_kills": 0,
            }
        )
        self.message_post(body=message)
        (self.process_uid or self.env.user)._bus_send(
            "simple_notification",
            {
                "type": "danger",
                "title": self.env._("Billing run %s stopped", self.name),
                "message": message,
                "sticky": True,
            },
        )
        self._commit_batch()

    @api.model
    def _get_cron_batch_seconds(self):
        """How long one scheduler call processes: in prefork mode, a tick's
        ``CRON_BATCHES_PER_TICK`` calls must fit within the cron time limit
        (``--limit-time-real-cron``, else ``--limit-time-real``), which also
        counts the other scheduled actions the worker runs in the same pass:
        the calls take ``CRON_TIME_SHARE`` of it."""

        configured = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.cron_batch_seconds")
        )
        if configured:
            return float(configured)
        limit = self._get_cron_time_limit()
        if limit:
            return limit * CRON_TIME_SHARE / CRON_BATCHES_PER_TICK
        return DEFAULT_CRON_BATCH_SECONDS

    @api.model
    def _get_cron_call_seconds(self, batch_seconds):
        """Seconds this scheduler call may invoice (0: none). A prefork cron
        worker is killed ``_get_cron_time_limit()`` seconds after it last told
        its master it was alive, which it does only before it sleeps: the time
        it slept before a wake-up counts. A call that cannot show it has time
        left does nothing and wakes the scheduler again, so that its next
        pass starts right after the worker told the master."""
        limit = self._get_cron_time_limit()
        if not limit:
            return batch_seconds
        left = limit * CRON_TIME_SHARE - self._get_seconds_since_worker_pinged()
        if left < limit * MIN_CALL_SHARE:
            return 0
        return min(batch_seconds, left)

    @api.model
    def _get_seconds_since_worker_pinged(self):
        """At most how long ago this worker last told its master it was alive,
        seen from this scheduler call: since the worker started, or since its
        last pass over the billing job ended, whichever is later; the calls of
        one pass (one cursor) count from the pass's first call."""
        if _worker_pass["cursor"]() is not self.env.cr:
            _worker_pass["cursor"] = weakref.ref(self.env.cr)
            _worker_pass["started"] = max(
                psutil.Process().create_time(), _worker_pass["last_call_end"]
            )
        return max(time.time() - _worker_pass["started"], 0.0)

    @api.model
    def _end_cron_call(self):
        _worker_pass["last_call_end"] = time.time()

    def _get_cron_time_limit(self):
        """Seconds a prefork cron worker may work on one pass over the
        database's ready jobs before it is killed (0: no limit)."""
        if not config["workers"]:
            return 0
        limit = config["limit_time_real_cron"]
        if limit is None or limit < 0:
            limit = config["limit_time_real"]
        return limit if limit and limit > 0 else 0

    def _invoice_pending_in_time(self, lines, deadline, deliver, queue_email, max_size):
        """Invoice ``lines`` chunk by chunk until none is left or ``deadline``
        (``time.monotonic()``; None: no limit) passed, each chunk sized to end
        in time; hand each to ``deliver``."""
        self.ensure_one()
        timed = deadline is not None
        sizer = self._get_chunk_sizer(max_size)
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
                self._start_chunk(len(chunk))
            started = time.monotonic()
            self._process_chunk(chunk)
            if timed:
                self._end_chunk(sizer, len(chunk), time.monotonic() - started)
            self._deliver_lines(chunk, deliver, queue_email)
