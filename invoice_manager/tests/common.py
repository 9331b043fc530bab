import re
import threading
from datetime import date, datetime
from unittest.mock import patch

from odoo import Command, api

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class InvoiceManagerCommon(AccountTestInvoicingCommon):
    """Customers, products and confirmed sales of October 2026, built by the tests.

    Prices are tax excluded; every product carries the company's default 15 % sale
    tax (Odoo's generic chart), so 100.00 untaxed is 115.00 to invoice.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= cls.env.ref("invoice_manager.group_billing_manager")
        # Processing by Odoo's scheduler, also when invoice_manager_queue is
        # installed (its own tests process by queue jobs).
        cls.env["ir.config_parameter"].set_param(
            "invoice_manager.processing_engine", "cron"
        )
        cls.tax_15 = cls.tax_sale_a
        cls.product_service = cls._create_product(
            name="Monthly maintenance",
            lst_price=100.0,
            type="service",
            invoice_policy="order",
            taxes_id=[Command.set(cls.tax_15.ids)],
        )
        cls.product_goods = cls._create_product(
            name="Spare part",
            lst_price=25.5,
            type="consu",
            invoice_policy="order",
            taxes_id=[Command.set(cls.tax_15.ids)],
        )
        cls.customer_alpha = cls._create_customer("Alpha Retail", "billing@alpha.test")
        cls.customer_beta = cls._create_customer("Beta Works", "ap@beta.test")
        cls.customer_gamma = cls._create_customer("Gamma Stores", "gamma@gamma.test")
        cls.scenario = cls.env["billing.scenario"].create(
            {
                "name": "Monthly approved sales",
                "period_type": "month",
                "require_approval": True,
                "billing_action": "create_only",
                "invoice_date_mode": "period_end",
                "grouping": "order",
            }
        )

    @classmethod
    def _create_customer(cls, name, email, **values):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "email": email,
                "property_account_receivable_id": cls.company_data[
                    "default_account_receivable"
                ].id,
                **values,
            }
        )

    @classmethod
    def _create_sale(
        cls, partner, order_date, lines=None, approved=True, confirm=True, **values
    ):
        """A sale of ``partner`` on ``order_date``; lines: (product, qty, price)."""
        lines = lines or [(cls.product_service, 1.0, 100.0)]
        order = cls.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                        }
                    )
                    for product, qty, price in lines
                ],
                **values,
            }
        )
        if confirm:
            order.action_confirm()
            # Confirming dates the order today: put it back in its billing period.
            order.date_order = datetime.combine(
                order_date, datetime.min.time()
            ).replace(hour=10)
        if approved and confirm:
            order.action_approve_for_invoicing()
        return order

    @classmethod
    def _create_mixed_sale(cls, partner, order_date):
        """2 x 100.00 + 3 x 25.50 = 276.50 untaxed, 317.98 with 15 % tax."""
        return cls._create_sale(
            partner,
            order_date,
            [(cls.product_service, 2.0, 100.0), (cls.product_goods, 3.0, 25.5)],
        )

    def _new_run(
        self,
        scenario=None,
        date_from=date(2026, 10, 1),
        date_to=date(2026, 10, 31),
        **values,
    ):
        run = self.env["billing.run"].create(
            {"scenario_id": (scenario or self.scenario).id}
        )
        run.write({"date_from": date_from, "date_to": date_to, **values})
        return run

    def _down_payment(self, order, user=None, **values):
        """A down payment invoice made with Odoo's own wizard (as ``user``),
        posted."""
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_user(user or self.env.user)
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create(values)
        )
        wizard.create_invoices()
        invoice = order.invoice_ids.filtered(lambda move: move.state == "draft")
        invoice.action_post()
        return invoice

    @classmethod
    def _create_retail_group(cls):
        """A head office invoiced per site, once each order is delivered, and
        its two shops: (head office, shops)."""
        retail = cls._create_customer(
            "Retail Group",
            "ap@retail.test",
            is_company=True,
            billing_invoicing_mode="per_order",
            head_office_invoicing="per_site",
        )
        shops = cls.env["res.partner"]
        for name in ("East Shop", "West Shop"):
            shops |= cls._create_customer(
                name,
                f"{name[:4].lower()}@retail.test",
                is_company=True,
                head_office_id=retail.id,
            )
        return retail, shops

    def _line_of(self, run, order):
        return run.line_ids.filtered(lambda line: order in line.sale_order_ids)


class SchedulerWakeMixin:
    """For tours: what Odoo's cron worker does when Process triggers the cron."""

    def _wake_scheduler_on_trigger(self):
        """Do what Odoo's cron worker does when Process triggers the cron: a
        thread calls the cron's action in a cursor of its own (in test mode, a
        cursor on the test transaction, as the HTTP requests have), a few
        seconds later so that the form shows the run processing first."""
        cron = self.env.ref("invoice_manager.ir_cron_billing_run_process")
        IrCron = type(self.env["ir.cron"])
        trigger = IrCron._trigger
        threads = []

        def run_cron():
            with self.registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                env["billing.run"]._cron_process_runs()

        def wake(crons, at=None):
            if crons.id == cron.id and not threads:
                threads.append(threading.Timer(3, run_cron))
                threads[0].start()
            return trigger(crons, at)

        patcher = patch.object(IrCron, "_trigger", wake)
        patcher.start()
        self.addCleanup(patcher.stop)
        return threads


class PhoneWidthMixin:
    """HttpCase tours at a phone's width: Chrome's headless window is never
    narrower than 500 px, whatever ``browser_size`` says, so below that the
    width is emulated (DevTools) before the page opens."""

    def authenticate(self, user, password, browser=None):
        session = super().authenticate(user, password, browser=browser)
        width, height = (int(size) for size in re.split("[x,]", self.browser_size))
        if browser and width < 500:
            browser._websocket_request(
                "Emulation.setDeviceMetricsOverride",
                params={
                    "width": width,
                    "height": height,
                    "deviceScaleFactor": 1,
                    "mobile": True,
                },
            )
        return session
