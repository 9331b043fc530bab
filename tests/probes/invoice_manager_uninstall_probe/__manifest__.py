{
    "name": "Odoo's invoicing in the browser after our addons left (tests only)",
    "summary": "Installed by tests/test_uninstall.py once our addons are "
    "uninstalled: opens a sale form and the invoices list in Chromium. Not shipped.",
    "version": "18.0.1.0.0",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "depends": ["sale"],
    "installable": True,
}
