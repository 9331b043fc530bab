"""Removing our addons leaves Odoo's own invoicing working: on a database
where they were installed and used (a billing run invoiced, a job billed),
uninstalling all four leaves no column, view, menu, scheduled or server
action of theirs, and Odoo's own *Create Invoice* then posts an invoice;
the sale form and the invoices list load, through the ORM and in Chromium
(``tests/probes/invoice_manager_uninstall_probe``, installed once ours are
gone, opens them with Odoo's own browser test tools)."""

import subprocess

import pytest

from odoo_script import ALL_ADDONS as OURS
from odoo_script import installed_database, odoo_bin
from odoo_server import free_port

PROBE = "invoice_manager_uninstall_probe"

USE_THEM = """
with registry.cursor() as cr:
    env = env_of(cr)
    product = env["product.product"].create({
        "name": "Uninstall service", "type": "service", "list_price": 100.0,
        "invoice_policy": "order",
    })
    customer = env["res.partner"].create({"name": "Uninstall customer",
                                          "email": "u@example.com"})
    order = env["sale.order"].create({
        "partner_id": customer.id,
        "order_line": [Command.create({"product_id": product.id})],
    })
    order.action_confirm()
    order.action_approve_for_invoicing()
    scenario = env["billing.scenario"].create({
        "name": "Uninstall", "billing_action": "create_only",
        "require_approval": True, "period_type": "day",
    })
    today = order.date_order.date()
    run = env["billing.run"].create({"scenario_id": scenario.id})
    run.write({"date_from": today, "date_to": today})
    run.action_fetch()
    run.action_process(force_synchronous=True)
    job = env["billing.job"].create({"partner_id": customer.id, "name": "Job U"})
    cr.commit()
    report(invoices=len(run.invoice_ids), job=job.id)
"""

UNINSTALL = """
with registry.cursor() as cr:
    env = env_of(cr)
    modules = env["ir.module.module"].search([("name", "in", {ours!r})])
    modules.button_immediate_uninstall()
    cr.commit()
with registry.cursor() as cr:
    cr.execute("SELECT name, state FROM ir_module_module WHERE name IN %s",
               [tuple({ours!r})])
    report(states=dict(cr.fetchall()))
"""

ODOO_STILL_WORKS = """
registry = Registry.new("{db}")
with registry.cursor() as cr:
    env = env_of(cr)
    cr.execute('''
        SELECT table_name || '.' || column_name FROM information_schema.columns
         WHERE table_name IN ('res_partner', 'sale_order', 'sale_order_line',
                              'account_move', 'account_move_line', 'res_company')
           AND (column_name LIKE 'billing%%' OR column_name LIKE 'job%%'
                OR column_name LIKE 'head_office%%'
                OR column_name LIKE 'approved_for_invoicing%%')
    ''')
    columns = [row[0] for row in cr.fetchall()]
    cr.execute('''
        SELECT model, count(*) FROM ir_model_data
         WHERE module IN %s GROUP BY model
    ''', [tuple({ours!r})])
    left = dict(cr.fetchall())
    cr.execute('''
        SELECT name FROM ir_ui_view
         WHERE arch_db::text ~ ('(billing_run|billing\\.job|billing_invoicing_mode'
                                '|approved_for_invoicing|job_invoice_)')
    ''')
    views = [row[0] for row in cr.fetchall()]
    product = env["product.product"].create({{
        "name": "After uninstall", "type": "service", "list_price": 50.0,
        "invoice_policy": "order",
    }})
    customer = env["res.partner"].create({{"name": "After uninstall customer"}})
    order = env["sale.order"].create({{
        "partner_id": customer.id,
        "order_line": [Command.create({{"product_id": product.id}})],
    }})
    order.action_confirm()
    invoice = order._create_invoices()
    invoice.action_post()
    sale_form = env["sale.order"].get_views([(False, "form")])
    invoice_list = env["account.move"].get_views([(False, "list"), (False, "search")])
    rows = env["account.move"].web_search_read(
        [("move_type", "=", "out_invoice")],
        {{name: {{}} for name in ("name", "partner_id", "amount_total", "state")}},
    )
    report(columns=columns, left=left, views=views, state=invoice.state,
           untaxed=invoice.amount_untaxed,
           form=bool(sale_form["views"]["form"]["arch"]),
           list=bool(invoice_list["views"]["list"]["arch"]), rows=rows["length"])
"""


@pytest.fixture
def used_database(venv_python, odoo_src, repo, tmp_path):
    database = None
    try:
        database = installed_database(
            venv_python, repo, odoo_src, tmp_path, "billing_uninstall"
        )
        yield database
    finally:
        if database:
            subprocess.run(
                ["dropdb", "--if-exists", "--force", database.db], check=False
            )


def test_uninstalling_our_addons_leaves_odoo_invoicing_working(
    used_database, venv_python, odoo_src, repo
):
    used = used_database.run(USE_THEM)
    assert used["invoices"] == 1
    states = used_database.run(UNINSTALL.format(ours=OURS))["states"]
    assert states == dict.fromkeys(OURS, "uninstalled")
    after = used_database.run(ODOO_STILL_WORKS.format(db=used_database.db, ours=OURS))
    assert after["columns"] == []
    assert after["left"] == {}
    assert after["views"] == []
    assert (after["state"], after["untaxed"]) == ("posted", 50.0)
    assert after["form"] and after["list"]
    assert after["rows"] == 2
    # In the browser: the sale form and the invoices list, no error shown.
    browser = odoo_bin(
        venv_python,
        repo,
        odoo_src,
        used_database.db,
        used_database.data_dir,
        f"--addons-path={repo / 'tests' / 'probes'},{repo},{odoo_src / 'addons'}",
        "-i",
        PROBE,
        "--test-enable",
        f"--test-tags=/{PROBE}",
        f"--http-port={free_port()}",
        "--log-level=info",
    )
    assert "0 failed, 0 error(s) of 2 tests" in browser.stderr, browser.stderr[-4000:]
    assert " ERROR " not in browser.stderr, browser.stderr[-4000:]
