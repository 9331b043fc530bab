"""A prefork server whose workers have 10 s (``--limit-time-real=10``, no
``--limit-time-real-cron``): the scheduler invoices a 300-sale run to the end by
itself, each of its calls sized to end within the time a cron worker has.

Odoo 18's idle cron worker sleeps 60-69 s between passes and is killed after
10 s of it, so with such a limit the scheduler only works when woken
(``_trigger()``); the run is processed at a moment the worker is not about to
be killed, as most moments are (a wake-up that reaches a worker in its last
instant is lost: the operations guide tells to set ``--limit-time-real-cron``).

Uses the database of conftest.py's ``database`` fixture.
"""

import re
import time

import pytest

from odoo_server import Server, assert_each_sale_billed_once, queue_run, wait_done

CRON_ALIVE = re.compile(r"Worker WorkerCron \((\d+)\) alive")


@pytest.fixture(scope="module")
def server_10s(database, tmp_path_factory):
    log = tmp_path_factory.mktemp("server_10s") / "odoo.log"
    server = Server(
        database,
        log,
        extra_args=["--limit-time-real=10", "--limit-time-real-cron=-1"],
    )
    yield server
    server.stop()


def test_run_of_300_sales_ends_with_a_10_second_limit(database, server_10s):
    count = 300
    # The configured chunk (100 lines) takes longer than the 10 s a cron worker
    # has: the scheduler sizes its chunks from the time left instead.
    tag = database.make_sales(count, "create_only", chunk_size=100)
    run, seconds = queue_run(
        server_10s, tag, before_process=lambda: _wait_for_a_new_cron_worker(server_10s)
    )
    assert seconds < 5, f"Process took {seconds:.1f} s in the HTTP request"
    values, samples = wait_done(server_10s, run, timeout=420)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    assert len(set(samples)) > 3, samples
    assert_each_sale_billed_once(database, tag, count)
    stopped = server_10s.execute(
        "billing.run", "read", [run], ["process_stop_message"]
    )[0]
    assert not stopped["process_stop_message"]


def _wait_for_a_new_cron_worker(server, timeout=30):
    """Until the master has started a new cron worker (it kills the idle one
    every 10 s here)."""
    with open(server.log.name) as log:
        seen = set(CRON_ALIVE.findall(log.read()))
    deadline = time.time() + timeout
    while time.time() < deadline:
        with open(server.log.name) as log:
            if set(CRON_ALIVE.findall(log.read())) - seen:
                return
        time.sleep(0.1)
    pytest.fail("no cron worker started within 30 s")
