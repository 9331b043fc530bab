from odoo import fields, models
from odoo.tools import html2plaintext


class AccountMove(models.Model):
    _inherit = "account.move"

    billing_run_id = fields.Many2one(
        "billing.run",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The billing run that made this invoice.",
    )

    def _get_last_sending_error(self):
        """The error Odoo's sending cron wrote in the invoice's chatter (it logs
        errors there instead of raising), in plain text."""
        self.ensure_one()
        message = self.env["mail.message"].search(
            [
                ("model", "=", self._name),
                ("res_id", "=", self.id),
                ("message_type", "in", ("comment", "notification")),
                ("body", "!=", False),
            ],
            order="id desc",
            limit=1,
        )
        return html2plaintext(message.body or "") or self.env._("see the chatter")
