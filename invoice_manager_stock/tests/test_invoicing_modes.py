from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.tests import Form, tagged

from odoo.addons.invoice_manager.tests.common import InvoiceManagerCommon


class InvoicingModesCommon(InvoiceManagerCommon):
    """Customers' invoicing modes on real deliveries (``stock.picking`` validated,
    dates frozen): what each invoice bills, to the cent.

    Goods: 'Pallet' 100.00 per unit (invoiced on delivered quantities, 15 % tax:
    115.00 each). A run of October 2026 follows the customers' modes.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Periods are cut in the company's time zone.
        cls.env.company.partner_id.tz = "Europe/Brussels"
        cls.env.user.tz = "Europe/Brussels"
        cls.product_pallet = cls._create_product(
            name="Pallet",
            lst_price=100.0,
            type="consu",
            invoice_policy="delivery",
            taxes_id=[Command.set(cls.tax_15.ids)],
        )
        cls.mode_scenario = cls.env["billing.scenario"].create(
            {
                "name": "Month-end by invoicing modes",
                "period_type": "month",
                "require_approval": False,
                "billing_action": "create_only",
                "invoice_date_mode": "period_end",
                "use_invoicing_mode": True,
            }
        )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _order(self, partner, qty=10.0, day=date(2026, 10, 1), lines=None):
        return self._create_sale(
            partner, day, lines or [(self.product_pallet, qty, 100.0)]
        )

    def _ship(self, order, qty, when, backorder=True):
        """Validate the open delivery of ``order`` with ``qty`` pallets on
        ``when`` (UTC); keep or refuse the backorder."""
        picking = order.picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        self.assertEqual(len(picking), 1)
        with freeze_time(when):
            for move in picking.move_ids:
                move.quantity = qty
                move.picked = True
            result = picking.button_validate()
            if result is not True:
                wizard = Form.from_action(self.env, result).save()
                if backorder:
                    wizard.process()
                else:
                    wizard.process_cancel_backorder()
        self.assertEqual(picking.state, "done")
        return picking

    def _run(self, day=datetime(2026, 11, 2, 9, 0)):
        """The October run, fetched and processed on ``day``."""
        with freeze_time(day):
            run = self._new_run(self.mode_scenario)
            run.action_fetch()
        return run

    def _process(self, run, day=datetime(2026, 11, 2, 9, 5)):
        with freeze_time(day):
            run.action_process(force_synchronous=True)
        return run

    def _billed(self, partner):
        """What ``partner`` is billed net, taxes included (posted invoices less
        credit notes)."""
        moves = self.env["account.move"].search(
            [
                ("partner_id", "=", partner.id),
                ("state", "=", "posted"),
                ("move_type", "in", ("out_invoice", "out_refund")),
            ]
        )
        return sum(moves.mapped("amount_total_signed"))

    def _pallet_qty(self, invoice):
        return sum(
            invoice.invoice_line_ids.filtered(
                lambda line: line.product_id == self.product_pallet
            ).mapped("quantity")
        )


@tagged("post_install", "-at_install")
class TestInvoicingModes(InvoicingModesCommon):
    """Each invoicing mode, head offices and the accountant's moves around them."""

    # ------------------------------------------------------------------
    # Per shipment
    # ------------------------------------------------------------------

    def test_per_shipment_each_delivery_on_its_own_invoice(self):
        customer = self._create_customer("Shipment Co", "ap@ship.test")
        order = self._order(customer, 10.0)
        first = self._ship(order, 4, "2026-10-05 10:00")
        second = self._ship(order, 6, "2026-10-20 10:00")

        run = self._run()
        self.assertEqual(len(run.line_ids), 2)
        by_picking = {line.item_ids.picking_id: line for line in run.line_ids}
        self.assertEqual(by_picking[first].amount_total, 460.00)
        self.assertEqual(by_picking[second].amount_total, 690.00)
        self.assertEqual(set(run.line_ids.mapped("invoicing_mode")), {"per_shipment"})

        self._process(run)
        self.assertEqual(set(run.line_ids.mapped("state")), {"processed"})
        invoice_first = by_picking[first].invoice_ids
        invoice_second = by_picking[second].invoice_ids
        self.assertEqual(self._pallet_qty(invoice_first), 4)
        self.assertEqual(invoice_first.amount_total, 460.00)
        self.assertEqual(invoice_first.billing_picking_ids, first)
        self.assertEqual(self._pallet_qty(invoice_second), 6)
        self.assertEqual(invoice_second.billing_picking_ids, second)
        self.assertEqual(self._billed(customer), 1150.00)
        self.assertEqual(order.order_line.qty_invoiced, 10)

        # A second run of the same month finds nothing left.
        again = self._run(datetime(2026, 11, 3, 9, 0))
        self.assertFalse(again.line_ids)

    def test_per_shipment_bills_only_that_delivery_not_the_rest_of_the_order(self):
        customer = self._create_customer("Partial Co", "ap@partial.test")
        order = self._order(customer, 10.0)
        self._ship(order, 3, "2026-10-12 10:00")
        run = self._process(self._run())
        self.assertEqual(run.line_ids.invoice_ids.amount_total, 345.00)
        self.assertEqual(order.order_line.qty_invoiced, 3)
        # The rest, delivered in November, waits for November's run.
        self._ship(order, 7, "2026-11-04 10:00")
        self.assertFalse(self._run(datetime(2026, 11, 5, 9, 0)).line_ids)

    def test_services_follow_the_mode_by_order_date(self):
        customer = self._create_customer("Mixed Co", "ap@mixed.test")
        order = self._order(
            customer,
            lines=[
                (self.product_pallet, 2.0, 100.0),
                (self.product_service, 1.0, 50.0),
            ],
        )
        picking = self._ship(order, 2, "2026-10-08 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 2)
        shipment_line = run.line_ids.filtered(lambda line: line.item_ids.picking_id)
        service_line = run.line_ids - shipment_line
        self.assertEqual(shipment_line.item_ids.picking_id, picking)
        self.assertEqual(shipment_line.invoice_ids.amount_total, 230.00)
        self.assertEqual(
            service_line.invoice_ids.invoice_line_ids.product_id, self.product_service
        )
        self.assertEqual(service_line.invoice_ids.amount_total, 57.50)
        self.assertEqual(self._billed(customer), 287.50)

    def test_delivery_invoiced_by_hand_is_not_billed_again(self):
        customer = self._create_customer("Manual Co", "ap@manual.test")
        order = self._order(customer, 10.0)
        self._ship(order, 4, "2026-10-05 10:00")
        manual = order._create_invoices()
        manual.action_post()
        self._ship(order, 6, "2026-10-20 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 1)
        self.assertEqual(self._pallet_qty(run.line_ids.invoice_ids), 6)
        self.assertEqual(self._billed(customer), 1150.00)

    def test_cancelled_invoice_frees_its_delivery_credit_note_does_not(self):
        customer = self._create_customer("Cancel Co", "ap@cancel.test")
        order = self._order(customer, 5.0)
        self._ship(order, 5, "2026-10-05 10:00")
        run = self._process(self._run())
        invoice = run.line_ids.invoice_ids
        invoice.button_draft()
        invoice.button_cancel()
        rerun = self._process(self._run(datetime(2026, 11, 3, 9, 0)))
        self.assertEqual(rerun.line_ids.invoice_ids.amount_total, 575.00)
        self.assertEqual(self._billed(customer), 575.00)

        # A credit note settles the delivery: not billed a third time.
        reversal = (
            self.env["account.move.reversal"]
            .with_context(
                active_model="account.move",
                active_ids=rerun.line_ids.invoice_ids.ids,
            )
            .create({"reason": "Damaged", "journal_id": invoice.journal_id.id})
        )
        reversal.refund_moves()
        self.assertFalse(self._run(datetime(2026, 11, 4, 9, 0)).line_ids)

    # ------------------------------------------------------------------
    # Per order
    # ------------------------------------------------------------------

    def test_per_order_waits_for_the_last_delivery(self):
        customer = self._create_customer(
            "Order Co", "ap@order.test", billing_invoicing_mode="per_order"
        )
        order = self._order(customer, 10.0)
        first = self._ship(order, 4, "2026-10-05 10:00")
        self.assertFalse(self._run().line_ids, "not fully delivered yet")

        second = self._ship(order, 6, "2026-10-25 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 1)
        self.assertEqual(run.line_ids.invoicing_mode, "per_order")
        invoice = run.line_ids.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(self._pallet_qty(invoice), 10)
        self.assertEqual(invoice.amount_total, 1150.00)
        self.assertEqual(invoice.billing_picking_ids, first | second)

    def test_per_order_refused_backorder_counts_as_delivered(self):
        customer = self._create_customer(
            "Refused Co", "ap@refused.test", billing_invoicing_mode="per_order"
        )
        order = self._order(customer, 10.0)
        self._ship(order, 7, "2026-10-05 10:00", backorder=False)
        run = self._process(self._run())
        self.assertEqual(self._pallet_qty(run.line_ids.invoice_ids), 7)
        self.assertEqual(self._billed(customer), 805.00)
        # Nothing left to invoice: the 3 refused pallets are not billed.
        self.assertEqual(order.order_line.qty_to_invoice, 0)
        self.assertEqual(order.order_line.qty_invoiced, 7)

    # ------------------------------------------------------------------
    # Batch per period
    # ------------------------------------------------------------------

    def test_batch_cut_off_is_the_delivery_date(self):
        customer = self._create_customer(
            "Batch Co",
            "ap@batch.test",
            billing_invoicing_mode="batch",
            billing_invoicing_period="monthly",
        )
        order_a = self._order(customer, 3.0, date(2026, 10, 2))
        order_b = self._order(customer, 5.0, date(2026, 10, 20))
        self._ship(order_a, 3, "2026-10-03 10:00")
        # 31 October, 22:30 in Brussels (UTC+1): still October.
        late_evening = self._ship(order_b, 2, "2026-10-31 21:30")
        november = self._ship(order_b, 3, "2026-11-01 09:00")

        run = self._process(self._run(datetime(2026, 11, 2, 9, 0)))
        self.assertEqual(len(run.line_ids), 1)
        line = run.line_ids
        self.assertEqual(line.invoicing_mode, "batch")
        self.assertEqual(line.cycle_date_from, date(2026, 10, 1))
        self.assertEqual(line.cycle_date_to, date(2026, 10, 31))
        invoice = line.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(self._pallet_qty(invoice), 5)
        self.assertEqual(invoice.amount_total, 575.00)
        self.assertIn(late_evening, invoice.billing_picking_ids)
        self.assertNotIn(november, invoice.billing_picking_ids)
        self.assertEqual(invoice.invoice_date, date(2026, 10, 31))

        # November's run (on 2 December) bills the November delivery alone.
        with freeze_time("2026-12-02 09:00"):
            november_run = self._new_run(
                self.mode_scenario,
                date_from=date(2026, 11, 1),
                date_to=date(2026, 11, 30),
            )
            november_run.action_fetch()
            november_run.action_process(force_synchronous=True)
        self.assertEqual(self._pallet_qty(november_run.line_ids.invoice_ids), 3)
        self.assertEqual(self._billed(customer), 920.00)

    def test_batch_period_not_ended_waits(self):
        customer = self._create_customer(
            "Weekly Co",
            "ap@weekly.test",
            billing_invoicing_mode="batch",
            billing_invoicing_period="weekly",
        )
        order = self._order(customer, 4.0, date(2026, 10, 26))
        # Thursday 29 October: its week ends on Sunday 1 November.
        self._ship(order, 4, "2026-10-29 10:00")
        self.assertFalse(self._run().line_ids)

    def test_late_delivery_of_an_earlier_month_is_billed_and_marked(self):
        customer = self._create_customer("Late Co", "ap@late.test")
        order = self._order(customer, 2.0, date(2026, 9, 10))
        self._ship(order, 2, "2026-09-15 10:00")
        run = self._process(self._run())
        self.assertTrue(run.line_ids.is_late)
        self.assertTrue(run.line_ids.item_ids.is_late)
        self.assertEqual(run.line_ids.invoice_ids.amount_total, 230.00)

    # ------------------------------------------------------------------
    # Head offices
    # ------------------------------------------------------------------

    def _head_office(self, invoicing="consolidated", **values):
        head = self._create_customer(
            "Head Office Ltd",
            "ap@head.test",
            is_company=True,
            head_office_invoicing=invoicing,
            billing_invoicing_mode="batch",
            billing_invoicing_period="monthly",
            **values,
        )
        north = self._create_customer(
            "North Site",
            "north@head.test",
            is_company=True,
            head_office_id=head.id,
            street="1 North Road",
            city="Leeds",
        )
        south = self._create_customer(
            "South Site",
            "south@head.test",
            is_company=True,
            head_office_id=head.id,
            street="9 South Street",
            city="Brighton",
        )
        return head, north, south

    def test_consolidated_head_office_one_invoice_with_a_section_per_site(self):
        head, north, south = self._head_office()
        north_order = self._order(north, 2.0, date(2026, 10, 3))
        north_order.client_order_ref = "PO-N-7"
        south_order = self._order(south, 3.0, date(2026, 10, 4))
        self._ship(north_order, 2, "2026-10-06 10:00")
        self._ship(south_order, 3, "2026-10-07 10:00")

        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 1)
        line = run.line_ids
        self.assertEqual(line.partner_id, head)
        self.assertEqual(line.head_office_invoicing, "consolidated")
        self.assertEqual(line.amount_total, 575.00)
        invoice = line.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.partner_id, head)
        self.assertEqual(invoice.amount_total, 575.00)
        sections = invoice.invoice_line_ids.filtered(
            lambda aml: aml.display_type == "line_section"
        ).sorted("sequence")
        self.assertEqual(len(sections), 2)
        self.assertIn("North Site", sections[0].name)
        self.assertIn("1 North Road", sections[0].name)
        self.assertIn(north_order.name, sections[0].name)
        self.assertIn("PO-N-7", sections[0].name)
        self.assertIn("South Site", sections[1].name)
        # Each site's goods sit under its own section.
        lines = invoice.invoice_line_ids.sorted("sequence")
        north_part = lines[1 : list(lines).index(sections[1])]
        self.assertEqual(north_part.sale_line_ids.order_id, north_order)
        self.assertEqual(self._billed(head), 575.00)
        self.assertEqual(self._billed(north) + self._billed(south), 0)

        # The invoice PDF shows the sections.
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("account.report_invoice", invoice.ids)[0]
            .decode()
        )
        self.assertIn("North Site", html)
        self.assertIn("South Site", html)

    def test_per_site_one_invoice_per_site_addressed_to_the_head_office(self):
        head, north, south = self._head_office(invoicing="per_site")
        north_order = self._order(north, 2.0)
        south_order = self._order(south, 3.0)
        self._ship(north_order, 2, "2026-10-06 10:00")
        self._ship(south_order, 3, "2026-10-07 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 2)
        invoices = run.line_ids.invoice_ids
        self.assertEqual(invoices.partner_id, head)
        self.assertEqual(
            set(invoices.mapped("partner_shipping_id")),
            {north_order.partner_shipping_id, south_order.partner_shipping_id},
        )
        self.assertEqual(sorted(invoices.mapped("amount_total")), [230.00, 345.00])

    def test_consolidation_splits_what_one_invoice_cannot_mix(self):
        head, north, south = self._head_office()
        immediate = self.env.ref("account.account_payment_term_immediate")
        thirty = self.env.ref("account.account_payment_term_30days")
        north_order = self._order(north, 2.0)
        north_order.payment_term_id = immediate
        south_order = self._order(south, 3.0)
        south_order.payment_term_id = thirty
        self._ship(north_order, 2, "2026-10-06 10:00")
        self._ship(south_order, 3, "2026-10-07 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 2)
        for line in run.line_ids:
            self.assertIn("payment terms", line.split_reason)
        invoices = run.line_ids.invoice_ids
        self.assertEqual(
            set(invoices.mapped("invoice_payment_term_id")), {immediate, thirty}
        )
        self.assertEqual(self._billed(head), 575.00)

    def test_consolidated_head_office_splits_by_currency_each_billed_in_its_own(self):
        eur = self.setup_other_currency("EUR", rates=[("2016-01-01", 2.0)])
        head, north, south = self._head_office()
        pricelist = self.env["product.pricelist"].create(
            {"name": "Euro sites", "currency_id": eur.id}
        )
        north_order = self._create_sale(
            north,
            date(2026, 10, 1),
            [(self.product_pallet, 2.0, 100.0)],
            pricelist_id=pricelist.id,
        )
        self.assertEqual(north_order.currency_id, eur)
        south_order = self._order(south, 3.0)
        self._ship(north_order, 2, "2026-10-06 10:00")
        self._ship(south_order, 3, "2026-10-07 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 2)
        for line in run.line_ids:
            self.assertIn("currency", line.split_reason)
            self.assertEqual(line.invoice_ids.currency_id, line.currency_id)
        euro_invoice = run.line_ids.invoice_ids.filtered(
            lambda move: move.currency_id == eur
        )
        self.assertEqual(euro_invoice.amount_total, 230.00)
        self.assertEqual(euro_invoice.amount_total_signed, 115.00)
        other = run.line_ids.invoice_ids - euro_invoice
        self.assertEqual(other.currency_id, self.env.company.currency_id)
        self.assertEqual(other.amount_total, 345.00)
        self.assertEqual(run.line_ids.invoice_ids.partner_id, head)
        # In the company's currency: 230.00 EUR at 2.0 is 115.00.
        self.assertEqual(self._billed(head), 460.00)

    # ------------------------------------------------------------------
    # Down payments, duplicates, reset to draft
    # ------------------------------------------------------------------

    def test_per_shipment_deducts_the_down_payment_once(self):
        customer = self._create_customer("Deposit Co", "ap@deposit.test")
        order = self._order(customer, 10.0)
        down_payment = self._down_payment(
            order, advance_payment_method="percentage", amount=30
        )
        self.assertEqual(down_payment.amount_total, 345.00)
        self._ship(order, 4, "2026-10-05 10:00")
        october = self._process(self._run())
        self.assertEqual(october.line_ids.amount_total, 460.00 - 345.00)
        self.assertEqual(october.line_ids.invoice_ids.amount_total, 115.00)

        self._ship(order, 6, "2026-11-12 10:00")
        with freeze_time("2026-12-02 09:00"):
            november = self._new_run(
                self.mode_scenario,
                date_from=date(2026, 11, 1),
                date_to=date(2026, 11, 30),
            )
            november.action_fetch()
        self.assertEqual(november.line_ids.amount_total, 690.00)
        self._process(november, datetime(2026, 12, 2, 9, 5))
        self.assertEqual(november.line_ids.invoice_ids.amount_total, 690.00)
        self.assertEqual(self._billed(customer), 1150.00)
        pallets = order.order_line.filtered(
            lambda line: line.product_id == self.product_pallet
        )
        self.assertEqual(pallets.qty_invoiced, 10)
        deduction = order.order_line.filtered(
            lambda line: line.is_downpayment and not line.display_type
        )
        self.assertEqual(deduction.qty_invoiced, 0.0, "invoiced once, deducted once")

    def test_batch_deducts_a_fixed_down_payment_to_the_cent(self):
        customer = self._create_customer(
            "Batch Deposit Co", "ap@batchdeposit.test", billing_invoicing_mode="batch"
        )
        order = self._order(customer, 10.0)
        self._down_payment(order, advance_payment_method="fixed", fixed_amount=333.0)
        self._ship(order, 4, "2026-10-05 10:00")
        self._ship(order, 6, "2026-10-20 10:00")
        run = self._process(self._run())
        self.assertEqual(len(run.line_ids), 1)
        self.assertEqual(run.line_ids.amount_total, 1150.00 - 333.00)
        self.assertEqual(run.line_ids.invoice_ids.amount_total, 817.00)
        self.assertEqual(self._billed(customer), 1150.00)

    def test_duplicate_and_reset_to_draft_bill_no_delivery_twice(self):
        customer = self._create_customer("Copy Co", "ap@copy.test")
        order = self._order(customer, 5.0)
        self._ship(order, 5, "2026-10-05 10:00")
        run = self._process(self._run())
        invoice = run.line_ids.invoice_ids
        self.assertEqual(invoice.amount_total, 575.00)

        # A duplicate is the accountant's own invoice: it claims no delivery and
        # no run line, and the delivery stays billed by the original.
        duplicate = invoice.copy()
        self.assertFalse(duplicate.billing_picking_ids)
        self.assertFalse(duplicate.billing_run_line_id)
        self.assertEqual(run.line_ids.invoice_ids, invoice)
        self.assertFalse(self._run(datetime(2026, 11, 3, 9, 0)).line_ids)

        # Reset to draft, the original still holds its delivery.
        invoice.button_draft()
        self.assertFalse(self._run(datetime(2026, 11, 4, 9, 0)).line_ids)
        invoice.action_post()
        self.assertEqual(self._billed(customer), 575.00)
        self.assertEqual(order.order_line.qty_invoiced, 5)

    # ------------------------------------------------------------------
    # Odoo's own invoicing is untouched
    # ------------------------------------------------------------------

    def test_odoo_own_invoicing_keeps_its_grouping(self):
        customer = self._create_customer(
            "Core Co", "ap@core.test", billing_invoicing_mode="batch"
        )
        first = self._order(customer, 1.0)
        second = self._order(customer, 2.0)
        self._ship(first, 1, "2026-10-05 10:00")
        self._ship(second, 2, "2026-10-06 10:00")
        orders = first | second
        invoices = orders._create_invoices()
        self.assertEqual(len(invoices), 1)
        self.assertFalse(invoices.billing_run_line_id)
        self.assertFalse(invoices.billing_picking_ids)
        self.assertEqual(invoices.amount_total, 345.00)
        grouped = self._order(customer, 1.0) | self._order(customer, 1.0)
        for order in grouped:
            self._ship(order, 1, "2026-10-07 10:00")
        self.assertEqual(len(grouped._create_invoices(grouped=True)), 2)

    def test_mixed_modes_processed_by_the_scheduler_bill_each_customer_right(self):
        """The tour's customers plus a per-site head office and a late delivery,
        processed by the scheduler's job: each customer billed to the cent."""
        head, north, south = self._head_office()
        for site, qty in ((north, 2), (south, 2)):
            self._ship(self._order(site, qty), qty, "2026-10-10 10:00")
        shipped = self._create_customer("Shipment Two", "ap@ship2.test")
        order = self._order(shipped, 5.0)
        self._ship(order, 2, "2026-10-10 10:00")
        self._ship(order, 3, "2026-10-15 10:00")
        retail, shops = self._create_retail_group()
        for shop in shops:
            self._ship(self._order(shop, 1.0), 1, "2026-10-10 10:00")
        late = self._create_customer("Late Two", "ap@late2.test")
        self._ship(self._order(late, 1.0, date(2026, 9, 3)), 1, "2026-09-20 10:00")

        with freeze_time("2026-11-02 09:00"):
            run = self._new_run(self.mode_scenario)
            run.action_fetch()
        self.assertEqual(len(run.line_ids), 6)
        run.action_process()
        self.env["billing.run"]._cron_process_runs()
        self.assertEqual(run.state, "done")
        self.assertEqual(len(run.invoice_ids), 6)
        self.assertEqual(self._billed(head), 460.00)
        self.assertEqual(self._billed(shipped), 575.00)
        self.assertEqual(
            sorted(
                run.line_ids.filtered(
                    lambda line: line.partner_id == shipped
                ).invoice_ids.mapped("amount_total")
            ),
            [230.00, 345.00],
        )
        self.assertEqual(self._billed(retail), 230.00)
        self.assertEqual(self._billed(late), 115.00)
        self.assertTrue(
            run.line_ids.filtered(lambda line: line.partner_id == late).is_late
        )
