"""Our addons beside the OCA modules users install with them
(requirements/oca.txt): OCA ``partner_invoicing_mode`` (its own
``res.partner.invoicing_mode``) and ``sale_line_refund_to_invoice_qty`` (its
own rule for credited quantities), installed with ours on fresh databases:
our tests and the bridge's (``tests/neighbours/invoice_manager_oca_neighbours``)
without demo data, then theirs, which read Odoo's demo data, with it."""

import re
import socket
import subprocess
import uuid

from conftest import REPO

NEIGHBOURS = ["partner_invoicing_mode", "sale_line_refund_to_invoice_qty"]
OURS = ["invoice_manager", "invoice_manager_stock", "job_billing"]
BRIDGE = "invoice_manager_oca_neighbours"
# The browser tours run in the main pass; here the money and rules.
TOURS = [
    "-/invoice_manager:TestInvoiceManagerTour",
    "-/invoice_manager:TestBillingRunReopenTour",
    "-/invoice_manager_stock:TestInvoicingModesTour",
    "-/job_billing:TestJobBillingTour",
]
# Tests of our own credited-quantity rule: with sale_line_refund_to_invoice_qty
# installed, its rule is the one (docs/operations.md, "Beside OCA's modules"), and
# invoice_manager_oca_neighbours tests the runs under it instead.
OUR_CREDIT_RULE = [
    "-/invoice_manager:TestBillingRunMoney.test_credit_note_invoiced_again_from_the_sale_is_not_deducted_again",
    "-/invoice_manager:TestBillingRunMoney.test_credit_note_is_billed_again_only_when_the_accountant_says_so",
    "-/invoice_manager:TestBillingRunMoney.test_credit_note_of_a_final_invoice_never_refunds_the_down_payment",
    "-/invoice_manager:TestBillingRunMoney.test_goodwill_credit_stays_settled_through_a_reverse_and_create",
    "-/invoice_manager:TestBillingRunMoney.test_goodwill_stays_settled_when_the_rest_is_invoiced_by_hand",
    "-/invoice_manager:TestBillingRunProcess.test_credit_note_does_not_make_a_sale_billable_again",
    "-/invoice_manager_stock:TestCreditedReturns",
    "-/invoice_manager_stock:TestFirstRunOnHistory",
]
SUMMARY = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")


def _odoo_tests(odoo_src, venv_python, tmp_path, modules, tags, demo):
    """Install ``modules`` on a new database (with or without demo data), run
    the tests ``tags`` select; return the log, asserting none failed."""
    db = f"billing_neighbours_{uuid.uuid4().hex[:8]}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [
        str(venv_python),
        str(odoo_src / "odoo-bin"),
        "-d",
        db,
        f"--addons-path={REPO / 'tests' / 'neighbours'},{REPO},{odoo_src / 'addons'}",
        f"--data-dir={tmp_path}",
        "-i",
        ",".join(modules),
        "--test-enable",
        "--test-tags",
        ",".join(tags),
        "--stop-after-init",
        *([] if demo else ["--without-demo=all"]),
        f"--http-port={port}",
        "--http-interface=127.0.0.1",
        "--log-level=test",
        "--max-cron-threads=0",
    ]
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=1800, check=False
        )
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=False)
    log = proc.stdout + proc.stderr
    (tmp_path / "odoo.log").write_text(log)
    failures = [
        line
        for line in log.splitlines()
        if re.search(r" ERROR \S+ odoo\.\S+: (FAIL|ERROR): ", line)
    ]
    summaries = SUMMARY.findall(log)
    assert summaries, f"no test summary (exit {proc.returncode}):\n{log[-3000:]}"
    failed, errors, __ = map(int, summaries[-1])
    first = log.find(" FAIL: ") if " FAIL: " in log else log.find(" ERROR: ")
    assert (failed, errors) == (0, 0), "\n".join(
        [*failures[:30], "--- first failure:", log[first : first + 3000]]
    )
    assert proc.returncode == 0, log[-3000:]
    return log


def test_ours_pass_beside_the_oca_neighbours(odoo_src, venv_python, tmp_path):
    """Our tests (they build their own data) with the neighbours installed."""
    modules = [*OURS, *NEIGHBOURS, BRIDGE]
    tags = [*(f"/{module}" for module in [*OURS, BRIDGE]), *TOURS, *OUR_CREDIT_RULE]
    log = _odoo_tests(odoo_src, venv_python, tmp_path, modules, tags, demo=False)
    for module in [BRIDGE, *OURS]:
        assert f"odoo.addons.{module}.tests" in log, f"no test of {module} ran"
    total = int(SUMMARY.findall(log)[-1][2])
    assert total > 100, f"only {total} tests ran"


def test_the_neighbours_own_tests_pass_beside_ours(odoo_src, venv_python, tmp_path):
    """Their tests, with our addons installed (theirs read Odoo's demo data)."""
    modules = [*OURS, *NEIGHBOURS]
    tags = [f"/{module}" for module in NEIGHBOURS]
    log = _odoo_tests(odoo_src, venv_python, tmp_path, modules, tags, demo=True)
    for module in NEIGHBOURS:
        assert f"odoo.addons.{module}.tests" in log, f"no test of {module} ran"
