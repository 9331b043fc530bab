from datetime import date
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingRunErrors(InvoiceManagerCommon):
    """One failing sale turns its own line to Error; the others are invoiced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_alpha = cls._create_sale(cls.customer_alpha, date(2026, 10, 3))
        cls.sale_beta = cls._create_sale(cls.customer_beta, date(2026, 10, 4))
        cls.product_gamma = cls._create_product(name="Gamma kit", lst_price=100.0)
        cls.sale_gamma = cls._create_sale(
            cls.customer_gamma, date(2026, 10, 5), [(cls.product_gamma, 1.0, 100.0)]
        )

    def _fetched_run(self, **values):
        run = self._new_run(**values)
        run.action_fetch()
        self.assertEqual(len(run.line_ids), 3)
        return run

    def _assert_only_line_in_error(self, run, order, reason):
        line = self._line_of(run, order)
        self.assertEqual(line.state, "error")
        self.assertIn(reason, line.error_message)
        self.assertFalse(order.invoice_ids, "the failing sale is not invoiced")
        others = run.line_ids - line
        self.assertEqual(set(others.mapped("state")), {"processed"})
        self.assertEqual(set(others.invoice_ids.mapped("state")), {"posted"})
        self.assertEqual(len(others.invoice_ids), 2)

    def test_missing_email_address_fails_only_that_line_and_can_be_fixed(self):
        self.customer_beta.email = False
        run = self._fetched_run(billing_action="email")
        run.action_process(force_synchronous=True)
        self._assert_only_line_in_error(run, self.sale_beta, "has no email address")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.error_count, 1)

        self.customer_beta.email = "new@beta.test"
        run.action_reopen()
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_beta)
        self.assertEqual(line.state, "processed")
        self.assertEqual(line.delivery_email, "new@beta.test")
        self.assertFalse(line.error_message)
        self.assertEqual(len(run.invoice_ids), 3, "the others were not invoiced again")

    def test_missing_income_account_fails_only_that_line(self):
        categ = self.env["product.category"].create({"name": "No accounts"})
        categ.property_account_income_categ_id = False
        self.product_gamma.write(
            {"categ_id": categ.id, "property_account_income_id": False}
        )
        self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.env.company.id)]
        ).default_account_id = False
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        self._assert_only_line_in_error(
            run, self.sale_gamma, "No income account for Gamma kit"
        )

    def _break_tax(self):
        """A 15 % tax whose tax account was deprecated: Odoo refuses to post with it."""
        broken_tax = self.tax_15.copy({"name": "Old 15%"})
        tax_account = self.company_data["default_account_tax_sale"].copy(
            {"code": "251999"}
        )
        broken_tax.invoice_repartition_line_ids.filtered(
            lambda rep: rep.repartition_type == "tax"
        ).account_id = tax_account
        tax_account.deprecated = True
        return broken_tax

    def test_tax_misconfiguration_fails_only_that_line(self):
        self.sale_alpha.order_line.tax_id = self._break_tax()
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        self._assert_only_line_in_error(run, self.sale_alpha, "is deprecated")

    def test_order_locked_by_another_transaction_fails_only_that_line(self):
        locked = self.sale_beta
        Invoicer = type(self.env["billing.run.invoicer"])
        original = Invoicer._lock_orders

        def lock_orders(invoicer, orders):
            if locked in orders:
                # What _lock_orders reports when another transaction holds the
                # row past invoice_manager.lock_timeout.
                raise UserError(invoicer._get_locked_message())
            return original(invoicer, orders)

        with patch.object(Invoicer, "_lock_orders", lock_orders):
            run = self._fetched_run()
            run.action_process(force_synchronous=True)
        self._assert_only_line_in_error(run, locked, "being changed by another user")

    def test_error_line_processed_again_after_the_cause_is_fixed(self):
        self.sale_alpha.order_line.tax_id = self._break_tax()
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        self.assertEqual(self._line_of(run, self.sale_alpha).state, "error")
        self.sale_alpha.order_line.tax_id = self.tax_15
        run.action_reopen()
        run.action_process(force_synchronous=True)
        line = self._line_of(run, self.sale_alpha)
        self.assertEqual(line.state, "processed")
        self.assertAlmostEqual(line.invoice_ids.amount_total, 115.00, places=2)
        self.assertEqual(len(run.invoice_ids), 3)

    def test_lock_orders_waits_then_reports_rows_held_elsewhere_in_plain_words(self):
        """The real lock: a second transaction holds the sale's row longer than
        invoice_manager.lock_timeout."""
        invoicer = self.env["billing.run.invoicer"]
        self.env["ir.config_parameter"].set_param("invoice_manager.lock_timeout", 1)
        # Test data is uncommitted, hence invisible to a second transaction: hold
        # a committed row this test never writes, in a table _lock_rows takes.
        country = self.env.ref("base.uy")
        with self.env.registry.cursor() as other_cr:
            other_cr.execute(
                "SELECT id FROM res_country WHERE id = %s FOR UPDATE", [country.id]
            )
            with (
                self.assertRaisesRegex(UserError, "being changed by another"),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                invoicer._lock_rows("res_country", country.ids)

    def test_process_is_refused_outside_the_rules_step(self):
        run = self._fetched_run()
        run.action_process(force_synchronous=True)
        with self.assertRaises(UserError):
            run.action_process(force_synchronous=True)

    def test_lines_show_the_invoice_when_another_run_invoiced_it_first(self):
        first = self._fetched_run()
        second = self._fetched_run()
        first.action_process(force_synchronous=True)
        second.action_process(force_synchronous=True)
        self.assertEqual(set(second.line_ids.mapped("state")), {"elsewhere"})
        self.assertFalse(second.invoice_ids)
        self.assertEqual(len(self.sale_alpha.invoice_ids), 1)
        line = self._line_of(second, self.sale_alpha)
        self.assertEqual(line.elsewhere_invoice_ids, self.sale_alpha.invoice_ids)
        self.assertEqual(line.elsewhere_run_ids, first)
        self.assertIn(first.name, line.error_message)
        self.assertIn(self.sale_alpha.invoice_ids.name, line.error_message)
        self.assertEqual(
            line.action_open_invoices()["res_id"], line.elsewhere_invoice_ids.id
        )
        self.assertEqual(
            first.line_ids.sale_order_ids,
            self.sale_alpha | self.sale_beta | self.sale_gamma,
        )
