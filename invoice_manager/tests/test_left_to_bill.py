from datetime import date

from freezegun import freeze_time

from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestLeftToBill(InvoiceManagerCommon):
    """*Left to Bill* agrees with Odoo: the sale lines it says are still to
    invoice, their untaxed amount to invoice, billed to the head office of a
    site, with the mode and period that apply in the sale's company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        P = cls.env["res.partner"]
        cls.head = P.create(
            {
                "name": "Left HQ",
                "is_company": True,
                "billing_invoicing_mode": "batch",
                "billing_invoicing_period": "weekly",
            }
        )
        cls.site = P.create(
            {"name": "Left Site", "is_company": True, "head_office_id": cls.head.id}
        )
        cls.mixed = cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.of_site = cls._create_sale(cls.site, date(2026, 10, 4))
        cls.unapproved = cls._create_sale(
            cls.customer_gamma,
            date(2026, 10, 5),
            [(cls.product_service, 3, 100.0)],
            approved=False,
        )
        cls.invoiced = cls._create_sale(cls.customer_beta, date(2026, 10, 6))
        cls.invoiced._create_invoices().action_post()
        cls.draft = cls._create_sale(
            cls.customer_beta, date(2026, 10, 7), confirm=False
        )

    def _rows(self, env=None):
        Report = (env or self.env)["billing.to.invoice.report"]
        return Report.search([("order_id.name", "like", "S")])

    def test_rows_are_what_odoo_says_is_to_invoice(self):
        rows = self._rows()
        to_invoice = self.env["sale.order.line"].search(
            [
                ("invoice_status", "=", "to invoice"),
                ("order_id.state", "=", "sale"),
                ("display_type", "=", False),
            ]
        )
        self.assertEqual(rows.order_line_id, to_invoice)
        self.assertEqual(rows.order_id, self.mixed | self.of_site | self.unapproved)
        for order in rows.order_id:
            self.assertAlmostEqual(
                sum(
                    rows.filtered(lambda r, o=order: r.order_id == o).mapped(
                        "amount_to_invoice"
                    )
                ),
                sum(order.order_line.mapped("untaxed_amount_to_invoice")),
                places=2,
            )
        by_order = {row.order_id: row for row in rows}
        self.assertAlmostEqual(
            sum(
                rows.filtered(lambda r: r.order_id == self.mixed).mapped(
                    "amount_to_invoice"
                )
            ),
            276.50,
            places=2,
        )
        site_row = by_order[self.of_site]
        self.assertEqual(site_row.partner_id, self.site)
        self.assertEqual(site_row.billed_partner_id, self.head)
        self.assertEqual(
            (site_row.invoicing_mode, site_row.invoicing_period), ("batch", "weekly")
        )
        gamma = by_order[self.unapproved]
        self.assertFalse(gamma.approved_for_invoicing)
        self.assertEqual(
            (gamma.invoicing_mode, gamma.invoicing_period),
            (
                "per_shipment",
                False,
            ),
        )
        self.assertTrue(by_order[self.mixed].approved_for_invoicing)

    def test_grouped_by_mode_as_the_pivot_shows_it(self):
        groups = self.env["billing.to.invoice.report"]._read_group(
            [("order_id", "in", (self.mixed | self.of_site | self.unapproved).ids)],
            ["invoicing_mode"],
            ["amount_to_invoice:sum"],
        )
        self.assertEqual(
            {mode: round(amount, 2) for mode, amount in groups},
            {"batch": 100.0, "per_shipment": 576.5},
        )

    def test_invoicing_the_rest_empties_it(self):
        (self.mixed | self.of_site | self.unapproved)._create_invoices().action_post()
        self.assertFalse(self._rows())

    def test_companies_in_other_currencies_add_up_in_the_current_one(self):
        """A company in EUR (2 EUR for 1 USD): its 100.00 EUR to invoice read
        as 50.00 USD from the USD company, as Odoo's sale analysis does."""
        eur = self.setup_other_currency("EUR", rates=[("2016-01-01", 2.0)])
        company_b = self.setup_other_company(name="Left Co EUR", currency_id=eur.id)[
            "company"
        ]
        sale_b = self._create_sale(
            self.customer_alpha,
            date(2026, 10, 3),
            [(self.product_service, 1.0, 100.0)],
            company_id=company_b.id,
        )
        self.assertEqual(sale_b.currency_id, eur)
        both = self.env["billing.to.invoice.report"].with_context(
            allowed_company_ids=[self.env.company.id, company_b.id]
        )
        rows = both.search([("order_id", "=", sale_b.id)])
        self.assertEqual(rows.currency_id, self.env.company.currency_id)
        self.assertAlmostEqual(rows.amount_to_invoice, 50.0, places=2)
        self.env.invalidate_all()  # a new request, as another page load
        in_b = self.env["billing.to.invoice.report"].with_context(
            allowed_company_ids=[company_b.id, self.env.company.id]
        )
        self.assertAlmostEqual(
            in_b.search([("order_id", "=", sale_b.id)]).amount_to_invoice,
            100.0,
            places=2,
        )

    def test_a_billing_user_of_another_company_sees_none_of_it(self):
        company_b = self.setup_other_company(name="Left Co B")["company"]
        user_b = new_test_user(
            self.env,
            login="left_biller_b",
            groups="invoice_manager.group_billing_user",
            company_id=company_b.id,
            company_ids=[(6, 0, company_b.ids)],
        )
        self.assertTrue(self._rows())
        self.assertFalse(self._rows(self.env(user=user_b)))


@tagged("post_install", "-at_install")
class TestBillingOverview(InvoiceManagerCommon):
    """Per scenario: is the last closed period billed, how many lines in error
    are left to fix, when the scheduler runs next."""

    def test_month_end_done_or_not(self):
        self.customer_beta.email = False
        self._create_sale(self.customer_alpha, date(2026, 10, 3))
        self._create_sale(self.customer_beta, date(2026, 10, 4))
        scenario = self.scenario
        with freeze_time(date(2026, 11, 5)):
            scenario.invalidate_recordset()
            self.assertTrue(scenario.overview_is_due)
            self.assertEqual(
                (scenario.overview_period_from, scenario.overview_period_to),
                (date(2026, 10, 1), date(2026, 10, 31)),
            )
            self.assertFalse(scenario.overview_last_run_id)
            run = self._new_run(billing_action="email")
            run.action_fetch()
            run.action_process(force_synchronous=True)
            scenario.invalidate_recordset()
            self.assertFalse(scenario.overview_is_due, "October is billed")
            self.assertEqual(scenario.overview_last_run_id, run)
            self.assertEqual(scenario.overview_error_count, 1)
            action = scenario.action_view_error_lines()
            lines = self.env["billing.run.line"].search(
                action["domain"] + [("state", "=", "error")]
            )
            self.assertEqual(lines.partner_id, self.customer_beta)
            self.assertFalse(scenario.overview_next_scheduled)
            scenario.is_scheduled = True
            cron = self.env.ref("invoice_manager.ir_cron_billing_scenario_scheduled")
            self.assertEqual(scenario.overview_next_scheduled, cron.nextcall)
        with freeze_time(date(2026, 12, 2)):
            scenario.invalidate_recordset()
            self.assertTrue(scenario.overview_is_due, "November is to bill")
