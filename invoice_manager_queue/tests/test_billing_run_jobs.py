from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

import odoo
from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import config

from odoo.addons.invoice_manager.tests.common import InvoiceManagerCommon
from odoo.addons.queue_job.job import Job
from odoo.addons.queue_job.tests.common import trap_jobs

ORDER = ["_job_invoice_lines", "_job_deliver_lines", "_job_finish"]


@tagged("post_install", "-at_install")
class TestBillingRunJobs(InvoiceManagerCommon):
    """Process hands the run to queue jobs on the channel ``root.billing``:
    jobs of 2 lines invoice, a job sends the PDFs of the emailed line after
    its chunk, a last job closes the run. Three sales of October: 317.98,
    115.00 and 115.00 to invoice, taxes included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ICP = cls.env["ir.config_parameter"]
        ICP.set_param("invoice_manager.processing_engine", "queue_job")
        ICP.set_param("invoice_manager.job_size", 2)
        cls.sale_alpha = cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.sale_gamma = cls._create_sale(cls.customer_gamma, date(2026, 10, 5))

    def _fetched_run(self, email=True):
        run = self._new_run()
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 3)
        if email:
            self._line_of(run, self.sale_alpha).billing_action = "email"
        return run

    def _billed(self, run):
        return sorted(run.line_ids.invoice_ids.mapped("amount_total"))

    def test_process_enqueues_the_jobs_and_they_invoice_each_sale_once(self):
        run = self._fetched_run()
        with trap_jobs() as trap:
            run.action_process()
            self.assertEqual(run.state, "processing")
            self.assertFalse(run.invoice_ids, "nothing is invoiced in the request")
            trap.assert_jobs_count(2, only=run._job_invoice_lines)
            trap.assert_jobs_count(1, only=run._job_deliver_lines)
            trap.assert_jobs_count(1, only=run._job_finish)
            for job in trap.enqueued_jobs:
                self.assertEqual(job.channel, "root.billing")
                self.assertEqual(job.recordset, run, "the run is the job's record")
            # The scheduler's job leaves the run to the queue jobs.
            self.env["billing.run"]._cron_process_runs()
            self.assertFalse(run.invoice_ids)

            trap.perform_enqueued_jobs()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])
        alpha = self._line_of(run, self.sale_alpha)
        self.assertEqual(alpha.delivery_channel, "email")
        self.assertTrue(alpha.invoice_ids.invoice_pdf_report_id, "its PDF was made")
        self.assertEqual(
            self.sale_alpha.invoice_ids, alpha.invoice_ids, "invoiced once"
        )
        self.assertIn("3 processed, 0 in error", run.message_ids[0].body)

    def test_progress_counts_what_the_jobs_did(self):
        run = self._fetched_run(email=False)
        with trap_jobs() as trap:
            run.action_process()
            first = min(
                (
                    job
                    for job in trap.enqueued_jobs
                    if job.func.__name__ == "_job_invoice_lines"
                ),
                key=lambda job: job.args[0],
            )
            first.perform()
        run.invalidate_recordset()
        self.assertEqual(len(run.invoice_ids), 2)
        self.assertEqual((run.done_count, run.line_count), (2, 3))
        self.assertEqual(run.state, "processing")

    def test_a_job_done_again_invoices_nothing_twice(self):
        run = self._fetched_run()
        with trap_jobs() as trap:
            run.action_process()
            invoice_jobs = [
                job
                for job in trap.enqueued_jobs
                if job.func.__name__ == "_job_invoice_lines"
            ]
            for job in invoice_jobs:
                job.perform()
            invoices = run.line_ids.invoice_ids
            self.assertEqual(len(invoices), 3)
            # A retried job (its worker died after the commit) finds its
            # lines invoiced.
            for job in invoice_jobs:
                job.perform()
            trap.perform_enqueued_jobs()
        self.assertEqual(run.line_ids.invoice_ids, invoices)
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])
        self.assertEqual(run.state, "done")

    def test_process_again_while_jobs_are_under_way_enqueues_nothing(self):
        run = self._fetched_run()
        Jobs = self.env["queue.job"].sudo()
        run.action_process()
        jobs = Jobs.search([("graph_uuid", "=", run.job_graph_uuid)])
        self.assertEqual(len(jobs), 4)
        self.assertEqual(run.job_count, 4)
        self.assertEqual(set(jobs.mapped("channel")), {"root.billing"})
        run.action_process()
        self.assertEqual(Jobs.search_count([("model_name", "=", "billing.run")]), 4)

    def test_a_failed_job_does_not_block_processing_again(self):
        run = self._fetched_run()
        Jobs = self.env["queue.job"].sudo()
        run.action_process()
        first_graph = run.job_graph_uuid
        jobs = Jobs.search([("graph_uuid", "=", first_graph)])
        finish = jobs.filtered(lambda job: job.method_name == "_job_finish")
        work = jobs - finish
        # One job failed for good, the others ran: the closing job would wait
        # for ever.
        work[0].state = "failed"
        work[1:].state = "done"
        self.assertEqual(finish.state, "wait_dependencies")
        run.action_process()
        self.assertNotEqual(run.job_graph_uuid, first_graph)
        self.assertEqual(finish.state, "cancelled")
        new_jobs = Jobs.search([("graph_uuid", "=", run.job_graph_uuid)])
        for record in new_jobs.sorted(lambda job: ORDER.index(job.method_name)):
            Job.load(self.env, record.uuid).perform()
        self.assertEqual(run.state, "done")
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])

    def test_interrupted_jobs_are_given_back_to_the_runner(self):
        """A job started a minute ago whose transaction is gone (its worker was
        killed: no advisory lock held) is requeued by the scheduler and by
        Process again; one that has just started is left to its worker."""
        run = self._fetched_run(email=False)
        Jobs = self.env["queue.job"].sudo()
        run.action_process()
        jobs = Jobs.search([("graph_uuid", "=", run.job_graph_uuid)])
        killed, starting = jobs.filtered(
            lambda job: job.method_name == "_job_invoice_lines"
        )
        now = fields.Datetime.now()
        killed.write({"state": "started", "date_started": now - timedelta(minutes=1)})
        starting.write({"state": "started", "date_started": now})
        self.env["billing.run"]._cron_requeue_interrupted_jobs()
        self.assertEqual(killed.state, "pending", "given back to the job runner")
        self.assertEqual(starting.state, "started")
        self.assertIn("1 interrupted job(s) given back", run.message_ids[0].body)
        # A job sent to a worker that never started it, 2 minutes ago.
        killed.write({"state": "enqueued", "date_enqueued": now - timedelta(minutes=2)})
        run.action_process()
        self.assertEqual(killed.state, "pending")
        self.assertEqual(Jobs.search_count([("model_name", "=", "billing.run")]), 3)
        for record in jobs.sorted(lambda job: ORDER.index(job.method_name)):
            Job.load(self.env, record.uuid).perform()
        self.assertEqual(run.state, "done")
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])

    def test_a_billing_user_processes_by_jobs_without_seeing_them(self):
        biller = new_test_user(
            self.env,
            login="biller_jobs",
            groups="invoice_manager.group_billing_user",
            company_id=self.env.company.id,
        )
        run = self._fetched_run(email=False).with_user(biller)
        with trap_jobs() as trap:
            run.action_process()
            self.assertEqual(
                {job.user_id for job in trap.enqueued_jobs},
                {biller.id},
                "the jobs run as the user who processed the run",
            )
            trap.perform_enqueued_jobs()
        self.assertEqual(run.state, "done")
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])
        # queue_job's records stay its managers'.
        with self.assertRaises(AccessError):
            self.env["queue.job"].with_user(biller).search([])

    def test_with_the_scheduler_as_engine_no_job_is_made(self):
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.processing_engine", "cron"
        )
        run = self._fetched_run()
        with trap_jobs() as trap:
            run.action_process()
            trap.assert_jobs_count(0)
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])

    def test_by_default_jobs_only_when_this_server_runs_a_job_runner(self):
        ICP = self.env["ir.config_parameter"]
        ICP.search([("key", "=", "invoice_manager.processing_engine")]).unlink()
        # A server that does not load queue_job server-wide: no job runner
        # would take the jobs, the scheduler processes the run.
        run = self._fetched_run()
        with (
            patch.object(odoo.conf, "server_wide_modules", ["base", "web"]),
            trap_jobs() as trap,
        ):
            run.action_process()
            trap.assert_jobs_count(0)
        self.assertEqual(run.processing_engine, "cron")
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])
        # Loaded server-wide (--load=web,queue_job): its job runner serves
        # root.billing, runs go to jobs.
        other = self._new_run(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
        self._create_sale(self.customer_beta, date(2026, 11, 4))
        other.action_fetch()
        with (
            patch.object(
                odoo.conf, "server_wide_modules", ["base", "web", "queue_job"]
            ),
            trap_jobs() as trap,
        ):
            other.action_process()
            trap.assert_jobs_count(1, only=other._job_invoice_lines)
        self.assertEqual(other.processing_engine, "queue_job")

    def test_run_whose_jobs_nobody_takes_is_resumed_by_the_scheduler(self):
        run = self._fetched_run()
        run.action_process()
        jobs = (
            self.env["queue.job"]
            .sudo()
            .search([("graph_uuid", "=", run.job_graph_uuid)])
        )
        self.assertEqual(len(jobs), 4, "two jobs of 2 lines, a sending, a closing")
        later = fields.Datetime.now() + timedelta(minutes=5)
        with freeze_time(later):
            run.invalidate_recordset(["is_stalled"])
            self.assertTrue(run.is_stalled, "no job ran for 5 minutes")
        # No job runner serves root.billing: Resume hands the run to the
        # scheduler, and the jobs nobody took are cancelled.
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.processing_engine", "auto"
        )
        with (
            freeze_time(later),
            patch.object(odoo.conf, "server_wide_modules", ["base", "web"]),
        ):
            run.action_process()
        self.assertEqual(run.processing_engine, "cron")
        self.assertEqual(set(jobs.mapped("state")), {"cancelled"})
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(self._billed(run), [115.00, 115.00, 317.98])
        for sale in (self.sale_alpha, self.sale_beta, self.sale_gamma):
            self.assertEqual(len(sale.invoice_ids), 1, "invoiced once")

    def test_jobs_fit_in_the_time_a_worker_has_for_a_request(self):
        run = self._fetched_run()
        self.env["ir.config_parameter"].set_param("invoice_manager.job_size", 50)
        with patch.dict(config.options, {"workers": 2, "limit_time_real": 10}):
            # 0.25 s a line until measured: 5 s, half the limit, is 20 lines.
            self.assertEqual(run._get_job_size(), 20)
            run.sudo().process_line_seconds = 2.0
            self.assertEqual(run._get_job_size(), 2)
            run.sudo().process_line_seconds = 30.0
            self.assertEqual(run._get_job_size(), 1, "one line, at least")
        with patch.dict(config.options, {"workers": 0}):
            self.assertEqual(run._get_job_size(), 50, "threaded: no limit")
