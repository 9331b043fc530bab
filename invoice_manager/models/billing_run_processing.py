# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request

# Lines action_process(force_synchronous=True) processes at most in a request.
SYNC_REQUEST_LIMIT = 20


class BillingRun(models.Model):
    """Processing as the run sees it: the user's Process, the lines queued,
    the invoice values a run sets, and the run closed and reported at the end.
    The work itself is the executor's (``billing.run.executor``), which drives
    the invoicer (``billing.run.invoicer``) and the sender
    (``billing.run.sender``)."""

    _inherit = "billing.run"

    def action_process(self, force_synchronous=False):
        """Create, post and deliver the invoices of every line still to process.

        By default the runs are handed to Odoo's scheduler (the cron
        ``ir_cron_billing_run_process``, triggered at once) and this returns
        right away; the run shows its progress. ``force_synchronous=True``
        processes them now, in this process (scripts, scheduled actions, RPC
        clients that wait), committing chunk by chunk only outside a request;
        from a request (a button, an RPC call) it processes at most
        ``invoice_manager.sync_request_limit`` lines (20), in the request's
        transaction, and refuses more. Calling it again on an interrupted run
        resumes it: lines already processed are never processed again.
        """
        self._check_processable()
        if force_synchronous and request:
            self._check_request_size()
        for run in self:
            run._prepare_processing()
        executor = self.env["billing.run.executor"]
        if force_synchronous:
            executor._process_now(self)
        else:
            executor._hand_to_background(self)
        return True

    def action_reopen(self):
        """Reopen a processed run so that its Error lines can be processed again."""
        self.filtered(lambda run: run.state == "done").sudo().state = "ready"
        return True

    def action_open_process_wizard(self):
        """*Process Invoices* in the form: confirm first, with what it will do."""
        self.ensure_one()
        self._check_processable()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Process Invoices"),
            "res_model": "billing.run.process.wizard",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_run_id": self.id},
        }

    def _check_request_size(self):
        """A request has seconds (``--limit-time-real``) and one transaction:
        only small runs are processed in it."""
        limit = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.sync_request_limit", SYNC_REQUEST_LIMIT)
        )
        pending = self.env["billing.run.line"].search_count(
            [
                ("run_id", "in", self.ids),
                ("state", "in", ("not_done", "error", "skipped")),
            ]
        )
        if pending > limit:
            raise UserError(
                self.env._(
                    "%(count)s lines are too many to process within one request "
                    "(at most %(limit)s): call action_process() without "
                    "force_synchronous, and Odoo's background workers process "
                    "them, or process them from a script (odoo shell).",
                    count=pending,
                    limit=limit,
                )
            )

    def _check_processable(self):
        """Whether the runs can be processed as they are now: checked before
        anything is queued, so that a run that cannot be processed is left as
        it was, with a clear error."""
        for run in self:
            if run.state != "processing":
                run._check_editable()
            # The rules are checked again on each line at Process: a filter
            # that no longer parses would fail every line.
            self.env["billing.run.selector"]._get_extra_domain(run)
            if run.journal_id and run.journal_id.company_id != run.company_id:
                raise UserError(
                    self.env._(
                        "Run %(run)s: journal %(journal)s belongs to another company.",
                        run=run.name,
                        journal=run.journal_id.display_name,
                    )
                )

    def _prepare_processing(self):
        """Queue the run: its Error and Not Invoiced lines are tried again."""
        self.ensure_one()
        self._search_lines([("state", "in", ("error", "skipped"))]).sudo().write(
            {"state": "not_done", "error_message": False}
        )
        values = {"state": "processing", "process_stop_message": False}
        if self.state != "processing":
            # Who asked; Processed on is set when the run ends.
            values.update(process_date=False, process_uid=self.env.uid)
        self.sudo().write(values)

    def _get_processing_env_run(self):
        """The run as the user who asked to process it, in its company."""
        self.ensure_one()
        run = self
        user = self.process_uid
        if user and user.active and user != self.env.user:
            run = run.with_user(user)
        return run.with_company(self.company_id)

    @api.model
    def _cron_process_runs(self):
        """Scheduler entry point (``ir_cron_billing_run_process``): see
        ``billing.run.executor._cron_process_runs``."""
        self.env["billing.run.executor"]._cron_process_runs()

    def _get_pending_lines(self):
        """The lines still to process, with what choosing their delivery reads
        (not every field of every line: a run may have tens of thousands)."""
        self.ensure_one()
        lines = self._search_lines([("state", "=", "not_done")])
        lines.fetch(["run_id", "state", "billing_action"])
        return lines

    def _finish_processing(self):
        """The run's last line is done: make the print PDF, close the run, tell
        the user who processed it (chatter and a notification)."""
        self.ensure_one()
        self.env["billing.run.sender"]._make_print_attachment(self)
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
        self._push_progress()

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

    # ------------------------------------------------------------------
    # Other actions
    # ------------------------------------------------------------------

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        return action

    def action_view_lines(self):
        """A counter of the run's form: its lines of that state (context key
        ``billing_line_filter``: not_done, processed, error or skipped)."""
        self.ensure_one()
        return self.env["billing.run.line"]._get_lines_action(
            [("run_id", "=", self.id)],
            self.name,
            self.env.context.get("billing_line_filter"),
        )

    def action_export_xlsx(self):
        """The run's lines as an XLSX file (``report/billing_run_xlsx.py``)."""
        self.ensure_one()
        content = self.env["report.invoice_manager.billing_run_xlsx"]._render(self)
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name.replace('/', '-')}.xlsx",
                "raw": content,
                "mimetype": "application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet",
                "res_model": self._name,
                "res_id": self.id,
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
