"""18.0.1.1.0: copy the customers' former invoicing settings (one value for all
companies) into each company's value of the new company-dependent fields, but
only where they differ from the default (an empty value reads as the default),
then drop the old columns (see ``pre-migrate.py``)."""

from odoo.tools import SQL, sql

COPIED = [
    # (old column moved aside, new field, value read as the default, the values
    # this addon knows: a column shared with OCA partner_invoicing_mode also
    # holds its values, such as "standard", which are not copied)
    (
        "invoice_manager_old_invoicing_mode",
        "billing_invoicing_mode",
        "per_shipment",
        ("per_order", "batch"),
    ),
    (
        "invoice_manager_old_invoicing_period",
        "billing_invoicing_period",
        "monthly",
        ("weekly", "biweekly", "quarterly"),
    ),
    ("invoice_manager_old_head_office_id", "head_office_id", None, None),
    (
        "invoice_manager_old_head_office_invoicing",
        "head_office_invoicing",
        "consolidated",
        ("per_site",),
    ),
]


def migrate(cr, version):
    if not version:
        return
    for aside, field, default, known in COPIED:
        if not sql.column_exists(cr, "res_partner", aside):
            continue
        cr.execute(
            SQL(
                """
                UPDATE res_partner p
                   SET %(new)s = (
                           SELECT jsonb_object_agg(c.id::text, to_jsonb(p.%(old)s))
                             FROM res_company c
                       )
                 WHERE p.%(old)s IS NOT NULL
                   AND p.%(old)s::text IS DISTINCT FROM %(default)s
                   AND (%(any)s OR p.%(old)s::text = ANY(%(known)s))
                """,
                new=SQL.identifier(field),
                old=SQL.identifier(aside),
                default=default,
                any=known is None,
                known=list(known or ()),
            )
        )
        cr.execute(
            SQL(
                "ALTER TABLE res_partner DROP COLUMN %s CASCADE",
                SQL.identifier(aside),
            )
        )
