from unittest.mock import patch

from odoo.tests import Form, TransactionCase, tagged

from odoo.addons.invoice_manager_queue.models.billing_run_executor import (
    BillingRunExecutor,
)


@tagged("post_install", "-at_install")
class TestEngineSettings(TransactionCase):
    """The settings page says which engine processes billing runs on this
    server, and why; what it sets is what the executor uses."""

    def _settings(self, engine, runner):
        with patch.object(
            BillingRunExecutor, "_job_runner_serves_billing", return_value=runner
        ):
            form = Form(self.env["res.config.settings"])
            form.billing_processing_engine = engine
            status = form.billing_processing_engine_status
            form.save().execute()
            uses_jobs = self.env["billing.run.executor"]._use_queue_jobs()
        return status, uses_jobs

    def test_automatic_follows_the_job_runner_and_says_why(self):
        status, jobs = self._settings("auto", runner=False)
        self.assertIn("Odoo's scheduler", status)
        self.assertIn("--load=web,queue_job", status)
        self.assertFalse(jobs)
        status, jobs = self._settings("auto", runner=True)
        self.assertTrue(status.startswith("Queue jobs"))
        self.assertTrue(jobs)

    def test_forced_engines_are_kept_and_explained(self):
        status, jobs = self._settings("cron", runner=True)
        self.assertEqual((status, jobs), ("Odoo's scheduler: set so here.", False))
        status, jobs = self._settings("queue_job", runner=False)
        self.assertIn("runs no job runner", status)
        self.assertTrue(jobs)
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(
                "invoice_manager.processing_engine"
            ),
            "queue_job",
        )
