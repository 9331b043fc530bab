"""A real ``odoo-bin`` server in prefork mode on a test database, reached over
JSON-RPC on the loopback interface, for the tests that need real processes."""

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


class RpcError(Exception):
    """The error a JSON-RPC call answered with (``data`` as Odoo sent it)."""

    def __init__(self, error):
        self.data = error.get("data") or {}
        self.name = self.data.get("name", "")
        self.message = self.data.get("message") or error.get("message", "")
        super().__init__(f"{self.name}: {self.message}")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``odoo-bin`` in prefork mode (2 HTTP workers, 1 cron worker) on the
    test database, reached over JSON-RPC on the loopback interface.
    ``extra_args`` and ``env`` add to (and, for options, override) these."""

    def __init__(self, database, log_path, extra_args=(), env=None):
        self.database = database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, **(env or {}))
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
                *extra_args,
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
        if "error" in answer:
            raise RpcError(answer["error"])
        return answer.get("result")

    def execute(self, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` as admin, over JSON-RPC."""
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

    def execute_as(self, login, password, model, method, *args, **kwargs):
        """The same as the user ``login``, as an RPC client of theirs would."""
        uid = self._call("common", "login", self.database.db, login, password)
        assert uid, f"{login} cannot log in"
        return self._call(
            "object",
            "execute_kw",
            self.database.db,
            uid,
            password,
            model,
            method,
            list(args),
            kwargs,
        )

    def ref(self, xmlid):
        """The id of the record of ``xmlid``."""
        module, name = xmlid.split(".")
        found = self.execute(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        assert found, f"no record {xmlid}"
        return found[0]["res_id"]

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


def queue_run(server, tag, before_process=None):
    """Create and fetch the run of the sales tagged ``tag``, call
    ``before_process()`` if given, then Process: (run id, seconds Process
    took)."""
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
    if before_process:
        before_process()
    started = time.monotonic()
    server.execute("billing.run", "action_process", [run])
    return run, time.monotonic() - started


def read_run(server, run):
    return server.execute(
        "billing.run",
        "read",
        [run],
        ["state", "done_count", "line_count", "processed_count", "error_count"],
    )[0]


def wait_done(server, run, timeout=300):
    samples = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        values = read_run(server, run)
        samples.append(values["done_count"])
        if values["state"] == "done":
            return values, samples
        time.sleep(0.3)
    pytest.fail(f"run {run} not processed within {timeout} s: {values}")


def sales_billed(database, tag):
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


def assert_each_sale_billed_once(database, tag, count, amount=230.0):
    """Each of the ``count`` sales tagged ``tag`` has one invoice, none left in
    draft, ``amount`` each."""
    rows = sales_billed(database, tag)
    assert len(rows) == count
    assert all(invoices == 1 and drafts == 0 for __, invoices, drafts, __ in rows)
    assert sum(total for __, __, __, total in rows) == pytest.approx(amount * count)


def done_lines(database, run):
    with psycopg2.connect(dbname=database.db) as conn, conn.cursor() as cr:
        cr.execute(
            "SELECT count(*) FILTER (WHERE state != 'not_done'), count(*) "
            "FROM billing_run_line WHERE run_id = %s",
            [run],
        )
        return cr.fetchone()
