"""18.0.1.1.0: the Job Billing User group no longer implies Sales "All
Documents" (it implies Invoicing's Billing level; a read rule lets job billing
users see the sales to link to jobs). The link is removed once, here; users
who got "All Documents" through the group keep it."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    group = env.ref("job_billing.group_job_billing_user", raise_if_not_found=False)
    all_leads = env.ref(
        "sales_team.group_sale_salesman_all_leads", raise_if_not_found=False
    )
    if group and all_leads:
        group.implied_ids -= all_leads
