from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged
from odoo.tools import config

from ..services import worker_clock
from ..services.chunk_sizer import ChunkSizer
from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunTimeLimit(InvoiceManagerCommon):
    """The scheduler's chunks fit the time a prefork worker has; a chunk killed
    on the limit is retried smaller, and a run whose single line cannot be
    invoiced within it stops and says which limit to raise."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls._create_sale(cls.customer_gamma, date(2026, 10, 5))

    def _processing_run(self):
        run = self._new_run()
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 3)
        run.action_process()
        self.assertEqual(run.state, "processing")
        return run

    @contextmanager
    def _prefork(self, limit_time_real=10, limit_time_real_cron=-1, pinged=0.0):
        """Odoo's options of a prefork server with these time limits, in a cron
        worker that told its master it was alive ``pinged`` seconds ago."""
        with ExitStack() as stack:
            stack.enter_context(
                patch.dict(
                    config.options,
                    {
                        "workers": 2,
                        "limit_time_real": limit_time_real,
                        "limit_time_real_cron": limit_time_real_cron,
                    },
                )
            )
            stack.enter_context(
                patch.object(
                    worker_clock, "seconds_since_worker_pinged", return_value=pinged
                )
            )
            yield

    def test_chunks_are_sized_from_the_time_left_and_the_cost_of_a_line(self):
        sizer = ChunkSizer(100)
        self.assertEqual(sizer.next_size(), 100, "no limit: the configured size")
        self.assertEqual(sizer.next_size(1.0), 4, "unmeasured: 0.25 s a line")
        sizer.record(4, 0.4)
        self.assertEqual(sizer.next_size(1.0), 10)
        sizer.record(10, 3.0)  # slower now: 0.3 s a line, weighed with 0.1
        self.assertEqual(sizer.next_size(1.0), 5)
        self.assertEqual(sizer.next_size(0.0), 1, "always at least one line")
        self.assertEqual(ChunkSizer(100, 0.01, cap=3).next_size(60.0), 3)
        self.assertEqual(ChunkSizer(20, 0.01).next_size(60.0), 20)

    def test_a_tick_of_the_scheduler_fits_the_workers_time_limit(self):
        executor = self.env["billing.run.executor"]
        with self._prefork(limit_time_real=10):
            # 10 calls a tick share 60 % of the 10 s a cron worker has.
            self.assertAlmostEqual(executor._get_cron_batch_seconds(), 0.6)
        with self._prefork(limit_time_real=120, limit_time_real_cron=300):
            self.assertAlmostEqual(executor._get_cron_batch_seconds(), 18.0)
        with patch.dict(config.options, {"workers": 0}):
            self.assertEqual(executor._get_cron_batch_seconds(), 60)

    def test_call_woken_late_in_the_workers_time_hands_it_back_at_once(self):
        run = self._processing_run()
        cron = self.env.ref("invoice_manager.ir_cron_billing_run_process")
        Trigger = self.env["ir.cron.trigger"]
        before = Trigger.search([("cron_id", "=", cron.id)])
        # The worker slept 8 of its 10 s before the scheduler woke it up.
        with self._prefork(limit_time_real=10, pinged=8.0):
            self.env["billing.run"]._cron_process_runs()
        self.assertFalse(run.invoice_ids, "no chunk started that could be killed")
        self.assertEqual(run.state, "processing")
        self.assertTrue(
            Trigger.search([("cron_id", "=", cron.id)]) - before,
            "the scheduler is woken again, for a pass with the worker's full time",
        )
        with self._prefork(limit_time_real=10, pinged=0.0):
            self.env["billing.run"]._cron_process_runs()
        self.assertTrue(run.invoice_ids)

    def test_chunk_killed_on_the_limit_is_done_again_smaller(self):
        run = self._processing_run()
        # The scheduler's last call was killed while invoicing 2 lines.
        run.sudo().process_chunk_started = 2
        with self._prefork():
            for __ in range(10):  # the calls of one pass of the scheduler
                self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        self.assertEqual(
            sorted(run.invoice_ids.mapped("amount_total")), [115.0, 115.0, 317.98]
        )
        self.assertFalse(run.process_stop_message)

    def test_run_whose_single_line_is_killed_stops_and_names_the_limit(self):
        run = self._processing_run()
        # A chunk of one line killed a second time in a row.
        run.sudo().write({"process_chunk_started": 1, "process_chunk_kills": 1})
        with self._prefork(limit_time_real=10):
            self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "ready", "no longer waiting for the scheduler")
        self.assertFalse(run.invoice_ids)
        self.assertEqual(set(run.line_ids.mapped("state")), {"not_done"})
        message = run.process_stop_message
        self.assertIn("10 s", message)
        self.assertIn("--limit-time-real-cron", message)
        self.assertIn("Processing stopped", run.message_ids[0].body)
        # The limit raised, Process again: the run ends, the message is gone.
        run.action_process()
        self.assertFalse(run.process_stop_message)
        with self._prefork(limit_time_real=120):
            self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.invoice_ids), 3)

    def test_form_says_who_processes_and_offers_resume_only_when_stalled(self):
        run = self._processing_run()
        self.assertEqual(run.processing_engine, "cron")
        self.assertEqual(run.process_uid, self.env.user, "who asked")
        self.assertFalse(run.process_date, "not processed yet")
        self.assertFalse(run.is_stalled)
        with freeze_time(fields.Datetime.now() + timedelta(minutes=2)):
            run.invalidate_recordset(["is_stalled"])
            self.assertFalse(run.is_stalled, "3 minutes before Resume is offered")
        with freeze_time(fields.Datetime.now() + timedelta(minutes=4)):
            run.invalidate_recordset(["is_stalled"])
            self.assertTrue(run.is_stalled)
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertTrue(run.process_date)
        self.assertFalse(run.is_stalled)
