"""The time an Odoo worker has for the billing job: read from the server's
options and, for a prefork cron worker, from when it last told its master it
was alive. Plain functions: no model, no database."""

import time
import weakref

import psutil

from odoo.tools import config

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
# Share of an HTTP worker's limit one queue job may use (jobs run as requests).
JOB_TIME_SHARE = 0.5

# A prefork cron worker tells its master it is alive only between two passes
# over the database's jobs (Odoo calls a batched job up to 10 times in a pass,
# on one cursor): the time a pass has counts from then. Per process (a prefork
# cron worker runs one pass at a time): when its last call of the billing job
# ended (time.time()), and the pass under way (its cursor, when it started).
_worker_pass = {"last_call_end": 0.0, "cursor": lambda: None, "started": 0.0}


def cron_time_limit():
    """Seconds a prefork cron worker may work on one pass over the database's
    ready jobs before it is killed (0: no limit)."""
    if not config["workers"]:
        return 0
    limit = config["limit_time_real_cron"]
    if limit is None or limit < 0:
        limit = config["limit_time_real"]
    return limit if limit and limit > 0 else 0


def request_time_limit():
    """Seconds a prefork HTTP worker (which runs queue jobs) may take on one
    request (0: no limit): the lower of its real and CPU time limits."""
    if not config["workers"]:
        return 0
    limits = [
        limit
        for limit in (config["limit_time_real"], config["limit_time_cpu"])
        if limit and limit > 0
    ]
    return min(limits, default=0)


def cron_batch_seconds(configured=None):
    """How long one scheduler call processes: in prefork mode, a tick's
    ``CRON_BATCHES_PER_TICK`` calls must fit within the cron time limit, which
    also counts the other scheduled actions the worker runs in the same pass:
    the calls take ``CRON_TIME_SHARE`` of it."""
    if configured:
        return float(configured)
    limit = cron_time_limit()
    if limit:
        return limit * CRON_TIME_SHARE / CRON_BATCHES_PER_TICK
    return DEFAULT_CRON_BATCH_SECONDS


def cron_call_seconds(cr, batch_seconds):
    """Seconds this scheduler call may invoice (0: none). A prefork cron worker
    is killed ``cron_time_limit()`` seconds after it last told its master it
    was alive, which it does only before it sleeps: the time it slept before a
    wake-up counts. A call that cannot show it has time left does nothing and
    wakes the scheduler again, so that its next pass starts right after the
    worker told the master."""
    limit = cron_time_limit()
    if not limit:
        return batch_seconds
    left = limit * CRON_TIME_SHARE - seconds_since_worker_pinged(cr)
    if left < limit * MIN_CALL_SHARE:
        return 0
    return min(batch_seconds, left)


def seconds_since_worker_pinged(cr):
    """At most how long ago this worker last told its master it was alive,
    seen from a scheduler call on cursor ``cr``: since the worker started, or
    since its last pass over the billing job ended, whichever is later; the
    calls of one pass (one cursor) count from the pass's first call."""
    if _worker_pass["cursor"]() is not cr:
        _worker_pass["cursor"] = weakref.ref(cr)
        _worker_pass["started"] = max(
            psutil.Process().create_time(), _worker_pass["last_call_end"]
        )
    return max(time.time() - _worker_pass["started"], 0.0)


def end_cron_call():
    _worker_pass["last_call_end"] = time.time()
