"""Run Python code in a real Odoo environment, in a subprocess, with commits.

The addon tests run in transactions that are rolled back and never commit; a
billing run commits chunk by chunk and renders PDFs in worker transactions.
These helpers run that real path against a database and report back as JSON.
"""

import json
import os
import subprocess
import textwrap
import uuid

PRELUDE = """
import json, sys
import odoo
from odoo import api, Command, SUPERUSER_ID
from odoo.modules.registry import Registry
from odoo.tools import config
config.parse_config([
    "--addons-path={addons_path}", "-d", "{db}", "--data-dir={data_dir}",
    "--log-level=warn", "--max-cron-threads=0",
])
registry = Registry("{db}")
def env_of(cr):
    admin = api.Environment(cr, SUPERUSER_ID, {{}}).ref("base.user_admin").id
    return api.Environment(cr, admin, {{"tz": "UTC"}})
def report(**values):
    print("RESULT:" + json.dumps(values, default=str))
"""


def odoo_script(python, repo, odoo_src, db, data_dir, body, timeout=600, env=None):
    """Start ``body`` (Python) in an Odoo subprocess; return the Popen."""
    code = PRELUDE.format(
        addons_path=f"{repo},{odoo_src}/addons", db=db, data_dir=data_dir
    ) + textwrap.dedent(body)
    environ = dict(os.environ, **(env or {}))
    environ["PATH"] = os.path.dirname(str(python)) + os.pathsep + environ["PATH"]
    return subprocess.Popen(
        [str(python), "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def result_of(process, timeout=600):
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"Odoo script failed:\n{stderr[-6000:]}"
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT:")]
    assert lines, f"Odoo script reported nothing:\n{stdout[-3000:]}\n{stderr[-3000:]}"
    return json.loads(lines[-1][len("RESULT:") :])


# Confirmed sales of one tag, approved, dated 35 days ago, one customer each
# (the second without an email address), and a daily scenario selecting them.
SALES = """
tag = env["crm.tag"].create({{"name": "{tag}"}})
tax = env.company.account_sale_tax_id
tax.amount = 15.0
product = env["product.product"].create({{
    "name": "E2E maintenance {tag}", "type": "service", "list_price": 100.0,
    "invoice_policy": "order", "taxes_id": [Command.set(tax.ids)],
}})
partners = env["res.partner"].create([
    {{"name": f"E2E customer {{i}} {tag}",
      "email": False if i == 1 else f"c{{i}}@{tag}.example"}}
    for i in range({count})
])
orders = env["sale.order"].create([{{
    "partner_id": partner.id, "tag_ids": [Command.set(tag.ids)],
    "order_line": [Command.create({{"product_id": product.id, "product_uom_qty": 2}})],
}} for partner in partners])
orders.action_confirm()
env.flush_all()
cr.execute(
    "UPDATE sale_order SET date_order = now() - interval '35 days', "
    "approved_for_invoicing = true WHERE id IN %s", [tuple(orders.ids)])
scenario = env["billing.scenario"].create({{
    "name": "E2E {tag}", "billing_action": "{action}", "require_approval": True,
    "period_type": "day", "tag_ids": [Command.set(tag.ids)],
}})
# Odoo's scheduler processes the runs, also when invoice_manager_queue is
# installed (these servers run no queue_job job runner).
env["ir.config_parameter"].set_param("invoice_manager.processing_engine", "cron")
cr.commit()
"""


class OdooDatabase:
    """A database with the addons installed, and Odoo subprocesses on it."""

    def __init__(self, python, repo, odoo_src, db, data_dir):
        self.python, self.repo, self.odoo_src = python, repo, odoo_src
        self.db, self.data_dir = db, data_dir

    def start(self, body, env=None):
        """Start ``body`` in an Odoo subprocess; return the Popen."""
        return odoo_script(
            self.python, self.repo, self.odoo_src, self.db, self.data_dir, body, env=env
        )

    def run(self, body, timeout=600):
        """Run ``body`` and return what it reported."""
        return result_of(self.start(body), timeout=timeout)

    def make_sales(self, count, action, **params):
        """``count`` sales and their scenario; return their tag. ``params``:
        ir.config_parameter values of invoice_manager to set."""
        tag = f"e2e{uuid.uuid4().hex[:8]}"
        setup = SALES.format(tag=tag, count=count, action=action)
        for key, value in params.items():
            setup = setup.replace(
                "cr.commit()",
                f'env["ir.config_parameter"].set_param("invoice_manager.{key}", '
                f"{value!r})\ncr.commit()",
                1,
            )
        body = (
            "with registry.cursor() as cr:\n    env = env_of(cr)\n"
            + "".join(f"    {line}\n" for line in setup.strip().splitlines())
            # The parameters are cached by the running servers' workers: tell
            # them, as Odoo does after an RPC call (else a worker that cached an
            # earlier test's job size keeps it).
            + "registry.signal_changes()\n"
            + "report(ok=True)\n"
        )
        self.run(body)
        return tag


# Our four addons, as a database that uses them all has them.
ALL_ADDONS = [
    "invoice_manager",
    "invoice_manager_stock",
    "invoice_manager_queue",
    "job_billing",
]


def odoo_bin(python, repo, odoo_src, db, data_dir, *args, timeout=900):
    """Run ``odoo-bin`` on ``db`` with ``args`` (``-i``/``-u`` modules...),
    without demo data, to the end; fail with its log when it fails. ``args``
    come last: an option given there (``--log-level``...) wins."""
    proc = subprocess.run(
        [
            str(python),
            str(odoo_src / "odoo-bin"),
            "-d",
            db,
            f"--addons-path={repo},{odoo_src}/addons",
            f"--data-dir={data_dir}",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
            "--max-cron-threads=0",
            "--http-port=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


def installed_database(python, repo, odoo_src, data_dir, prefix):
    """A new database with ``ALL_ADDONS`` installed (drop it after use)."""
    db = f"{prefix}_{uuid.uuid4().hex[:8]}"
    odoo_bin(python, repo, odoo_src, db, data_dir, "-i", ",".join(ALL_ADDONS))
    return OdooDatabase(python, repo, odoo_src, db, str(data_dir))
