"""Billing runs processed by queue jobs (``invoice_manager_queue``) on two real
Odoo servers sharing one PostgreSQL database, and the faults a month-end meets:
a worker killed in the middle of a job, two servers processing overlapping runs,
a mail server refusing connections, PostgreSQL restarted in the middle of a run,
bad input through RPC. Each test states what it injects and asserts what was
kept: every sale invoiced exactly once, to the cent, and lines that tell the
truth.

The two servers load queue_job server-wide; both run its job runner, one of
them is elected (queue_job's advisory lock) and sends each job to the address
``ODOO_QUEUE_JOB_HOST``/``ODOO_QUEUE_JOB_PORT``: here a round-robin TCP proxy
in front of both servers, as a load balancer would be, so that jobs run on the
workers of both. Uses the database of conftest.py's ``database`` fixture.
"""

import itertools
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time

import psutil
import psycopg2
import pytest

from odoo_server import RpcError, Server, free_port, queue_run, sales_billed, wait_done

# Two lines of 2 x 100.00 + 15 % tax: what each sale of odoo_script.SALES bills.
SALE_TOTAL = 230.0
# Interrupted jobs are requeued after this many seconds (default 30).
JOB_GRACE = 5


class RoundRobinProxy:
    """A TCP proxy sending each connection to the next of ``ports``."""

    def __init__(self):
        self.port = free_port()
        self.ports = []
        self._next = None
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                target = socket.create_connection(("127.0.0.1", next(proxy._next)))
                pumps = [
                    threading.Thread(target=_pump, args=(self.request, target)),
                    threading.Thread(target=_pump, args=(target, self.request)),
                ]
                for pump in pumps:
                    pump.start()
                for pump in pumps:
                    pump.join()
                target.close()

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True

    def start(self, ports):
        self.ports = ports
        self._next = itertools.cycle(ports)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _pump(source, target):
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class SmtpSink:
    """A mail server that accepts every message and keeps its recipients."""

    def __init__(self, port):
        self.recipients = []
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    command = line.strip().upper()
                    if command.startswith((b"EHLO", b"HELO")):
                        self.wfile.write(b"250 sink\r\n")
                    elif command.startswith(b"RCPT TO"):
                        sink.recipients.append(line.decode().split(":", 1)[1].strip())
                        self.wfile.write(b"250 OK\r\n")
                    elif command == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        while self.rfile.readline() not in (b".\r\n", b""):
                            pass
                        self.wfile.write(b"250 queued\r\n")
                    elif command == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 OK\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sent_to(self, tag):
        """The recipients of the sales of ``tag`` (odoo_script.SALES)."""
        return [address for address in self.recipients if f"@{tag}." in address]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class JobServers:
    def __init__(self, database, tmp):
        self.database = database
        self.proxy = RoundRobinProxy()
        env = {
            "ODOO_QUEUE_JOB_CHANNELS": "root:2,root.billing:2",
            "ODOO_QUEUE_JOB_HOST": "127.0.0.1",
            "ODOO_QUEUE_JOB_PORT": str(self.proxy.port),
        }
        args = ("--workers=3", "--load=base,web,queue_job")
        self.a = Server(database, tmp / "odoo_a.log", args, env)
        self.b = Server(database, tmp / "odoo_b.log", args, env)
        self.proxy.start([self.a.port, self.b.port])

    def worker_pids(self, server):
        process = psutil.Process(server.process.pid)
        return {child.pid for child in process.children(recursive=True)}

    def stop(self):
        self.a.stop()
        self.b.stop()
        self.proxy.stop()


@pytest.fixture(scope="module")
def servers(database, tmp_path_factory):
    servers = JobServers(database, tmp_path_factory.mktemp("job_servers"))
    yield servers
    servers.stop()


def _sql(database, query, params=None):
    with psycopg2.connect(dbname=database.db) as conn, conn.cursor() as cr:
        cr.execute(query, params)
        return cr.fetchall() if cr.description else None


