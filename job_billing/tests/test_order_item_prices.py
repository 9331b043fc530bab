from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestOrderItemPrices(JobBillingCommon):
    """An order item bills what its sale order line says: its unit price,
    discount and taxes (already mapped by the order's fiscal position), so
    the job's invoices of an order add up to the order, to the cent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_incl = cls.env["account.tax"].create(
            {
                "name": "15% incl.",
                "amount": 15.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": cls.company.id,
            }
        )
        cls.tax_5 = cls.env["account.tax"].create(
            {
                "name": "Reduced 5%",
                "amount": 5.0,
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.product_radiator = cls._create_product(
            name="Radiator", lst_price=115.0, taxes_id=[cls.tax_incl.id]
        )

    def assertOrderLine(self, line, untaxed, tax, total):
        self.assertAlmostEqual(line.price_subtotal, untaxed, places=2)
        self.assertAlmostEqual(line.price_tax, tax, places=2)
        self.assertAlmostEqual(line.price_total, total, places=2)

    def test_price_included_tax_is_not_taken_out_twice(self):
        """2 x 115.00 with 15 % included: 200.00 + 30.00 = 230.00, as the
        order says, over a progress and a final invoice."""
        order = self._create_sale(self.customer, [(self.product_radiator, 2, 115.0)])
        self.assertOrderLine(order.order_line, 200.0, 30.0, 230.0)
        job = self._create_job(orders=order)
        item = job.invoiceable_ids
        self.assertAlmostEqual(item.price_unit, 115.0, places=2)
        self.assertAlmostEqual(item.amount, 200.0, places=2)
        self.assertAlmostEqual(job.suggested_price, 200.0, places=2)
        progress = self._invoice(
            job, "progress_itemized", quantities={item: 1}, post=True
        )
        self.assertMoney(progress, 100.0, 15.0, 115.0)
        self.assertEqual(progress.invoice_line_ids.tax_ids, self.tax_incl)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 100.0, 15.0, 115.0)
        self.assertEqual(job.state, "billed")
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        self.assertBilled(job, 200.0, 230.0)
        self.assertEqual(order.order_line.qty_invoiced, 2.0)

    def test_one_final_invoice_of_a_tax_included_order(self):
        order = self._create_sale(self.customer, [(self.product_radiator, 2, 115.0)])
        job = self._create_job(orders=order)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 200.0, 30.0, 230.0)
        self.assertEqual(
            (final.amount_untaxed, final.amount_tax, final.amount_total),
            (order.amount_untaxed, order.amount_tax, order.amount_total),
        )
        self.assertBilled(job, 200.0, 230.0)

    def test_discount_and_fiscal_position_of_the_order(self):
        """The order's fiscal position maps 15 % to 5 % and 15 % included to
        5 %; a line has a 10 % discount. The job bills the order's lines as
        they are, deposit and deduction at the order's taxes."""
        fiscal_position = self.env["account.fiscal.position"].create(
            {
                "name": "Reduced rate",
                "tax_ids": [
                    Command.create(
                        {"tax_src_id": self.tax_15.id, "tax_dest_id": self.tax_5.id}
                    ),
                    Command.create(
                        {"tax_src_id": self.tax_incl.id, "tax_dest_id": self.tax_5.id}
                    ),
                ],
            }
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "fiscal_position_id": fiscal_position.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product_engineer.id,
                            "product_uom_qty": 4,
                            "price_unit": 100.0,
                            "discount": 10.0,
                        }
                    ),
                    Command.create(
                        {"product_id": self.product_radiator.id, "product_uom_qty": 1}
                    ),
                ],
            }
        )
        order.action_confirm()
        engineer_line, radiator_line = order.order_line
        self.assertEqual(order.order_line.tax_id, self.tax_5)
        # 4 x 100.00 less 10 %; the radiator's 115.00 less its included tax
        self.assertOrderLine(engineer_line, 360.0, 18.0, 378.0)
        self.assertOrderLine(radiator_line, 100.0, 5.0, 105.0)
        job = self._create_job(orders=order)
        engineer = self._item(job, self.product_engineer)
        self.assertAlmostEqual(engineer.discount, 10.0, places=2)
        self.assertAlmostEqual(engineer.amount, 360.0, places=2)
        self.assertAlmostEqual(job.suggested_price, 460.0, places=2)
        deposit = self._invoice(job, "deposit", amount=100.0, post=True)
        self.assertMoney(deposit, 100.0, 5.0, 105.0)
        self.assertEqual(deposit.invoice_line_ids.tax_ids, self.tax_5)
        progress = self._invoice(
            job, "progress_itemized", quantities={engineer: 2}, post=True
        )
        line = progress.invoice_line_ids.filtered(
            lambda line: line.job_line_kind == "invoiceable"
        )
        self.assertEqual(
            (line.price_unit, line.discount, line.tax_ids),
            (100.0, 10.0, self.tax_5),
        )
        # 180.00 less 100.00 x 180.00 / 460.00 of deposit, all at 5 %
        self.assertMoney(progress, 140.87, 7.04, 147.91)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        # 180.00 + 100.00 less the 60.87 of deposit left
        self.assertMoney(final, 219.13, 10.96, 230.09)
        self.assertEqual(job.state, "billed")
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        # what the order says: 460.00 + 23.00
        self.assertBilled(job, order.amount_untaxed, order.amount_total)
        self.assertBilled(job, 460.0, 483.0)

    def test_discount_follows_the_sale_line(self):
        order = self._create_sale(self.customer, [(self.product_engineer, 4, 100.0)])
        job = self._create_job(orders=order)
        order.order_line.discount = 25.0
        job.action_update_order_items()
        self.assertAlmostEqual(job.invoiceable_ids.discount, 25.0, places=2)
        self.assertAlmostEqual(job.suggested_price, 300.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 300.0, 45.0, 345.0)
        self.assertEqual(final.amount_total, order.amount_total)
