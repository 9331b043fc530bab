"""Run Python code in a real Odoo environment, in a subprocess, with commits.

The addon tests run in transactions that are rolled back and never commit; a
billing run commits chunk by chunk and renders PDFs in worker transactions.
These helpers run that real path against a database and report back as JSON.
"""

import json
import os
import subprocess
import textwrap

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
