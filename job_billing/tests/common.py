import re
from contextlib import contextmanager

from odoo import Command
from odoo.exceptions import UserError

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class JobBillingCommon(AccountTestInvoicingCommon):
    """Customers, products and jobs built by the tests (no demo data).

    Job prices are untaxed; every product carries the company's 15 % sale tax
    (Odoo's generic chart), which is also the company's default sale tax used
    on deposit and progress lines: 100.00 untaxed is 115.00 to invoice.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id |= cls.env.ref("job_billing.group_job_billing_manager")
        cls.tax_15 = cls.tax_sale_a
        cls.company = cls.company_data["company"]
        cls.company.account_sale_tax_id = cls.tax_15
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Nordic Heating Ltd",
                "email": "ap@nordic-heating.test",
                "vat": "BE0477472701",
                "ref": "C-1001",
            }
        )
        cls.product_heat_pump = cls._create_product(
            name="Heat pump unit", lst_price=6000.0, type="consu"
        )
        cls.product_boiler = cls._create_product(
            name="Condensing boiler", lst_price=1200.0, type="consu"
        )
        cls.product_installer = cls._create_product(
            name="Installer hours", lst_price=80.0, type="service"
        )
        cls.product_engineer = cls._create_product(
            name="Engineer hours", lst_price=100.0, type="service"
        )
        cls.product_pipe = cls._create_product(
            name="Copper pipe (m)", lst_price=12.5, type="consu"
        )
        cls.product_travel = cls._create_product(
            name="Travel expenses", lst_price=60.0, type="service"
        )

    @classmethod
    def _create_sale(cls, partner, lines):
        """A confirmed sale: lines are (product, quantity, unit price)."""
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
            }
        )
        order.action_confirm()
        return order

    @classmethod
    def _create_job(cls, charges=(), orders=None, partner=None, **values):
        """A job with job charges (category, product, quantity, unit price)."""
        return cls.env["billing.job"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "sale_order_ids": [Command.set(orders.ids)] if orders else [],
                "invoiceable_ids": [
                    Command.create(
                        {
                            "source": "charge",
                            "charge_category": category,
                            "product_id": product.id,
                            "quantity": qty,
                            "price_unit": price,
                        }
                    )
                    for category, product, qty, price in charges
                ],
                **values,
            }
        )

    @classmethod
    def _create_heat_pump_job(cls, orders=None):
        """Fixed price 10,000.00: 20 h installer x 150.00 + 10 pipes x 50.00
        (and the heat pump of ``orders``, if any)."""
        return cls._create_job(
            charges=[
                ("labour", cls.product_installer, 20, 150.0),
                ("materials", cls.product_pipe, 10, 50.0),
            ],
            orders=orders,
            billing_type="fixed_price",
            fixed_price=10000.0,
        )

    @classmethod
    def _create_repair_job(cls):
        """Time and material: 10 h installer x 80.00 + 20 m pipe x 12.50,
        1,050.00 untaxed."""
        return cls._create_job(
            charges=[
                ("labour", cls.product_installer, 10, 80.0),
                ("materials", cls.product_pipe, 20, 12.5),
            ],
        )

    def _invoice(self, job, policy, quantities=None, post=False, **values):
        """Create a job invoice with ``policy``; ``quantities`` sets the
        wizard's quantity per invoiceable ({invoiceable: quantity})."""
        wizard = self.env["billing.job.invoice"].create(
            {"job_id": job.id, "policy": policy, **values}
        )
        if quantities is not None:
            for line in wizard.line_ids:
                line.quantity = quantities.get(line.invoiceable_id, 0.0)
        move = wizard._create_invoice()
        if post:
            move.action_post()
        return move

    @classmethod
    def _item(cls, job, product):
        return job.invoiceable_ids.filtered(lambda i: i.product_id == product)

    @contextmanager
    def assertRefused(self, regex, exception=UserError):
        """The step is refused with a message matching ``regex``, and rolled
        back as the failed request would be."""
        with self.assertRaisesRegex(exception, regex):
            with self.env.cr.savepoint():
                yield
        self.env.invalidate_all()

    def _reverse(self, moves, modify=False, user=None):
        """Odoo's own Credit Note button (``account.move.reversal``), or
        "Reverse and create new draft" with ``modify``: the new moves."""
        env = self.env(user=user) if user else self.env
        wizard = (
            env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({"reason": "Reversed", "journal_id": moves[0].journal_id.id})
        )
        action = wizard.modify_moves() if modify else wizard.refund_moves()
        return wizard.new_move_ids or env["account.move"].browse(action["res_id"])

    def assertBilled(self, job, untaxed, total):
        """What the customer is billed in the end: posted invoices less posted
        credit notes of the job, untaxed and taxes included."""
        posted = job.invoice_ids.filtered(lambda m: m.state == "posted")
        self.assertAlmostEqual(
            sum(posted.mapped("amount_untaxed_signed")), untaxed, places=2
        )
        self.assertAlmostEqual(
            sum(posted.mapped("amount_total_signed")), total, places=2
        )

    def assertMoney(self, move, untaxed, tax, total):
        self.assertAlmostEqual(move.amount_untaxed, untaxed, places=2)
        self.assertAlmostEqual(move.amount_tax, tax, places=2)
        self.assertAlmostEqual(move.amount_total, total, places=2)

    def _lines(self, move):
        """[(label, job_line_kind, untaxed subtotal)] of the invoice lines."""
        return [
            (line.name, line.job_line_kind, round(line.price_subtotal, 2))
            for line in move.invoice_line_ids.sorted(
                lambda line: (line.sequence, line.id)
            )
        ]


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
