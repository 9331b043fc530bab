#!/usr/bin/env python3
"""Billing runs against Odoo's own batch invoicing, measured side by side.

For each size N it builds 3 x N confirmed sales of the same shape (two lines,
15 % tax, one customer each) and measures, in one process on one database:

* baseline: Odoo's own ``sale.order._create_invoices()`` + ``action_post()``
  on N orders, in one transaction;
* billing run, Create Only: ``billing.run.action_fetch()``, then
  ``action_process()`` (the Process button: it queues the run) and Odoo's
  scheduler code (``ir.cron._process_job``) until the run is done, on N other
  orders: from the click to the last line processed, committed chunk by chunk;
* billing run, Email queued: the same on N other orders with the Email action,
  handed to Odoo's sending cron (``sending_data``), as large runs are.

Then the product document's example: 30 sales invoiced and emailed with their
PDF (rendered by wkhtmltopdf, through a real Odoo HTTP server for the report's
CSS), against Odoo's own synchronous batch send of 30 invoices, both after one
warm-up send of 2 invoices each (templates compiled, as on a running server).

Before measuring, the sales journal gets 500 posted invoices of history (a
journal in use), and every phase starts after a ``VACUUM ANALYZE``, as
autovacuum would have done: with fresh statistics PostgreSQL plans Odoo's
invoice numbering query in 0.3 ms, without them it scans the whole journal (20
ms per invoice at 18,000 invoices).

Usage (from the repository root, after scripts/setup.sh):

    $VENV/bin/python bench/bench_invoicing.py --sizes 100,1000,10000

Figures: wall seconds, milliseconds and SQL queries per invoice, and the peak
resident memory of the process during the phase (above its level at start);
for the example, the CPU time every process of the machine used during each
side.
"""

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager, nullcontext
from datetime import date, datetime

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ODOO_SRC = os.environ.get("ODOO_SRC", "/opt/odoo/18.0")

import psutil  # noqa: E402

import odoo  # noqa: E402
from odoo import Command, api, fields, sql_db  # noqa: E402
from odoo.modules.registry import Registry  # noqa: E402
from odoo.tools import config  # noqa: E402

ADMIN_UID = 2
# Odoo finds wkhtmltopdf on PATH: the one setup.sh puts in the virtualenv.
os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]


class PeriodicSampler:
    """Calls ``_sample()`` every ``interval`` seconds in a thread of its own
    while the ``with`` block runs, and once on entering and leaving it."""

    interval = 0.02

    def _sample(self):
        raise NotImplementedError

    def _run(self):
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self):
        self._stop = threading.Event()
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()


class Sampler(PeriodicSampler):
    """Peak RSS of this process while a phase runs (sampled every 20 ms)."""

    def __init__(self):
        self.process = psutil.Process()

    def _sample(self):
        self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self):
        self.start_rss = self.peak = self.process.memory_info().rss
        return super().__enter__()


def busy_core_seconds():
    """CPU time used so far by every process of the machine (this one, the
    wkhtmltopdf it starts, the Odoo server, PostgreSQL), from /proc/stat."""
    with open("/proc/stat") as stat:
        user, nice, system, __, ___, irq, softirq = map(
            int, stat.readline().split()[1:8]
        )
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


@contextmanager
def measure(result):
    queries = sql_db.sql_counter
    with Sampler() as sampler:
        cpu = busy_core_seconds()
        start = time.perf_counter()
        yield
        result["seconds"] = time.perf_counter() - start
        result["core_seconds"] = busy_core_seconds() - cpu
    result["queries"] = sql_db.sql_counter - queries
    result["peak_mb"] = (sampler.peak - sampler.start_rss) / 2**20


def vacuum_analyze(cr):
    """Vacuum and refresh the planner's statistics before a phase, as autovacuum
    does on a default PostgreSQL (off on some CI machines). Without statistics,
    Odoo's invoice numbering query is planned for an empty table and slows down
    as invoices pile up, whoever creates them; without vacuum, every bench run
    on the same database leaves the invoices it wrote as dead rows (7 dead rows
    per live invoice after a few runs), which later phases read through."""
    cr.commit()
    subprocess.run(["psql", "-d", cr.dbname, "-qc", "VACUUM ANALYZE"], check=True)


def env_for(cr):
    return api.Environment(cr, ADMIN_UID, {"tz": "UTC", "lang": "en_US"})


def last_month():
    today = date.today()
    first = today.replace(day=1)
    end = first.fromordinal(first.toordinal() - 1)
    return end.replace(day=1), end


