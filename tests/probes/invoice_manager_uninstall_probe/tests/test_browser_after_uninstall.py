from odoo import Command
from odoo.tests import HttpCase, tagged

# Waits for late RPC errors, then fails on an error dialog.
NO_ERROR_DIALOG = """
new Promise((resolve) => setTimeout(resolve, 1000)).then(() => {
    const dialog = document.querySelector(".o_error_dialog");
    if (dialog) {
        console.error("error shown: " + dialog.closest(".modal").innerText);
    } else {
        console.log("test successful");
    }
});
"""


@tagged("post_install", "-at_install")
class TestBrowserAfterUninstall(HttpCase):
    """Odoo's own sale form and invoices list load in Chromium, with no
    error, on the database our addons were removed from."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        product = cls.env["product.product"].create(
            {
                "name": "Probe service",
                "type": "service",
                "list_price": 80.0,
                "invoice_policy": "order",
            }
        )
        customer = cls.env["res.partner"].create({"name": "Probe customer"})
        cls.order = cls.env["sale.order"].create(
            {
                "partner_id": customer.id,
                "order_line": [Command.create({"product_id": product.id})],
            }
        )
        cls.order.action_confirm()
        cls.order._create_invoices().action_post()

    def test_sale_form_loads(self):
        self.browser_js(
            f"/odoo/action-sale.action_orders/{self.order.id}",
            NO_ERROR_DIALOG,
            ready="Boolean(document.querySelector("
            "'.o_form_view .o_field_widget[name=partner_id]'))",
            login="admin",
        )

    def test_invoices_list_loads(self):
        self.browser_js(
            "/odoo/action-account.action_move_out_invoice_type",
            NO_ERROR_DIALOG,
            ready="Boolean(document.querySelector('.o_list_view .o_data_row'))",
            login="admin",
        )
