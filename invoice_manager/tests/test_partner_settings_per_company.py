from datetime import date

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestPartnerSettingsPerCompany(InvoiceManagerCommon):
    """A customer's invoicing mode, period and head office are each company's
    own: a Billing User of two companies sets them in the company he works in,
    and each company's runs bill by its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.setup_other_company(name="Settings Co B")["company"]
        cls.biller = new_test_user(
            cls.env,
            login="two_company_biller",
            groups="invoice_manager.group_billing_user,base.group_partner_manager",
            company_id=cls.company_a.id,
            company_ids=[Command.set((cls.company_a | cls.company_b).ids)],
        )
        cls.head = cls._create_customer(
            "Shared Holding", "hq@shared.test", is_company=True
        )
        cls.site = cls._create_customer(
            "Shared Site", "site@shared.test", is_company=True
        )
        cls.mode_scenarios = {
            company: cls.env["billing.scenario"]
            .with_company(company)
            .create(
                {
                    "name": f"Modes {company.name}",
                    "company_id": company.id,
                    "period_type": "month",
                    "require_approval": False,
                    "billing_action": "create_only",
                    "invoice_date_mode": "period_end",
                    "use_invoicing_mode": True,
                }
            )
            for company in (cls.company_a, cls.company_b)
        }

    def _as_biller_in(self, company, record):
        other = (self.company_a | self.company_b) - company
        return record.with_user(self.biller).with_context(
            allowed_company_ids=[company.id, other.id]
        )

    def test_each_company_sets_its_own_values(self):
        site_in_a = self._as_biller_in(self.company_a, self.site)
        site_in_a.write(
            {
                "billing_invoicing_mode": "batch",
                "billing_invoicing_period": "weekly",
                "head_office_id": self.head.id,
            }
        )
        site_in_b = self._as_biller_in(self.company_b, self.site)
        self.assertFalse(site_in_b.billing_invoicing_mode)
        self.assertFalse(site_in_b.head_office_id)
        site_in_b.billing_invoicing_mode = "per_order"
        self.assertEqual(site_in_a.billing_invoicing_mode, "batch")
        self.assertEqual(site_in_a.billing_invoicing_period, "weekly")
        self.assertEqual(site_in_b.billing_invoicing_mode, "per_order")
        self.assertEqual(site_in_a._get_billing_partner(), self.head)
        self.assertEqual(site_in_b._get_billing_partner(), self.site)
        self.assertEqual(
            self._as_biller_in(self.company_a, self.head).site_ids, self.site
        )
        self.assertFalse(self._as_biller_in(self.company_b, self.head).site_ids)

    def test_each_companys_run_bills_by_its_own_head_office(self):
        self.site.with_company(self.company_a).head_office_id = self.head
        sales = {}
        for company in (self.company_a, self.company_b):
            product = self.product_service.with_company(company)
            sales[company] = self._create_sale(
                self.site,
                date(2026, 10, 3),
                [(product, 1.0, 100.0)],
                company_id=company.id,
            )
        for company, billed in (
            (self.company_a, self.head),
            (self.company_b, self.site),
        ):
            run = (
                self.env["billing.run"]
                .with_user(self.biller)
                .with_company(company)
                .create({"scenario_id": self.mode_scenarios[company].id})
            )
            run.write({"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31)})
            run.action_fetch()
            self.assertEqual(run.line_ids.sale_order_ids, sales[company])
            self.assertEqual(run.line_ids.partner_id, billed)

    def test_nothing_links_to_another_companys_records(self):
        """Through the ORM as a user of both companies: a run, scenario or
        invoice of one company never points to another company's."""
        partner_b = self._create_customer(
            "B only", "b@only.test", company_id=self.company_b.id
        )
        team_b = self.env["crm.team"].create(
            {"name": "Team B", "company_id": self.company_b.id}
        )
        scenario_a = self.mode_scenarios[self.company_a]
        run_a = (
            self.env["billing.run"]
            .with_user(self.biller)
            .with_company(self.company_a)
            .create({"scenario_id": scenario_a.id})
        )
        run_b = (
            self.env["billing.run"]
            .with_user(self.biller)
            .with_company(self.company_b)
            .create({"scenario_id": self.mode_scenarios[self.company_b].id})
        )
        for values in (
            {"partner_ids": [Command.set(partner_b.ids)]},
            {"team_ids": [Command.set(team_b.ids)]},
        ):
            with self.assertRaisesRegex(UserError, "Incompatible companies"):
                run_a.write(values)
            with self.assertRaisesRegex(UserError, "Incompatible companies"):
                scenario_a.write(values)
        sale_a = self._create_sale(self.site, date(2026, 10, 3))
        invoice_a = sale_a._create_invoices()
        with self.assertRaisesRegex(UserError, "Incompatible companies"):
            invoice_a.write({"billing_run_id": run_b.id})
        invoice_a.write({"billing_run_id": run_a.id})
        self.assertEqual(invoice_a.billing_run_id, run_a)
