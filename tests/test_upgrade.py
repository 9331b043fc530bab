"""Upgrading (``-u``) every addon on a used database keeps every run, line,
invoice link and job; the 18.0.1.1.0 migration of invoice_manager moves
the customers' former invoicing settings (``invoicing_mode``,
``invoicing_period``, ``head_office_id``, ``head_office_invoicing``: one value
for all companies) into every company's value of the new company-dependent
fields; the 18.0.1.2.0 migration of invoice_manager and 18.0.1.1.0 of
job_billing unlink Sales "All Documents" from the billing groups once. The
database is set back to the former layout by SQL (the columns and the
modules' versions as 18.0.1.0.0 left them) before the upgrade."""

import subprocess

import pytest

from odoo_script import ALL_ADDONS as OURS
from odoo_script import installed_database, odoo_bin

USE_THEM = """
with registry.cursor() as cr:
    env = env_of(cr)
    company_b = env["res.company"].create({"name": "Upgrade Co B"})
    P = env["res.partner"]
    head = P.create({"name": "Upgrade Head", "is_company": True})
    site = P.create({"name": "Upgrade Site", "is_company": True})
    plain = P.create({"name": "Upgrade Plain", "is_company": True})
    product = env["product.product"].create({
        "name": "Upgrade service", "type": "service", "list_price": 100.0,
        "invoice_policy": "order",
    })
    order = env["sale.order"].create({
        "partner_id": plain.id,
        "order_line": [Command.create({"product_id": product.id})],
    })
    order.action_confirm()
    order.action_approve_for_invoicing()
    scenario = env["billing.scenario"].create({
        "name": "Upgrade", "billing_action": "create_only",
        "require_approval": True, "period_type": "day",
    })
    today = order.date_order.date()
    run = env["billing.run"].create({"scenario_id": scenario.id})
    run.write({"date_from": today, "date_to": today})
    run.action_fetch()
    run.action_process(force_synchronous=True)
    env["billing.job"].create({"partner_id": plain.id, "name": "Job Up"})
    # The groups of 18.0.1.0.0: Billing Users got Sales "All Documents".
    all_leads = env.ref("sales_team.group_sale_salesman_all_leads")
    billing_user = env.ref("invoice_manager.group_billing_user")
    billing_user.implied_ids |= all_leads
    job_user = env.ref("job_billing.group_job_billing_user")
    job_user.implied_ids |= all_leads
    biller = env["res.users"].create({
        "name": "Upgrade Biller", "login": "upgrade_biller",
        "groups_id": [Command.set([billing_user.id])],
    })
    env.flush_all()
    # The layout of invoice_manager 18.0.1.0.0: one value for all companies.
    cr.execute('''
        ALTER TABLE res_partner
            DROP COLUMN billing_invoicing_mode, DROP COLUMN billing_invoicing_period,
            DROP COLUMN head_office_id, DROP COLUMN head_office_invoicing;
        ALTER TABLE res_partner
            ADD COLUMN invoicing_mode varchar DEFAULT 'per_shipment',
            ADD COLUMN invoicing_period varchar DEFAULT 'monthly',
            ADD COLUMN head_office_id int4 REFERENCES res_partner(id),
            ADD COLUMN head_office_invoicing varchar DEFAULT 'consolidated';
        UPDATE ir_module_module SET latest_version = '18.0.1.0.0'
         WHERE name IN ('invoice_manager', 'job_billing');
    ''')
    cr.execute('''
        UPDATE res_partner SET invoicing_mode = 'batch', invoicing_period = 'weekly',
               head_office_invoicing = 'per_site' WHERE id = %s
    ''', [head.id])
    cr.execute("UPDATE res_partner SET head_office_id = %s WHERE id = %s",
               [head.id, site.id])
    cr.commit()
    cr.execute("SELECT count(*) FROM billing_run_line")
    lines = cr.fetchone()[0]
    report(ids=[head.id, site.id, plain.id], company_b=company_b.id,
           runs=env["billing.run"].search_count([]), lines=lines,
           jobs=env["billing.job"].search_count([]),
           invoice=run.invoice_ids.id, total=run.invoice_ids.amount_total,
           biller=biller.id,
           biller_all_leads=biller.has_group("sales_team.group_sale_salesman_all_leads"))
"""

