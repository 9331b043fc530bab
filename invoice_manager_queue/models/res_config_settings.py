from odoo import api, fields, models

from .billing_run_executor import ENGINE_AUTO, ENGINE_CRON, ENGINE_QUEUE_JOB


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    billing_processing_engine = fields.Selection(
        [
            (ENGINE_AUTO, "Automatic"),
            (ENGINE_QUEUE_JOB, "Queue Jobs"),
            (ENGINE_CRON, "Odoo's Scheduler"),
        ],
        string="Billing Runs Processed By",
        config_parameter="invoice_manager.processing_engine",
        default=ENGINE_AUTO,
        help="Automatic: queue jobs when this server runs queue_job's job runner "
        "(which serves the channel root.billing), else Odoo's scheduler. Queue "
        "Jobs: always (a job runner on another server of the database serves "
        "them). Odoo's Scheduler: never queue jobs.",
    )
    billing_processing_engine_status = fields.Char(
        string="Billing Runs Now",
        compute="_compute_billing_processing_engine_status",
    )

    @api.depends("billing_processing_engine")
    def _compute_billing_processing_engine_status(self):
        executor = self.env["billing.run.executor"]
        runner = executor._job_runner_serves_billing()
        for settings in self:
            engine = settings.billing_processing_engine or ENGINE_AUTO
            settings.billing_processing_engine_status = (
                settings._get_billing_engine_status(engine, runner)
            )

    def _get_billing_engine_status(self, engine, runner):
        """Which engine processes billing runs on this server, and why."""
        if engine == ENGINE_CRON:
            return self.env._("Odoo's scheduler: set so here.")
        if engine == ENGINE_QUEUE_JOB:
            if runner:
                return self.env._(
                    "Queue jobs: set so here; this server's job runner serves "
                    "the channel root.billing."
                )
            return self.env._(
                "Queue jobs: set so here, but this server runs no job runner: "
                "runs wait until a job runner of another server of this database "
                "takes their jobs (a run without progress says so on its form)."
            )
        if runner:
            return self.env._(
                "Queue jobs: this server runs queue_job's job runner, which "
                "serves the channel root.billing."
            )
        return self.env._(
            "Odoo's scheduler: this server does not run queue_job's job runner "
            "(queue_job is not loaded server-wide, --load=web,queue_job, or its "
            "root channel is off), so nothing would take the billing jobs."
        )
