from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import InvoiceManagerCommon


@tagged("post_install", "-at_install")
class TestBillingAmountsRounding(InvoiceManagerCommon):
    """The amounts a fetched line shows are its invoice's, to the cent: with
    several sales on one invoice, a company rounding taxes globally, discounts
    and a tax included in the price, they are rounded once over the invoice's
    lines, as the invoice rounds them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.tax_calculation_rounding_method = "round_globally"
        cls.tax_included = cls.env["account.tax"].create(
            {
                "name": "15 % included",
                "amount": 15.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
            }
        )
        cls.product_included = cls._create_product(
            name="Boxed tea",
            lst_price=10.0,
            type="service",
            invoice_policy="order",
            taxes_id=[Command.set(cls.tax_included.ids)],
        )
        cls.scenario.grouping = "customer"
        cls.mode_scenario = cls.scenario.copy(
            {"name": "By modes", "use_invoicing_mode": True}
        )

    def _sales(self, customer):
        orders = self.env["sale.order"]
        for day, price, discount in ((3, 10.0, 0.0), (4, 10.0, 0.0), (5, 12.0, 10.0)):
            order = self._create_sale(
                customer, date(2026, 10, day), [(self.product_included, 1.0, price)]
            )
            order.order_line.discount = discount
            orders |= order
        return orders

    def _check_line_is_its_invoice(self, run, untaxed, total):
        run.action_fetch()
        line = run.line_ids
        self.assertEqual(len(line), 1)
        self.assertEqual((line.amount_untaxed, line.amount_total), (untaxed, total))
        run.action_process(force_synchronous=True)
        invoice = line.invoice_ids
        self.assertEqual(
            (invoice.amount_untaxed, invoice.amount_total), (untaxed, total)
        )

    def test_one_invoice_per_customer_rounds_once(self):
        # 10.00 + 10.00 + 10.80 = 30.80 included; tax rounded once: 4.02;
        # untaxed 26.78 (per sale: 8.70 + 8.70 + 9.39 = 26.79).
        self._sales(self.customer_alpha)
        self._check_line_is_its_invoice(self._new_run(), 26.78, 30.80)

    def test_invoicing_modes_batch_rounds_once(self):
        self.customer_beta.billing_invoicing_mode = "batch"
        self._sales(self.customer_beta)
        self._check_line_is_its_invoice(self._new_run(self.mode_scenario), 26.78, 30.80)
