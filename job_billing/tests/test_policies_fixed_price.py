from freezegun import freeze_time

from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestFixedPriceJob(JobBillingCommon):
    """A fixed price heat pump installation, 10,000.00 untaxed: a 30 % deposit,
    a 40 % summary progress invoice, the final invoice and a credit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._create_sale(cls.customer, [(cls.product_heat_pump, 1, 6000.0)])
        cls.job = cls._create_heat_pump_job(orders=cls.order)

    def test_suggested_price_is_the_fixed_price(self):
        self.assertEqual(len(self.job.invoiceable_ids), 3)
        item = self._item(self.job, self.product_heat_pump)
        self.assertEqual(item.source, "order_item")
        self.assertEqual(item.sale_line_id, self.order.order_line)
        self.assertAlmostEqual(self.job.amount_invoiceables, 9500.0, places=2)
        self.assertAlmostEqual(self.job.suggested_price, 10000.0, places=2)
        self.job.billing_type = "time_material"
        self.assertAlmostEqual(self.job.suggested_price, 9500.0, places=2)

    def test_deposit_progress_final_correction(self):
        job = self.job
        # 1. Deposit, 30 % of the suggested price
        deposit = self._invoice(job, "deposit", percent=30.0, post=True)
        self.assertEqual(
            (deposit.job_invoice_type, deposit.job_invoice_policy),
            ("partial", "deposit"),
        )
        self.assertMoney(deposit, 3000.0, 450.0, 3450.0)
        self.assertEqual(deposit.invoice_line_ids.job_line_kind, "deposit")
        self.assertEqual(
            deposit.invoice_line_ids.product_id,
            self.env.ref("job_billing.product_job_deposit"),
        )
        self.assertAlmostEqual(job.deposit_balance, 3000.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced, 0.0, places=2)

        # 2. Progress, summary: 40 % complete, deducts 40 % of the deposit
        progress = self._invoice(job, "progress_summary", percent=40.0, post=True)
        self.assertEqual(
            [kind for _name, kind, _amount in self._lines(progress)],
            ["progress", "deposit_deduction"],
        )
        self.assertEqual(
            [amount for _name, _kind, amount in self._lines(progress)],
            [4000.0, -1200.0],
        )
        self.assertIn("40% of the job", progress.invoice_line_ids[0].name)
        self.assertMoney(progress, 2800.0, 420.0, 3220.0)
        self.assertAlmostEqual(progress.job_progress_percent, 40.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced, 4000.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 1800.0, places=2)
        self.assertAlmostEqual(job.amount_to_invoice, 6000.0, places=2)

        # 3. Close, then the final invoice: everything left, itemized
        job.action_close()
        final = self._invoice(job, "final")
        self.assertEqual(final.job_invoice_type, "complete")
        self.assertEqual(
            [(kind, amount) for _name, kind, amount in self._lines(final)],
            [
                ("invoiceable", 6000.0),
                ("invoiceable", 3000.0),
                ("invoiceable", 500.0),
                ("progress", -4000.0),
                ("adjustment", 500.0),
                ("deposit_deduction", -1800.0),
            ],
        )
        self.assertMoney(final, 4200.0, 630.0, 4830.0)
        self.assertAlmostEqual(final.job_deposit_deducted, 1800.0, places=2)
        self.assertEqual(job.state, "closed", "billed only once the final is posted")
        final.action_post()
        self.assertEqual(job.state, "billed")
        self.assertEqual(final.job_workflow_state, "posted")

        # the job price is reached and the deposits are balanced
        invoices = job.invoice_ids.filtered(
            lambda m: m.job_invoice_type != "correction"
        )
        self.assertAlmostEqual(sum(invoices.mapped("amount_untaxed")), 10000.0, 2)
        self.assertAlmostEqual(sum(invoices.mapped("amount_total")), 11500.0, 2)
        self.assertAlmostEqual(job.amount_invoiced, 10000.0, places=2)
        self.assertAlmostEqual(job.amount_to_invoice, 0.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        self.assertAlmostEqual(job.progress_percent, 100.0, places=2)
        for item in job.invoiceable_ids:
            self.assertAlmostEqual(item.qty_to_invoice, 0.0)
            self.assertAlmostEqual(item.amount_to_invoice, 0.0)
        self.assertEqual(self.order.order_line.qty_invoiced, 1.0)

        # 4. A credit for late completion: a credit note
        credit = self._invoice(
            job,
            "correction",
            amount=-250.0,
            reason="Discount for late completion",
            post=True,
        )
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(credit.job_invoice_type, "correction")
        self.assertMoney(credit, 250.0, 37.5, 287.5)
        self.assertEqual(credit.ref, "Discount for late completion")
        self.assertAlmostEqual(job.amount_corrected, -250.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced, 10000.0, places=2)
        self.assertEqual(job.state, "billed")

    def test_deposit_as_amount(self):
        deposit = self._invoice(self.job, "deposit", amount=1234.56)
        self.assertMoney(deposit, 1234.56, 185.18, 1419.74)
        self.assertEqual(deposit.job_invoice_amount, 1234.56)
