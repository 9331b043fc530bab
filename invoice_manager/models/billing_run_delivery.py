# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
import logging
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.service.model import (
    MAX_TRIES_ON_CONCURRENCY_FAILURE,
    PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
)
from odoo.tools import split_every
from odoo.tools.pdf import merge_pdf

_logger = logging.getLogger(__name__)

# Fewer lines per chunk cost more in per-chunk overhead than they save in overlap.
MIN_RENDER_CHUNK = 8


class BillingRun(models.Model):
    """Delivery: the invoices of Email and Print lines rendered and sent through
    Odoo's own ``account.move.send``, the PDFs rendered in worker transactions."""

    _inherit = "billing.run"

    def _get_min_render_chunk(self):
        return MIN_RENDER_CHUNK

    def _get_sync_delivery_limit(self):
        """Up to this many invoices, a run renders and emails them right away;
        beyond, it queues them to Odoo's own sending cron."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.sync_delivery_limit", 100)
        )

    def _get_delivery_workers(self):
        """How many transactions render and send a run's invoices at once.

        A wkhtmltopdf process spends most of its time waiting: Odoo makes it
        wait ``report.print_delay`` (1 s) for the pages, then again for their
        headers and footers. Two renders per core keep the cores busy.
        """
        default = min(2 * (os.cpu_count() or 1), 8)
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.delivery_workers", default)
        )

    def _deliver_lines(self, lines, deliver, queue_email=False):
        """Email or print the invoices of ``lines`` (Create Only delivers nothing)."""
        self.ensure_one()
        lines = lines.filtered(
            lambda line: (
                line.invoice_ids
                and line.state == "not_done"
                and line._get_delivery_action() != "create_only"
            )
        )._mark_blocked_lines_as_errors()
        email_lines = lines.filtered(
            lambda line: line._get_delivery_action() == "email"
        )
        print_lines = lines - email_lines
        if email_lines and queue_email:
            self._queue_email(email_lines)
            self._commit_batch()
        elif email_lines:
            deliver(email_lines, "email")
        if print_lines:
            deliver(print_lines, "manual")

    def _queue_email(self, lines):
        """Hand the invoices to Odoo's own sending cron (PDF, email, chatter)."""
        lines.invoice_ids.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "sending_methods": ["email"],
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()
        lines._set_delivered("email")

    @contextmanager
    def _delivery_pool(self):
        """Yield ``deliver(lines, method)``: renders and sends their invoices.

        wkhtmltopdf renders a batch in one process on one core. When the run may
        commit, each batch goes to a worker thread with a transaction, an
        environment and records of its own (the invoices are committed before),
        so that rendering uses every core and overlaps the invoicing of the next
        chunk; otherwise batches are sent in this transaction. Leaving the block
        waits for every batch.
        """
        workers = self._get_delivery_workers()
        if workers < 2 or not self._can_commit():
            yield self._send_lines_batched
            return
        submitted = []
        # Plain values only cross to the threads: no cursor, environment or
        # record of this thread is used by another.
        registry, uid, context, run_id = (
            self.env.registry,
            self.env.uid,
            dict(self.env.context),
            self.id,
        )
        with ThreadPoolExecutor(max_workers=workers) as executor:

            def deliver(lines, method):
                future = executor.submit(
                    _send_lines_in_new_transaction,
                    registry,
                    uid,
                    context,
                    run_id,
                    lines.ids,
                    method,
                )
                submitted.append((future, lines.ids))

            yield deliver
        # A new transaction (snapshot) sees what the workers committed.
        self._commit_batch()
        self.env.invalidate_all()
        for future, line_ids in submitted:
            if error := future.exception():
                lines = self.env["billing.run.line"].browse(line_ids)
                lines.filtered(lambda line: line.state == "not_done")._set_error(
                    error, delivery=True
                )
        self._commit_batch()

    def _send_lines_batched(self, lines, method):
        """Render the PDFs in batches and send them through ``account.move.send``."""

        def send(lines):
            self._send_invoices(lines.invoice_ids, method)
            lines._set_delivered(method)

        for chunk in split_every(self._get_chunk_size(), lines.ids, lines.browse):
            self._isolate_failures(
                chunk,
                send,
                lambda line, error: line._set_error(error, delivery=True),
                # Retried whole: see _send_lines_in_new_transaction.
                reraise=PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
            )
            self._commit_batch()

    def _send_invoices(self, invoices, method):
        # Queue the emails (Odoo's mail queue sends them) instead of sending them
        # inside this transaction; the context must ride on the invoices.
        invoices = invoices.with_context(mail_notify_force_send=False)
        self.env["account.move.send"].with_env(
            invoices.env
        )._generate_and_send_invoices(
            invoices, allow_raising=True, sending_methods={method}
        )

    def _make_print_attachment(self):
        """One PDF of all the run's printed invoices, to print in one go."""
        self.ensure_one()
        invoices = self._search_lines(
            [("delivery_channel", "=", "print"), ("state", "=", "processed")]
        ).invoice_ids
        pdfs = [
            invoice.invoice_pdf_report_id.raw
            for invoice in invoices
            if invoice.invoice_pdf_report_id
        ]
        if not pdfs:
            return
        content = merge_pdf(pdfs) if len(pdfs) > 1 else pdfs[0]
        self.print_attachment_id.sudo().unlink()
        self.sudo().print_attachment_id = self.env["ir.attachment"].create(
            {
                "name": self.env._("%s - invoices to print.pdf", self.name),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": self._name,
                "res_id": self.id,
            }
        )

    def _finish_processing(self):
        """The run's last line is done: make the print PDF, close the run, tell
        the user who processed it (chatter and a notification)."""
        self.ensure_one()
        self._make_print_attachment()
        self.sudo().write({"state": "done", "process_date": fields.Datetime.now()})
        self.invalidate_recordset()
        summary = self._get_processing_summary()
        if self.is_scheduled_run:
            self._notify_billing_managers(summary)
        else:
            self.message_post(body=summary)
        user = self.process_uid or self.env.user
        user._bus_send(
            "simple_notification",
            {
                "type": "warning" if self.error_count else "success",
                "title": self.env._("Billing run %s processed", self.name),
                "message": summary,
                "sticky": bool(self.error_count),
            },
        )
        self._commit_batch()

    def _get_billing_managers(self):
        group = self.env.ref("invoice_manager.group_billing_manager")
        return group.sudo().users.filtered(
            lambda user: (
                user.active and not user.share and self.company_id in user.company_ids
            )
        )

    def _notify_billing_managers(self, summary):
        """A scheduled run is done: one message to the Billing Managers (the
        counts, the amounts, every error with its reason and a link to its
        sales), and a to-do for each of them when there were errors."""
        self.ensure_one()
        managers = self._get_billing_managers()
        errors = self._search_lines([("state", "=", "error")])
        body = Markup("<p>%s</p>") % self.env._(
            "Scheduled billing run of %(scenario)s, %(date_from)s to %(date_to)s: "
            "%(summary)s",
            scenario=self.scenario_id.name,
            date_from=self.date_from,
            date_to=self.date_to,
            summary=summary,
        )
        if errors:
            body += Markup("<ul>%s</ul>") % Markup().join(
                Markup("<li>%s %s: %s</li>")
                % (
                    line.partner_id.display_name,
                    Markup(", ").join(
                        order._get_html_link() for order in line.sale_order_ids
                    ),
                    line.error_message or "",
                )
                for line in errors
            )
        self.message_post(
            body=body,
            partner_ids=managers.partner_id.ids,
            subtype_xmlid="mail.mt_comment",
        )
        if errors:
            for manager in managers:
                self.activity_schedule(
                    "mail.mail_activity_data_todo",
                    summary=self.env._("%s billing run lines in error", len(errors)),
                    note=self.env._(
                        "Fix each error (see the run's message), then reopen the "
                        "run and process it again."
                    ),
                    user_id=manager.id,
                )

    def _get_processing_summary(self):
        self.ensure_one()
        return self.env._(
            "%(processed)s processed, %(errors)s in error, %(skipped)s not "
            "invoiced, %(invoices)s invoices (%(amount)s).",
            processed=self.processed_count,
            errors=self.error_count,
            skipped=self.skipped_count,
            invoices=self.invoice_count,
            amount=self._format_amounts(self._get_invoiced_by_currency()) or "0",
        )

    def _get_invoiced_by_currency(self):
        """What the run's invoices total per currency (credit notes negative),
        summed by the database."""
        self.ensure_one()
        return dict(
            self.env["account.move"]._read_group(
                [("id", "in", self.invoice_ids.ids)],
                ["currency_id"],
                ["amount_total_in_currency_signed:sum"],
            )
        )

    def action_print_invoices(self):
        self.ensure_one()
        if not self.print_attachment_id:
            raise UserError(self.env._("This run printed no invoice."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.print_attachment_id.id}",
            "target": "new",
        }


def _send_lines_in_new_transaction(registry, uid, context, run_id, line_ids, method):
    """Worker thread: send in a transaction of its own, retried from scratch when
    it collides with a concurrent one (as Odoo retries an RPC call)."""
    for attempt in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, uid, context)
                run = env["billing.run"].browse(run_id)
                lines = env["billing.run.line"].browse(line_ids)
                run._send_lines_batched(
                    lines.filtered(lambda line: line.state == "not_done"), method
                )
            return
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            if attempt == MAX_TRIES_ON_CONCURRENCY_FAILURE:
                raise
            _logger.info(
                "Billing run %s: delivery collided with another transaction, retry %s",
                run_id,
                attempt,
            )
            time.sleep(random.uniform(0.1, 0.5 * attempt))
