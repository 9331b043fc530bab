"""A billing run as it really runs: committed chunk by chunk, PDFs rendered by
wkhtmltopdf in worker transactions, two runs racing over the same sales.

Uses the database that scripts/test.sh installed for the Odoo tests
(BILLING_TEST_DB), or creates one.
"""

import os
import subprocess
import tempfile
import uuid

import pytest

from odoo_script import odoo_script, result_of

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
env["ir.config_parameter"].set_param("invoice_manager.delivery_workers", 2)
cr.commit()
"""

RUN = """
from datetime import date, timedelta
with registry.cursor() as cr:
    env = env_of(cr)
    scenario = env["billing.scenario"].search([("name", "=", "E2E {tag}")])
    run = env["billing.run"].create({{"scenario_id": scenario.id}})
    run.action_next()
    today = date.today()
    run.write({{"date_from": today - timedelta(days=60), "date_to": today}})
    run.action_fetch()
    cr.commit()
    {before_process}
    run.action_process()
    cr.commit()
    env.invalidate_all()
    lines = run.line_ids
    mails = env["mail.mail"].search(
        [("model", "=", "account.move"), ("res_id", "in", lines.invoice_ids.ids)])
    orders = lines.sale_order_ids
    report(
        run=run.id,
        states=sorted(lines.mapped("state")),
        errors=sorted(set(lines.filtered("error_message").mapped("error_message"))),
        channels=sorted(set(lines.mapped("delivery_channel")) - {{False}}),
        invoices=len(lines.invoice_ids),
        invoice_totals=sorted(set(lines.invoice_ids.mapped("amount_total"))),
        posted=set(lines.invoice_ids.mapped("state")) == {{"posted"}},
        with_pdf=len(lines.invoice_ids.filtered("invoice_pdf_report_id")),
        mails_with_pdf=len(mails.filtered("attachment_ids")),
        print_pdf=(run.print_attachment_id.raw or b"")[:4].decode(),
        invoices_per_order=sorted(
            len(order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"))
            for order in env["sale.order"].search([("tag_ids.name", "=", "{tag}")])
        ),
    )
"""


COUNT = """
with registry.cursor() as cr:
    env = env_of(cr)
    orders = env["sale.order"].search([("tag_ids.name", "=", "{tag}")])
    report(invoices_per_order=sorted(
        len(order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice"))
        for order in orders
    ))
"""


@pytest.fixture(scope="module")
def database(venv_python, odoo_src, repo):
    db = os.environ.get("BILLING_TEST_DB")
    data_dir = os.environ.get("BILLING_TEST_DATA_DIR") or tempfile.mkdtemp()
    created = False
    if not db:
        db = f"billing_e2e_{os.getpid()}"
        subprocess.run(["createdb", db], check=True)
        created = True
        subprocess.run(
            [
                str(venv_python),
                str(odoo_src / "odoo-bin"),
                "-d",
                db,
                f"--addons-path={repo},{odoo_src}/addons",
                f"--data-dir={data_dir}",
                "-i",
                "invoice_manager",
                "--without-demo=all",
                "--stop-after-init",
                "--log-level=warn",
                "--max-cron-threads=0",
                "--http-port=0",
            ],
            check=True,
            capture_output=True,
            timeout=900,
        )
    yield db, data_dir
    if created:
        subprocess.run(["dropdb", "--if-exists", db], check=False)


def _script(venv_python, repo, odoo_src, database, body):
    db, data_dir = database
    return odoo_script(venv_python, repo, odoo_src, db, data_dir, body)


def _make_sales(venv_python, repo, odoo_src, database, count, action):
    tag = f"e2e{uuid.uuid4().hex[:8]}"
    body = (
        "with registry.cursor() as cr:\n    env = env_of(cr)\n"
        + "".join(
            f"    {line}\n"
            for line in SALES.format(tag=tag, count=count, action=action)
            .strip()
            .splitlines()
        )
        + "report(ok=True)\n"
    )
    result_of(_script(venv_python, repo, odoo_src, database, body))
    return tag


def _run_body(tag, before_process=""):
    return RUN.format(tag=tag, before_process=before_process)


def test_email_and_print_run_commits_and_renders_on_workers(
    venv_python, repo, odoo_src, database
):
    """12 sales (one customer without email): PDFs rendered by wkhtmltopdf in
    worker transactions, emails queued with them, one merged PDF to print."""
    tag = _make_sales(venv_python, repo, odoo_src, database, 12, "email")
    # Half the lines printed, half emailed.
    before = (
        "for line in run.line_ids[::2]:\n"
        "        line.billing_action = 'print'\n"
        "    cr.commit()"
    )
    result = result_of(
        _script(venv_python, repo, odoo_src, database, _run_body(tag, before))
    )
    # The second customer has no email address: its Email line fails, alone.
    assert len(result["errors"]) == 1
    assert "has no email address" in result["errors"][0]
    assert result["states"] == ["error"] + ["processed"] * 11
    assert result["channels"] == ["email", "print"]
    assert result["posted"]
    # 2 x 100.00 + 15 % tax = 230.00 for every invoice.
    assert result["invoice_totals"] == [230.0]
    assert result["invoices"] == 11
    assert result["with_pdf"] == 11
    assert result["mails_with_pdf"] == 5
    assert result["print_pdf"] == "%PDF"
    assert result["invoices_per_order"] == [0] + [1] * 11


def test_processing_again_in_new_transactions_invoices_nothing_twice(
    venv_python, repo, odoo_src, database
):
    tag = _make_sales(venv_python, repo, odoo_src, database, 6, "create_only")
    first = result_of(_script(venv_python, repo, odoo_src, database, _run_body(tag)))
    second = result_of(_script(venv_python, repo, odoo_src, database, _run_body(tag)))
    assert first["states"] == ["processed"] * 6
    assert second["states"] == [], "nothing left to fetch"
    assert second["invoices_per_order"] == [1] * 6


def test_two_runs_racing_over_the_same_sales_invoice_each_sale_once(
    venv_python, repo, odoo_src, database
):
    """Two Odoo processes fetch the same 20 sales, then process at the same time."""
    tag = _make_sales(venv_python, repo, odoo_src, database, 20, "create_only")
    # Both fetch first, then wait on a barrier file so that they process together.
    barrier = tempfile.mktemp()
    wait = (
        "import os, time\n"
        f"    open({barrier!r} + str(os.getpid()), 'w').close()\n"
        "    deadline = time.time() + 60\n"
        "    while len([f for f in os.listdir(os.path.dirname("
        f"{barrier!r})) if f.startswith(os.path.basename({barrier!r}))]) < 2"
        " and time.time() < deadline:\n"
        "        time.sleep(0.05)"
    )
    racers = [
        _script(venv_python, repo, odoo_src, database, _run_body(tag, wait))
        for __ in range(2)
    ]
    results = [result_of(racer) for racer in racers]
    # Counted once both have committed (a racer's own report may predate the
    # other's last chunk).
    count = COUNT.format(tag=tag)
    final = result_of(_script(venv_python, repo, odoo_src, database, count))
    invoices_per_order = final["invoices_per_order"]
    assert max(invoices_per_order) == 1, "no sale invoiced twice"
    processed = sum(result["states"].count("processed") for result in results)
    assert processed == sum(invoices_per_order)
    # A line fails only when the other run holds (and so invoices) its sale.
    assert processed == 20
    failed = [error for result in results for error in result["errors"]]
    assert all(
        "being changed by another user" in error or "Nothing left to invoice" in error
        for error in failed
    )
