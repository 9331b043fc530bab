from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .test_invoicing_modes import InvoicingModesCommon


@tagged("post_install", "-at_install")
class TestFirstRunOnHistory(InvoicingModesCommon):
    """The first run on a database with history fetches, sale by sale, what
    Odoo itself says is still to invoice for the period (its invoice status
    and quantities), and bills it as Odoo's own *Create Invoice* would, to the
    cent; the one difference is the run's stated credit-note rule."""

    def _customer(self, name):
        return self._create_customer(name, f"{name.lower()}@history.test")

    def _invoice(self, order, post=True):
        invoice = order._create_invoices(final=True)
        if post:
            invoice.action_post()
        return invoice

    def _credit(self, invoice):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "history"})
        )
        credit = self.env["account.move"].browse(wizard.refund_moves()["res_id"])
        credit.action_post()
        return credit

    def _build_history(self):
        when = datetime(2026, 10, 20, 10, 0)
        sales = {}
        # Delivered and invoiced: nothing left.
        sales["invoiced"] = self._order(self._customer("Invoiced"), 5)
        self._ship(sales["invoiced"], 5, when)
        self._invoice(sales["invoiced"])
        # Partly delivered, not invoiced: 4 of 10 to invoice.
        sales["partly_delivered"] = self._order(self._customer("Partly"), 10)
        self._ship(sales["partly_delivered"], 4, when)
        # Delivered 6, 4 of them invoiced: 2 to invoice.
        sales["partly_invoiced"] = self._order(self._customer("Halfway"), 10)
        self._ship(sales["partly_invoiced"], 4, when)
        self._invoice(sales["partly_invoiced"])
        self._ship(sales["partly_invoiced"], 2, datetime(2026, 10, 22, 10, 0))
        # A 30 % down payment, then everything delivered: the final bill.
        sales["down_payment"] = self._order(self._customer("Deposit"), 10)
        self._down_payment(
            sales["down_payment"], advance_payment_method="percentage", amount=30
        )
        self._ship(sales["down_payment"], 10, when)
        # Invoiced, then the invoice cancelled: billable again.
        sales["cancelled"] = self._order(self._customer("Cancelled"), 3)
        self._ship(sales["cancelled"], 3, when)
        self._invoice(sales["cancelled"]).button_cancel()
        # A draft invoice waits: Odoo counts it as invoiced.
        sales["draft"] = self._order(self._customer("Drafted"), 2)
        self._ship(sales["draft"], 2, when)
        self._invoice(sales["draft"], post=False)
        # Invoiced, then credited with Odoo's Credit Note: Odoo bills it again,
        # the run does not (its rule: a credit note settles what it credits).
        sales["credited"] = self._order(self._customer("Credited"), 4)
        self._ship(sales["credited"], 4, when)
        self._credit(self._invoice(sales["credited"]))
        # Nothing delivered yet.
        sales["not_delivered"] = self._order(self._customer("Waiting"), 7)
        return sales

    def _what_odoo_would_bill(self, order):
        """(untaxed, total) of Odoo's own final invoice of ``order`` now."""
        with self.env.cr.savepoint(flush=True) as savepoint:
            invoice = order._create_invoices(final=True)
            amounts = (invoice.amount_untaxed, invoice.amount_total)
            savepoint.rollback()
        order.invalidate_recordset()
        order.order_line.invalidate_recordset()
        return amounts

    def test_first_run_fetches_what_odoo_says_is_to_invoice(self):
        sales = self._build_history()
        by_odoo = {
            key: order
            for key, order in sales.items()
            if order.invoice_status == "to invoice"
        }
        self.assertEqual(
            set(by_odoo),
            {
                "partly_delivered",
                "partly_invoiced",
                "down_payment",
                "cancelled",
                "credited",
            },
        )
        odoo_bills = {key: self._what_odoo_would_bill(o) for key, o in by_odoo.items()}
        run = self._new_run(self.scenario, require_approval=False)
        with freeze_time("2026-11-02 09:00"):
            run.action_fetch()
        fetched = {
            key for key, order in sales.items() if order in run.line_ids.sale_order_ids
        }
        self.assertEqual(fetched, set(by_odoo) - {"credited"})
        for key in fetched:
            line = self._line_of(run, sales[key])
            self.assertEqual(
                (line.amount_untaxed, line.amount_total), odoo_bills[key], key
            )
        with freeze_time("2026-11-02 09:05"):
            run.action_process(force_synchronous=True)
        for key in fetched:
            invoice = self._line_of(run, sales[key]).invoice_ids
            self.assertEqual(
                (invoice.amount_untaxed, invoice.amount_total), odoo_bills[key], key
            )
        # The figures, to the cent: 4 and 2 pallets; 1,150.00 less the 345.00
        # down payment; 3 pallets again.
        self.assertEqual(odoo_bills["partly_delivered"], (400.00, 460.00))
        self.assertEqual(odoo_bills["partly_invoiced"], (200.00, 230.00))
        self.assertEqual(odoo_bills["down_payment"], (700.00, 805.00))
        self.assertEqual(odoo_bills["cancelled"], (300.00, 345.00))
        # Odoo has nothing more to invoice for them: nothing billed twice,
        # nothing left behind.
        for key in fetched:
            self.assertNotEqual(sales[key].invoice_status, "to invoice", key)
            self.assertFalse(any(sales[key].order_line.mapped("qty_to_invoice")), key)
