from freezegun import freeze_time

from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestJobTaxes(JobBillingCommon):
    """Deposit and summary lines carry the taxes of what they stand for;
    deposits go to Odoo's down payment account; prices with the tax
    included count untaxed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tax_0 = cls.env["account.tax"].create(
            {
                "name": "Zero rated 0%",
                "amount": 0.0,
                "type_tax_use": "sale",
                "company_id": cls.company.id,
            }
        )
        cls.product_books = cls._create_product(
            name="Manuals", lst_price=50.0, taxes_id=[cls.tax_0.id]
        )

    def test_deposit_and_progress_split_per_tax(self):
        # 1,000.00 at 15 % and 1,000.00 at 0 %
        job = self._create_job(
            charges=[
                ("labour", self.product_installer, 10, 100.0),
                ("materials", self.product_books, 20, 50.0),
            ],
        )
        downpayment = self.company_data["default_account_revenue"].copy(
            {"name": "Down payments received", "code": "DP1000"}
        )
        self.product_installer.categ_id.property_account_downpayment_categ_id = (
            downpayment
        )
        deposit = self._invoice(job, "deposit", amount=1000.0, post=True)
        self.assertMoney(deposit, 1000.0, 75.0, 1075.0)
        self.assertEqual(
            sorted(
                (line.tax_ids.name, line.price_subtotal)
                for line in deposit.invoice_line_ids
            ),
            [("15%", 500.0), ("Zero rated 0%", 500.0)],
        )
        self.assertIn(downpayment, deposit.invoice_line_ids.account_id)
        summary = self._invoice(job, "progress_summary", percent=50.0, post=True)
        # 1,000.00 of progress, less 500.00 of deposit, half at 15 %
        self.assertMoney(summary, 500.0, 37.5, 537.5)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 500.0, 37.5, 537.5)
        # 2,000.00 untaxed: 1,000.00 at 15 % and 1,000.00 at 0 %
        self.assertBilled(job, 2000.0, 2150.0)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)

    def test_price_included_tax_counts_untaxed(self):
        tax_incl = self.env["account.tax"].create(
            {
                "name": "15% incl.",
                "amount": 15.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": self.company.id,
            }
        )
        product = self._create_product(
            name="Filter", lst_price=115.0, taxes_id=[tax_incl.id]
        )
        job = self._create_job(charges=[("materials", product, 1, 115.0)])
        self.assertAlmostEqual(job.suggested_price, 100.0, places=2)
        progress = self._invoice(job, "progress_itemized")
        self.assertMoney(progress, 100.0, 15.0, 115.0)
        self.assertAlmostEqual(job.amount_invoiced, 100.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        progress.action_post()
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 0.0, 0.0, 0.0)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 100.0, 115.0)

    def _create_tax_included(self):
        return self.env["account.tax"].create(
            {
                "name": "15% incl.",
                "amount": 15.0,
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": self.company.id,
            }
        )

    def test_price_included_default_tax_on_summary_lines(self):
        """Deposit, progress, deduction and adjustment lines carry untaxed
        amounts: with a price-included default tax, their price includes it."""
        self.company.account_sale_tax_id = self._create_tax_included()
        job = self._create_job(billing_type="fixed_price", fixed_price=1000.0)
        deposit = self._invoice(job, "deposit", amount=333.33, post=True)
        self.assertMoney(deposit, 333.33, 50.0, 383.33)
        summary = self._invoice(job, "progress_summary", percent=50.0, post=True)
        # 500.00 of progress less 166.67 of the deposit (333.33 x 500 / 1,000)
        self.assertMoney(summary, 333.33, 50.0, 383.33)
        self.assertAlmostEqual(job.amount_invoiced, 500.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 166.66, places=2)
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        # -500.00 progress, +1,000.00 adjustment, -166.66 deposit
        self.assertMoney(final, 333.34, 50.0, 383.34)
        self.assertEqual(job.state, "billed")
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        self.assertBilled(job, 1000.0, 1150.0)

    def test_price_included_tax_on_grouped_lines(self):
        """A grouped line bills the untaxed amounts of its items: 3 x 9.99
        and 1 x 10.01 with 15 % included are 26.06 + 8.70 = 34.76 untaxed."""
        tax_incl = self._create_tax_included()
        gasket = self._create_product(
            name="Gasket", lst_price=9.99, taxes_id=[tax_incl.id]
        )
        valve = self._create_product(
            name="Valve", lst_price=10.01, taxes_id=[tax_incl.id]
        )
        job = self._create_job(
            charges=[
                ("materials", gasket, 3, 9.99),
                ("materials", valve, 1, 10.01),
                ("labour", self.product_installer, 1, 80.0),
            ],
        )
        self.assertAlmostEqual(job.suggested_price, 114.76, places=2)
        self._invoice(job, "deposit", amount=50.0, post=True)
        progress = self._invoice(job, "progress_itemized_grouped", post=True)
        materials = progress.invoice_line_ids.filtered(
            lambda line: (
                line.job_line_kind == "invoiceable" and line.tax_ids == tax_incl
            )
        )
        self.assertAlmostEqual(materials.price_subtotal, 34.76, places=2)
        self.assertAlmostEqual(materials.price_total, 39.97, places=2)
        # the deposit: 50.00 split 80.00 at 15 % / 34.76 with 15 % included
        deposit_taxes = {
            line.tax_ids: round(line.price_subtotal, 2)
            for line in job.invoice_ids.invoice_line_ids
            if line.job_line_kind == "deposit"
        }
        self.assertEqual(deposit_taxes, {self.tax_15: 34.86, tax_incl: 15.14})
        # 114.76 billed, less the 50.00 deposit in full
        self.assertMoney(progress, 64.76, 9.71, 74.47)
        self.assertAlmostEqual(job.amount_invoiced, 114.76, places=2)
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        job.action_close()
        self._invoice(job, "final_grouped", post=True)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 114.76, 131.97)

    def test_deposit_deduction_mirrors_the_deposit_taxes(self):
        """The pipe goes from 15 % to zero rated after the deposit: the
        deposit, issued all at 15 %, is deducted all at 15 %."""
        job = self._create_repair_job()
        installer = self._item(job, self.product_installer)
        deposit = self._invoice(job, "deposit", amount=525.0, post=True)
        self.assertMoney(deposit, 525.0, 78.75, 603.75)
        self.product_pipe.taxes_id = self.tax_0
        progress = self._invoice(
            job, "progress_itemized", quantities={installer: 5}, post=True
        )
        # 400.00 at 15 % less 200.00 of deposit (525 x 400 / 1,050) at 15 %
        deductions = progress.invoice_line_ids.filtered(
            lambda line: line.job_line_kind == "deposit_deduction"
        )
        self.assertEqual(deductions.tax_ids, self.tax_15)
        self.assertMoney(progress, 200.0, 30.0, 230.0)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        # 400.00 at 15 % + 250.00 at 0 % less 325.00 of deposit at 15 %
        self.assertMoney(final, 325.0, 11.25, 336.25)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        # the deposit's VAT is given back in full: 800.00 at 15 %, 250.00 at 0 %
        self.assertBilled(job, 1050.0, 1170.0)

    def test_foreign_currency_sale_order_is_refused(self):
        order = self._create_sale(self.customer, [(self.product_installer, 1, 80.0)])
        order.currency_id = self.setup_other_currency("EUR")
        with self.assertRefused("is in EUR: job .* bills in .* only"):
            self._create_job(orders=order)

    def test_price_raised_after_partial_billing(self):
        """Time and material: the raise is billed for its item on the final,
        not as a fixed price adjustment."""
        job = self._create_repair_job()
        installer = self._item(job, self.product_installer)
        self._invoice(job, "progress_itemized", quantities={installer: 5}, post=True)
        installer.price_unit = 100.0
        self.assertAlmostEqual(job.suggested_price, 1250.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertEqual(
            [(kind, amount) for _name, kind, amount in self._lines(final)],
            [("invoiceable", 500.0), ("invoiceable", 250.0), ("invoiceable", 100.0)],
        )
        self.assertAlmostEqual(installer.amount_to_invoice, 0.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        self.assertBilled(job, 1250.0, 1437.5)

    def test_sale_order_billed_by_the_job_only(self):
        order = self._create_sale(self.customer, [(self.product_installer, 2, 80.0)])
        order.order_line.qty_delivered = 2
        job = self._create_job(orders=order)
        with self.assertRefused("is billed by job"):
            order._create_invoices()
        self._invoice(job, "progress_itemized", post=True)
        self.assertEqual(order.order_line.qty_invoiced, 2.0)
        # an order invoiced from its own side cannot be linked to a job
        other = self._create_sale(self.customer, [(self.product_installer, 1, 80.0)])
        other.order_line.qty_delivered = 1
        invoice = other._create_invoices()
        with self.assertRefused("is already invoiced"):
            self._create_job(orders=other)
        invoice.button_cancel()
        linked = self._create_job(orders=other)
        self.assertEqual(linked.invoiceable_ids.sale_line_id, other.order_line)
