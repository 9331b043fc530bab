from freezegun import freeze_time

from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestFinalEdgeCases(JobBillingCommon):
    """The final invoice is always possible and always bills the job price
    to the cent: after partial invoices billing everything, and after a
    price lowered on a time-and-material job."""

    def test_final_after_progress_billed_everything(self):
        """Progress billing at 100 %: the final bills nothing and still
        makes the job Billed."""
        job = self._create_job(billing_type="fixed_price", fixed_price=1000.0)
        self._invoice(job, "deposit", amount=200.0, post=True)
        self._invoice(job, "progress_summary", percent=100.0, post=True)
        self.assertAlmostEqual(job.amount_to_invoice, 0.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        job.action_close()
        final = self._invoice(job, "final")
        # the summary progress is taken back and the fixed price billed: 0.00
        self.assertMoney(final, 0.0, 0.0, 0.0)
        final.action_post()
        self.assertEqual(final.state, "posted")
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 1000.0, 1150.0)

    def test_final_after_itemized_billed_everything(self):
        job = self._create_repair_job()
        self._invoice(job, "progress_itemized_grouped", post=True)
        job.action_close()
        final = self._invoice(job, "final_grouped", post=True)
        self.assertMoney(final, 0.0, 0.0, 0.0)
        self.assertEqual(len(final.invoice_line_ids), 1)
        self.assertIn("billed in full", final.invoice_line_ids.name)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 1050.0, 1207.5)
        # crediting the zero final reopens billing, as any final
        self._reverse(final)
        self.assertEqual(job.state, "closed")

    def test_price_lowered_after_partial_billing(self):
        """Time and material: 5 of 10 installer hours billed at 80.00, then
        the hour is lowered to 70.00: the final bills the remaining 5 hours
        at 70.00 and a negative price revision of 50.00 for the 5 billed."""
        job = self._create_repair_job()
        installer = self._item(job, self.product_installer)
        partial = self._invoice(
            job, "progress_itemized", quantities={installer: 5}, post=True
        )
        self.assertMoney(partial, 400.0, 60.0, 460.0)
        installer.price_unit = 70.0
        self.assertAlmostEqual(job.suggested_price, 950.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertEqual(
            [(kind, amount) for _name, kind, amount in self._lines(final)],
            [("invoiceable", 350.0), ("invoiceable", 250.0), ("invoiceable", -50.0)],
        )
        self.assertIn("price revision", self._lines(final)[2][0])
        self.assertMoney(final, 550.0, 82.5, 632.5)
        self.assertAlmostEqual(installer.amount_to_invoice, 0.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, 0.0, places=2)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 950.0, 1092.5)

    def test_price_cannot_be_lowered_below_billed(self):
        job = self._create_repair_job()
        installer = self._item(job, self.product_installer)
        self._invoice(job, "progress_itemized", post=True)
        with self.assertRefused("more than the job price"):
            installer.price_unit = 70.0
        self.assertAlmostEqual(job.suggested_price, 1050.0, places=2)
