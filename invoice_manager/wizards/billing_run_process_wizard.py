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
        Line = self.env["billing.run.line"]
        actions = dict(Line._fields["billing_action"]._description_selection(self.env))
        for wizard in self:
            counts = defaultdict(int)
            totals = defaultdict(float)
            for action, currency, count, amount in Line._read_group(
                wizard._get_lines_domain(),
                ["billing_action", "currency_id"],
                ["__count", "amount_total:sum"],
            ):
                counts[action] += count
                totals[currency] += amount
            wizard.line_count = sum(counts.values())
            wizard.summary = wizard._format_summary(counts, totals, actions)

    def _format_summary(self, counts, totals, actions):
        run = self.run_id
        total = " + ".join(
            format_amount(self.env, amount, currency)
            for currency, amount in sorted(totals.items(), key=lambda i: i[0].name)
            if currency
        )
        if self.line_count == 1:
            made = (
                self.env._("1 invoice will be created and posted")
                if run.auto_post
                else self.env._("1 invoice will be created as a draft")
            )
        else:
            made = (
                self.env._(
                    "%(count)s invoices will be created and posted",
                    count=self.line_count,
                )
                if run.auto_post
                else self.env._(
                    "%(count)s invoices will be created as drafts",
                    count=self.line_count,
                )
            )
        items = [
            Markup("<li>%s</li>")
            % self.env._(
                "%(label)s: %(count)s", label=actions.get(action, action), count=count
            )
            for action, count in sorted(counts.items(), key=lambda i: str(i[0]))
        ]
        parts = [
            Markup("<p><strong>%s</strong>, %s</p>")
            % (made, self.env._("for %(total)s, taxes included.", total=total or "0")),
            Markup("<ul>%s</ul>") % Markup("").join(items),
        ]
        if counts.get("email"):
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
