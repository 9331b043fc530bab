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

Usage (from the repository root, after scripts/setup.sh):

    $VENV/bin/python bench/bench_queue_jobs.py --db bench_jobs --sales 30 --workers 1,2
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_invoicing as common  # noqa: E402


def job_server(db, workers):
    """An Odoo server in prefork mode running queue_job's job runner, the
    channel ``root.billing`` with ``workers`` workers."""
    return common.http_server(
        db,
        extra_args=("--workers=4", "--load=base,web,queue_job"),
        env={"ODOO_QUEUE_JOB_CHANNELS": f"root:{workers},root.billing:{workers}"},
    )


def set_params(registry, url, job_size):
    with registry.cursor() as cr:
        env = common.env_for(cr)
        params = env["ir.config_parameter"]
        for key in ("web.base.url", "report.url"):
            params.set_param(key, url)
        params.set_param("invoice_manager.processing_engine", "queue_job")
        params.set_param("invoice_manager.job_size", job_size)
        cr.commit()


def bench_jobs(registry, tag_name, timeout=900):
    """Fetch, Process (the jobs are enqueued), then wait for the server's job
    workers to finish the run: from the click to the last line processed."""
    result = {}
    with registry.cursor() as cr:
        env = common.env_for(cr)
        run = common.new_run(env, tag_name, "email")
        run.action_fetch()
        cr.commit()
        start = time.perf_counter()
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="bench_jobs")
    parser.add_argument("--sales", type=int, default=30)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--job-size", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

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
