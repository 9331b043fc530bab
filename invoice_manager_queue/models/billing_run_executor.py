import odoo
from odoo import api, models
from odoo.osv import expression

from odoo.addons.queue_job.jobrunner import _is_runner_enabled

# Values of the system parameter invoice_manager.processing_engine.
ENGINE_AUTO = "auto"
ENGINE_QUEUE_JOB = "queue_job"
ENGINE_CRON = "cron"


class BillingRunExecutor(models.AbstractModel):
    """With queue jobs, the executor hands a run to a graph of jobs on the
    channel ``root.billing`` instead of the scheduler's job, when a job runner
    serves them."""

    _inherit = "billing.run.executor"

    @api.model
    def _get_processing_engine_param(self):
        """System parameter ``invoice_manager.processing_engine``: ``auto`` (the
        default: queue jobs when this server runs queue_job's job runner, else
        the scheduler), ``queue_job`` (always; for a job runner on another
        server of the database) or ``cron`` (never)."""
        return (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("invoice_manager.processing_engine", ENGINE_AUTO)
        )

    @api.model
    def _job_runner_serves_billing(self):
        """Whether this server runs queue_job's job runner, which takes the jobs
        of every channel under ``root`` (``root.billing`` included): queue_job
        loaded server-wide (``--load=web,queue_job``) and not disabled by a
        ``root:0`` channel setting."""
        return "queue_job" in odoo.conf.server_wide_modules and _is_runner_enabled()

    @api.model
    def _use_queue_jobs(self):
        engine = self._get_processing_engine_param()
        if engine == ENGINE_QUEUE_JOB:
            return True
        if engine == ENGINE_CRON:
            return False
        return self._job_runner_serves_billing()

    @api.model
    def _hand_to_background(self, runs):
        """Enqueue each run's jobs instead of triggering the scheduler's job;
        a run whose jobs are still under way is left to them (calling
        ``action_process()`` again never doubles the work), after its
        interrupted jobs, if any, are given back to the job runner."""
        if not self._use_queue_jobs():
            # Jobs nobody took are cancelled; the scheduler takes the run.
            runs.filtered("job_graph_uuid")._cancel_waiting_jobs()
            super()._hand_to_background(runs)
            return
        runs._requeue_interrupted_jobs()
        for run in runs:
            if run._has_jobs_under_way():
                continue
            run._enqueue_processing_jobs()

    @api.model
    def _get_cron_runs_domain(self):
        return expression.AND(
            [super()._get_cron_runs_domain(), [("job_graph_uuid", "=", False)]]
        )
