from datetime import datetime

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import Form, HttpCase, tagged

from odoo.addons.invoice_manager.tests.common import (
    InvoiceManagerCommon,
    SchedulerWakeMixin,
)


@tagged("post_install", "-at_install")
class TestInvoicingModesTour(SchedulerWakeMixin, InvoiceManagerCommon, HttpCase):
    def _ship(self, order, qty, when):
        picking = order.picking_ids.filtered(
            lambda p: p.state not in ("done", "cancel")
        )
        with freeze_time(when):
            picking.move_ids.quantity = qty
            picking.move_ids.picked = True
            result = picking.button_validate()
            if result is not True:
                Form.from_action(self.env, result).save().process()
        return picking

    def _create_tour_sales(self):
        """Last month's deliveries: a consolidated head office (two sites, one
        batch invoice), a customer invoiced per shipment (two deliveries), a
        head office invoiced per site (two shops, per order) and a delivery of
        the month before, not invoiced yet. Returns the four customers billed."""
        pallet = self._create_product(
            name="Pallet",
            lst_price=100.0,
            type="consu",
            invoice_policy="delivery",
            taxes_id=[Command.set(self.tax_15.ids)],
        )
        self.env["billing.scenario"].create(
            {
                "name": "Tour modes scenario",
                "require_approval": False,
                "billing_action": "create_only",
                "invoice_date_mode": "period_end",
                "use_invoicing_mode": True,
            }
        )
        month = fields.Date.today().replace(day=1) - relativedelta(months=1)
        head = self._create_customer(
            "Head Office Ltd",
            "ap@head.test",
            is_company=True,
            billing_invoicing_mode="batch",
            head_office_invoicing="consolidated",
        )
        sites = [
            self._create_customer(name, email, is_company=True, head_office_id=head.id)
            for name, email in (
                ("North Site", "north@head.test"),
                ("South Site", "south@head.test"),
            )
        ]
        shipped = self._create_customer("Shipment Co", "ap@ship.test")
        day = datetime.combine(month.replace(day=10), datetime.min.time())
        for site in sites:
            order = self._create_sale(site, month.replace(day=2), [(pallet, 2, 100)])
            self._ship(order, 2, day)
        order = self._create_sale(shipped, month.replace(day=2), [(pallet, 5, 100)])
        self._ship(order, 2, day)
        self._ship(order, 3, day + relativedelta(days=5))
        retail, shops = self._create_retail_group()
        for shop in shops:
            order = self._create_sale(shop, month.replace(day=3), [(pallet, 1, 100)])
            self._ship(order, 1, day)
        late = self._create_customer("Late Co", "ap@late.test")
        earlier = month - relativedelta(months=1)
        order = self._create_sale(late, earlier.replace(day=3), [(pallet, 1, 100)])
        self._ship(order, 1, day - relativedelta(months=1))
        return head, shipped, retail, late

    def test_invoicing_modes_in_the_browser(self):
        """Fetch by modes, preview the consolidated invoice, process in one
        click: each customer billed what its mode says, the consolidated invoice
        shows each site's section, the late delivery is billed and marked."""
        head, shipped, retail, late = self._create_tour_sales()
        self.url_open("/web/login")
        scheduler = self._wake_scheduler_on_trigger()
        self.start_tour(
            "/odoo", "invoice_manager_modes_tour", login=self.env.user.login
        )
        scheduler[0].join()
        run = self.env["billing.run"].search(
            [("scenario_id.name", "=", "Tour modes scenario")]
        )
        self.assertEqual(run.state, "done")
        consolidated = run.line_ids.filtered(
            lambda line: line.head_office_invoicing == "consolidated"
        ).invoice_ids
        self.assertEqual(consolidated.partner_id, head)
        self.assertEqual(consolidated.amount_total, 460.00)
        self.assertEqual(
            consolidated.invoice_line_ids.filtered(
                lambda line: line.display_type == "line_section"
            ).mapped("name")[0][:10],
            "North Site",
        )
        by_partner = {
            partner: sorted(
                run.line_ids.filtered(
                    lambda line, partner=partner: line.partner_id == partner
                ).invoice_ids.mapped("amount_total")
            )
            for partner in run.line_ids.partner_id
        }
        self.assertEqual(by_partner[shipped], [230.00, 345.00])
        self.assertEqual(by_partner[late], [115.00])
        self.assertTrue(
            run.line_ids.filtered(lambda line: line.partner_id == late).is_late
        )
        per_site = run.line_ids.filtered(
            lambda line: line.head_office_invoicing == "per_site"
        )
        self.assertEqual(len(per_site), 2)
        self.assertEqual(per_site.invoice_ids.partner_id, retail)
        self.assertEqual(per_site.invoice_ids.mapped("amount_total"), [115.00, 115.00])