def _jobs(database, run):
    return _sql(
        database,
        """
        SELECT job.uuid, job.method_name, job.state, job.worker_pid, job.retry,
               EXTRACT(EPOCH FROM now() AT TIME ZONE 'UTC' - job.date_started)
          FROM queue_job job
          JOIN billing_run run ON run.job_graph_uuid = job.graph_uuid
         WHERE run.id = %s
        """,
        [run],
    )


def _wait_for_running_job(database, run, seconds=2.0, timeout=120):
    """The first invoicing job of ``run`` running for ``seconds`` already."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for uuid, method, state, pid, __, running in _jobs(database, run):
            if (
                method == "_job_invoice_lines"
                and state == "started"
                and running
                and running >= seconds
            ):
                return uuid, pid
        time.sleep(0.1)
    pytest.fail(
        f"no invoicing job of run {run} ran for {seconds} s: {_jobs(database, run)}"
    )


def _trigger_cron(database, xmlid):
    """What ``ir.cron._trigger()`` does: call the job now, wake the cron workers."""
    module, name = xmlid.split(".")
    _sql(
        database,
        """
        INSERT INTO ir_cron_trigger (cron_id, call_at, create_date, write_date)
        SELECT res_id, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC',
               now() AT TIME ZONE 'UTC'
          FROM ir_model_data WHERE module = %s AND name = %s
        """,
        [module, name],
    )
    with psycopg2.connect(dbname="postgres") as conn, conn.cursor() as cr:
        cr.execute("NOTIFY cron_trigger, %s", [database.db])


def _assert_each_sale_billed_once(database, tag, count):
    rows = sales_billed(database, tag)
    assert len(rows) == count
    assert [invoices for __, invoices, __, __ in rows] == [1] * count, (
        "each sale invoiced exactly once"
    )
    assert all(drafts == 0 for __, __, drafts, __ in rows), "no orphan draft"
    assert sum(amount for __, __, __, amount in rows) == pytest.approx(
        SALE_TOTAL * count, abs=0.001
    )


def _job_sales(database, count, action="create_only", job_size=80):
    return database.make_sales(
        count,
        action,
        processing_engine="queue_job",
        job_size=job_size,
        job_start_grace=JOB_GRACE,
    )


def _run_messages(database, run):
    rows = _sql(
        database,
        "SELECT body FROM mail_message WHERE model = 'billing.run' AND res_id = %s",
        [run],
    )
    return " ".join(body or "" for (body,) in rows)


def test_1_worker_killed_in_the_middle_of_a_job(database, servers):
    """Injected: SIGKILL of the worker running an invoicing job, 2 s into it.
    Kept: the job is given back to the runner by the scheduler and done again;
    every sale invoiced once, no orphan draft, every line Processed."""
    count = 240
    tag = _job_sales(database, count)
    run, seconds = queue_run(servers.a, tag)
    assert seconds < 5, "Process only enqueues the jobs"
    uuid, pid = _wait_for_running_job(database, run)
    assert pid in servers.worker_pids(servers.a) | servers.worker_pids(servers.b)
    os.kill(pid, signal.SIGKILL)
    values, __ = wait_done(servers.a, run, timeout=420)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    _assert_each_sale_billed_once(database, tag, count)
    killed = [job for job in _jobs(database, run) if job[0] == uuid]
    assert killed[0][2] == "done", "the killed job was done again"
    assert "interrupted job(s) given back" in _run_messages(database, run)


def test_2_two_servers_process_overlapping_runs(database, servers):
    """Injected: two runs fetched over the same 200 sales, processed at the same
    moment, one from each server, their jobs spread over both servers' workers.
    Kept: every sale invoiced once, none left out; a line the other run
    invoiced shows that run."""
    count = 200
    tag = _job_sales(database, count, job_size=25)
    scenario = servers.a.execute(
        "billing.scenario", "search", [("name", "=", f"E2E {tag}")]
    )[0]
    today = time.strftime("%Y-%m-%d")
    runs = []
    for server in (servers.a, servers.b):
        run = server.execute(
            "billing.run",
            "create",
            {"scenario_id": scenario, "date_from": "2000-01-01", "date_to": today},
        )
        server.execute("billing.run", "action_fetch", [run])
        runs.append(run)
    threads = [
        threading.Thread(
            target=server.execute, args=("billing.run", "action_process", [run])
        )
        for server, run in zip((servers.a, servers.b), runs, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results = [wait_done(servers.a, run, timeout=600)[0] for run in runs]
    _assert_each_sale_billed_once(database, tag, count)
    assert sum(result["processed_count"] for result in results) == count
    assert all(result["error_count"] == 0 for result in results)
    names = servers.a.execute("billing.run", "read", runs, ["name"])
    for run, other in ((runs[0], names[1]), (runs[1], names[0])):
        lines = servers.a.execute(
            "billing.run.line",
            "search_read",
            [("run_id", "=", run)],
            ["state", "elsewhere_run_ids"],
        )
        assert {line["state"] for line in lines} <= {"processed", "elsewhere"}
        for line in lines:
            if line["state"] == "elsewhere":
                assert line["elsewhere_run_ids"] == [other["id"]]
    # The jobs ran on the workers of both servers.
    pids = {job[3] for run in runs for job in _jobs(database, run)}
    assert pids & servers.worker_pids(servers.a), "server A ran jobs"
    assert pids & servers.worker_pids(servers.b), "server B ran jobs"


def test_3_mail_server_refuses_connections(database, servers):
    """Injected: the outgoing mail server refuses connections while the run's
    invoices are emailed. Kept: the invoices are created and posted, each line's
    delivery shows Failed with the reason; once the mail server is back, the
    scheduler sends the same emails again, nothing is made twice."""
    server = servers.a
    smtp_port = free_port()
    mail_server = server.execute(
        "ir.mail_server",
        "create",
        {
            "name": "Refusing",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_encryption": "none",
            "sequence": 1,
        },
    )
    sink = None
    try:
        # 6 sales, the second customer without an email address.
        tag = _job_sales(database, 6, action="email", job_size=3)
        run, __ = queue_run(server, tag)
        values, __ = wait_done(server, run)
        assert values["processed_count"] == 5
        assert values["error_count"] == 1, "the customer without an email address"
        lines = server.execute(
            "billing.run.line",
            "search_read",
            [("run_id", "=", run), ("state", "=", "processed")],
            ["invoice_ids"],
        )
        invoice_ids = [invoice for line in lines for invoice in line["invoice_ids"]]
        assert len(invoice_ids) == 5
        invoices = server.execute(
            "account.move", "read", invoice_ids, ["state", "amount_total"]
        )
        assert {invoice["state"] for invoice in invoices} == {"posted"}
        assert sum(invoice["amount_total"] for invoice in invoices) == 5 * SALE_TOTAL
        # Odoo's mail queue tries to send them: the connection is refused.
        server.execute("mail.mail", "process_email_queue")
        lines = _delivery(server, run)
        assert [line["delivery_state"] for line in lines] == ["failed"] * 5
        for line in lines:
            assert "Connection refused" in line["delivery_error"], line
        made = _made_for(database, invoice_ids)

        sink = SmtpSink(smtp_port)
        _trigger_cron(database, "invoice_manager.ir_cron_billing_run_retry_delivery")
        deadline = time.time() + 180
        while time.time() < deadline and len(sink.sent_to(tag)) < 5:
            time.sleep(0.5)
        time.sleep(2)
        assert sorted(sink.sent_to(tag)) == sorted(
            f"<c{i}@{tag}.example>" for i in (0, 2, 3, 4, 5)
        ), "the same 5 emails sent once, once the server is back"
        lines = _delivery(server, run)
        assert [line["delivery_state"] for line in lines] == ["sent"] * 5
        assert {line["delivery_retry_count"] for line in lines} == {1}
        made_after = _made_for(database, invoice_ids)
        assert made_after["invoices"] == made["invoices"] == 5
        assert made_after["pdfs"] == made["pdfs"] == 5, "no PDF rendered again"
        assert made_after["mails"] <= made["mails"], "no email made again"
        assert "failed emails were handed to the mail queue again" in _run_messages(
            database, run
        )
    finally:
        server.execute("ir.mail_server", "unlink", [mail_server])
        if sink:
            sink.stop()


def _delivery(server, run):
    return server.execute(
        "billing.run.line",
        "search_read",
        [("run_id", "=", run), ("state", "=", "processed")],
        ["delivery_state", "delivery_error", "delivery_retry_count"],
        order="id",
    )


def _made_for(database, invoice_ids):
    invoices = tuple(invoice_ids)
    orders = _sql(
        database,
        "SELECT count(DISTINCT move_id) FROM account_move_line aml "
        "JOIN sale_order_line_invoice_rel rel ON rel.invoice_line_id = aml.id "
        "WHERE rel.order_line_id IN (SELECT order_line_id FROM "
        "sale_order_line_invoice_rel r JOIN account_move_line l "
        "ON l.id = r.invoice_line_id WHERE l.move_id IN %s)",
        [invoices],
    )[0][0]
    pdfs = _sql(
        database,
        "SELECT count(*) FROM ir_attachment WHERE res_model = 'account.move' "
        "AND res_id IN %s AND mimetype = 'application/pdf' "
        "AND res_field = 'invoice_pdf_report_file'",
        [invoices],
    )[0][0]
    mails = _sql(
        database,
        "SELECT count(*) FROM mail_mail mm JOIN mail_message msg "
        "ON msg.id = mm.mail_message_id WHERE msg.model = 'account.move' "
        "AND msg.res_id IN %s",
        [invoices],
    )[0][0]
    return {"invoices": orders, "pdfs": pdfs, "mails": mails}


def _restart_postgresql():
    """Restart the machine's PostgreSQL cluster (pg_ctlcluster, Debian)."""
    if not shutil.which("pg_ctlcluster") or not shutil.which("pg_lsclusters"):
        pytest.fail("PostgreSQL cannot be restarted here: pg_ctlcluster is missing")
    version, cluster = subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True
    ).stdout.split()[:2]
    subprocess.run(
        ["pg_ctlcluster", version, cluster, "restart", "-m", "fast"],
        check=True,
        timeout=120,
    )
    deadline = time.time() + 60
    while subprocess.run(["pg_isready", "-q"], check=False).returncode:
        assert time.time() < deadline, "PostgreSQL did not come back"
        time.sleep(0.5)


