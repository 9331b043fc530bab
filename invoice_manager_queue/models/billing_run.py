import logging
from contextlib import contextmanager
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.tools import split_every

from odoo.addons.invoice_manager.models.billing_run_invoicer import (
    is_connection_lost,
)
from odoo.addons.invoice_manager.services import worker_clock
from odoo.addons.invoice_manager.services.chunk_sizer import DEFAULT_LINE_SECONDS
from odoo.addons.queue_job.delay import chain, group
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import ENQUEUED, PENDING, STARTED, WAIT_DEPENDENCIES

_logger = logging.getLogger(__name__)

DEFAULT_JOB_SIZE = 50
# A job started this long ago whose transaction is gone was interrupted.
JOB_START_GRACE_SECONDS = 30
# Namespace of the advisory locks a running job holds ("BILL").
JOB_LOCK_NAMESPACE = 0x42494C4C
# Seconds before a job that lost its database connection is tried again.
CONNECTION_LOST_RETRY_SECONDS = 10


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
    processing_engine = fields.Selection(
        selection_add=[("queue_job", "Queue jobs")],
    )

    @api.depends("job_graph_uuid")
    def _compute_processing_engine(self):
        queued = self.filtered("job_graph_uuid")
        queued.processing_engine = "queue_job"
        return super(BillingRun, self - queued)._compute_processing_engine()

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
    # The run's graph of jobs (billing.run.executor hands runs to it)
    # ------------------------------------------------------------------

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

    def _cancel_waiting_jobs(self):
        """Cancel the runs' jobs not started yet and leave the runs to the
        scheduler (a job already running ends; it skips what the scheduler
        invoiced, and the scheduler what it did)."""
        for run in self:
            run._get_graph_jobs().filtered(
                lambda job: job.state in (PENDING, ENQUEUED, WAIT_DEPENDENCIES)
            ).button_cancelled()
        self.sudo().job_graph_uuid = False

    def _get_job_size(self):
        """Lines one job invoices: at most ``invoice_manager.job_size`` (50), and
        what fits in half the time an HTTP worker has for a request (jobs run
        as requests: ``--limit-time-real``) at the run's measured cost of a line
        (0.25 s before it is measured)."""
        self.ensure_one()
        size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.job_size", DEFAULT_JOB_SIZE)
        )
        limit = worker_clock.request_time_limit()
        if limit:
            line_seconds = self.process_line_seconds or DEFAULT_LINE_SECONDS
            fits = int(limit * worker_clock.JOB_TIME_SHARE / line_seconds)
            size = min(size, max(fits, 1))
        return max(size, 1)

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

    @contextmanager
    def _job_transaction(self):
        """The body of every job of a run.

        The job's transaction first takes an advisory lock on its job, held
        until queue_job commits or rolls back the job: a started job whose lock
        is free has lost its transaction (worker killed, database restarted),
        and ``_requeue_interrupted_jobs()`` gives it back to the job runner. (An
        advisory lock, not the job's row: queue_job writes that row from another
        transaction when a job fails.) A job
        whose database connection is lost is postponed and tried again once the
        database is back (queue_job retries only transaction collisions itself).
        """
        job_uuid = self.env.context.get("job_uuid")
        try:
            if job_uuid:
                self.env.cr.execute(
                    "SELECT pg_advisory_xact_lock(%s, id) FROM queue_job "
                    "WHERE uuid = %s",
                    [JOB_LOCK_NAMESPACE, job_uuid],
                )
            yield
        except (psycopg2.InterfaceError, psycopg2.OperationalError) as error:
            if not is_connection_lost(error):
                raise
            _logger.warning(
                "Billing run %s: job %s lost its database connection (%s); "
                "tried again in %s s",
                self.id,
                job_uuid,
                error,
                CONNECTION_LOST_RETRY_SECONDS,
            )
            raise RetryableJobError(
                self.env._("The database connection was lost: %s", error),
                seconds=CONNECTION_LOST_RETRY_SECONDS,
            ) from error

    def _get_job_start_grace(self):
        """Seconds after its dispatch or start before a job without its
        transaction is taken as interrupted (system parameter
        ``invoice_manager.job_start_grace``)."""
        return int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.job_start_grace", JOB_START_GRACE_SECONDS)
        )

    def _requeue_interrupted_jobs(self):
        """Give back to the job runner the jobs of these runs that were
        interrupted: started, but their transaction is gone (worker killed,
        database restarted under them), or sent to a worker that never started
        them. Their work was rolled back with their transaction; done again, a
        job skips what other jobs committed. Returns the jobs."""
        uuids = [uuid for uuid in self.mapped("job_graph_uuid") if uuid]
        jobs = self.env["queue.job"].sudo()
        if not uuids:
            return jobs
        before = fields.Datetime.now() - timedelta(seconds=self._get_job_start_grace())
        jobs.flush_model(["graph_uuid", "state", "date_started", "date_enqueued"])
        # Rows being written (a job starting or ending) are skipped; then a job
        # whose advisory lock is free has no transaction (see _job_transaction).
        # Neither statement waits for a running job.
        self.env.cr.execute(
            """
            SELECT id FROM queue_job
             WHERE graph_uuid IN %s
               AND ((state = %s AND date_started <= %s)
                    OR (state = %s AND date_enqueued <= %s))
               FOR UPDATE SKIP LOCKED
            """,
            [tuple(uuids), STARTED, before, ENQUEUED, before],
        )
        candidates = [row[0] for row in self.env.cr.fetchall()]
        if not candidates:
            return jobs
        self.env.cr.execute(
            "SELECT id FROM unnest(%s::int[]) AS id "
            "WHERE pg_try_advisory_xact_lock(%s, id)",
            [candidates, JOB_LOCK_NAMESPACE],
        )
        jobs = jobs.browse(row[0] for row in self.env.cr.fetchall())
        if not jobs:
            return jobs
        jobs.requeue()
        jobs_by_graph = jobs.grouped("graph_uuid")
        for run in self:
            run_jobs = jobs_by_graph.get(run.job_graph_uuid)
            if not run_jobs:
                continue
            _logger.warning(
                "Billing run %s: %s interrupted job(s) requeued: %s",
                run.name,
                len(run_jobs),
                ", ".join(run_jobs.mapped("uuid")),
            )
            run.sudo().message_post(
                body=self.env._(
                    "%(count)s interrupted job(s) given back to the job runner: "
                    "%(jobs)s. What they had not committed is done again.",
                    count=len(run_jobs),
                    jobs=", ".join(run_jobs.mapped("name")),
                )
            )
        return jobs

    @api.model
    def _cron_requeue_interrupted_jobs(self):
        """Scheduler: requeue the interrupted jobs of the runs being processed."""
        self.search(
            [("state", "=", "processing"), ("job_graph_uuid", "!=", False)]
        )._requeue_interrupted_jobs()

    def _get_job_run(self):
        """The run as its processing user, in one transaction per job: queue_job
        commits the job's work, or rolls it back and retries the job."""
        self.ensure_one()
        return self._get_processing_env_run().with_context(billing_run_no_commit=True)

    def _job_invoice_lines(self, line_ids):
        """Invoice the lines ``line_ids`` still to process. Done again after a
        crash, it skips what was committed: a line with its invoice is not
        invoiced twice."""
        with self._job_transaction():
            run = self._get_job_run()
            if run.state != "processing":
                return self.env._("Run %s is not processing: nothing done.", run.name)
            lines = run._search_lines(
                [("id", "in", line_ids), ("state", "=", "not_done")]
            )
            run.env["billing.run.invoicer"]._invoice_chunk(run, lines)
            run._push_progress()
        return self.env._(
            "%(done)s of %(count)s lines invoiced",
            done=len(lines.filtered("invoice_ids")),
            count=len(lines),
        )

    def _job_deliver_lines(self, line_ids):
        """Render and email or print the invoices of ``line_ids`` not yet
        delivered, through Odoo's ``account.move.send``."""
        with self._job_transaction():
            run = self._get_job_run()
            if run.state != "processing":
                return self.env._("Run %s is not processing: nothing done.", run.name)
            lines = run._search_lines([("id", "in", line_ids)])
            run.env["billing.run.sender"]._deliver_lines(run, lines)
            run._push_progress()
        return self.env._(
            "%(done)s of %(count)s lines delivered",
            done=len(lines.filtered(lambda line: line.state == "processed")),
            count=len(lines),
        )

    def _job_finish(self):
        """Close the run once every line is done (print PDF, chatter, the
        user's notification); lines a failed job left are reported."""
        with self._job_transaction():
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
