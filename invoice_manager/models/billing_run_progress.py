# billing.run is split by concern, one file each, as Odoo splits its large models.
# pylint: disable=consider-merging-classes-inherited
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import format_amount

# A run processing with no line nor run written for this long has stalled
# (its worker was stopped): Resume is offered (``invoice_manager.stall_seconds``).
DEFAULT_STALL_SECONDS = 180


class BillingRun(models.Model):
    """What a run says while it is processed: which engine works on it, how
    far it got (pushed over the bus after each chunk), whether it stalled, and
    the executor's own state (measured cost of a line, chunk in progress)."""

    _inherit = "billing.run"

    line_count = fields.Integer(compute="_compute_counts")
    not_done_count = fields.Integer(string="Not Done", compute="_compute_counts")
    processed_count = fields.Integer(string="Processed", compute="_compute_counts")
    error_count = fields.Integer(string="Errors", compute="_compute_counts")
    skipped_count = fields.Integer(
        string="Not Invoiced",
        compute="_compute_counts",
        help="Lines whose sales no longer qualify, or were invoiced elsewhere.",
    )
    done_count = fields.Integer(string="Done", compute="_compute_counts")
    progress = fields.Float(
        compute="_compute_counts",
        help="Share of the lines done (processed, not invoiced or in error).",
    )
    amount_summary = fields.Html(
        string="Amount to Invoice",
        compute="_compute_counts",
        help="Total to invoice per currency (taxes included).",
    )
    invoice_ids = fields.Many2many(
        "account.move", string="Invoices", compute="_compute_invoice_ids"
    )
    invoice_count = fields.Integer(compute="_compute_invoice_ids")
    processing_engine = fields.Selection(
        [("cron", "Odoo's scheduler")],
        compute="_compute_processing_engine",
        help="What processes the run: Odoo's scheduled action, or queue jobs "
        "when invoice_manager_queue hands it to them.",
    )
    is_stalled = fields.Boolean(
        string="Stalled",
        compute="_compute_is_stalled",
        help="Processing, with no progress for a while: the worker processing "
        "it may have been stopped. Resume Processing hands it over again.",
    )
    invoiced_line_count = fields.Integer(
        string="Invoiced Lines",
        compute="_compute_invoiced_line_count",
        help="Lines whose invoices are made (their delivery may still be under way).",
    )
    # Written by the executor (billing.run.executor) only.
    process_line_seconds = fields.Float(
        string="Seconds per Line",
        readonly=True,
        copy=False,
        help="What invoicing one line of this run took, measured by the scheduler: "
        "it sizes the chunks so that each call ends within the server's time limit.",
    )
    process_chunk_started = fields.Integer(
        readonly=True,
        copy=False,
        help="Lines of the chunk the scheduler is invoicing; still set when the "
        "scheduler calls again, that chunk was killed (its worker's time limit).",
    )
    process_chunk_cap = fields.Integer(
        readonly=True,
        copy=False,
        help="Chunks are at most this size since one was killed (0: no cap).",
    )
    process_chunk_kills = fields.Integer(readonly=True, copy=False)
    process_stop_message = fields.Text(
        string="Why Processing Stopped",
        readonly=True,
        copy=False,
    )

    @api.depends("line_ids.state", "line_ids.amount_total", "line_ids.currency_id")
    def _compute_counts(self):
        """Counts and totals in a few queries for any number of lines: the progress
        of a run read while workers process it is what they committed."""
        ids = [run_id for run_id in self.ids if run_id]
        counts = defaultdict(int)
        totals = defaultdict(float)
        if ids:
            Line = self.env["billing.run.line"]
            for run, state, count in Line._read_group(
                [("run_id", "in", ids)], ["run_id", "state"], ["__count"]
            ):
                counts[run.id, state] += count
            for run, currency, amount in Line._read_group(
                [("run_id", "in", ids)], ["run_id", "currency_id"], ["amount_total:sum"]
            ):
                totals[run.id, currency] += amount
        for run in self:
            if not run.id:
                # A new run in the form: count what is in memory.
                for line in run.line_ids:
                    counts[run.id, line.state] += 1
                    totals[run.id, line.currency_id] += line.amount_total
            by_state = {
                state: counts[run.id, state]
                for state in ("not_done", "processed", "error", "skipped", "elsewhere")
            }
            total = sum(by_state.values())
            run.line_count = total
            run.not_done_count = by_state["not_done"]
            run.done_count = total - by_state["not_done"]
            run.processed_count = by_state["processed"]
            run.error_count = by_state["error"]
            run.skipped_count = by_state["skipped"] + by_state["elsewhere"]
            run.progress = (
                100.0 * (total - by_state["not_done"]) / total if total else 0
            )
            run.amount_summary = run._format_amounts(
                {
                    currency: amount
                    for (run_id, currency), amount in totals.items()
                    if run_id == run.id and currency
                }
            )

    def _format_amounts(self, amount_by_currency):
        """One amount per currency, never a sum over currencies."""
        return " · ".join(
            format_amount(self.env, amount, currency)
            for currency, amount in sorted(
                amount_by_currency.items(), key=lambda item: item[0].name
            )
        )

    @api.depends("line_ids.invoice_ids")
    def _compute_invoice_ids(self):
        """The lines' invoices, read in one query: a run of tens of thousands
        of lines is not loaded to list them."""
        ids = [run_id for run_id in self.ids if run_id]
        invoice_ids = defaultdict(set)
        if ids:
            for run, invoice in self.env["billing.run.line"]._read_group(
                [("run_id", "in", ids), ("invoice_ids", "!=", False)],
                ["run_id", "invoice_ids"],
            ):
                invoice_ids[run.id].add(invoice.id)
        Move = self.env["account.move"]
        for run in self:
            if run.id:
                run.invoice_ids = Move.browse(sorted(invoice_ids[run.id]))
            else:
                run.invoice_ids = run.line_ids.invoice_ids
            run.invoice_count = len(run.invoice_ids)

    def _compute_processing_engine(self):
        for run in self:
            run.processing_engine = "cron"

    def _compute_invoiced_line_count(self):
        counts = dict(
            self.env["billing.run.line"]._read_group(
                [("run_id", "in", self.ids), ("invoice_ids", "!=", False)],
                ["run_id"],
                ["__count"],
            )
        )
        for run in self:
            run.invoiced_line_count = counts.get(run, 0)

    def _get_stall_seconds(self):
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.stall_seconds", DEFAULT_STALL_SECONDS)
        )

    @api.depends("state")
    def _compute_is_stalled(self):
        processing = self.filtered(lambda run: run.state == "processing")
        (self - processing).is_stalled = False
        if not processing:
            return
        last_line_writes = dict(
            self.env["billing.run.line"]._read_group(
                [("run_id", "in", processing.ids)], ["run_id"], ["write_date:max"]
            )
        )
        since = fields.Datetime.now() - timedelta(seconds=self._get_stall_seconds())
        for run in processing:
            last = max(
                filter(None, (run.write_date, last_line_writes.get(run))),
                default=False,
            )
            run.is_stalled = bool(last) and last < since

    # ------------------------------------------------------------------
    # Progress over the bus
    # ------------------------------------------------------------------

    def _get_progress_values(self):
        """What the run's progress bar shows: lines, invoiced, done, errors."""
        self.ensure_one()
        self.invalidate_recordset(
            ["state", "line_count", "done_count", "error_count", "invoiced_line_count"]
        )
        return {
            "id": self.id,
            "state": self.state,
            "line_count": self.line_count,
            "invoiced_line_count": self.invoiced_line_count,
            "done_count": self.done_count,
            "error_count": self.error_count,
        }

    def _get_progress_listeners(self):
        """The users the run's progress is pushed to (hook): its company's
        billing users."""
        self.ensure_one()
        group = self.env.ref("invoice_manager.group_billing_user")
        return group.sudo().users.filtered(
            lambda user: (
                user.active and not user.share and self.company_id in user.company_ids
            )
        )

    def _push_progress(self):
        """Push the run's progress to the forms showing it (``billing_run_progress``
        on the bus, sent when the executor's transaction commits)."""
        for run in self:
            run._get_progress_listeners()._bus_send(
                "billing_run_progress", run._get_progress_values()
            )