AFTER = """
with registry.cursor() as cr:
    env = env_of(cr)
    head, site, plain = env["res.partner"].browse({ids!r})
    values = {{}}
    for company in env["res.company"].search([]):
        h, s, p = (head | site | plain).with_company(company)
        values[company.id] = [
            h.billing_invoicing_mode, h.billing_invoicing_period,
            h.head_office_invoicing, s.head_office_id.id, p.billing_invoicing_mode,
        ]
    cr.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'res_partner' AND (column_name IN "
        "('invoicing_mode', 'invoicing_period') "
        "OR column_name LIKE 'invoice_manager_old%%')"
    )
    old_columns = [row[0] for row in cr.fetchall()]
    cr.execute("SELECT count(*) FROM billing_run_line")
    lines = cr.fetchone()[0]
    run = env["billing.run"].search([], limit=1)
    implied = env.ref("invoice_manager.group_billing_user").implied_ids
    job_implied = env.ref("job_billing.group_job_billing_user").implied_ids
    biller = env["res.users"].browse({biller!r})
    report(implied=implied.mapped(lambda g: g.get_external_id()[g.id]),
           job_implied=job_implied.mapped(lambda g: g.get_external_id()[g.id]),
           biller_all_leads=biller.has_group("sales_team.group_sale_salesman_all_leads"),
           values=values, old_columns=old_columns,
           runs=env["billing.run"].search_count([]), lines=lines,
           jobs=env["billing.job"].search_count([]),
           invoice=run.invoice_ids.id, total=run.invoice_ids.amount_total,
           version=env["ir.module.module"].search(
               [("name", "=", "invoice_manager")]).latest_version,
           job_version=env["ir.module.module"].search(
               [("name", "=", "job_billing")]).latest_version)
"""


@pytest.fixture
def database(venv_python, odoo_src, repo, tmp_path):
    database = None
    try:
        database = installed_database(
            venv_python, repo, odoo_src, tmp_path, "billing_upgrade"
        )
        yield database
    finally:
        if database:
            subprocess.run(
                ["dropdb", "--if-exists", "--force", database.db], check=False
            )


def test_upgrade_keeps_everything_and_migrates_partner_settings(
    database, venv_python, odoo_src, repo
):
    before = database.run(USE_THEM)
    upgrade = odoo_bin(
        venv_python,
        repo,
        odoo_src,
        database.db,
        database.data_dir,
        "-u",
        ",".join(OURS),
    )
    assert " ERROR " not in upgrade.stderr, upgrade.stderr[-4000:]
    after = database.run(AFTER.format(ids=before["ids"], biller=before["biller"]))
    assert (after["version"], after["job_version"]) == ("18.0.1.2.0", "18.0.1.1.0")
    assert after["old_columns"] == []
    for key in ("runs", "lines", "jobs", "invoice", "total"):
        assert after[key] == before[key], key
    head = before["ids"][0]
    for company_values in after["values"].values():
        # Every company gets the former value; defaults stay empty.
        assert company_values == ["batch", "weekly", "per_site", head, False]
    assert len(after["values"]) == 2
    # The group now implies Invoicing's Billing level only; a user who had
    # Sales "All Documents" through it keeps it (the upgrade takes no right
    # away from anyone: an administrator removes it if it is not wanted).
    assert after["implied"] == ["account.group_account_invoice"]
    assert after["job_implied"] == ["account.group_account_invoice"]
    assert before["biller_all_leads"] and after["biller_all_leads"]
