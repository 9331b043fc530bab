"""Billing runs processed by a real Odoo server in prefork mode: Process over
JSON-RPC returns at once, the scheduler's cron worker does the work in committed
batches within its time limit, and a worker killed in the middle of a run loses
nothing (the run resumes; every sale invoiced once).

Uses the database of conftest.py's ``database`` fixture.
"""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import psutil
import psycopg2
import pytest

# --limit-time-real-cron: a tick's 10 calls share it. Above 70 s: an idle prefork
# cron worker sleeps up to 69 s between ticks and would be killed meanwhile.
CRON_TIME_LIMIT = 90


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``odoo-bin`` in prefork mode (2 HTTP workers, 1 cron worker) on the
    test database, reached over JSON-RPC on the loopback interface."""

    def __init__(self, database, log_path):
        self.database = database
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env["PATH"] = os.path.dirname(str(database.python)) + os.pathsep + env["PATH"]
        self.log = open(log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(database.python),
                str(database.odoo_src / "odoo-bin"),
                "-d",
                database.db,
                f"--db-filter=^{database.db}$",
                f"--addons-path={database.repo},{database.odoo_src}/addons",
                f"--data-dir={database.data_dir}",
                "--http-interface=127.0.0.1",
                f"--http-port={self.port}",
                "--gevent-port=0",
                "--workers=2",
                "--max-cron-threads=1",
                f"--limit-time-real-cron={CRON_TIME_LIMIT}",
                "--log-level=info",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self._wait_until_up()
        self.uid = self._call("common", "login", database.db, "admin", "admin")
        assert self.uid, "admin/admin cannot log in to the test database"

    def _wait_until_up(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.process.poll() is None, "the Odoo server exited"
            try:
                # One request first: Python 3.11.7's ast module can fail on a
                # fresh server's concurrent first requests (a CPython bug).
                with urllib.request.urlopen(f"{self.url}/web/login", timeout=10):
                    return
            except OSError:
                time.sleep(0.5)
        pytest.fail("the Odoo server did not answer within 120 s")

    def _call(self, service, method, *args):
        payload = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"service": service, "method": method, "args": args},
                "id": 1,
            }
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/jsonrpc", payload, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer = json.load(response)
        assert "error" not in answer, answer.get("error")
        return answer["result"]

    def execute(self, model, method, *args, **kwargs):
        return self._call(
            "object",
            "execute_kw",
            self.database.db,
            self.uid,
            "admin",
            model,
            method,
            list(args),
            kwargs,
        )

    def children(self):
        return psutil.Process(self.process.pid).children()

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "odoo.log"
    server = Server(database, log)
    yield server
    server.stop()


def _queue_run(server, tag):
    scenario = server.execute(
        "billing.scenario", "search", [("name", "=", f"E2E {tag}")]
    )
    today = time.strftime("%Y-%m-%d")
    run = server.execute(
        "billing.run",
        "create",
        {"scenario_id": scenario[0], "date_from": "2000-01-01", "date_to": today},
    )
    server.execute("billing.run", "action_fetch", [run])
    started = time.monotonic()
    server.execute("billing.run", "action_process", [run])
    return run, time.monotonic() - started


def _read_run(server, run):
    return server.execute(
        "billing.run",
        "read",
        [run],
        ["state", "done_count", "line_count", "processed_count", "error_count"],
    )[0]


def _wait_done(server, run, timeout=300):
    samples = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        values = _read_run(server, run)
        samples.append(values["done_count"])
        if values["state"] == "done":
            return values, samples
        time.sleep(0.3)
    pytest.fail(f"run {run} not processed within {timeout} s: {values}")


def _sales_billed(database, tag):
    with psycopg2.connect(dbname=database.db) as conn, conn.cursor() as cr:
        cr.execute(
            """
            SELECT so.id,
                   COUNT(DISTINCT am.id) FILTER (WHERE am.move_type = 'out_invoice'),
                   COUNT(DISTINCT am.id) FILTER (WHERE am.state = 'draft'),
                   COALESCE(SUM(DISTINCT am.amount_total_signed), 0)
              FROM sale_order so
              JOIN sale_order_tag_rel rel ON rel.order_id = so.id
              JOIN crm_tag tag ON tag.id = rel.tag_id
         LEFT JOIN sale_order_line sol ON sol.order_id = so.id
         LEFT JOIN sale_order_line_invoice_rel inv ON inv.order_line_id = sol.id
         LEFT JOIN account_move_line aml ON aml.id = inv.invoice_line_id
         LEFT JOIN account_move am ON am.id = aml.move_id AND am.state != 'cancel'
             WHERE tag.name->>'en_US' = %s
          GROUP BY so.id
            """,
            [tag],
        )
        return cr.fetchall()


def _done_lines(database, run):
    with psycopg2.connect(dbname=database.db) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FILTER (WHERE state != 'not_done'), count(*) "
            "FROM billing_run_line WHERE run_id = %s",
            [run],
        )
        return cr.fetchone()


def test_process_over_rpc_returns_at_once_and_the_cron_worker_invoices(
    database, server
):
    count = 150
    tag = database.make_sales(count, "create_only", chunk_size=10)
    run, seconds = _queue_run(server, tag)
    assert seconds < 5, f"Process took {seconds:.1f} s in the HTTP request"
    assert _read_run(server, run)["state"] in ("processing", "done")
    values, samples = _wait_done(server, run)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    # The progress moved in steps that a user refreshing the form sees.
    assert len(set(samples)) > 2, samples
    rows = _sales_billed(database, tag)
    assert len(rows) == count
    assert all(invoices == 1 and drafts == 0 for __, invoices, drafts, __ in rows)


def test_worker_killed_in_the_middle_of_a_run_loses_nothing(database, server):
    """SIGKILL every worker of the server while the run is half done, resume it:
    every sale invoiced exactly once, no orphan draft, every line true."""
    count = 300
    tag = database.make_sales(count, "create_only", chunk_size=5)
    run, __ = _queue_run(server, tag)
    deadline = time.time() + 300
    while time.time() < deadline:
        done, total = _done_lines(database, run)
        if done >= total * 0.3:
            break
        time.sleep(0.05)
    assert done < total, "the run finished before the kill: make it longer"
    killed = server.children()
    for worker in killed:
        worker.send_signal(signal.SIGKILL)
    psutil.wait_procs(killed, timeout=10)
    done_after_kill, __ = _done_lines(database, run)
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
    values, __ = _wait_done(server, run)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    rows = _sales_billed(database, tag)
    assert len(rows) == count
    assert all(invoices == 1 for __, invoices, __, __ in rows), "none invoiced twice"
    assert all(drafts == 0 for __, __, drafts, __ in rows), "no orphan draft"
    assert sum(amount for __, __, __, amount in rows) == pytest.approx(230.0 * count)
