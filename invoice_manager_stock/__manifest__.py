{
    "name": "Invoice Manager - Deliveries",
    "summary": "Customers invoiced per shipment, per order once fully delivered, or "
    "in one batch per period, from their validated deliveries",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "website": "https://example.com/billing-automation",
    "depends": ["invoice_manager", "sale_stock"],
    "data": [
        "views/billing_run_views.xml",
        "views/account_move_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "invoice_manager_stock/static/src/js/tours/*.js",
        ],
    },
    "auto_install": True,
}
