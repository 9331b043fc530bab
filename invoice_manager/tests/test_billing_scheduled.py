from datetime import date
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestScheduledBilling(InvoiceManagerCommon):
    """Scheduled scenarios: Odoo's scheduler invoices the last closed period by
    itself, once, and tells the Billing Managers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scenario.is_scheduled = True
        cls.sale_alpha = cls._create_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_mixed_sale(cls.customer_beta, date(2026, 10, 30))
        cls.sale_november = cls._create_sale(cls.customer_gamma, date(2026, 11, 1))
        cls.manager = new_test_user(
            cls.env,
            login="billing_boss",
            email="boss@billing.test",
            groups="invoice_manager.group_billing_manager",
        )
        cls.Scenario = cls.env["billing.scenario"]
        cls.Run = cls.env["billing.run"]

    def _tick(self, day="2026-11-02 03:00"):
        """One tick of each scheduled action, as Odoo's scheduler runs them, on
        ``day`` (the processing job runs on the real clock: it times its
        batches)."""
        with freeze_time(day):
            self.Scenario._cron_invoice_scheduled_scenarios()
        with patch.object(type(self.env["res.users"]), "_bus_send"):
            self.Run._cron_process_runs()

    def _runs(self):
        return self.Run.search([("scenario_id", "=", self.scenario.id)])

    def test_scheduler_invoices_the_last_closed_period_once(self):
        self._tick()
        run = self._runs()
        self.assertEqual(len(run), 1)
        self.assertTrue(run.is_scheduled_run)
        self.assertEqual(
            (run.date_from, run.date_to), (date(2026, 10, 1), date(2026, 10, 31))
        )
        self.assertEqual(run.state, "done")
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_alpha | self.sale_beta)
        self.assertEqual(
            sorted(run.invoice_ids.mapped("amount_total")), [115.00, 317.98]
        )
        # Later ticks of the same month: no second run, nothing invoiced twice.
        self._tick("2026-11-03 03:00")
        self._tick("2026-11-30 03:00")
        self.assertEqual(self._runs(), run)
        self.assertEqual(len(self.sale_alpha.invoice_ids), 1)
        self.assertEqual(len(self.sale_beta.invoice_ids), 1)
        # December's first tick invoices November.
        self._tick("2026-12-01 03:00")
        november = self._runs() - run
        self.assertEqual(november.line_ids.sale_order_ids, self.sale_november)
        self.assertEqual(november.invoice_ids.amount_total, 115.00)

    def test_run_interrupted_mid_way_is_carried_on_by_the_next_tick(self):
        self.env["ir.config_parameter"].set_param("invoice_manager.chunk_size", 1)
        self.env["ir.config_parameter"].set_param(
            "invoice_manager.cron_batch_seconds", "0.000001"
        )
        with freeze_time("2026-11-02 03:00"):
            self.Scenario._cron_invoice_scheduled_scenarios()
        # The processing job did one chunk, then its worker was killed.
        self.Run._cron_process_runs()
        run = self._runs()
        self.assertEqual(
            (run.state, run.done_count, run.line_count), ("processing", 1, 2)
        )
        self._tick("2026-11-02 04:00")
        self._tick("2026-11-02 05:00")
        self.assertEqual(self._runs(), run)
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.invoice_ids), 2)
        self.assertEqual(len(self.sale_alpha.invoice_ids), 1)
        self.assertEqual(len(self.sale_beta.invoice_ids), 1)

    def test_billing_managers_get_one_message_and_a_todo_on_errors(self):
        self.scenario.billing_action = "email"
        self.customer_beta.email = False
        self._tick()
        run = self._runs()
        self.assertEqual((run.processed_count, run.error_count), (1, 1))
        message = run.message_ids.filtered(
            lambda m: self.manager.partner_id in m.partner_ids
        )
        self.assertEqual(len(message), 1)
        self.assertIn("1 processed, 1 in error", message.body)
        self.assertIn("Beta Works", message.body)
        self.assertIn("no email address", message.body)
        self.assertIn(
            f'data-oe-model="sale.order" data-oe-id="{self.sale_beta.id}"', message.body
        )
        todo = run.activity_ids.filtered(lambda a: a.user_id == self.manager)
        self.assertEqual(len(todo), 1)

    def test_unscheduled_scenarios_are_left_alone(self):
        self.scenario.is_scheduled = False
        self._tick()
        self.assertFalse(self._runs())

    def test_scheduler_leaves_a_users_run_of_the_period_to_the_user(self):
        """A user's fetched run of October, narrowed to Alpha, is not the
        scheduler's: the scheduler bills the whole period in its own run, the
        user's run waits for the user, and nobody is billed twice."""
        users_run = self.Run.create(
            {
                "scenario_id": self.scenario.id,
                "date_from": date(2026, 10, 1),
                "date_to": date(2026, 10, 31),
                "partner_ids": [(6, 0, self.customer_alpha.ids)],
            }
        )
        users_run.action_fetch()
        self._tick()
        self.assertEqual(users_run.state, "ready")
        scheduled = self._runs() - users_run
        self.assertTrue(scheduled.is_scheduled_run)
        self.assertEqual(scheduled.state, "done")
        self.assertEqual(
            scheduled.line_ids.sale_order_ids, self.sale_alpha | self.sale_beta
        )
        self.assertEqual(
            sorted(scheduled.invoice_ids.mapped("amount_total")), [115.00, 317.98]
        )
        # The user processes his run later: Alpha was billed by the scheduler.
        users_run.action_process()
        with patch.object(type(self.env["res.users"]), "_bus_send"):
            self.Run._cron_process_runs()
        self.assertFalse(users_run.invoice_ids)
        self.assertEqual(len(self.sale_alpha.invoice_ids), 1)
        self.assertIn(scheduled.name, users_run.line_ids.error_message)

    def test_sale_approved_after_its_periods_run_is_billed_late_next_run(self):
        late = self._create_sale(
            self.customer_gamma, date(2026, 10, 20), approved=False
        )
        self._tick()
        october = self._runs()
        self.assertNotIn(late, october.line_ids.sale_order_ids)
        late.action_approve_for_invoicing()
        self._tick("2026-12-01 03:00")
        november = self._runs() - october
        line = november.line_ids.filtered(lambda line: late in line.sale_order_ids)
        self.assertTrue(line.is_late)
        self.assertEqual(line.invoice_ids.amount_total, 115.00)
        self.assertEqual(line.invoice_ids.invoice_date, date(2026, 11, 30))
        on_time = november.line_ids - line
        self.assertEqual(on_time.sale_order_ids, self.sale_november)
        self.assertFalse(on_time.is_late)
        # Billed once: the next month's run finds nothing more to bill for it.
        self._tick("2027-01-04 03:00")
        self.assertEqual(len(late.invoice_ids), 1)

    def test_first_scheduled_run_bills_only_its_period(self):
        """Turning the scheduler on does not bill older forgotten sales."""
        old = self._create_sale(self.customer_gamma, date(2026, 8, 20))
        self._tick()
        self.assertNotIn(old, self._runs().line_ids.sale_order_ids)
        self.assertFalse(old.invoice_ids)
