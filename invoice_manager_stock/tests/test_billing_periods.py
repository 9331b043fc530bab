from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .test_invoicing_modes import InvoicingModesCommon


@tagged("post_install", "-at_install")
class TestBillingPeriods(InvoicingModesCommon):
    """Billing periods on real deliveries: cut in the company's time zone
    whoever runs them, and two-week periods that tile the calendar."""

    def test_cut_off_is_the_companys_midnight_for_users_and_the_scheduler(self):
        """A delivery at 00:15 on 1 November in Brussels is November's, for the
        scheduler (no time zone of its own) and for a user in Auckland."""
        self.env.user.tz = "Pacific/Auckland"
        customer = self._create_customer(
            "Midnight Co",
            "ap@midnight.test",
            billing_invoicing_mode="batch",
            billing_invoicing_period="monthly",
        )
        order = self._order(customer, 4.0, date(2026, 10, 2))
        self._ship(order, 1, "2026-10-20 10:00")
        # 31 October 23:15 UTC: 00:15 on 1 November in Brussels.
        november = self._ship(order, 3, "2026-10-31 23:15")
        scenario = self.mode_scenario
        scenario.is_scheduled = True
        # 00:30 in Brussels: October is closed there, not yet in UTC.
        with freeze_time("2026-10-31 23:30"):
            self.assertEqual(
                scenario._get_last_closed_period(),
                (date(2026, 10, 1), date(2026, 10, 31)),
            )
            self.env["billing.scenario"]._cron_invoice_scheduled_scenarios()
        run = self.env["billing.run"].search([("scenario_id", "=", scenario.id)])
        self.assertEqual(
            (run.date_from, run.date_to), (date(2026, 10, 1), date(2026, 10, 31))
        )
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        invoice = run.line_ids.invoice_ids
        self.assertEqual(self._pallet_qty(invoice), 1)
        self.assertEqual(invoice.amount_total, 115.00)
        self.assertNotIn(november, invoice.billing_picking_ids)
        # A run by hand of the same month, by the user in Auckland (13 hours
        # ahead): the same cut-off, nothing more to bill.
        with freeze_time("2026-11-02 09:00"):
            again = self._new_run(scenario)
            again.action_fetch()
        self.assertFalse(again.line_ids)
        self.assertEqual(self._billed(customer), 115.00)

    def test_two_weeks_across_a_53_week_year_is_one_period(self):
        """2020 has 53 ISO weeks: week 53 and week 1 of 2021 are one period
        (28 December to 10 January), billed once by the run of 4-10 January."""
        customer = self._create_customer(
            "Fortnight Co",
            "ap@fortnight.test",
            billing_invoicing_mode="batch",
            billing_invoicing_period="biweekly",
        )
        order = self._order(customer, 5.0, date(2020, 12, 21))
        self._ship(order, 2, "2020-12-29 10:00")
        self._ship(order, 3, "2021-01-05 10:00")
        with freeze_time("2021-01-11 09:00"):
            run = self._new_run(
                self.mode_scenario,
                date_from=date(2021, 1, 4),
                date_to=date(2021, 1, 10),
            )
            run.action_fetch()
            run.action_process(force_synchronous=True)
        self.assertEqual(len(run.line_ids), 1)
        line = run.line_ids
        self.assertEqual(
            (line.cycle_date_from, line.cycle_date_to),
            (date(2020, 12, 28), date(2021, 1, 10)),
        )
        self.assertEqual(self._pallet_qty(line.invoice_ids), 5)
        self.assertEqual(line.invoice_ids.amount_total, 575.00)
        # The next week's run finds nothing left: no second, overlapping period.
        with freeze_time("2021-01-18 09:00"):
            later = self._new_run(
                self.mode_scenario,
                date_from=date(2021, 1, 11),
                date_to=date(2021, 1, 17),
            )
            later.action_fetch()
        self.assertFalse(later.line_ids)
        self.assertEqual(self._billed(customer), 575.00)
