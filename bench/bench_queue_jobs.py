#!/usr/bin/env python3
"""Billing runs processed by queue jobs (``invoice_manager_queue``) on a real
Odoo server, with 1 and 2 job workers, against Odoo's own batch in the same run.

The product document's example: N sales (30) invoiced and emailed with their
PDF. Odoo's side, as in ``bench_invoicing.py``: ``_create_invoices()`` +
``action_post()`` + ``account.move.send`` in one process and one transaction.
The run's side: Fetch in this process, then Process (which enqueues the jobs)
and a real Odoo server in prefork mode (4 HTTP workers, queue_job's job runner
with ``root.billing`` at W workers) runs the jobs; measured from the click to
the run done, every line Processed. Jobs of ``--job-size`` lines. Each server
first processes a warm-up run of 16 sales in jobs of 2 lines, so that its
workers have compiled the templates, as on a server that has been running.

With ``--sizes`` (for instance ``1000,10000``), the month-end at scale instead:
for each N, 4 x N confirmed sales of one shape, and side by side Odoo's own
batch ``_create_invoices()`` + ``action_post()`` in one transaction (the
baseline), a run processed by Odoo's scheduler (``bench_invoicing.bench_run``)
and runs processed by queue jobs on a prefork server with 1 and 2 job workers,
all Create Only; with ``--email``, a run more per N emailed with its PDFs by
2 job workers. Figures: invoices per second, SQL queries per invoice (for the
jobs: the query counts Odoo logs for each ``/queue_job/runjob`` request), the
peak resident memory of each process (for the servers: their largest process),
and the speed-up of 2 job workers over 1.

Usage (from the repository root, after scripts/setup.sh):

    $VENV/bin/python bench/bench_queue_jobs.py --db bench_jobs --sales 30 --workers 1,2
    $VENV/bin/python bench/bench_queue_jobs.py --db bench_scale --sizes 1000 --email
    $VENV/bin/python bench/bench_queue_jobs.py --db bench_scale --sizes 50000 \
        --modes jobs --workers 2

``--modes`` keeps some of the phases only: at 50,000 sales the four phases
and the building of their sales would take about five hours on a 2-core machine
(extrapolated from the 10,000 figures).
"""

import argparse
import os
import re
import sys
import tempfile
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_invoicing as common  # noqa: E402

from odoo import fields  # noqa: E402


def job_server(db, workers, logfile=None):
    """An Odoo server in prefork mode running queue_job's job runner, the
    channel ``root.billing`` with ``workers`` workers; with ``logfile``, its
    HTTP requests are logged there with their query counts."""
    # Two HTTP workers more than job workers: wkhtmltopdf fetches the report's
    # assets from the server while the jobs hold theirs.
    extra = [f"--workers={max(4, workers + 2)}", "--load=base,web,queue_job"]
    if logfile:
        extra += [f"--logfile={logfile}", "--log-handler=werkzeug:INFO"]
    return common.http_server(
        db,
        extra_args=extra,
        env={"ODOO_QUEUE_JOB_CHANNELS": f"root:{workers},root.billing:{workers}"},
    )


class TreeSampler(common.PeriodicSampler):
    """Peak resident memory of each process of the server listening on
    ``port`` (master, HTTP workers, job runner), sampled every 0.2 s."""

    interval = 0.2

    def __init__(self, port):
        self.port = port
        self.peaks = {}

    def _processes(self):
        # Prefork workers share the master's listening socket: the master is
        # the one whose parent does not listen.
        pids = {
            conn.pid
            for conn in psutil.net_connections("tcp")
            if conn.laddr and conn.laddr.port == self.port and conn.pid
        }
        for pid in pids:
            try:
                master = psutil.Process(pid)
                if master.ppid() not in pids:
                    return [master, *master.children(recursive=True)]
            except psutil.Error:
                continue
        return []

    def _sample(self):
        for process in self._processes():
            try:
                rss = process.memory_info().rss
            except psutil.Error:
                continue
            self.peaks[process.pid] = max(self.peaks.get(process.pid, 0), rss)

    def peak_mb(self):
        return max(self.peaks.values(), default=0) / 2**20

    def describe(self, jobs_by_pid):
        """Each process's peak, largest first, with the jobs it ran."""
        parts = []
        for pid, peak in sorted(self.peaks.items(), key=lambda item: -item[1]):
            jobs = jobs_by_pid.get(pid)
            what = f"{jobs} jobs" if jobs else "no job"
            parts.append(f"{peak / 2**20:.0f} MB ({what})")
        return ", ".join(parts)


