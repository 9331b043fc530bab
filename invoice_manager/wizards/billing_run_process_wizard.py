from collections import defaultdict

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.tools.misc import format_amount, format_datetime

# The line states *Process* takes (Error and Not Invoiced are tried again).
PROCESSED_STATES = ("not_done", "error", "skipped")


class BillingRunProcessWizard(models.TransientModel):
    """*Process Invoices* asks first: how many invoices will be made, posted,
    emailed and printed, for what total, and when the emails leave. Scripts
    and RPC clients call ``billing.run.action_process`` directly."""

    _name = "billing.run.process.wizard"
    _description = "Confirm the processing of a billing run"
    _check_company_auto = True

    run_id = fields.Many2one(
        "billing.run", required=True, readonly=True, check_company=True
    )
    company_id = fields.Many2one(related="run_id.company_id")
    summary = fields.Html(compute="_compute_summary", sanitize=False)
    line_count = fields.Integer(compute="_compute_summary")

    def _get_lines_domain(self):
        """Lines *Process* takes (hook)."""
        self.ensure_one()
        return [("run_id", "=", self.run_id.id), ("state", "in", PROCESSED_STATES)]

    @api.depends("run_id")
    def _compute_summary(self):
        for wizard in self:
            lines = self.env["billing.run.line"].search(wizard._get_lines_domain())
            wizard.line_count = len(lines)
            wizard.summary = wizard._format_summary(lines)

    def _format_summary(self, lines):
        """In words: how many invoices are posted or left as drafts, emailed,
        printed, what invoices are credited (Replace), for what total. What
        processing does with a line is its delivery action (Create Only when
        the run's post-invoicing tasks are off); Email and Print lines are
        posted whatever the run's Post Invoices says."""
        run = self.run_id
        actions = defaultdict(int)
        posted = 0
        totals = defaultdict(float)
        for line in lines:
            action = line._get_delivery_action()
            actions[action] += 1
            posted += bool(run.auto_post or action != "create_only")
            totals[line.currency_id] += line.amount_total
        drafts = len(lines) - posted
        total = run._format_amounts(
            {currency: amount for currency, amount in totals.items() if currency}
        ) or format_amount(self.env, 0.0, run.currency_id or run.company_id.currency_id)
        items = [
            self.env._("Invoices to create: %(count)s", count=len(lines)),
            self.env._("Posted: %(count)s", count=posted),
        ]
        if drafts:
            items.append(self.env._("Left as drafts: %(count)s", count=drafts))
        if actions["email"]:
            items.append(self.env._("Emailed: %(count)s", count=actions["email"]))
        if actions["print"]:
            items.append(self.env._("Printed: %(count)s", count=actions["print"]))
        replaced = lines.replaced_invoice_ids
        if replaced:
            items.append(
                self.env._(
                    "Invoices credited and replaced: %(count)s",
                    count=len(replaced),
                )
            )
        parts = [
            Markup("<p><strong>%s</strong></p>")
            % self.env._("Total to invoice: %(total)s, taxes included.", total=total),
            Markup("<ul>%s</ul>")
            % Markup("").join(Markup("<li>%s</li>") % item for item in items),
        ]
        if actions["email"]:
            parts.append(Markup("<p>%s</p>") % escape(self._get_mail_queue_hint()))
        return Markup("").join(parts)

    def _get_mail_queue_hint(self):
        """When Odoo's mail queue next sends what the run queues."""
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action", False)
        if not cron or not cron.sudo().active:
            return self.env._(
                "The emails wait in Odoo's mail queue, whose scheduled action is "
                "off: ask an administrator to send the queue."
            )
        return self.env._(
            "The emails wait in Odoo's mail queue, sent at its next run (%(when)s) "
            "or sooner when Odoo has a mail server set to send at once.",
            when=format_datetime(self.env, cron.sudo().nextcall, dt_format="short"),
        )

    def action_process(self):
        self.ensure_one()
        self.run_id.action_process()
        return {"type": "ir.actions.act_window_close"}
