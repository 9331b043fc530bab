from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import Form, tagged

from .test_invoicing_modes import InvoicingModesCommon


@tagged("post_install", "-at_install")
class TestCreditedReturns(InvoicingModesCommon):
    """Returns credited by hand (as before this addon was installed: the credit
    note says nothing of billing again), then exchanged: the replacement
    delivery is billed, once; what a credit note gave away stays settled."""

    @contextmanager
    def _at(self, when):
        """Python's clock and the transaction's (the records' creation dates,
        which order credit notes and returns) at ``when``."""
        when = fields.Datetime.to_datetime(when)
        with freeze_time(when), patch.object(type(self.env.cr), "now", lambda cr: when):
            yield

    def _exchange(self, picking, qty, when):
        """Odoo's Return > Exchange of ``qty`` pallets of ``picking``: the return
        validated on ``when``, the replacement delivery left open."""
        with self._at(when):
            wizard = (
                self.env["stock.return.picking"]
                .with_context(
                    active_id=picking.id,
                    active_ids=picking.ids,
                    active_model="stock.picking",
                )
                .create({})
            )
            wizard.product_return_moves.quantity = qty
            returned = self.env["stock.picking"].browse(
                wizard.action_create_exchanges()["res_id"]
            )
            for move in returned.move_ids:
                move.quantity = qty
                move.picked = True
            returned.button_validate()
        self.assertEqual(returned.state, "done")
        return returned

    def _credit_pallets(self, invoice, qty, when="2026-10-11 10:00"):
        """A credit note of ``qty`` pallets of ``invoice`` (Odoo's reversal
        wizard, edited down), posted on ``when``; as made before this addon was
        installed, it says nothing of billing again."""
        with self._at(when):
            return self._credit_pallets_now(invoice, qty)

    def _credit_pallets_now(self, invoice, qty):
        reversal = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Returned", "journal_id": invoice.journal_id.id})
        )
        credit = self.env["account.move"].browse(reversal.refund_moves()["res_id"])
        with Form(credit) as form:
            with form.invoice_line_ids.edit(0) as line:
                line.quantity = qty
        credit.action_post()
        self.assertFalse(credit.billing_rebill_credited_qty)
        return credit

    def test_return_credited_by_hand_is_billed_again_once_exchanged(self):
        customer = self._create_customer("Exchange Co", "ap@exchange.test")
        order = self._order(customer, 5.0)
        picking = self._ship(order, 5, "2026-10-05 10:00")
        invoice = self._process(self._run()).line_ids.invoice_ids
        self.assertEqual(self._billed(customer), 575.00)

        self._exchange(picking, 2, "2026-10-10 10:00")
        self._credit_pallets(invoice, 2)
        self.assertEqual(order.order_line.qty_delivered, 3)
        self.assertEqual(self._billed(customer), 345.00)
        self.assertFalse(self._run(datetime(2026, 11, 3, 9, 0)).line_ids)

        # The 2 replacement pallets delivered: billed, once.
        replacement = self._ship(order, 2, "2026-10-12 10:00")
        run = self._process(
            self._run(datetime(2026, 11, 3, 9, 0)), datetime(2026, 11, 3, 9, 5)
        )
        self.assertEqual(len(run.line_ids), 1)
        self.assertEqual(run.line_ids.state, "processed")
        self.assertEqual(run.line_ids.invoice_ids.billing_picking_ids, replacement)
        self.assertEqual(self._pallet_qty(run.line_ids.invoice_ids), 2)
        self.assertEqual(run.line_ids.invoice_ids.amount_total, 230.00)
        self.assertEqual(self._billed(customer), 575.00)
        self.assertEqual(order.order_line.qty_invoiced, 5)
        self.assertFalse(self._run(datetime(2026, 11, 4, 9, 0)).line_ids)

    def test_exchange_bills_the_returned_pallets_not_those_given_away(self):
        customer = self._create_customer("Goodwill Co", "ap@goodwill.test")
        order = self._order(customer, 5.0)
        picking = self._ship(order, 5, "2026-10-05 10:00")
        invoice = self._process(self._run()).line_ids.invoice_ids
        # 1 pallet given away (scratched), 2 returned and exchanged.
        self._credit_pallets(invoice, 1, "2026-10-06 10:00")
        self._exchange(picking, 2, "2026-10-10 10:00")
        self._credit_pallets(invoice, 2)
        self.assertEqual(self._billed(customer), 230.00)
        self._ship(order, 2, "2026-10-12 10:00")
        self.assertEqual(order.order_line.qty_to_invoice, 3)
        self.assertEqual(order.order_line.billing_qty_to_invoice, 2)
        run = self._process(
            self._run(datetime(2026, 11, 3, 9, 0)), datetime(2026, 11, 3, 9, 5)
        )
        self.assertEqual(run.line_ids.invoice_ids.amount_total, 230.00)
        self.assertEqual(self._billed(customer), 460.00)
        self.assertFalse(self._run(datetime(2026, 11, 4, 9, 0)).line_ids)

    # ------------------------------------------------------------------
    # Credit notes of other kinds around a return
    # ------------------------------------------------------------------

    def test_return_credited_by_the_run_after_a_goodwill_credit(self):
        """A run not following the modes credits returned pallets itself; a
        pallet given away before stays given away: billed 4 of the 5 kept."""
        customer = self._create_customer("Scratch Co", "ap@scratch.test")
        order = self._order(customer, 5.0)
        picking = self._ship(order, 5, "2026-10-05 10:00")

        def run_month(day):
            with self._at(day):
                run = self._new_run()
                run.action_fetch()
                run.action_process(force_synchronous=True)
            return run

        invoice = run_month("2026-10-06 09:00").invoice_ids
        self.assertEqual(invoice.amount_total, 575.00)
        self._credit_pallets(invoice, 1, "2026-10-07 10:00")
        self._exchange(picking, 2, "2026-10-10 10:00")
        # Odoo nets the return with the pallet given away: 1 to credit; 2 came
        # back, and the run credits the 2.
        self.assertEqual(order.order_line.qty_to_invoice, -1)
        self.assertEqual(order.order_line.billing_qty_to_invoice, -2)
        credit = run_month("2026-10-11 09:00").invoice_ids - invoice
        self.assertEqual(credit.move_type, "out_refund")
        self.assertAlmostEqual(credit.amount_total, 230.00, places=2)
        self.assertTrue(credit.billing_return_credit)
        self.assertAlmostEqual(self._billed(customer), 230.00, places=2)
        with self._at("2026-10-12 10:00"):
            self._ship(order, 2, "2026-10-12 10:00")
        run_month("2026-10-13 09:00")
        self.assertAlmostEqual(self._billed(customer), 460.00, places=2)
        self.assertEqual(order.order_line.billing_qty_to_invoice, 0)

    def test_reverse_and_create_then_a_return_credited_by_hand(self):
        customer = self._create_customer("Reissue Co", "ap@reissue.test")
        order = self._order(customer, 5.0)
        picking = self._ship(order, 5, "2026-10-05 10:00")
        invoice = self._process(self._run()).line_ids.invoice_ids
        with self._at("2026-10-06 10:00"):
            reversal = (
                self.env["account.move.reversal"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"reason": "Address", "journal_id": invoice.journal_id.id})
            )
            reissued = self.env["account.move"].browse(
                reversal.modify_moves()["res_id"]
            )
            reissued.action_post()
        self.assertAlmostEqual(self._billed(customer), 575.00, places=2)
        self._exchange(picking, 2, "2026-10-10 10:00")
        self._credit_pallets(reissued, 2, "2026-10-11 10:00")
        self.assertAlmostEqual(self._billed(customer), 345.00, places=2)
        self._ship(order, 2, "2026-10-12 10:00")
        run = self._process(
            self._run(datetime(2026, 11, 3, 9, 0)), datetime(2026, 11, 3, 9, 5)
        )
        self.assertAlmostEqual(run.line_ids.invoice_ids.amount_total, 230.00, places=2)
        self.assertAlmostEqual(self._billed(customer), 575.00, places=2)
