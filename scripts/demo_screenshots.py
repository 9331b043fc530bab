#!/usr/bin/env python3
"""Take the docs' screenshots from the demo server (``scripts/setup.sh``).

    $VENV/bin/python scripts/demo_screenshots.py [--url http://localhost:8069]

Over JSON-RPC as admin, it makes on the demo what the pictures show: a run of
the monthly demo scenario fetched, then processed (by queue jobs when the demo
server runs queue_job's runner) and waited for; a run of the modes scenario
processed for the head office's consolidated invoice; a run fetched and left
for the confirmation of Process. Then ``scripts/screenshots.py`` shoots them
at 1440 px, and the run and its lines at a phone's 390 px.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


class Rpc:
    def __init__(self, url, db, password):
        self.url, self.db, self.password = url, db, password
        self.uid = self._call("common", "login", db, "admin", password)

    def _call(self, service, method, *args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": args},
        }
        request = urllib.request.Request(
            f"{self.url}/jsonrpc",
            json.dumps(payload).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            answer = json.load(response)
        if "error" in answer:
            raise RuntimeError(answer["error"]["data"]["message"])
        return answer["result"]

    def __call__(self, model, method, *args, **kwargs):
        return self._call(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        found = self(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            fields=["res_id"],
        )
        return found[0]["res_id"]


def new_run(rpc, scenario_xmlid, fetch=True):
    """A run as *Next* makes it, fetched."""
    wizard = rpc(
        "billing.run.wizard", "create", {"scenario_id": rpc.ref(scenario_xmlid)}
    )
    run = rpc("billing.run.wizard", "action_next", [wizard])["res_id"]
    if fetch:
        rpc("billing.run", "action_fetch", [run])
    return run


def processed(rpc, run, timeout=600):
    rpc("billing.run", "action_process", [run])
    deadline = time.time() + timeout
    while time.time() < deadline:
        if rpc("billing.run", "read", [run], ["state"])[0]["state"] == "done":
            return run
        time.sleep(3)
    raise TimeoutError(f"run {run} not processed in {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="billing_demo")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args()
    rpc = Rpc(args.url, args.db, args.password)

    common = [
        sys.executable,
        os.path.join(HERE, "screenshots.py"),
        "--url",
        args.url,
        "--db",
        args.db,
        "--password",
        args.password,
        "--out",
        args.out,
    ]
    phone = [*common, "--width", "390", "--height", "844"]
    common += ["--height", "1500"]  # a form down to its first lines

    fetched = new_run(rpc, "invoice_manager.billing_scenario_demo_monthly")
    subprocess.run(
        [*common, f"invoice_manager_fetched=/odoo/billing.run/{fetched}"], check=True
    )
    run = processed(rpc, fetched)
    modes = processed(rpc, new_run(rpc, "invoice_manager.billing_scenario_demo_modes"))
    head_office = rpc.ref("invoice_manager.demo_head_office")
    consolidated = rpc(
        "account.move",
        "search",
        [("partner_id", "=", head_office), ("billing_run_id", "=", modes)],
        limit=1,
    )
    to_confirm = new_run(rpc, "invoice_manager.billing_scenario_demo_per_customer")
    job = rpc.ref("job_billing.demo_job_heat_pump")
    errors = "@div[name=counters] button.text-danger"
    subprocess.run(
        [
            *common,
            f"invoice_manager_processed=/odoo/billing.run/{run}",
            f"billing_run_jobs=/odoo/billing.run/{run}",
            f"billing_run_errors=/odoo/billing.run/{run}{errors}",
            "consolidated_invoice="
            f"/report/html/account.report_invoice/{consolidated[0]}",
            f"process_confirmation=/odoo/billing.run/{to_confirm}"
            "@button[name=action_open_process_wizard]",
            "left_to_bill=/odoo/action-invoice_manager.billing_to_invoice_report_action",
            f"job_billing_job=/odoo/action-job_billing.action_billing_job/{job}",
        ],
        check=True,
    )
    subprocess.run(
        [
            *phone,
            "billing_runs_phone=/odoo/action-invoice_manager.billing_run_action",
            f"billing_run_phone=/odoo/billing.run/{run}{errors}",
            "job_billing_phone=/odoo/action-job_billing.action_billing_job",
        ],
        check=True,
    )


if __name__ == "__main__":
    main()
