from datetime import date

from odoo.tests import HttpCase, new_test_user, tagged

from .common import InvoiceManagerCommon, PhoneWidthMixin


@tagged("post_install", "-at_install")
class TestRunScreensTour(PhoneWidthMixin, InvoiceManagerCommon, HttpCase):
    """The run's screens in Chromium, at 1366 px and 390 px, as a Billing User
    and as a Billing Manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.biller = new_test_user(
            cls.env,
            login="screens_tour_biller",
            groups="invoice_manager.group_billing_user",
        )
        cls.manager = new_test_user(
            cls.env,
            login="screens_tour_manager",
            groups="invoice_manager.group_billing_manager",
        )
        cls.scenario.name = "Screens monthly scenario"
        cls.customer_beta.email = False
        cls._create_sale(cls.customer_alpha, date(2026, 10, 3))
        cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.screens_run = cls.env["billing.run"].create(
            {"scenario_id": cls.scenario.id}
        )
        cls.screens_run.write(
            {
                "date_from": date(2026, 10, 1),
                "date_to": date(2026, 10, 31),
                "billing_action": "email",
            }
        )
        cls.screens_run.action_fetch()
        cls.screens_run.action_process(force_synchronous=True)

    def setUp(self):
        super().setUp()
        # One request first: Python 3.11.7's ast module can fail on a fresh
        # server's concurrent first requests (a CPython bug).
        self.url_open("/web/login")

    def test_new_run_from_the_list_as_a_billing_user(self):
        # last month's cycle: no sale in it
        self.env["billing.scenario"].create({"name": "Screens empty scenario"})
        for user in (self.biller, self.manager):
            self.start_tour(
                "/odoo/action-invoice_manager.billing_run_action",
                "billing_run_new_tour",
                login=user.login,
            )
            run = self.env["billing.run"].search([("user_id", "=", user.id)])
            self.assertEqual(len(run), 1)
            self.assertFalse(run.line_ids)

    def test_counters_and_queued_emails_as_a_billing_user(self):
        self.assertEqual(self.screens_run.error_count, 1)
        self.assertTrue(self.screens_run.delivery_queued_count)
        for user in (self.biller, self.manager):
            self.start_tour(
                f"/odoo/billing.run/{self.screens_run.id}",
                "billing_run_counters_tour",
                login=user.login,
            )
        self.start_tour(
            f"/odoo/billing.run/{self.screens_run.id}",
            "billing_run_no_send_now_tour",
            login=self.biller.login,
        )

    def test_counters_on_a_phone(self):
        self.browser_size = "390x844"
        self.touch_enabled = True
        for user in (self.biller, self.manager):
            self.start_tour(
                f"/odoo/billing.run/{self.screens_run.id}",
                "billing_run_counters_tour",
                login=user.login,
            )

    def test_process_asks_first(self):
        """The confirmation before Process, on a desktop and on a phone, as a
        Billing User and a Billing Manager; Cancel changes nothing."""
        self._create_sale(self.customer_gamma, date(2026, 9, 3))
        self._create_sale(self.customer_alpha, date(2026, 9, 4))
        run = self.env["billing.run"].create({"scenario_id": self.scenario.id})
        run.write(
            {
                "date_from": date(2026, 9, 1),
                "date_to": date(2026, 9, 30),
                "billing_action": "email",
            }
        )
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 2)
        for size in ("1366x768", "390x844"):
            self.browser_size = size
            for user in (self.biller, self.manager):
                self.start_tour(
                    f"/odoo/billing.run/{run.id}",
                    "billing_run_confirm_tour",
                    login=user.login,
                )
        self.assertEqual(run.state, "ready")
        self.assertFalse(run.invoice_ids)

    def test_send_now_as_a_billing_manager(self):
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        triggers = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.start_tour(
            f"/odoo/billing.run/{self.screens_run.id}",
            "billing_run_send_now_tour",
            login=self.manager.login,
        )
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            triggers,
        )

    def test_runs_and_lines_on_a_phone(self):
        self.browser_size = "390x844"
        self.touch_enabled = True
        for user in (self.biller, self.manager):
            self.start_tour(
                "/odoo/action-invoice_manager.billing_run_action",
                "billing_run_phone_tour",
                login=user.login,
            )

    def test_site_mode_and_left_to_bill(self):
        head = self.env["res.partner"].create(
            {
                "name": "Screens HQ",
                "is_company": True,
                "billing_invoicing_mode": "batch",
                "billing_invoicing_period": "weekly",
            }
        )
        site = self.env["res.partner"].create(
            {
                "name": "Screens Site",
                "is_company": True,
                "billing_invoicing_mode": "per_order",
                "head_office_id": head.id,
            }
        )
        self._create_sale(site, date(2026, 10, 8))
        for size in ("1366x768", "390x844"):
            self.browser_size = size
            for user in (self.biller, self.manager):
                self.start_tour(
                    f"/odoo/res.partner/{site.id}",
                    "billing_site_mode_tour",
                    login=user.login,
                )
                self.start_tour(
                    "/odoo/action-invoice_manager.billing_to_invoice_report_action",
                    "billing_left_to_bill_tour",
                    login=user.login,
                )

    def test_billing_overview(self):
        """Today's last closed month is not billed: the overview says so, and
        opens the line left in error; as a Billing User and a Billing Manager,
        on a desktop and on a phone."""
        for size in ("1366x768", "390x844"):
            self.browser_size = size
            for user in (self.biller, self.manager):
                self.start_tour(
                    "/odoo/action-invoice_manager.billing_scenario_action_overview",
                    "billing_overview_tour",
                    login=user.login,
                )
