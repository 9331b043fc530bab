"""Repository-level tests: paths to this repository, Odoo's source and the venv.

They run with the venv's Python (scripts/test.sh does
``$VENV/bin/python -m pytest tests``), and fail - never skip - when Odoo or the
venv is missing.
"""

import ast
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from odoo_script import OdooDatabase

REPO = Path(os.environ.get("BILLING_REPO") or Path(__file__).resolve().parent.parent)
ODOO_SRC = Path(os.environ.get("ODOO_SRC", "/opt/odoo/18.0"))
VENV = Path(os.environ.get("VENV", "/opt/odoo/venv"))
SETUP_HINT = "run scripts/setup.sh or set ODOO_SRC / VENV"


def addon_names():
    return sorted(
        p.parent.name
        for p in REPO.glob("*/__manifest__.py")
        if not p.parent.name.startswith(".")
    )


def read_manifest(addon):
    return ast.literal_eval((REPO / addon / "__manifest__.py").read_text())


@pytest.fixture(scope="session")
def repo():
    return REPO


@pytest.fixture(scope="session")
def addons():
    names = addon_names()
    assert names, f"no addon (folder with __manifest__.py) found in {REPO}"
    return names


@pytest.fixture(scope="session")
def odoo_src():
    if not (ODOO_SRC / "odoo-bin").is_file():
        pytest.fail(
            f"Odoo 18.0 not found: {ODOO_SRC}/odoo-bin is missing; {SETUP_HINT}"
        )
    return ODOO_SRC


@pytest.fixture(scope="session")
def venv_python():
    python = VENV / "bin" / "python"
    if not python.is_file():
        # fall back to the interpreter running pytest when it is the venv's own
        if Path(sys.prefix).resolve() == VENV.resolve():
            return Path(sys.executable)
        pytest.fail(f"virtualenv not found: {python} is missing; {SETUP_HINT}")
    return python


@pytest.fixture(scope="session")
def run(venv_python):
    """Run a command, fail the test with its output when it exits non-zero."""

    def _run(args, **kwargs):
        kwargs.setdefault("cwd", REPO)
        proc = subprocess.run(
            [str(a) for a in args],
            capture_output=True,
            text=True,
            timeout=kwargs.pop("timeout", 600),
            **kwargs,
        )
        assert proc.returncode == 0, (
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"
        )
        return proc

    return _run


@pytest.fixture(scope="session")
def database(venv_python, odoo_src):
    """The database scripts/test.sh installed for the Odoo tests
    (BILLING_TEST_DB), or a new one with invoice_manager and its queue_job
    bridge installed."""
    db = os.environ.get("BILLING_TEST_DB")
    data_dir = os.environ.get("BILLING_TEST_DATA_DIR") or tempfile.mkdtemp()
    created = False
    if not db:
        db = f"billing_e2e_{os.getpid()}"
        subprocess.run(["createdb", db], check=True)
        created = True
        install = subprocess.run(
            [
                str(venv_python),
                str(odoo_src / "odoo-bin"),
                "-d",
                db,
                f"--addons-path={REPO},{odoo_src}/addons",
                f"--data-dir={data_dir}",
                "-i",
                "invoice_manager,invoice_manager_queue",
                "--without-demo=all",
                "--stop-after-init",
                "--log-level=warn",
                "--max-cron-threads=0",
                "--http-port=0",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if install.returncode:
            pytest.fail(f"installing invoice_manager failed:\n{install.stderr[-4000:]}")
    yield OdooDatabase(venv_python, REPO, odoo_src, db, data_dir)
    if created:
        subprocess.run(["dropdb", "--if-exists", "--force", db], check=False)


# Test-only Odoo addons: their tests run in Odoo (scripts/test.sh installs them).
collect_ignore_glob = ["addons/*", "neighbours/*", "probes/*"]
