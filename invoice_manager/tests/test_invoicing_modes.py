from datetime import date, timedelta

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestInvoicingModesServices(InvoiceManagerCommon):
    """Invoicing modes without Inventory: services (and goods invoiced on ordered
    quantities) follow the customer's mode by order date. 100.00 a month of
    maintenance is 115.00 with the 15 % tax."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.mode_scenario = cls.env["billing.scenario"].create(
            {
                "name": "By invoicing modes",
                "period_type": "month",
                "require_approval": True,
                "billing_action": "create_only",
                "invoice_date_mode": "period_end",
                "use_invoicing_mode": True,
            }
        )

    def _process(self, run):
        run.action_fetch()
        run.action_process(force_synchronous=True)
        return run

    def test_batch_customer_one_invoice_for_the_month(self):
        customer = self._create_customer(
            "Batch Services", "ap@batchsvc.test", billing_invoicing_mode="batch"
        )
        first = self._create_sale(customer, date(2026, 10, 3))
        second = self._create_mixed_sale(customer, date(2026, 10, 28))
        november = self._create_sale(customer, date(2026, 11, 2))
        run = self._process(self._new_run(self.mode_scenario))
        self.assertEqual(len(run.line_ids), 1)
        line = run.line_ids
        self.assertEqual(line.sale_order_ids, first | second)
        self.assertEqual(line.invoicing_mode, "batch")
        self.assertEqual(line.amount_total, 115.00 + 317.98)
        self.assertEqual(line.invoice_ids.amount_total, 432.98)
        self.assertNotIn(november, line.sale_order_ids)

    def test_per_shipment_and_per_order_customers_one_invoice_per_order(self):
        customer = self._create_customer("Per Order Services", "ap@svc.test")
        first = self._create_sale(customer, date(2026, 10, 3))
        second = self._create_sale(customer, date(2026, 10, 5))
        run = self._process(self._new_run(self.mode_scenario))
        self.assertEqual(len(run.line_ids), 2)
        self.assertEqual(len(run.line_ids.invoice_ids), 2)
        self.assertEqual(run.line_ids.mapped("sale_order_ids"), first | second)

    def test_late_sale_approved_after_its_month_is_billed_and_marked(self):
        customer = self._create_customer("Late Approval", "ap@lateappr.test")
        september = self._create_sale(customer, date(2026, 9, 20), approved=False)
        september_run = self._process(
            self._new_run(
                self.mode_scenario,
                date_from=date(2026, 9, 1),
                date_to=date(2026, 9, 30),
            )
        )
        self.assertFalse(september_run.line_ids)
        september.action_approve_for_invoicing()
        run = self._process(self._new_run(self.mode_scenario))
        self.assertEqual(run.line_ids.sale_order_ids, september)
        self.assertTrue(run.line_ids.is_late)
        self.assertEqual(run.line_ids.invoice_ids.amount_total, 115.00)

    def test_consolidated_head_office_of_service_sites(self):
        head = self._create_customer(
            "Holding",
            "ap@holding.test",
            is_company=True,
            billing_invoicing_mode="per_order",
        )
        site_a = self._create_customer(
            "Site A", "a@holding.test", is_company=True, head_office_id=head.id
        )
        site_b = self._create_customer(
            "Site B", "b@holding.test", is_company=True, head_office_id=head.id
        )
        order_a = self._create_sale(site_a, date(2026, 10, 3))
        order_b = self._create_sale(
            site_b, date(2026, 10, 9), [(self.product_service, 2.0, 100.0)]
        )
        own = self._create_sale(head, date(2026, 10, 12))
        run = self._process(self._new_run(self.mode_scenario))
        self.assertEqual(len(run.line_ids), 1)
        invoice = run.line_ids.invoice_ids
        self.assertEqual(invoice.partner_id, head)
        self.assertEqual(invoice.amount_total, 115.00 + 230.00 + 115.00)
        sections = invoice.invoice_line_ids.filtered(
            lambda line: line.display_type == "line_section"
        ).mapped("name")
        self.assertEqual(len(sections), 3)
        self.assertTrue(
            any("Site A" in name and order_a.name in name for name in sections)
        )
        self.assertTrue(
            any("Site B" in name and order_b.name in name for name in sections)
        )
        self.assertTrue(
            any("Holding" in name and own.name in name for name in sections)
        )

    def test_modes_ignored_by_scenarios_that_do_not_follow_them(self):
        customer = self._create_customer(
            "Batch Ignored", "ap@ignored.test", billing_invoicing_mode="batch"
        )
        self._create_sale(customer, date(2026, 10, 3))
        self._create_sale(customer, date(2026, 10, 4))
        run = self._process(self._new_run())
        self.assertEqual(len(run.line_ids), 2)
        self.assertFalse(any(run.line_ids.mapped("invoicing_mode")))
        self.assertFalse(run.line_ids.item_ids)

    def test_preview_shows_what_each_invoice_bills(self):
        customer = self._create_customer(
            "Preview Co", "ap@preview.test", billing_invoicing_mode="batch"
        )
        self._create_mixed_sale(customer, date(2026, 10, 3))
        run = self._new_run(self.mode_scenario)
        run.action_fetch()
        items = run.line_ids.item_ids
        self.assertEqual(
            sorted(
                (item.product_id.name, item.quantity, item.price_subtotal)
                for item in items
            ),
            [("Monthly maintenance", 2.0, 200.0), ("Spare part", 3.0, 76.5)],
        )
        self.assertEqual(run.line_ids.amount_untaxed, 276.50)
        self.assertEqual(run.line_ids.amount_total, 317.98)
        action = run.line_ids.action_open_preview()
        self.assertEqual(action["res_id"], run.line_ids.id)

    def test_preview_items_are_the_runs_to_write(self):
        customer = self._create_customer("Rights Co", "ap@rights.test")
        self._create_sale(customer, date(2026, 10, 3))
        run = self._new_run(self.mode_scenario)
        run.action_fetch()
        clerk = new_test_user(
            self.env, login="clerk_modes", groups="invoice_manager.group_billing_user"
        )
        item = run.line_ids.item_ids.with_user(clerk)
        self.assertEqual(item.quantity, 1.0)
        with self.assertRaises(AccessError):
            item.write({"quantity": 5.0})
        with self.assertRaises(AccessError):
            item.create(
                {"line_id": run.line_ids.id, "sale_line_id": item.sale_line_id.id}
            )

    def test_head_office_settings_are_the_commercial_partners(self):
        head = self._create_customer("Group HQ", "hq@group.test", is_company=True)
        site = self._create_customer(
            "Group Shop", "shop@group.test", is_company=True, head_office_id=head.id
        )
        contact = self.env["res.partner"].create(
            {"name": "Shop buyer", "parent_id": site.id}
        )
        self.assertEqual(contact.head_office_id, head)
        site.billing_invoicing_mode = "batch"
        self.assertEqual(contact.billing_invoicing_mode, "batch")
        self.assertEqual(contact._get_billing_partner(), head)
        with self.assertRaises(ValidationError):
            head.head_office_id = site
        # No default written on every partner (an empty mode bills per
        # shipment): installing on years of partners rewrites none of them.
        self.assertFalse(
            self.env["res.partner"]._fields["billing_invoicing_mode"].default
        )
        self.assertFalse(head.billing_invoicing_mode)

    def test_only_billing_users_set_invoicing_modes(self):
        salesman = new_test_user(
            self.env,
            login="salesman_modes",
            groups="sales_team.group_sale_salesman,base.group_partner_manager",
        )
        customer = self._create_customer("Rights Mode Co", "ap@rmc.test")
        as_salesman = customer.with_user(salesman)
        with self.assertRaises(AccessError):
            as_salesman.write({"billing_invoicing_mode": "batch"})
        head = self._create_customer("Rights HQ", "hq@rmc.test", is_company=True)
        with self.assertRaises(AccessError):
            as_salesman.write({"head_office_id": head.id})
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(salesman).create(
                {"name": "New batch Co", "billing_invoicing_mode": "batch"}
            )
        # Other changes, and contacts that receive their company's values, are
        # the salesman's as before.
        customer.billing_invoicing_mode = "batch"
        as_salesman.write({"phone": "+32 2 555 01 01"})
        contact = (
            self.env["res.partner"]
            .with_user(salesman)
            .create({"name": "Buyer", "parent_id": customer.id})
        )
        self.assertEqual(contact.billing_invoicing_mode, "batch")
        self.assertEqual(customer.billing_invoicing_mode, "batch")

    def test_invoicing_periods(self):
        customer = self._create_customer("Periods Co", "ap@periods.test")
        thursday = date(2026, 10, 29)
        expected = {
            "weekly": (date(2026, 10, 26), date(2026, 11, 1)),
            # Two-week periods pair odd and even ISO weeks in ordinary years.
            "biweekly": (date(2026, 10, 19), date(2026, 11, 1)),
            "monthly": (date(2026, 10, 1), date(2026, 10, 31)),
            "quarterly": (date(2026, 10, 1), date(2026, 12, 31)),
        }
        for period, cycle in expected.items():
            customer.billing_invoicing_period = period
            self.assertEqual(customer._get_invoicing_cycle(thursday), cycle, period)
        customer.billing_invoicing_period = "biweekly"
        self.assertEqual(
            customer._get_invoicing_cycle(date(2026, 11, 3)),
            (date(2026, 11, 2), date(2026, 11, 15)),
        )
        # 2026 has 53 ISO weeks: week 53 and week 1 of 2027 are one period,
        # 2027 pairs from week 2 and its week 52 is a period of one week.
        for day, cycle in (
            (date(2026, 12, 29), (date(2026, 12, 28), date(2027, 1, 10))),
            (date(2027, 1, 6), (date(2026, 12, 28), date(2027, 1, 10))),
            (date(2027, 1, 11), (date(2027, 1, 11), date(2027, 1, 24))),
            (date(2027, 12, 30), (date(2027, 12, 27), date(2028, 1, 2))),
            (date(2028, 1, 3), (date(2028, 1, 3), date(2028, 1, 16))),
        ):
            self.assertEqual(customer._get_invoicing_cycle(day), cycle, day)

    def test_two_week_periods_tile_the_calendar(self):
        """From 2019 to 2035 (53-week years 2020, 2026, 2032), every day is in
        exactly one two-week period, each beginning the day after the previous
        one ended."""
        customer = self._create_customer("Tiles Co", "ap@tiles.test")
        customer.billing_invoicing_period = "biweekly"
        day = date(2019, 1, 1)
        previous = customer._get_invoicing_cycle(day - timedelta(days=1))
        while day < date(2036, 1, 1):
            cycle = customer._get_invoicing_cycle(day)
            self.assertTrue(cycle[0] <= day <= cycle[1], day)
            if cycle != previous:
                self.assertEqual(cycle[0], previous[1] + timedelta(days=1), day)
            self.assertIn((cycle[1] - cycle[0]).days, (6, 13), day)
            previous = cycle
            day += timedelta(days=1)
