# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

# Failures of Odoo's mail.mail worth trying again: the mail server could not be
# reached (Odoo leaves the email's failure type empty then, and marks its
# notifications "mail_smtp"); invalid or missing addresses are not.
TRANSIENT_MAIL_FAILURES = (False, "mail_smtp")
DEFAULT_DELIVERY_RETRIES = 5
# The scheduler retries the emails of runs processed in the last days only.
RETRY_WINDOW_DAYS = 7


class BillingRun(models.Model):
    """Emails that failed are sent again, never made again: the run's failed
    ``mail.mail`` (invoice, PDF, recipients as Odoo made them) go back to
    Odoo's mail queue, by hand or, when the mail server could not be reached,
    by the scheduler."""

    _inherit = "billing.run"

    delivery_failed_count = fields.Integer(
        string="Failed Deliveries", compute="_compute_delivery_failed_count"
    )

    def _get_emailed_lines(self, invoices_domain=None):
        """The runs' emailed lines with their invoices (only those can fail),
        and with ``invoices_domain``, only those with such an invoice, found by
        the database: a run of tens of thousands of emails sent loads none of
        its lines to count or retry its failures."""
        domain = [
            ("run_id", "in", self.ids),
            ("delivery_channel", "=", "email"),
            ("invoice_ids", "!=", False),
        ]
        if invoices_domain:
            domain = expression.AND([domain, [("invoice_ids", "any", invoices_domain)]])
        return self.env["billing.run.line"].search(domain)

    @api.model
    def _get_maybe_failed_invoices_domain(self):
        """Invoices whose email the delivery state may call Failed (hook): not
        sent yet, or left with Odoo's sending data (an error of its sending
        cron), or with a failed email in the mail queue."""
        return [
            "|",
            "|",
            ("is_move_sent", "=", False),
            ("sending_data", "!=", False),
            *self._get_failed_mail_invoices_domain(),
        ]

    @api.model
    def _get_failed_mail_invoices_domain(self, transient_only=False):
        """Invoices with a failed email in Odoo's mail queue, as a sub-query:
        the invoices of a large run are never read to find them."""
        return self._get_invoices_with_mails_domain(
            self._get_failed_mails_domain(transient_only=transient_only)
        )

    @api.model
    def _get_invoices_with_mails_domain(self, mails_domain):
        """Invoices with a ``mail.mail`` of ``mails_domain``, as a sub-query."""
        Mail = self.env["mail.mail"].sudo()
        mails = Mail._search(mails_domain)
        # res_id is inherited from mail.message: joined by _field_to_sql.
        res_id = Mail._field_to_sql(mails.table, "res_id", mails)
        return [("id", "in", mails.subselect(res_id))]

    def _compute_delivery_failed_count(self):
        maybe_failed = self._get_emailed_lines(self._get_maybe_failed_invoices_domain())
        failed = maybe_failed.filtered(lambda line: line.delivery_state == "failed")
        counts = {run: len(lines) for run, lines in failed.grouped("run_id").items()}
        for run in self:
            run.delivery_failed_count = counts.get(run, 0)

    def _get_delivery_retry_limit(self):
        """How often the scheduler sends a line's failed emails again (system
        parameter ``invoice_manager.delivery_retries``)."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.delivery_retries", DEFAULT_DELIVERY_RETRIES)
        )

    def _get_failed_mails_domain(self, invoices=None, transient_only=False):
        """The failed emails of ``invoices`` (None: of any invoice) in Odoo's
        mail queue (hook)."""
        domain = [("model", "=", "account.move"), ("state", "=", "exception")]
        if invoices is not None:
            domain.append(("res_id", "in", invoices.ids))
        if transient_only:
            domain.append(("failure_type", "in", list(TRANSIENT_MAIL_FAILURES)))
        return domain

    def _retry_failed_deliveries(self, lines=None, transient_only=False):
        """Hand the failed emails of ``lines`` (default: the runs' lines) back
        to Odoo's mail queue (``mail.mail.mark_outgoing()``): the same emails,
        with the same PDF, are sent again; no invoice, email or PDF is made
        again. Returns the lines retried."""
        if lines is None:
            lines = self._get_emailed_lines(self._get_failed_mail_invoices_domain())
        lines = lines.filtered(
            lambda line: line.delivery_channel == "email" and line.invoice_ids
        )
        mails = self.env["mail.mail"].sudo()
        if lines:
            mails = mails.search(
                self._get_failed_mails_domain(lines.invoice_ids, transient_only)
            )
        if not mails:
            return lines.browse()
        invoice_ids = set(mails.mapped("res_id"))
        retried = lines.filtered(lambda line: invoice_ids & set(line.invoice_ids.ids))
        mails.mark_outgoing()
        for line in retried.sudo():
            line.delivery_retry_count += 1
        self.env.ref("mail.ir_cron_mail_scheduler_action")._trigger()
        for run, run_lines in retried.grouped("run_id").items():
            run.sudo().message_post(
                body=self.env._(
                    "%(count)s line(s): their failed emails were handed to the mail "
                    "queue again (%(reasons)s).",
                    count=len(run_lines),
                    reasons="; ".join(
                        sorted(
                            set(
                                mails.filtered(
                                    lambda m, run_lines=run_lines: (
                                        m.res_id in run_lines.invoice_ids.ids
                                    )
                                ).mapped("failure_reason")
                            )
                            - {False}
                        )
                    )
                    or "-",
                )
            )
        return retried

    def action_retry_delivery(self):
        """Retry Failed Emails: send the run's failed emails again."""
        self.check_access("write")
        retried = self._retry_failed_deliveries()
        if not retried:
            raise UserError(self.env._("No email of this run is in failure."))
        return True

    @api.model
    def _get_delivery_retry_lines_domain(self):
        """Lines whose failed emails the scheduler sends again (hook)."""
        since = fields.Datetime.now() - timedelta(days=RETRY_WINDOW_DAYS)
        return [
            ("delivery_channel", "=", "email"),
            ("process_date", ">=", since),
            "|",
            ("delivery_retry_count", "=", False),
            ("delivery_retry_count", "<", self._get_delivery_retry_limit()),
            # Only lines with an email to retry: not every line of the week.
            (
                "invoice_ids",
                "any",
                self._get_failed_mail_invoices_domain(transient_only=True),
            ),
        ]

    @api.model
    def _cron_retry_failed_deliveries(self):
        """Scheduler: the emails that failed because the mail server could not
        be reached are handed to the mail queue again, a few times."""
        lines = self.env["billing.run.line"].search(
            self._get_delivery_retry_lines_domain()
        )
        for company, company_lines in lines.grouped("company_id").items():
            runs = company_lines.run_id.with_company(company)
            runs._retry_failed_deliveries(company_lines, transient_only=True)

    delivery_queued_count = fields.Integer(
        string="Queued Emails", compute="_compute_delivery_queued_count"
    )
    mail_queue_nextcall = fields.Datetime(
        string="Mail Queue Runs At", compute="_compute_delivery_queued_count"
    )

    @api.model
    def _get_queued_invoices_domain(self):
        """Invoices whose email waits: in Odoo's sending cron (``sending_data``
        without an error) or in the mail queue (an outgoing ``mail.mail``)."""
        return [
            "|",
            ("sending_data", "!=", False),
            *self._get_invoices_with_mails_domain(
                [("model", "=", "account.move"), ("state", "=", "outgoing")]
            ),
        ]

    def _compute_delivery_queued_count(self):
        lines = self._get_emailed_lines(self._get_queued_invoices_domain())
        queued = lines.filtered(lambda line: line.delivery_state == "queued")
        counts = {run: len(lines) for run, lines in queued.grouped("run_id").items()}
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action", False)
        nextcall = cron.sudo().nextcall if cron and cron.sudo().active else False
        for run in self:
            run.delivery_queued_count = counts.get(run, 0)
            run.mail_queue_nextcall = nextcall if run.delivery_queued_count else False

    def action_send_queued_emails(self):
        """Wake Odoo's sending cron and mail queue now rather than at their
        next run (Billing Managers): the emails go out within a minute, from a
        cron worker, not in this request."""
        if not self.env.user.has_group("invoice_manager.group_billing_manager"):
            raise UserError(
                self.env._("Only a Billing Manager can send the mail queue now.")
            )
        for xmlid in (
            "account.ir_cron_account_move_send",
            "mail.ir_cron_mail_scheduler_action",
        ):
            cron = self.env.ref(xmlid, False)
            if cron:
                cron.sudo()._trigger()
        return True
