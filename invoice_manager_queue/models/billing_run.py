import logging

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import split_every

from odoo.addons.queue_job.delay import chain, group
from odoo.addons.queue_job.job import ENQUEUED, PENDING, STARTED, WAIT_DEPENDENCIES

_logger = logging.getLogger(__name__)

DEFAULT_JOB_SIZE = 50


class BillingRun(models.Model):
    """Runs processed by queue jobs: one job invoices a chunk of lines, the next
    one renders and sends that chunk's PDFs, a last one closes the run. Any
    server of the database running queue_job's job runner takes them, on the
    channel ``root.billing``."""

    _inherit = "billing.run"

    job_graph_uuid = fields.Char(
        string="Jobs",
        readonly=True,
        copy=False,
        help="The queue jobs processing the run share this graph identifier.",
    )
    job_count = fields.Integer(compute="_compute_job_count")

    def _compute_job_count(self):
        uuids = [uuid for uuid in self.mapped("job_graph_uuid") if uuid]
        counts = dict(
            self.env["queue.job"]
            .sudo()
            ._read_group([("graph_uuid", "in", uuids)], ["graph_uuid"], ["__count"])
        )
        for run in self:
            run.job_count = counts.get(run.job_graph_uuid, 0)

    # ------------------------------------------------------------------
    # Handing runs to the jobs
    # ------------------------------------------------------------------

    @api.model
    def _use_queue_jobs(self):
        """Whether runs are processed by queue jobs (system parameter
        ``invoice_manager.processing_engine``: ``queue_job``, the default, or
        ``cron`` for Odoo's scheduler)."""
        engine = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.processing_engine", "queue_job")
        )
        return engine == "queue_job"

    def _hand_to_background(self):
        """Enqueue each run's jobs instead of triggering the scheduler's job;
        a run whose jobs are still under way is left to them (calling
        ``action_process()`` again never doubles the work)."""
        if not self._use_queue_jobs():
            self.filtered(
                lambda run: run.job_graph_uuid and not run._has_jobs_under_way()
            ).sudo().job_graph_uuid = False
            super()._hand_to_background()
            return
        for run in self:
            if run._has_jobs_under_way():
                continue
            run._enqueue_processing_jobs()

    @api.model
    def _get_cron_runs_domain(self):
        return expression.AND(
            [super()._get_cron_runs_domain(), [("job_graph_uuid", "=", False)]]
        )

    def _get_graph_jobs(self):
        self.ensure_one()
        if not self.job_graph_uuid:
            return self.env["queue.job"]
        return (
            self.env["queue.job"]
            .sudo()
            .search([("graph_uuid", "=", self.job_graph_uuid)])
        )

    def _has_jobs_under_way(self):
        """Whether a job of the run is waiting to run or running. Jobs waiting
        for a job that failed are not: they would never run."""
        self.ensure_one()
        return any(
            job.state in (PENDING, ENQUEUED, STARTED) for job in self._get_graph_jobs()
        )

    def _get_job_size(self):
        """Lines one job invoices (system parameter ``invoice_manager.job_size``)."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.job_size", DEFAULT_JOB_SIZE)
        )

    def _prepare_job_properties(self, description):
        return {"description": description}

    def _job_delayable(self, description):
        return self.delayable(**self._prepare_job_properties(description))

    def _enqueue_processing_jobs(self):
        """The run's graph of jobs: for each chunk of pending lines, a job that
        invoices it, followed, when some of its lines are emailed or printed, by
        a job that renders and sends their PDFs; once all are done, a job that
        closes the run."""
        self.ensure_one()
        # Jobs of an earlier graph left waiting for a job that failed.
        self._get_graph_jobs().filtered(
            lambda job: job.state == WAIT_DEPENDENCIES
        ).button_cancelled()
        lines = self._get_pending_lines()
        if not lines:
            self._finish_processing()
            return
        chunks = []
        for chunk in split_every(self._get_job_size(), lines.ids, lines.browse):
            invoice = self._job_delayable(
                self.env._(
                    "%(run)s: invoice %(count)s lines", run=self.name, count=len(chunk)
                )
            )._job_invoice_lines(chunk.ids)
            delivered = chunk.filtered(
                lambda line: line._get_delivery_action() != "create_only"
            )
            if delivered:
                deliver = self._job_delayable(
                    self.env._(
                        "%(run)s: send the PDFs of %(count)s lines",
                        run=self.name,
                        count=len(delivered),
                    )
                )._job_deliver_lines(delivered.ids)
                invoice = chain(invoice, deliver)
            chunks.append(invoice)
        finish = self._job_delayable(
            self.env._("%(run)s: close the run", run=self.name)
        )._job_finish()
        group(*chunks).on_done(finish).delay()
        self.sudo().job_graph_uuid = finish._generated_job.graph_uuid

    # ------------------------------------------------------------------
    # The jobs (queue_job commits each one: one job, one transaction)
    # ------------------------------------------------------------------

    def _get_job_run(self):
        """The run as its processing user, in one transaction per job: queue_job
        commits the job's work, or rolls it back and retries the job."""
        self.ensure_one()
        return self._get_processing_env_run().with_context(billing_run_no_commit=True)

    def _job_invoice_lines(self, line_ids):
        """Invoice the lines ``line_ids`` still to process. Done again after a
        crash, it skips what was committed: a line with its invoice is not
        invoiced twice."""
        run = self._get_job_run()
        if run.state != "processing":
            return self.env._("Run %s is not processing: nothing done.", run.name)
        lines = run.line_ids.browse(line_ids).filtered(
            lambda line: line.state == "not_done"
        )
        run._process_chunk(lines)
        return self.env._(
            "%(done)s of %(count)s lines invoiced",
            done=len(lines.filtered("invoice_ids")),
            count=len(lines),
        )

    def _job_deliver_lines(self, line_ids):
        """Render and email or print the invoices of ``line_ids`` not yet
        delivered, through Odoo's ``account.move.send``."""
        run = self._get_job_run()
        if run.state != "processing":
            return self.env._("Run %s is not processing: nothing done.", run.name)
        lines = run.line_ids.browse(line_ids)
        run._deliver_lines(lines, run._send_lines_batched)
        return self.env._(
            "%(done)s of %(count)s lines delivered",
            done=len(lines.filtered(lambda line: line.state == "processed")),
            count=len(lines),
        )

    def _job_finish(self):
        """Close the run once every line is done (print PDF, chatter, the
        user's notification); lines a failed job left are reported."""
        run = self._get_job_run()
        if run.state != "processing":
            return self.env._("Run %s is not processing.", run.name)
        pending = run._get_pending_lines()
        if pending:
            return self.env._(
                "%s lines are still to process: see the run's failed jobs.",
                len(pending),
            )
        run._finish_processing()
        return self.env._("Run %s processed.", run.name)

    def action_view_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "queue_job.action_queue_job"
        )
        action["domain"] = [("graph_uuid", "=", self.job_graph_uuid)]
        action["context"] = {}
        return action
