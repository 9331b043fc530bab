from odoo import api, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools.pdf import merge_pdf


class BillingRunSender(models.AbstractModel):
    """Delivers the invoices of a run's Email and Print lines through Odoo's
    own ``account.move.send``, in the caller's transaction, never committing:
    rendered and sent right away, or, for runs with many emails, handed to
    Odoo's own sending cron (``sending_data``), which renders them in another
    worker process while the run goes on. No thread, no second cursor."""

    _name = "billing.run.sender"
    _description = "Billing Run Sender"

    @api.model
    def _get_sync_delivery_limit(self):
        """Up to this many emails, a run renders and emails them itself; beyond,
        it hands them to Odoo's own sending cron."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.sync_delivery_limit", 100)
        )

    @api.model
    def _queues_email(self, lines):
        """Whether the emails of ``lines`` (all of a run's pending lines) go to
        Odoo's sending cron."""
        emailed = lines.filtered(lambda line: line._get_delivery_action() == "email")
        return len(emailed) > self._get_sync_delivery_limit()

    @api.model
    def _deliver_lines(self, run, lines, queue_email=False):
        """Email or print the invoices of ``lines`` (Create Only delivers
        nothing); a line whose delivery fails turns to Error with the reason."""
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
        elif email_lines:
            self._send_lines(run, email_lines, "email")
        if print_lines:
            self._send_lines(run, print_lines, "manual")

    @api.model
    def _queue_email(self, lines):
        """Hand the invoices to Odoo's own sending cron (PDF, email, chatter)."""
        lines.invoice_ids.sending_data = {
            "author_user_id": self.env.user.id,
            "author_partner_id": self.env.user.partner_id.id,
            "sending_methods": ["email"],
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()
        lines._set_delivered("email")

    @api.model
    def _send_lines(self, run, lines, method):
        """Render the PDFs of ``lines`` and send them; a failing line is
        retried alone and reported on the line."""

        def send(chunk):
            self._send_invoices(chunk.invoice_ids, method)
            chunk._set_delivered(method)

        self.env["billing.run.invoicer"]._isolate_failures(
            run,
            lines.filtered(lambda line: line.state == "not_done"),
            send,
            lambda line, error: line._set_error(error, delivery=True),
            # A collision is retried whole by the executor.
            reraise=PG_CONCURRENCY_EXCEPTIONS_TO_RETRY,
        )

    @api.model
    def _send_invoices(self, invoices, method):
        # Queue the emails (Odoo's mail queue sends them) instead of sending them
        # inside this transaction; the context must ride on the invoices.
        invoices = invoices.with_context(mail_notify_force_send=False)
        self.env["account.move.send"].with_env(
            invoices.env
        )._generate_and_send_invoices(
            invoices, allow_raising=True, sending_methods={method}
        )

    @api.model
    def _make_print_attachment(self, run):
        """One PDF of all the run's printed invoices, to print in one go."""
        run.ensure_one()
        invoices = run._search_lines(
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
        run.print_attachment_id.sudo().unlink()
        run.sudo().print_attachment_id = self.env["ir.attachment"].create(
            {
                "name": self.env._("%s - invoices to print.pdf", run.name),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": run._name,
                "res_id": run.id,
                "company_id": run.company_id.id,
            }
        )
