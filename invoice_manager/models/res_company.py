from datetime import datetime

import pytz

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    billing_forbid_self_approval = fields.Boolean(
        string="Forbid Approving One's Own Sales",
        help="A user may not approve for invoicing a sale of which they are the "
        "salesperson: another approver does it.",
    )

    def _get_billing_tz(self):
        """The time zone billing periods are cut in: the company's (the time
        zone of its contact), whoever runs the billing, a user or the
        scheduler; UTC when the company has none."""
        self.ensure_one()
        return pytz.timezone(self.partner_id.tz or "UTC")

    def _get_billing_today(self):
        """Today in the company's time zone (``_get_billing_tz``)."""
        return self._to_billing_date(fields.Datetime.now())

    def _to_billing_date(self, value):
        """The day of ``value`` (a UTC datetime, or a date) in the company's
        time zone."""
        if not value or not isinstance(value, datetime):
            return value
        return pytz.UTC.localize(value).astimezone(self._get_billing_tz()).date()