RUNJOB_LINE = re.compile(r"runjob\?db=\S+&job_uuid=([0-9a-f-]+) \S+\" 200 - (\d+) ")


def job_queries(logfile, uuids):
    """SQL queries of the jobs ``uuids``: Odoo logs each runjob request's count."""
    total = 0
    with open(logfile) as log:
        for line in log:
            match = RUNJOB_LINE.search(line)
            if match and match.group(1) in uuids:
                total += int(match.group(2))
    return total


def set_params(registry, url, job_size):
    with registry.cursor() as cr:
        env = common.env_for(cr)
        params = env["ir.config_parameter"]
        for key in ("web.base.url", "report.url"):
            params.set_param(key, url)
        params.set_param("invoice_manager.processing_engine", "queue_job")
        params.set_param("invoice_manager.job_size", job_size)
        cr.commit()


def bench_jobs(registry, tag_name, timeout=900, action="email"):
    """Fetch, Process (the jobs are enqueued), then wait for the server's job
    workers to finish the run: from the click to the last line processed."""
    result = {}
    with registry.cursor() as cr:
        # Fresh planner statistics, as bench_run() has: without autovacuum,
        # Odoo's invoice numbering query slows down as invoices pile up.
        common.vacuum_analyze(cr)
        env = common.env_for(cr)
        run = common.new_run(env, tag_name, action)
        run.action_fetch()
        cr.commit()
        start = time.perf_counter()
        clicked = fields.Datetime.now()
        run.action_process()
        cr.commit()
        run_id = run.id
    while True:
        with registry.cursor() as cr:
            run = common.env_for(cr)["billing.run"].browse(run_id)
            if run.state == "done":
                result["seconds"] = time.perf_counter() - start
                result["invoices"] = len(run.line_ids.invoice_ids)
                result["errors"] = run.error_count
                result["jobs"] = run.job_count
                graph_jobs = run._get_graph_jobs()
                result["uuids"] = set(graph_jobs.mapped("uuid"))
                result["jobs_by_pid"] = {
                    pid: len(jobs)
                    for pid, jobs in graph_jobs.grouped("worker_pid").items()
                }
                result["blocks"] = common.seconds_per_block(run, clicked)
                mails = run.env["mail.mail"].search(
                    [
                        ("model", "=", "account.move"),
                        ("res_id", "in", run.invoice_ids.ids),
                    ]
                )
                result["mails_with_pdf"] = len(mails.filtered("attachment_ids"))
                return result
        if time.perf_counter() - start > timeout:
            raise RuntimeError(f"run {run_id} not done after {timeout} s")
        time.sleep(0.1)


def set_engine(registry, engine):
    with registry.cursor() as cr:
        common.env_for(cr)["ir.config_parameter"].set_param(
            "invoice_manager.processing_engine", engine
        )


def scale_row(n, label, seconds, invoices, queries, peak_mb, baseline=None):
    per_second = invoices / seconds if seconds else 0
    ratio = ""
    if baseline:
        ratio = f"{(seconds / invoices) / (baseline[0] / baseline[1]):.2f}x"
    return (
        f"| {n:>6,} | {label:<44} | {seconds:>8.1f} | {per_second:>6.1f} | "
        f"{seconds * 1000 / invoices:>7.1f} | {queries / invoices:>6.1f} | "
        f"{peak_mb:>7.0f} | {ratio:>7} |"
    )


