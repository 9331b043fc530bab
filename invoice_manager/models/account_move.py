from odoo import fields, models
from odoo.tools import html2plaintext


class AccountMove(models.Model):
    _inherit = "account.move"

    billing_run_id = fields.Many2one(
        "billing.run",
        readonly=True,
        check_company=True,
        copy=False,
        index="btree_not_null",
        help="The billing run that made this invoice.",
    )
    billing_replaced_by_id = fields.Many2one(
        "account.move",
        string="Replaced by",
        readonly=True,
        check_company=True,
        copy=False,
        # Deleting an invoice looks up the invoices it replaced.
        index="btree_not_null",
        help="The invoice a billing run made to replace this one (“Replace "
        "existing invoice”); its credit note reversed it.",
    )
    billing_run_line_id = fields.Many2one(
        "billing.run.line",
        readonly=True,
        check_company=True,
        copy=False,
        index="btree_not_null",
        help="The billing run line that made this invoice.",
    )

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        replacements = posted.filtered("billing_run_id")
        if replacements:
            # A replacement left in draft by its run: the credit of the invoice
            # it replaces (what was paid on it) pays it now.
            self.env["billing.run.selector"]._give_credit_to_replacements(replacements)
        return posted

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

    billing_rebill_credited_qty = fields.Boolean(
        string="Bill Credited Quantities Again",
        default=False,
        copy=False,
        tracking=True,
        help="On a customer credit note linked to sales: whether billing runs "
        "invoice its credited quantities again. Off (the default), a credit note "
        "settles what it credits: billing runs never bill those quantities a "
        "second time, even though the sale shows them as to invoice again. "
        "Set it when the credit note corrects an invoice that must be issued "
        "again (wrong price, customer or address). Credit notes made by "
        "invoicing a sale's returned quantities have it set: delivering those "
        "quantities again bills them again.",
    )

    billing_return_credit = fields.Boolean(
        string="Credits Returned Goods",
        readonly=True,
        copy=False,
        help="Made by invoicing a sale's returned quantities (a negative final "
        "invoice turned into a credit note): it credits goods that came back, "
        "not a discount.",
    )

    def action_switch_move_type(self):
        """A credit note made by invoicing negative quantities of sales (Odoo's
        final invoicing of returned goods, in a billing run or not) credits what
        the deliveries say; as in Odoo, delivering those quantities again bills
        them again."""
        result = super().action_switch_move_type()
        credit_notes = self.filtered(
            lambda move: (
                move.move_type == "out_refund" and move.invoice_line_ids.sale_line_ids
            )
        )
        credit_notes.write(
            {"billing_rebill_credited_qty": True, "billing_return_credit": True}
        )
        (self - credit_notes).filtered(
            lambda move: move.billing_rebill_credited_qty or move.billing_return_credit
        ).write({"billing_rebill_credited_qty": False, "billing_return_credit": False})
        return result
