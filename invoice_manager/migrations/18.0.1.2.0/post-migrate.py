"""18.0.1.2.0: the Billing User group no longer implies Sales "All Documents"
(it implies Invoicing's Billing level; a read rule lets billing users see
every sale). The link is removed once, here, rather than by the group's data
at every update, which would also remove any group an administrator added.
Users who got "All Documents" through the group keep it: no right is taken
away from anyone by an upgrade."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    group = env.ref("invoice_manager.group_billing_user", raise_if_not_found=False)
    all_leads = env.ref(
        "sales_team.group_sale_salesman_all_leads", raise_if_not_found=False
    )
    if group and all_leads:
        group.implied_ids -= all_leads
