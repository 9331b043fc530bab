from datetime import date

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunReopen(InvoiceManagerCommon):
    """A run with errors is reopened and fixed from its own lines; a second run
    over the same sales warns and links the first; sales invoiced meanwhile
    are said so before any other issue."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_beta.email = False
        cls.sale_alpha = cls._create_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.user = new_test_user(
            cls.env, login="billing_reopen", groups="invoice_manager.group_billing_user"
        )

    def _run_with_an_error(self):
        run = self._new_run(billing_action="email")
        run.action_fetch()
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_beta)
        self.assertEqual(line.state, "error")
        self.assertIn("no email address", line.error_message)
        self.assertEqual(run.state, "done")
        return run, line

    def test_error_line_switched_to_create_only_after_reopen(self):
        run, line = self._run_with_an_error()
        as_user = line.with_user(self.user)
        with self.assertRaises(ValidationError, msg="not before Reopen"):
            as_user.billing_action = "create_only"
        run.with_user(self.user).action_reopen()
        as_user.billing_action = "create_only"
        with self.assertRaises(ValidationError, msg="a processed line stays"):
            self._line_of(run, self.sale_alpha).with_user(
                self.user
            ).billing_action = "create_only"
        run.with_user(self.user).action_process(force_synchronous=True)
        self.assertEqual(line.state, "processed")
        self.assertFalse(line.error_message)
        self.assertEqual(line.invoice_ids.state, "posted")
        self.assertAlmostEqual(line.invoice_ids.amount_total, 115.00, places=2)
        self.assertEqual(run.error_count, 0)
        self.assertEqual(len(run.invoice_ids), 2)

    def test_sales_invoiced_by_another_run_are_said_so_before_the_email(self):
        first, line = self._run_with_an_error()
        second = self._new_run(billing_action="create_only")
        second.action_fetch()
        self.assertEqual(second.line_ids.sale_order_ids, self.sale_beta)
        second.action_process(force_synchronous=True)
        invoice = second.invoice_ids
        self.assertAlmostEqual(invoice.amount_total, 115.00, places=2)
        first.action_reopen()
        first.action_process(force_synchronous=True)
        self.assertEqual(line.state, "elsewhere")
        self.assertIn(invoice.name, line.error_message)
        self.assertIn(second.name, line.error_message)
        self.assertEqual(first.error_count, 0)
        self.assertEqual(self.sale_beta.invoice_ids, invoice, "invoiced once")

    def test_second_run_over_the_same_sales_warns_and_links_the_first(self):
        first = self._new_run()
        first.action_fetch()
        self.assertFalse(first.overlapping_run_ids)
        second = self._new_run()
        second.action_fetch()
        self.assertEqual(
            second.line_ids.sale_order_ids, self.sale_alpha | self.sale_beta
        )
        self.assertEqual(second.overlapping_run_ids, first)
        first.invalidate_recordset(["overlapping_run_ids"])  # as a new request
        self.assertEqual(first.overlapping_run_ids, second)
        action = second.action_open_overlapping_runs()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("billing.run", first.id)
        )
        # Another period or another scenario: no warning.
        november = self._new_run(
            date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)
        )
        self.assertFalse(november.overlapping_run_ids)
        first.action_process(force_synchronous=True)
        second.invalidate_recordset()
        self.assertFalse(second.overlapping_run_ids, "the first run is processed")
