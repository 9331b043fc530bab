"""18.0.1.1.0: the customers' invoicing settings become per company.

``res.partner.invoicing_mode`` and ``invoicing_period`` are renamed
``billing_invoicing_mode`` and ``billing_invoicing_period`` (apart from OCA
partner_invoicing_mode's ``invoicing_mode``), and they, ``head_office_id`` and
``head_office_invoicing`` become company dependent (jsonb). Their old columns
are moved aside here, before Odoo creates the new ones, and copied into every
company's value by ``post-migrate.py``."""

from odoo.tools import SQL, sql

MOVED = {
    "invoicing_mode": "invoice_manager_old_invoicing_mode",
    "invoicing_period": "invoice_manager_old_invoicing_period",
    "head_office_id": "invoice_manager_old_head_office_id",
    "head_office_invoicing": "invoice_manager_old_head_office_invoicing",
}


def _is_installed(cr, module):
    cr.execute(
        "SELECT 1 FROM ir_module_module WHERE name = %s AND state IN "
        "('installed', 'to upgrade')",
        [module],
    )
    return bool(cr.rowcount)


def migrate(cr, version):
    if not version:
        return
    # OCA partner_invoicing_mode shares the old invoicing_mode column: copy it.
    shared = (
        {"invoicing_mode"} if _is_installed(cr, "partner_invoicing_mode") else set()
    )
    for old, aside in MOVED.items():
        column = sql.table_columns(cr, "res_partner").get(old)
        if not column or column["udt_name"] == "jsonb":
            continue  # absent, or already company dependent
        if old in shared:
            cr.execute(
                SQL(
                    "ALTER TABLE res_partner ADD COLUMN %s varchar; "
                    "UPDATE res_partner SET %s = %s",
                    SQL.identifier(aside),
                    SQL.identifier(aside),
                    SQL.identifier(old),
                )
            )
        else:
            cr.execute(
                SQL(
                    "ALTER TABLE res_partner RENAME COLUMN %s TO %s",
                    SQL.identifier(old),
                    SQL.identifier(aside),
                )
            )
