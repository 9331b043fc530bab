"""Billing runs processed by a real Odoo server in prefork mode: Process over
JSON-RPC returns at once, the scheduler's cron worker does the work in committed
batches within its time limit, and a worker killed in the middle of a run loses
nothing (the run resumes; every sale invoiced once).

Uses the database of conftest.py's ``database`` fixture.
"""

import signal
import time

import psutil
import pytest

from odoo_server import (
    Server,
    assert_each_sale_billed_once,
    done_lines,
    queue_run,
    read_run,
    sales_billed,
    wait_done,
)


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "odoo.log"
    server = Server(database, log)
    yield server
    server.stop()


def test_process_over_rpc_returns_at_once_and_the_cron_worker_invoices(
    database, server
):
    count = 150
    tag = database.make_sales(count, "create_only", chunk_size=10)
    run, seconds = queue_run(server, tag)
    assert seconds < 5, f"Process took {seconds:.1f} s in the HTTP request"
    assert read_run(server, run)["state"] in ("processing", "done")
    values, samples = wait_done(server, run)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    # The progress moved in steps that a user refreshing the form sees.
    assert len(set(samples)) > 2, samples
    assert_each_sale_billed_once(database, tag, count)


def test_worker_killed_in_the_middle_of_a_run_loses_nothing(database, server):
    """SIGKILL every worker of the server while the run is half done, resume it:
    every sale invoiced exactly once, no orphan draft, every line true."""
    count = 300
    tag = database.make_sales(count, "create_only", chunk_size=5)
    run, __ = queue_run(server, tag)
    deadline = time.time() + 300
    while time.time() < deadline:
        done, total = done_lines(database, run)
        if done >= total * 0.3:
            break
        time.sleep(0.05)
    assert done < total, "the run finished before the kill: make it longer"
    killed = server.children()
    for worker in killed:
        worker.send_signal(signal.SIGKILL)
    psutil.wait_procs(killed, timeout=10)
    done_after_kill, __ = done_lines(database, run)
    assert done_after_kill < total
    # The master starts new workers; Process again (the form's Resume button)
    # wakes the cron worker, which carries on where the killed one stopped.
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            server.execute("billing.run", "action_process", [run])
            break
        except OSError:
            time.sleep(0.5)
    values, __ = wait_done(server, run)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    rows = sales_billed(database, tag)
    assert len(rows) == count
    assert all(invoices == 1 for __, invoices, __, __ in rows), "none invoiced twice"
    assert all(drafts == 0 for __, __, drafts, __ in rows), "no orphan draft"
    assert sum(amount for __, __, __, amount in rows) == pytest.approx(230.0 * count)
