from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import JobBillingCommon


@tagged("post_install", "-at_install")
@freeze_time("2026-03-10")
class TestOdooActionsOnJobInvoices(JobBillingCommon):
    """Odoo's own Credit Note, "Reverse and create new draft" and Duplicate on
    a job invoice make moves of the job that count for what they are: in the
    end the customer is billed the job price plus its corrections."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._create_sale(cls.customer, [(cls.product_heat_pump, 1, 6000.0)])
        # 6,000.00 + 20 h x 150.00 + 10 x 50.00 = 9,500.00 of invoiceables
        cls.job = cls._create_heat_pump_job(orders=cls.order)
        cls.heat_pump = cls._item(cls.job, cls.product_heat_pump)
        cls.installer = cls._item(cls.job, cls.product_installer)

    def test_credited_deposit_is_no_longer_deducted(self):
        job = self.job
        deposit = self._invoice(job, "deposit", amount=2000.0, post=True)
        credit = self._reverse(deposit)
        self.assertEqual(credit.move_type, "out_refund")
        self.assertEqual(credit.job_id, job)
        self.assertEqual(credit.invoice_line_ids.job_line_kind, "deposit")
        self.assertIn(credit, job.invoice_ids)
        # a draft credit note counts already, as a draft invoice does
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        credit.action_post()
        self.assertMoney(credit, 2000.0, 300.0, 2300.0)
        self.assertAlmostEqual(job.deposit_invoiced, 0.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 0.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertFalse(final.job_deposit_deducted)
        self.assertMoney(final, 10000.0, 1500.0, 11500.0)
        self.assertEqual(job.state, "billed")
        # 2,000.00 - 2,000.00 + 10,000.00
        self.assertBilled(job, 10000.0, 11500.0)

    def test_deducted_deposit_cannot_be_credited(self):
        job = self.job
        deposit = self._invoice(job, "deposit", amount=2000.0, post=True)
        self._invoice(job, "progress_summary", percent=50.0, post=True)
        self.assertAlmostEqual(job.deposit_balance, 1000.0, places=2)
        # Odoo's Credit Note makes a full reversal draft, to be edited down:
        # posting it as it is would credit what is already deducted
        credit = self._reverse(deposit)
        with self.assertRefused("already deducted"):
            credit.action_post()
        self.assertEqual(credit.state, "draft")
        with self.assertRefused("already deducted"):
            self._reverse(deposit, modify=True)
        self.assertEqual(len(job.invoice_ids), 3)

    def test_credited_progress_is_billable_again(self):
        """Chosen: a credit note of a progress invoice un-bills what it billed
        (quantities, progress, deposit deducted), as Odoo's sale order does."""
        job = self.job
        self._invoice(job, "deposit", amount=1000.0, post=True)
        progress = self._invoice(
            job,
            "progress_itemized",
            quantities={self.heat_pump: 1, self.installer: 10},
            post=True,
        )
        # 6,000.00 + 1,500.00, less 1,000.00 x 7,500.00 / 10,000.00
        self.assertMoney(progress, 6750.0, 1012.5, 7762.5)
        self.assertEqual(self.order.order_line.qty_invoiced, 1.0)
        credit = self._reverse(progress)
        credit.action_post()
        self.assertMoney(credit, 6750.0, 1012.5, 7762.5)
        self.assertEqual(
            sorted(credit.invoice_line_ids.mapped("job_line_kind")),
            ["deposit_deduction", "invoiceable", "invoiceable"],
        )
        self.assertEqual(self.heat_pump.qty_invoiced, 0.0)
        self.assertEqual(self.installer.qty_to_invoice, 20.0)
        self.assertEqual(self.order.order_line.qty_invoiced, 0.0)
        self.assertAlmostEqual(job.amount_invoiced, 0.0, places=2)
        self.assertAlmostEqual(job.amount_to_invoice, 10000.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 1000.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 9000.0, 1350.0, 10350.0)
        self.assertBilled(job, 10000.0, 11500.0)
        self.assertEqual(self.order.order_line.qty_invoiced, 1.0)

    def test_reverse_and_create_new_draft(self):
        job = self.job
        progress = self._invoice(
            job, "progress_itemized", quantities={self.installer: 10}, post=True
        )
        new_draft = self._reverse(progress, modify=True)
        self.assertEqual(new_draft.state, "draft")
        self.assertEqual(new_draft.job_id, job)
        self.assertEqual(new_draft.job_invoice_policy, "progress_itemized")
        self.assertEqual(new_draft.invoice_line_ids.job_allocation_ids.quantity, 10.0)
        credit = progress.reversal_move_ids
        self.assertEqual(credit.state, "posted")
        self.assertEqual(credit.invoice_line_ids.job_allocation_ids.quantity, -10.0)
        self.assertAlmostEqual(job.amount_invoiced, 1500.0, places=2)
        self.assertEqual(self.installer.qty_invoiced, 10.0)
        new_draft.invoice_line_ids.quantity = 8.0
        new_draft.action_post()
        # billed 8 h, charged 8 h: the job still owes 2 h of those 10 h, as a
        # correction of -300.00 (the allocation bills 10 h)
        self.assertAlmostEqual(job.amount_corrected, -300.0, places=2)
        job.action_close()
        self._invoice(job, "final", post=True)
        self.assertBilled(job, 9700.0, 11155.0)

    def test_credit_note_of_the_final_reopens_billing(self):
        """Chosen: crediting the final invoice un-bills it; the job goes back
        to Closed for a new final invoice."""
        job = self.job
        self._invoice(job, "deposit", amount=3000.0, post=True)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertEqual(job.state, "billed")
        credit = self._reverse(final)
        self.assertEqual(job.state, "closed", "the draft credit note counts")
        credit.action_post()
        self.assertEqual(job.state, "closed")
        self.assertAlmostEqual(job.amount_to_invoice, 10000.0, places=2)
        self.assertAlmostEqual(job.deposit_balance, 3000.0, places=2)
        second = self._invoice(job, "final", post=True)
        self.assertMoney(second, 7000.0, 1050.0, 8050.0)
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 10000.0, 11500.0)

    def test_modify_the_final(self):
        job = self.job
        job.action_close()
        final = self._invoice(job, "final", post=True)
        new_final = self._reverse(final, modify=True)
        self.assertEqual(job.state, "closed")
        self.assertEqual(new_final.job_invoice_type, "complete")
        self.assertEqual(job._get_complete_invoices(), new_final)
        new_final.action_post()
        self.assertEqual(job.state, "billed")
        self.assertBilled(job, 10000.0, 11500.0)

    def test_credit_note_of_a_partial_on_a_billed_job_is_refused(self):
        job = self.job
        progress = self._invoice(job, "progress_summary", percent=40.0, post=True)
        job.action_close()
        self._invoice(job, "final", post=True)
        with self.assertRefused("is billed"):
            self._reverse(progress)
        self.assertEqual(job.state, "billed")

    def test_duplicate(self):
        job = self.job
        deposit = self._invoice(job, "deposit", amount=1000.0, post=True)
        copy = deposit.copy()
        self.assertEqual(copy.job_id, job)
        self.assertEqual(copy.job_invoice_policy, "deposit")
        self.assertEqual(copy.invoice_line_ids.job_line_kind, "deposit")
        self.assertAlmostEqual(job.deposit_balance, 2000.0, places=2)
        progress = self._invoice(
            job, "progress_itemized", quantities={self.heat_pump: 1}, post=False
        )
        with self.assertRefused("nothing is billed twice"):
            progress.copy()
        job.action_close()
        with self.assertRefused("draft partial invoices"):
            self._invoice(job, "final")
        (copy | progress).action_post()
        final = self._invoice(job, "final", post=True)
        with self.assertRefused("takes only correction invoices"):
            final.copy()
        self.assertBilled(job, 10000.0, 11500.0)

    def test_hand_added_line_counts_as_a_correction(self):
        """Chosen: a line added by hand to a job invoice (no job line kind) is
        billed as it is and counts as a correction; the final does not undo
        it."""
        job = self.job
        progress = self._invoice(job, "progress_summary", percent=50.0)
        progress.invoice_line_ids = [
            Command.create({"product_id": self.product_travel.id, "price_unit": 60.0})
        ]
        progress.action_post()
        self.assertMoney(progress, 5060.0, 759.0, 5819.0)
        self.assertAlmostEqual(job.amount_invoiced, 5000.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, 60.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        self.assertMoney(final, 5000.0, 750.0, 5750.0)
        self.assertBilled(job, 10060.0, 11569.0)

    def test_discount_on_a_draft_job_invoice_is_a_correction(self):
        job = self.job
        progress = self._invoice(
            job, "progress_itemized", quantities={self.heat_pump: 1}
        )
        progress.invoice_line_ids.discount = 10.0
        summary = self._invoice(job, "progress_summary", percent=80.0)
        summary.invoice_line_ids.discount = 50.0
        (progress | summary).action_post()
        self.assertMoney(progress, 5400.0, 810.0, 6210.0)
        self.assertMoney(summary, 1000.0, 150.0, 1150.0)
        self.assertAlmostEqual(job.amount_invoiced, 8000.0, places=2)
        self.assertAlmostEqual(job.amount_corrected, -1600.0, places=2)
        job.action_close()
        final = self._invoice(job, "final", post=True)
        # 3,500.00 of items left, less 2,000.00 of progress billed (before
        # its discount), plus the fixed price adjustment: the discounts stay
        self.assertEqual(
            [(kind, amount) for _name, kind, amount in self._lines(final)][-2:],
            [("progress", -2000.0), ("adjustment", 500.0)],
        )
        self.assertMoney(final, 2000.0, 300.0, 2300.0)
        self.assertBilled(job, 8400.0, 9660.0)

    def test_deposits_are_received_and_deducted_for_one_customer(self):
        """Invoice To another customer: no deposit of the first one is ever
        deducted on it (it would bill the second customer less for a deposit
        the first one paid)."""
        job = self.job
        other = self.env["res.partner"].create({"name": "Other Heating Ltd"})
        deposit = self._invoice(job, "deposit", amount=2000.0, post=True)
        with self.assertRefused("deposits are received from", ValidationError):
            self._invoice(job, "progress_summary", percent=50.0, partner_id=other.id)
        with self.assertRefused("deposits are received from", ValidationError):
            self._invoice(job, "deposit", amount=500.0, partner_id=other.id)
        self.assertEqual(job.invoice_ids, deposit)
        # The first customer: deducted in proportion, as always.
        progress = self._invoice(job, "progress_summary", percent=50.0, post=True)
        self.assertMoney(progress, 4000.0, 600.0, 4600.0)
        # A correction without deposit lines can go to the other customer.
        correction = self._invoice(
            job, "correction", amount=100.0, reason="Extra", partner_id=other.id
        )
        self.assertEqual(correction.partner_id, other)