def test_4_postgresql_restarted_in_the_middle_of_a_run(database, servers):
    """Injected: PostgreSQL restarted (fast shutdown: every connection cut)
    while an invoicing job runs. Kept: once the database is back the run
    resumes by itself (the job is retried or given back to the runner); every
    sale invoiced once, no orphan draft."""
    count = 240
    tag = _job_sales(database, count)
    run, __ = queue_run(servers.a, tag)
    _wait_for_running_job(database, run)
    _restart_postgresql()
    values, __ = _wait_done_through_restart(servers.a, run, timeout=480)
    assert values["processed_count"] == count
    assert values["error_count"] == 0
    _assert_each_sale_billed_once(database, tag, count)


def _wait_done_through_restart(server, run, timeout):
    deadline = time.time() + timeout
    while True:
        try:
            return wait_done(server, run, timeout=max(deadline - time.time(), 1))
        except (RpcError, OSError):
            # A worker's pooled connection died with the restart: asked again.
            assert time.time() < deadline
            time.sleep(1)


def test_5_bad_input_through_rpc(database, servers):
    """Injected, over JSON-RPC: a scenario whose extra filter no longer parses,
    a period that ends before it starts, a journal of another company, an
    unknown billing action, a run of another company processed by a user of
    the first. Kept: a clear error each time, and nothing half-done (no line,
    invoice or job made; the run as it was)."""
    server = servers.a
    tag = _job_sales(database, 3)
    scenario = server.execute(
        "billing.scenario", "search", [("name", "=", f"E2E {tag}")]
    )[0]
    today = time.strftime("%Y-%m-%d")

    def new_run(**values):
        return server.execute(
            "billing.run",
            "create",
            {
                "scenario_id": scenario,
                "date_from": "2000-01-01",
                "date_to": today,
                **values,
            },
        )

    jobs_before = _sql(database, "SELECT count(*) FROM queue_job")[0][0]
    fetched = new_run()
    server.execute("billing.run", "action_fetch", [fetched])

    # A filter that no longer parses (a field of an uninstalled module).
    _sql(
        database,
        "UPDATE billing_scenario SET sale_domain = %s WHERE id = %s",
        ["[('x_gone_field', '=', 1)]", scenario],
    )
    _sql(
        database,
        "UPDATE billing_run SET sale_domain = %s WHERE id = %s",
        ["[('x_gone_field', '=', 1)]", fetched],
    )
    with pytest.raises(RpcError, match="extra filter is not a valid domain"):
        server.execute("billing.run", "action_process", [fetched])
    run = server.execute("billing.run", "read", [fetched], ["state", "invoice_count"])
    assert run[0]["state"] == "ready" and run[0]["invoice_count"] == 0
    fresh = new_run()
    with pytest.raises(RpcError, match="extra filter is not a valid domain"):
        server.execute("billing.run", "action_fetch", [fresh])
    assert (
        server.execute("billing.run.line", "search_count", [("run_id", "=", fresh)])
        == 0
    )
    _sql(
        database,
        "UPDATE billing_scenario SET sale_domain = '[]' WHERE id = %s",
        [scenario],
    )

    # A period that ends before it starts.
    with pytest.raises(RpcError, match="ends .* before it starts"):
        new_run(date_from=today, date_to="2000-01-01")

    # A journal of another company.
    other = server.execute("res.company", "create", {"name": f"Other {tag}"})
    journal = server.execute(
        "account.journal",
        "create",
        {
            "name": f"Other {tag}",
            "code": tag[-5:].upper(),
            "type": "sale",
            "company_id": other,
        },
    )
    with pytest.raises(RpcError, match="(?i)compan"):
        new_run(journal_id=journal)

    # An unknown billing action, on a scenario and on a fetched line.
    with pytest.raises(RpcError, match="Wrong value for billing.scenario.billing_acti"):
        server.execute(
            "billing.scenario",
            "create",
            {"name": f"Fax {tag}", "billing_action": "fax"},
        )
    lines = server.execute("billing.run.line", "search", [("run_id", "=", fetched)])
    assert len(lines) == 3
    with pytest.raises(RpcError, match="Wrong value for billing.run.line.billing_act"):
        server.execute("billing.run.line", "write", lines, {"billing_action": "fax"})
    actions = server.execute("billing.run.line", "read", lines, ["billing_action"])
    assert {line["billing_action"] for line in actions} == {"create_only"}

    # A run of another company, processed by a user of the first only.
    other_scenario = server.execute(
        "billing.scenario",
        "create",
        {"name": f"Other {tag}", "company_id": other},
        context={"allowed_company_ids": [other]},
    )
    other_run = server.execute(
        "billing.run",
        "create",
        {
            "scenario_id": other_scenario,
            "company_id": other,
            "date_from": "2000-01-01",
            "date_to": today,
        },
        context={"allowed_company_ids": [other]},
    )
    login = f"billing_{tag}"
    server.execute(
        "res.users",
        "create",
        {
            "name": f"Billing {tag}",
            "login": login,
            "password": login,
            "groups_id": [
                (4, server.ref("invoice_manager.group_billing_user")),
                (4, server.ref("account.group_account_invoice")),
            ],
        },
    )
    with pytest.raises(RpcError, match="AccessError|access"):
        server.execute_as(login, login, "billing.run", "action_process", [other_run])
    state = server.execute(
        "billing.run",
        "read",
        [other_run],
        ["state"],
        context={"allowed_company_ids": [other]},
    )
    assert state[0]["state"] == "ready"
    jobs_after = _sql(database, "SELECT count(*) FROM queue_job")[0][0]
    assert jobs_after == jobs_before, "no job enqueued by any of these calls"