def open_database(db, module="invoice_manager"):
    """Configure Odoo for the benchmark database ``db`` (created with ``module``
    when missing, its journal given a history) and return its registry."""
    config.parse_config(
        [
            f"--addons-path={REPO},{ODOO_SRC}/addons",
            "-d",
            db,
            "--max-cron-threads=0",
            "--log-level=warn",
            "--without-demo=all",
        ]
    )
    odoo.modules.module.current_test = False
    ensure_database(db, module)
    registry = Registry(db)
    ensure_history(registry)
    return registry


def ensure_database(db, module="invoice_manager"):
    exists = subprocess.run(
        ["psql", "-lqt"], capture_output=True, text=True, check=True
    ).stdout
    if any(line.split("|")[0].strip() == db for line in exists.splitlines()):
        return
    print(f"Creating database {db} with {module} (no demo data)...", flush=True)
    subprocess.run(["createdb", db], check=True)
    config["init"] = {module: 1}
    config["without_demo"] = "all"
    Registry.new(db, update_module=True)
    config["init"] = {}


def build_sales(registry, count, tag_name, email=True):
    """``count`` confirmed, approved sales dated last month, one new customer each."""
    date_from, __ = last_month()
    order_date = datetime.combine(date_from.replace(day=10), datetime.min.time())
    ids = []
    with registry.cursor() as cr:
        env = env_for(cr)
        tag = env["crm.tag"].create({"name": tag_name})
        tax = env.company.account_sale_tax_id
        service = env["product.product"].create(
            {
                "name": f"{tag_name} service",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
        goods = env["product.product"].create(
            {
                "name": f"{tag_name} goods",
                "type": "consu",
                "list_price": 25.5,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
        cr.commit()
        for start in range(0, count, 500):
            size = min(500, count - start)
            partners = env["res.partner"].create(
                [
                    {
                        "name": f"{tag_name} customer {start + i}",
                        "email": f"c{start + i}@{tag_name}.example" if email else False,
                    }
                    for i in range(size)
                ]
            )
            orders = env["sale.order"].create(
                [
                    {
                        "partner_id": partner.id,
                        "tag_ids": [Command.set(tag.ids)],
                        "order_line": [
                            Command.create(
                                {"product_id": service.id, "product_uom_qty": 2}
                            ),
                            Command.create(
                                {"product_id": goods.id, "product_uom_qty": 3}
                            ),
                        ],
                    }
                    for partner in partners
                ]
            )
            orders.action_confirm()
            env.flush_all()
            cr.execute(
                "UPDATE sale_order SET date_order = %s, approved_for_invoicing = true "
                "WHERE id IN %s",
                [order_date, tuple(orders.ids)],
            )
            ids += orders.ids
            cr.commit()
            env.invalidate_all()
    return ids, tag_name


def ensure_history(registry, count=500):
    """Give the sales journal ``count`` posted invoices of an earlier period, as
    a company's has, so that PostgreSQL plans Odoo's invoice numbering query for
    a journal in use, whichever side is measured first."""
    with registry.cursor() as cr:
        posted = env_for(cr)["account.move"].search_count(
            [("move_type", "=", "out_invoice"), ("state", "=", "posted")]
        )
    if posted >= count:
        return
    print(f"Invoicing {count - posted} sales as the journal's history...", flush=True)
    order_ids, __ = build_sales(registry, count - posted, f"history{int(time.time())}")
    odoo_invoice(registry, order_ids, invoice_date=last_month()[0].replace(day=15))


def odoo_invoice(registry, order_ids, result=None, send=False, **values):
    """Odoo's own batch, in one transaction: ``_create_invoices()``, the invoice
    ``values``, ``action_post()`` and, with ``send``, the synchronous batch send
    with the PDFs (emails queued). Measured into ``result`` when given."""
    with registry.cursor() as cr:
        env = env_for(cr)
        orders = (
            env["sale.order"]
            .browse(order_ids)
            .with_context(mail_notify_force_send=False)
        )
        if result is not None:
            vacuum_analyze(cr)
        with measure(result) if result is not None else nullcontext():
            invoices = orders._create_invoices()
            if values:
                invoices.write(values)
            invoices.action_post()
            if send:
                env["account.move.send"]._generate_and_send_invoices(
                    invoices, sending_methods={"email"}
                )
            cr.commit()
        if result is not None:
            result["invoices"] = len(invoices)
    return result


def new_run(env, tag_name, action):
    date_from, date_to = last_month()
    scenario = env["billing.scenario"].create(
        {
            "name": f"Bench {tag_name}",
            "billing_action": action,
            "require_approval": True,
            "invoice_date_mode": "period_end",
        }
    )
    tag = env["crm.tag"].search([("name", "=", tag_name)])
    run = env["billing.run"].create(
        {
            "scenario_id": scenario.id,
            "date_from": date_from,
            "date_to": date_to,
            "tag_ids": [Command.set(tag.ids)],
        }
    )
    return run


def run_scheduler(registry, cron_id):
    """What a cron worker does for our triggered job, tick after tick, until the
    job is done: Odoo's own ir.cron code (acquire the job, call it with the
    batched progress API, reschedule it). Only this job: Odoo's other crons
    (mail queue, invoice sending) are left to their own schedule."""
    IrCron = registry["ir.cron"]
    db = sql_db.db_connect(registry.db_name)
    ticks = 0
    while True:
        with db.cursor() as cron_cr:
            job = IrCron._acquire_one_job(cron_cr, cron_id)
            if not job:
                return ticks
            IrCron._process_job(db, cron_cr, job)
            ticks += 1


def bench_run(registry, tag_name, action):
    """Fetch, then Process (queued) and the scheduler until every line is done:
    from the click to the last line processed."""
    fetch, process = {}, {}
    with registry.cursor() as cr:
        env = env_for(cr)
        run = new_run(env, tag_name, action)
        cron_id = env.ref("invoice_manager.ir_cron_billing_run_process").id
        vacuum_analyze(cr)
        with measure(fetch):
            run.action_fetch()
            cr.commit()
        clicked = fields.Datetime.now()
        with measure(process):
            run.action_process()
            cr.commit()
            process["ticks"] = run_scheduler(registry, cron_id)
        env.invalidate_all()
        assert run.state == "done", f"run {run.name} is {run.state}"
        states = run.line_ids.mapped("state")
        process["invoices"] = len(run.line_ids.invoice_ids)
        process["errors"] = states.count("error")
        process["blocks"] = seconds_per_block(run, clicked)
        fetch["lines"] = len(states)
    return fetch, process


def seconds_per_block(run, clicked, size=1000):
    """Seconds each block of ``size`` lines took, from the click and the lines'
    process dates (in the order they were processed): flat when the cost does
    not grow."""
    dates = sorted(run.line_ids.mapped("process_date"))
    start = clicked
    blocks = []
    for end in range(size, len(dates) + 1, size):
        blocks.append((dates[end - 1] - start).total_seconds())
        start = dates[end - 1]
    return blocks


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def http_server(db, extra_args=(), env=None):
    """A real Odoo server on this database, for wkhtmltopdf to fetch the CSS
    (one threaded process; ``extra_args`` and ``env`` change that)."""
    port = free_port()
    command = [
        sys.executable,
        os.path.join(ODOO_SRC, "odoo-bin"),
        "-d",
        db,
        f"--addons-path={REPO},{ODOO_SRC}/addons",
        "--http-port",
        str(port),
        "--http-interface",
        "127.0.0.1",
        "--max-cron-threads=0",
        "--workers=0",
        "--log-level=warn",
        "--db-filter",
        f"^{db}$",
        # Later options win over the ones above.
        *extra_args,
    ]
    server = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, **(env or {})),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for __ in range(120):
            try:
                urllib.request.urlopen(f"{url}/web/login", timeout=5)  # noqa: S310
                break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)


def bench_email_example(registry, db, count=30):
    """The product document's example: 30 sales invoiced and emailed with PDFs."""
    results = {}
    warm_ids, __ = build_sales(registry, 2, f"pdfwarm{int(time.time())}")
    ___, warm_tag = build_sales(registry, 2, f"pdfwarmrun{int(time.time())}")
    base_ids, __ = build_sales(registry, count, f"pdfbase{int(time.time())}")
    ___, create_tag = build_sales(registry, count, f"pdfcreate{int(time.time())}")
    ___, email_tag = build_sales(registry, count, f"pdfemail{int(time.time())}")
    with http_server(db) as url:
        with registry.cursor() as cr:
            env = env_for(cr)
            for key in ("web.base.url", "report.url"):
                env["ir.config_parameter"].set_param(key, url)
            env["ir.config_parameter"].set_param(
                "invoice_manager.sync_delivery_limit", 100
            )
            cr.commit()
        # Warm-up, as on a server that has sent an invoice before: the report
        # and mail templates are compiled once per process and context, for
        # both sides (Odoo's send runs in the user's context, a run in the
        # scheduler's, each compiles them once).
        odoo_invoice(registry, warm_ids, send=True)
        bench_run(registry, warm_tag, "email")
        results["baseline"] = odoo_invoice(registry, base_ids, {}, send=True)
        __, results["create_only"] = bench_run(registry, create_tag, "create_only")
        __, results["email"] = bench_run(registry, email_tag, "email")
        with registry.cursor() as cr:
            env = env_for(cr)
            run = env["billing.run"].search(
                [("scenario_id.name", "=", f"Bench {email_tag}")]
            )
            mails = env["mail.mail"].search(
                [("model", "=", "account.move"), ("res_id", "in", run.invoice_ids.ids)]
            )
            results["email"]["mails_with_pdf"] = len(mails.filtered("attachment_ids"))
    return results


def row(label, n, result, baseline=None):
    invoices = result.get("invoices") or result.get("lines") or n
    ms = result["seconds"] * 1000 / invoices
    queries = result["queries"] / invoices
    ratio = ""
    if baseline:
        base_ms = baseline["seconds"] * 1000 / baseline["invoices"]
        ratio = f"{ms / base_ms:.2f}x"
    return (
        f"| {n:>6} | {label:<38} | {result['seconds']:>8.2f} | {ms:>9.1f} | "
        f"{queries:>8.1f} | {result['peak_mb']:>8.0f} | {ratio:>6} |"
    )


HEADER = (
    "|      N | phase                                  |  seconds | ms/invoice | "
    "queries/inv | peak MB | vs Odoo |\n"
    "|-------:|:---------------------------------------|---------:|-----------:|"
    "------------:|--------:|-------:|"
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_invoicing")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument(
        "--email-example",
        type=int,
        default=30,
        help="sales in the emailed-with-PDF example (0: skip it)",
    )
    parser.add_argument(
        "--both-orders",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure Create Only with the billing run first",
    )
    args = parser.parse_args()

    registry = open_database(args.db)
    print(f"Odoo {odoo.release.version} on {os.cpu_count()} cores, database {args.db}")
    print(
        HEADER.replace("queries/inv", "queries/inv").replace(
            " ms/invoice ", " ms/invoice "
        )
    )
    lines = []
    for n in [int(size) for size in args.sizes.split(",") if size]:
        stamp = int(time.time())
        base_ids, __ = build_sales(registry, n, f"base{n}x{stamp}")
        ___, run_tag = build_sales(registry, n, f"run{n}x{stamp}")
        ___, mail_tag = build_sales(registry, n, f"mail{n}x{stamp}")
        baseline = odoo_invoice(registry, base_ids, {})
        lines.append(row("Odoo _create_invoices + action_post", n, baseline))
        print(lines[-1], flush=True)
        fetch, process = bench_run(registry, run_tag, "create_only")
        lines.append(row("billing run: fetch", n, fetch))
        print(lines[-1], flush=True)
        lines.append(row("billing run: process, Create Only", n, process, baseline))
        print(lines[-1], flush=True)
        with registry.cursor() as cr:
            env_for(cr)["ir.config_parameter"].set_param(
                "invoice_manager.sync_delivery_limit", 0
            )
        ___, process_mail = bench_run(registry, mail_tag, "email")
        lines.append(
            row("billing run: process, Email queued", n, process_mail, baseline)
        )
        print(lines[-1], flush=True)
        if args.both_orders:
            # The same pair again on fresh sales, ours first: what one side
            # leaves warm (caches, statistics) the other may use.
            ___, run_tag2 = build_sales(registry, n, f"runb{n}x{stamp}")
            base_ids2, __ = build_sales(registry, n, f"baseb{n}x{stamp}")
            __, process2 = bench_run(registry, run_tag2, "create_only")
            baseline2 = odoo_invoice(registry, base_ids2, {})
            lines.append(
                row("ours first: billing run, Create Only", n, process2, baseline2)
            )
            print(lines[-1], flush=True)
            lines.append(row("ours first: Odoo create + post", n, baseline2))
            print(lines[-1], flush=True)
        for label, result in (("Create Only", process), ("Email", process_mail)):
            if result["blocks"]:
                blocks = ", ".join(f"{seconds:.1f}" for seconds in result["blocks"])
                print(f"  {label}: seconds per block of 1,000 lines: {blocks}")
        if process["errors"] or process_mail["errors"]:
            print(
                "  errors:",
                process["errors"],
                "create only,",
                process_mail["errors"],
                "email",
            )
    if args.email_example:
        n = args.email_example
        results = bench_email_example(registry, args.db, n)
        print(
            f"\n{n} sales invoiced and delivered (PDFs by wkhtmltopdf, emails queued):"
        )
        print(HEADER)
        print(
            row("Odoo create + post + send (email+PDF)", n, results["baseline"]),
            flush=True,
        )
        print(
            # No ratio: Odoo's side above also renders and sends.
            row("billing run: Create Only", n, results["create_only"])
        )
        print(
            row("billing run: Email with PDF", n, results["email"], results["baseline"])
        )
        print(
            "  emails queued with their PDF:",
            results["email"]["mails_with_pdf"],
            "of",
            n,
        )
        cores = os.cpu_count()
        for label, result in (
            ("Odoo's side", results["baseline"]),
            ("the run", results["email"]),
        ):
            print(
                f"  CPU time of all processes during {label}: "
                f"{result['core_seconds']:.2f} core-seconds, "
                f"{result['core_seconds'] / (cores * result['seconds']):.0%} of "
                f"the {cores} cores over its {result['seconds']:.2f} s"
            )


if __name__ == "__main__":
    main()
