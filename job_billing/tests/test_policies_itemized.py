from freezegun import freeze_time

from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestItemizedPolicies(JobBillingCommon):
    """A time and material boiler replacement: 2 boilers from the sale order
    (2 x 1,200.00) and job charges: 10 h installer (80.00), 5 h engineer
    (100.00), 20 m pipe (12.50), travel (60.00); 4,010.00 untaxed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._create_sale(cls.customer, [(cls.product_boiler, 2, 1200.0)])
        cls.job = cls._create_job(
            charges=[
                ("labour", cls.product_installer, 10, 80.0),
                ("labour", cls.product_engineer, 5, 100.0),
                ("materials", cls.product_pipe, 20, 12.5),
                ("expenses", cls.product_travel, 1, 60.0),
            ],
            orders=cls.order,
        )
        cls.boiler = cls._item(cls.job, cls.product_boiler)
        cls.installer = cls._item(cls.job, cls.product_installer)
        cls.engineer = cls._item(cls.job, cls.product_engineer)
        cls.pipe = cls._item(cls.job, cls.product_pipe)
        cls.travel = cls._item(cls.job, cls.product_travel)

    def test_suggested_price_is_the_sum_of_invoiceables(self):
        self.assertEqual(self.job.billing_type, "time_material")
        self.assertAlmostEqual(self.job.suggested_price, 4010.0, places=2)

    def test_grouped_policies(self):
        """Deposit, progress itemized with charges grouped, final grouped and a
        grouped correction."""
        job = self.job
        deposit = self._invoice(job, "deposit", amount=1000.0, post=True)
        self.assertMoney(deposit, 1000.0, 150.0, 1150.0)

        progress = self._invoice(
            job,
            "progress_itemized_grouped",
            quantities={
                self.boiler: 1,
                self.installer: 10,
                self.engineer: 2,
                self.pipe: 20,
            },
            post=True,
        )
        self.assertEqual(
            self._lines(progress),
            [
                ("Condensing boiler", "invoiceable", 1200.0),
                ("Labour", "invoiceable", 1000.0),
                ("Materials", "invoiceable", 250.0),
                (
                    f"Less deposit received (job {job.name})",
                    "deposit_deduction",
                    -610.97,
                ),
            ],
        )
        # 1,000.00 deposit x 2,450.00 billed / 4,010.00 job price = 610.97
        self.assertMoney(progress, 1839.03, 275.85, 2114.88)
        labour_line = progress.invoice_line_ids.filtered(
            lambda line: line.name == "Labour"
        )
        self.assertEqual(
            labour_line.job_allocation_ids.mapped("invoiceable_id"),
            self.installer | self.engineer,
        )
        self.assertEqual(
            labour_line.job_allocation_ids.mapped("amount"), [800.0, 200.0]
        )
        self.assertEqual(self.engineer.qty_invoiced, 2.0)
        self.assertEqual(self.engineer.qty_to_invoice, 3.0)
        self.assertAlmostEqual(self.engineer.amount_to_invoice, 300.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 389.03, places=2)

        job.action_close()
        final = self._invoice(job, "final_grouped", post=True)
        self.assertEqual(
            [(name, amount) for name, _kind, amount in self._lines(final)],
            [
                ("Condensing boiler", 1200.0),
                ("Labour", 300.0),
                ("Expenses", 60.0),
                (f"Less deposit received (job {job.name})", -389.03),
            ],
        )
        self.assertMoney(final, 1170.97, 175.65, 1346.62)
        self.assertEqual(job.state, "billed")
        self.assertAlmostEqual(job.amount_invoiced, 4010.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        non_corrections = deposit | progress | final
        self.assertAlmostEqual(sum(non_corrections.mapped("amount_untaxed")), 4010.0, 2)
        self.assertAlmostEqual(sum(non_corrections.mapped("amount_total")), 4611.5, 2)

        # 2 h of installer overtime forgotten: a debit correction, grouped
        correction = self._invoice(
            job,
            "correction_grouped",
            quantities={self.installer: 2},
            reason="Overtime forgotten",
            post=True,
        )
        self.assertEqual(correction.move_type, "out_invoice")
        self.assertEqual(
            self._lines(correction),
            [("Labour - Overtime forgotten", "correction", 160.0)],
        )
        self.assertMoney(correction, 160.0, 24.0, 184.0)
        self.assertAlmostEqual(self.installer.amount_corrected, 160.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, 160.0, places=2)
        self.assertAlmostEqual(job.amount_invoiced, 4010.0, places=2)

    def test_itemized_policies(self):
        """Progress itemized then final itemized, without deposit: every line
        bills one invoiceable and the sale order follows."""
        job = self.job
        progress = self._invoice(
            job,
            "progress_itemized",
            quantities={self.boiler: 1, self.installer: 6},
            post=True,
        )
        self.assertEqual(
            self._lines(progress),
            [
                ("Condensing boiler", "invoiceable", 1200.0),
                ("Installer hours", "invoiceable", 480.0),
            ],
        )
        self.assertMoney(progress, 1680.0, 252.0, 1932.0)
        self.assertEqual(self.order.order_line.qty_invoiced, 1.0)
        self.assertAlmostEqual(progress.job_progress_percent, 41.90, places=2)

        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertEqual(
            [(name, amount) for name, _kind, amount in self._lines(final)],
            [
                ("Condensing boiler", 1200.0),
                ("Installer hours", 320.0),
                ("Engineer hours", 500.0),
                ("Copper pipe (m)", 250.0),
                ("Travel expenses", 60.0),
            ],
        )
        self.assertMoney(final, 2330.0, 349.5, 2679.5)
        self.assertEqual(self.order.order_line.qty_invoiced, 2.0)
        self.assertAlmostEqual(job.amount_invoiced, 4010.0, places=2)
        self.assertAlmostEqual(job.amount_to_invoice, 0.0, places=2)
        self.assertEqual(job.state, "billed")

        credit = self._invoice(
            job,
            "correction",
            quantities={self.pipe: -4},
            reason="Pipe returned",
            post=True,
        )
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(
            [(line.quantity, line.price_unit) for line in credit.invoice_line_ids],
            [(4.0, 12.5)],
        )
        self.assertMoney(credit, 50.0, 7.5, 57.5)
        self.assertAlmostEqual(self.pipe.amount_corrected, -50.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, -50.0, places=2)

    def test_draft_invoices_count_and_cancelled_do_not(self):
        job = self.job
        draft = self._invoice(job, "progress_itemized", quantities={self.installer: 10})
        self.assertEqual(self.installer.qty_to_invoice, 0.0)
        wizard = self.env["billing.job.invoice"].create(
            {"job_id": job.id, "policy": "progress_itemized"}
        )
        self.assertNotIn(self.installer, wizard.line_ids.invoiceable_id)
        draft.button_cancel()
        self.assertEqual(self.installer.qty_to_invoice, 10.0)
        self.assertAlmostEqual(job.amount_invoiced, 0.0, places=2)
