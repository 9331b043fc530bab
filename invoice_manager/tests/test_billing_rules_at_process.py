from datetime import date

from odoo.tests import tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRulesAtProcess(InvoiceManagerCommon):
    """What changed between Fetch and Process is checked again at Process: a
    line never bills a customer, head office or mode that no longer applies."""

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
        cls.old_head = cls._create_customer(
            "Old Holding",
            "ap@old.test",
            is_company=True,
            billing_invoicing_mode="per_order",
        )
        cls.new_head = cls._create_customer(
            "New Holding",
            "ap@new.test",
            is_company=True,
            billing_invoicing_mode="per_order",
        )
        cls.moving_site = cls._create_customer(
            "Moving Site",
            "moving@site.test",
            is_company=True,
            head_office_id=cls.old_head.id,
        )
        cls.staying_site = cls._create_customer(
            "Staying Site",
            "staying@site.test",
            is_company=True,
            head_office_id=cls.old_head.id,
        )
        cls.moving_order = cls._create_sale(cls.moving_site, date(2026, 10, 3))
        cls.staying_order = cls._create_sale(
            cls.staying_site, date(2026, 10, 5), [(cls.product_service, 2.0, 100.0)]
        )

    def test_site_moved_to_another_head_office_is_not_billed_to_the_old(self):
        run = self._new_run(self.mode_scenario)
        run.action_fetch()
        line = run.line_ids
        self.assertEqual(line.partner_id, self.old_head)
        self.assertEqual(line.amount_total, 345.00)
        self.moving_site.head_office_id = self.new_head
        run.action_process(force_synchronous=True)
        # The old head office is billed for the site that stayed, only.
        self.assertEqual(line.state, "processed")
        self.assertEqual(line.invoice_ids.partner_id, self.old_head)
        self.assertEqual(line.invoice_ids.amount_total, 230.00)
        self.assertNotIn(self.moving_order, line.sale_order_ids)
        self.assertIn(self.moving_order.name, line.error_message)
        self.assertIn("New Holding", line.error_message)
        self.assertFalse(self.moving_order.invoice_ids)
        # Fetched again, the moved site's sale goes to its new head office.
        run.action_reopen()
        run.action_fetch()
        new_line = self._line_of(run, self.moving_order)
        self.assertEqual(new_line.partner_id, self.new_head)
        run.action_process(force_synchronous=True)
        self.assertEqual(self.moving_order.invoice_ids.partner_id, self.new_head)
        self.assertEqual(self.moving_order.invoice_ids.amount_total, 115.00)

    def test_whole_line_of_a_changed_mode_is_left_not_invoiced(self):
        run = self._new_run(self.mode_scenario)
        run.action_fetch()
        line = run.line_ids
        # The head office now has each site invoiced on its own.
        self.old_head.head_office_invoicing = "per_site"
        run.action_process(force_synchronous=True)
        self.assertEqual(line.state, "skipped")
        self.assertFalse(line.invoice_ids)
        self.assertIn("invoicing mode, period or head office", line.error_message)
        self.assertFalse((self.moving_order | self.staying_order).invoice_ids)
