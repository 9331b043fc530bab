from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunFetch(InvoiceManagerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_alpha = cls._create_mixed_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 31))
        cls.sale_not_approved = cls._create_sale(
            cls.customer_gamma, date(2026, 10, 15), approved=False
        )
        cls.sale_september = cls._create_sale(cls.customer_alpha, date(2026, 9, 30))
        cls.sale_quotation = cls._create_sale(
            cls.customer_alpha, date(2026, 10, 15), confirm=False
        )

    def test_fetch_selects_approved_confirmed_sales_of_the_period(self):
        run = self._new_run()
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_alpha | self.sale_beta)
        self.assertEqual(set(run.line_ids.mapped("state")), {"not_done"})
        line_alpha = self._line_of(run, self.sale_alpha)
        # 2 x 100.00 + 3 x 25.50 = 276.50 untaxed, + 15 % = 317.98 (rounded per line).
        self.assertAlmostEqual(line_alpha.amount_untaxed, 276.50, places=2)
        self.assertAlmostEqual(line_alpha.amount_total, 317.98, places=2)
        self.assertEqual(line_alpha.partner_id, self.customer_alpha)
        self.assertEqual(line_alpha.billing_action, "create_only")
        self.assertEqual(str(run.amount_summary), "<p>$&nbsp;432.98</p>")

    def test_fetch_without_approval_rule_includes_unapproved_sales(self):
        run = self._new_run(require_approval=False)
        run.action_fetch()
        self.assertEqual(
            run.line_ids.sale_order_ids,
            self.sale_alpha | self.sale_beta | self.sale_not_approved,
        )

    def test_fetch_filters_customers_salespersons_tags_and_extra_domain(self):
        tag = self.env["crm.tag"].create({"name": "Key account"})
        self.sale_beta.tag_ids = tag
        run = self._new_run(tag_ids=[Command.set(tag.ids)])
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_beta)

        run = self._new_run(partner_ids=[Command.set(self.customer_alpha.ids)])
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_alpha)

        run = self._new_run(sale_domain="[('amount_total', '<', 200)]")
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_beta)

        other_user = self.env["res.users"].create(
            {"name": "Other Seller", "login": "seller2"}
        )
        self.sale_beta.user_id = other_user
        run = self._new_run(salesperson_ids=[Command.set(other_user.ids)])
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_beta)

    def test_fetch_on_another_date_field(self):
        self.sale_september.commitment_date = "2026-10-20 08:00:00"
        self.scenario.date_field_id = self.env.ref(
            "sale.field_sale_order__commitment_date"
        )
        run = self._new_run()
        run.action_fetch()
        self.assertEqual(run.line_ids.sale_order_ids, self.sale_september)

    def test_grouping_per_customer_makes_one_line_per_customer(self):
        second_alpha = self._create_sale(self.customer_alpha, date(2026, 10, 20))
        run = self._new_run(grouping="customer")
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 2)
        line_alpha = self._line_of(run, self.sale_alpha)
        self.assertEqual(line_alpha.sale_order_ids, self.sale_alpha | second_alpha)
        self.assertAlmostEqual(line_alpha.amount_total, 317.98 + 115.00, places=2)

    def test_fetching_again_keeps_processed_lines_and_adds_new_sales_once(self):
        run = self._new_run()
        run.action_fetch()
        run.action_process(force_synchronous=True)
        run.action_reopen()
        late_sale = self._create_sale(self.customer_gamma, date(2026, 10, 30))
        run.action_fetch()
        run.action_fetch()
        self.assertEqual(
            run.line_ids.sale_order_ids, self.sale_alpha | self.sale_beta | late_sale
        )
        self.assertEqual(len(run.line_ids), 3)
        self.assertEqual(self._line_of(run, late_sale).state, "not_done")

    def test_delivered_quantities_only(self):
        hours = self._create_product(
            name="Repair hours",
            type="service",
            invoice_policy="delivery",
            lst_price=10.0,
        )
        order = self._create_sale(
            self.customer_gamma, date(2026, 10, 8), [(hours, 10.0, 10.0)]
        )
        run = self._new_run(partner_ids=[Command.set(self.customer_gamma.ids)])
        run.action_fetch()
        self.assertFalse(run.line_ids, "nothing delivered, nothing to invoice")
        order.order_line.qty_delivered = 4.0
        run.action_fetch()
        # 4 x 10.00 = 40.00 + 15 % = 46.00
        self.assertAlmostEqual(self._line_of(run, order).amount_total, 46.00, places=2)
        run.action_process(force_synchronous=True)
        invoice = self._line_of(run, order).invoice_ids
        self.assertEqual(invoice.invoice_line_ids.quantity, 4.0)
        self.assertAlmostEqual(invoice.amount_total, 46.00, places=2)

    def test_period_days_are_the_companys_days_whoever_fetches(self):
        """An order taken at 23:30 on 31 October in New York, the company's
        time zone, is stored as 1 November 03:30 UTC: it belongs to October's
        run, also fetched by a user in Paris or by the scheduler (no time
        zone)."""
        order = self._create_sale(self.customer_gamma, date(2026, 10, 31))
        order.date_order = "2026-11-01 03:30:00"
        self.env.company.partner_id.tz = "America/New_York"
        run = self._new_run(partner_ids=[(6, 0, self.customer_gamma.ids)])
        for tz in ("Europe/Paris", False):
            run.with_context(tz=tz).action_fetch()
            self.assertIn(order, run.line_ids.sale_order_ids, tz)
        self.env.company.partner_id.tz = "UTC"
        run.with_context(tz="America/New_York").action_fetch()
        self.assertNotIn(order, run.line_ids.sale_order_ids)