SCALE_HEADER = (
    "|      N | processed by                                 |  seconds |  inv/s "
    "| ms/inv | q/inv | peak MB | vs Odoo |\n"
    "|-------:|:---------------------------------------------|---------:|-------:"
    "|-------:|------:|--------:|--------:|"
)


def main_scale(args):
    """The month-end at scale: see the module's docstring."""
    registry = common.open_database(args.db, module="invoice_manager_queue")
    workers = [int(w) for w in args.workers.split(",") if w]
    modes = set(args.modes.split(","))
    print(f"{os.cpu_count()} cores, database {args.db}, jobs of {args.job_size} lines")
    print(SCALE_HEADER, flush=True)
    rows, speedups, blocks, processes = [], [], [], []
    for n in [int(size) for size in args.sizes.split(",") if size]:
        stamp = int(time.time())
        base_ids = cron_tag = None
        if "odoo" in modes:
            base_ids, __ = common.build_sales(registry, n, f"scbase{n}x{stamp}")
        if "scheduler" in modes:
            ___, cron_tag = common.build_sales(registry, n, f"sccron{n}x{stamp}")
        job_tags = {
            w: common.build_sales(registry, n, f"scjobs{w}w{n}x{stamp}")[1]
            for w in (workers if "jobs" in modes else [])
        }
        email_tag = None
        if args.email:
            email_tag = common.build_sales(registry, n, f"scmail{n}x{stamp}")[1]
        warm = {
            w: common.build_sales(registry, 16, f"scwarm{w}w{n}x{stamp}")[1]
            for w in [*job_tags, *(["mail"] if email_tag else [])]
        }

        base = None
        if base_ids:
            baseline = common.odoo_invoice(registry, base_ids, {})
            base = (baseline["seconds"], baseline["invoices"])
            rows.append(
                scale_row(
                    n,
                    "Odoo _create_invoices + action_post",
                    baseline["seconds"],
                    baseline["invoices"],
                    baseline["queries"],
                    baseline["peak_mb"],
                )
            )
            print(rows[-1], flush=True)

        if cron_tag:
            set_engine(registry, "cron")
            __, process = common.bench_run(registry, cron_tag, "create_only")
            rows.append(
                scale_row(
                    n,
                    "billing run, Odoo's scheduler (1 cron worker)",
                    process["seconds"],
                    process["invoices"],
                    process["queries"],
                    process["peak_mb"],
                    base,
                )
            )
            print(rows[-1], flush=True)
            blocks.append((n, "scheduler", process["blocks"]))

        seconds_by_workers = {}
        runs = [(w, job_tags[w], "create_only") for w in job_tags]
        if email_tag:
            runs.append((max(workers), email_tag, "email"))
        for w, tag, action in runs:
            logfile = tempfile.mktemp(prefix="bench_jobs_", suffix=".log")
            with job_server(args.db, w, logfile) as url:
                set_params(registry, url, 2)
                bench_jobs(registry, warm[w if action == "create_only" else "mail"])
                set_params(registry, url, args.job_size)
                port = int(url.rsplit(":", 1)[1])
                with TreeSampler(port) as sampler:
                    result = bench_jobs(
                        registry, tag, timeout=args.timeout, action=action
                    )
            queries = job_queries(logfile, result["uuids"])
            label = f"queue jobs, {w} worker(s)" + (
                ", Email with PDF" if action == "email" else ""
            )
            rows.append(
                scale_row(
                    n,
                    label,
                    result["seconds"],
                    result["invoices"],
                    queries,
                    sampler.peak_mb(),
                    base,
                )
            )
            print(rows[-1], flush=True)
            processes.append(
                (n, label, sampler.describe(result.get("jobs_by_pid", {})))
            )
            blocks.append((n, label, result["blocks"]))
            if action == "create_only":
                seconds_by_workers[w] = result["seconds"]
            else:
                create_only = seconds_by_workers.get(w)
                if create_only:
                    speedups.append(
                        f"N={n:,}: Email with PDF / Create Only, {w} workers: "
                        f"{result['seconds'] / create_only:.2f}x"
                    )
            if result["errors"]:
                print(f"  {result['errors']} lines in error", flush=True)
        if len(seconds_by_workers) > 1:
            one, most = (
                seconds_by_workers[min(workers)],
                seconds_by_workers[max(workers)],
            )
            speedups.append(
                f"N={n:,}: {max(workers)} job workers over {min(workers)}: "
                f"{one / most:.2f}x"
            )
    set_engine(registry, "queue_job")
    print(f"\n{SCALE_HEADER}")
    print("\n".join(rows))
    print()
    print("\n".join(speedups))
    for n, label, peaks in processes:
        print(f"N={n:,}, {label}: peak memory of each server process: {peaks}")
    for n, label, seconds in blocks:
        if seconds:
            print(
                f"N={n:,}, {label}: seconds per 1,000 lines: "
                + ", ".join(f"{value:.1f}" for value in seconds)
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_jobs")
    parser.add_argument("--sales", type=int, default=30)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument(
        "--job-size", type=int, help="lines per job (8; 50 with --sizes)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--sizes", help="the month-end at scale: sizes N")
    parser.add_argument("--email", action="store_true")
    parser.add_argument(
        "--modes",
        default="odoo,scheduler,jobs",
        help="with --sizes, what processes the sales: odoo (the baseline), "
        "scheduler, jobs (with each of --workers)",
    )
    parser.add_argument("--timeout", type=int, default=7200)
    args = parser.parse_args()
    if args.sizes:
        args.job_size = args.job_size or 50
        main_scale(args)
        return
    args.job_size = args.job_size or 8

    registry = common.open_database(args.db, module="invoice_manager_queue")
    workers = [int(w) for w in args.workers.split(",") if w]
    n = args.sales
    stamp = int(time.time())
    warm_ids, __ = common.build_sales(registry, 2, f"jobwarm{stamp}")
    rows = []
    for round_ in range(args.rounds):
        base_ids, __ = common.build_sales(registry, n, f"jobbase{round_}x{stamp}")
        tags = {
            w: common.build_sales(registry, n, f"jobs{w}r{round_}x{stamp}")[1]
            for w in workers
        }
        warm_tags = {
            w: common.build_sales(registry, 16, f"jobwarm{w}r{round_}x{stamp}")[1]
            for w in workers
        }
        for w in workers:
            with job_server(args.db, w) as url:
                # Warm-up, as a running server is: each of its HTTP workers
                # compiles the report and mail templates on its first job.
                set_params(registry, url, 2)
                bench_jobs(registry, warm_tags[w])
                set_params(registry, url, args.job_size)
                if w == workers[0]:
                    if round_ == 0:
                        common.odoo_invoice(registry, warm_ids, send=True)
                    baseline = common.odoo_invoice(registry, base_ids, {}, send=True)
                    rows.append(("Odoo create + post + send", "", baseline, None))
                    print(rows[-1][0], f"{baseline['seconds']:.2f} s", flush=True)
                result = bench_jobs(registry, tags[w])
                rows.append((f"run by queue jobs, {w} worker(s)", w, result, baseline))
                print(
                    rows[-1][0],
                    f"{result['seconds']:.2f} s",
                    f"{result['seconds'] / baseline['seconds']:.2f}x",
                    f"({result['jobs']} jobs, {result['errors']} errors, "
                    f"{result['mails_with_pdf']} of {n} emails with their PDF)",
                    flush=True,
                )
    print(f"\n{n} sales invoiced and emailed with their PDF, jobs of {args.job_size}:")
    print("| phase | seconds | ms/invoice | vs Odoo |")
    print("|:--|--:|--:|--:|")
    for label, __, result, baseline in rows:
        ratio = f"{result['seconds'] / baseline['seconds']:.2f}x" if baseline else ""
        print(
            f"| {label} | {result['seconds']:.2f} | "
            f"{result['seconds'] * 1000 / n:.1f} | {ratio} |"
        )


if __name__ == "__main__":
    main()
