from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestRunScreens(InvoiceManagerCommon):
    """What the run's screens tell an accountant: the confirmation before
    Process, the trail after Next, counters as filters, queued emails, and
    where a customer's invoicing mode comes from."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_alpha = cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 31))
        cls.sale_gamma = cls._create_sale(
            cls.customer_gamma, date(2026, 10, 20), [(cls.product_service, 3, 100.0)]
        )
        cls.biller = new_test_user(
            cls.env, login="screens_biller", groups="invoice_manager.group_billing_user"
        )

    def _confirmation(self, run):
        action = run.action_open_process_wizard()
        self.assertEqual(action["res_model"], "billing.run.process.wizard")
        return (
            self.env[action["res_model"]].with_context(**action["context"]).create({})
        )

    def test_process_asks_first_with_counts_and_total(self):
        run = self._new_run()
        run.action_fetch()
        run.line_ids.filtered(
            lambda line: line.partner_id == self.customer_gamma
        ).billing_action = "print"
        wizard = self._confirmation(run)
        # 317.98 + 115.00 + 345.00, taxes included
        self.assertIn("Invoices to create: 3", wizard.summary)
        self.assertIn("Posted: 3", wizard.summary)
        self.assertIn("Total to invoice: $\xa0777.98, taxes included.", wizard.summary)
        self.assertIn("Printed: 1", wizard.summary)
        self.assertNotIn("Emailed", wizard.summary)
        self.assertNotIn("drafts", wizard.summary)
        self.assertNotIn("mail queue", wizard.summary)
        self.assertEqual(run.state, "ready")
        wizard.action_process()
        self.assertEqual(run.state, "processing")

    def test_confirmation_of_emails_says_when_the_queue_sends_them(self):
        self.scenario.billing_action = "email"
        self.scenario.auto_post = False
        run = self._new_run()
        run.action_fetch()
        self.env.ref(
            "mail.ir_cron_mail_scheduler_action"
        ).nextcall = "2026-11-02 08:00:00"
        summary = self._confirmation(run).summary
        # emailed invoices are posted, whatever Post Invoices says
        self.assertIn("Posted: 3", summary)
        self.assertNotIn("drafts", summary)
        self.assertIn("Emailed: 3", summary)
        self.assertRegex(summary, r"sent at its next run \(11/2/26, 8:00\sAM\)")

    def test_confirmation_without_post_invoicing_tasks_sends_nothing(self):
        self.scenario.write(
            {
                "billing_action": "email",
                "auto_post": False,
                "post_invoicing_tasks": False,
            }
        )
        run = self._new_run()
        run.action_fetch()
        summary = self._confirmation(run).summary
        self.assertIn("Posted: 0", summary)
        self.assertIn("Left as drafts: 3", summary)
        self.assertNotIn("Emailed", summary)
        self.assertNotIn("mail queue", summary)

    def test_queued_emails_are_counted_and_sent_now_by_a_manager(self):
        self.scenario.billing_action = "email"
        run = self._new_run()
        run.action_fetch()
        run.action_process(force_synchronous=True)
        queued = run.line_ids.filtered(lambda line: line.delivery_state == "queued")
        self.assertEqual(run.delivery_queued_count, len(queued))
        self.assertTrue(queued, "the emails wait in Odoo's mail queue")
        self.assertTrue(run.mail_queue_nextcall)
        with self.assertRaisesRegex(UserError, "Only a Billing Manager"):
            run.with_user(self.biller).action_send_queued_emails()
        cron = self.env.ref("mail.ir_cron_mail_scheduler_action")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        run.action_send_queued_emails()
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]),
            before + 1,
        )

    def test_next_opens_the_run_alone_in_the_main_window(self):
        wizard = (
            self.env["billing.run.wizard"]
            .with_context(active_model="account.move", active_id=42)
            .create({"scenario_id": self.scenario.id})
        )
        action = wizard.action_next()
        run = self.env["billing.run"].browse(action["res_id"])
        self.assertEqual(run.scenario_id, self.scenario)
        self.assertEqual(action["target"], "main")
        self.assertEqual(action["context"], {})

    def test_counters_open_the_lines_of_their_state(self):
        run = self._new_run()
        run.action_fetch()
        action = run.with_context(billing_line_filter="error").action_view_lines()
        self.assertEqual(action["res_model"], "billing.run.line")
        self.assertEqual(action["domain"], [("run_id", "=", run.id)])
        self.assertEqual(action["context"].get("search_default_error"), 1)
        lines = self.env["billing.run.line"].search(action["domain"])
        self.assertEqual(lines, run.line_ids)

    def test_next_on_sales_of_another_allowed_company(self):
        """Opened on sales of company B while A is the active company, the
        wizard and its run are B's."""
        company_b = self.setup_other_company(name="Screens Co B")["company"]
        scenario_b = self.env["billing.scenario"].create(
            {"name": "B monthly", "company_id": company_b.id}
        )
        sale_b = self._create_sale(
            self.customer_alpha,
            date(2026, 10, 3),
            [(self.product_service, 1.0, 100.0)],
            company_id=company_b.id,
        )
        self.env.user.company_ids |= company_b
        both = [self.env.company.id, company_b.id]
        wizard = (
            self.env["billing.run.wizard"]
            .with_context(
                active_model="sale.order",
                active_ids=sale_b.ids,
                allowed_company_ids=both,
            )
            .create({"scenario_id": scenario_b.id})
        )
        self.assertEqual(wizard.company_id, company_b)
        run = self.env["billing.run"].browse(wizard.action_next()["res_id"])
        self.assertEqual(run.company_id, company_b)
        run.with_context(allowed_company_ids=both).action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, sale_b)

    def test_nothing_fetched_is_said(self):
        run = self._new_run(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
        run.action_fetch()
        self.assertFalse(run.line_count)
        self.assertTrue(run.fetch_date)
        arch = self.env["billing.run"].get_views([(False, "form")])["views"]["form"]
        self.assertIn("No sale to invoice for this period", arch["arch"])


@tagged("post_install", "-at_install")
class TestPartnerAppliedMode(InvoiceManagerCommon):
    """A site shows the mode of its head office, a contact its company's,
    each with where it comes from; the head office lists its sites."""

    @freeze_time("2026-11-02")
    def test_site_shows_its_head_office_mode(self):
        head = self.env["res.partner"].create(
            {
                "name": "Retail Head Office",
                "is_company": True,
                "billing_invoicing_mode": "batch",
                "billing_invoicing_period": "weekly",
                "head_office_invoicing": "per_site",
            }
        )
        site = self.env["res.partner"].create(
            {
                "name": "Retail Site North",
                "is_company": True,
                "billing_invoicing_mode": "per_order",
                "head_office_id": head.id,
            }
        )
        contact = self.env["res.partner"].create(
            {"name": "Site buyer", "parent_id": site.id}
        )
        self.assertEqual(head.site_ids, site)
        for partner in (site, contact):
            self.assertEqual(partner.billing_applied_invoicing_mode, "batch")
            self.assertEqual(partner.billing_applied_invoicing_period, "weekly")
            self.assertEqual(
                partner.billing_invoicing_source,
                "its head office Retail Head Office "
                "(One Invoice per Site, to the Head Office)",
            )
        self.assertEqual(head.billing_invoicing_source, "its own setting")
        plain = self.env["res.partner"].create({"name": "Plain", "is_company": True})
        self.assertEqual(plain.billing_applied_invoicing_mode, "per_shipment")
        self.assertEqual(plain.billing_invoicing_source, "the default: no mode set")
        # In another company the site is no site: its own (empty) setting.
        company_b = self.setup_other_company(name="Screens Co B")["company"]
        site_b = site.with_company(company_b)
        self.assertFalse(site_b.head_office_id)
        self.assertEqual(site_b.billing_applied_invoicing_mode, "per_shipment")
        self.assertFalse(head.with_company(company_b).site_ids)

    def test_partner_form_shows_the_applied_mode_for_a_site(self):
        head = self.env["res.partner"].create(
            {"name": "HQ", "is_company": True, "billing_invoicing_mode": "per_order"}
        )
        with Form(self.env["res.partner"]) as form:
            form.name = "Site South"
            form.company_type = "company"
            form.head_office_id = head
            self.assertEqual(form.billing_applied_invoicing_mode, "per_order")
        self.assertEqual(head.site_ids.name, "Site South")


@tagged("post_install", "-at_install")
class TestAbandonedRuns(InvoiceManagerCommon):
    """Every Next makes a run: those never fetched and left two days are
    removed by Odoo's autovacuum; nothing fetched, planned or scheduled is."""

    def _aged(self, run, days):
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE billing_run SET write_date = now() - make_interval(days => %s) "
            "WHERE id = %s",
            [days, run.id],
        )
        run.invalidate_recordset()
        return run

    def test_empty_runs_left_two_days_are_removed(self):
        self._create_sale(self.customer_alpha, date(2026, 10, 3))
        abandoned = self._aged(self._new_run(), 3)
        recent = self._aged(self._new_run(), 1)
        fetched = self._new_run()
        fetched.action_fetch()
        self._aged(fetched, 10)
        nothing_found = self._new_run(
            date_from=date(2026, 1, 1), date_to=date(2026, 1, 31)
        )
        nothing_found.action_fetch()
        self._aged(nothing_found, 3)
        planned = self._aged(self._new_run(), 1)
        planned.activity_schedule("mail.mail_activity_data_todo", summary="Run it")
        self._aged(planned, 3)
        self.env["billing.run"]._gc_abandoned_runs()
        self.assertFalse(abandoned.exists())
        self.assertTrue(nothing_found.exists(), "fetched: the user saw it")
        self.assertTrue(planned.exists())
        self.assertTrue(recent.exists())
        self.assertTrue(fetched.exists() and fetched.line_ids)
