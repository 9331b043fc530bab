{
    "name": "Invoice Manager",
    "summary": "Invoice a whole billing cycle in one go: billing scenarios, "
    "the two-step Invoice Manager wizard and kept billing runs",
    "version": "18.0.1.2.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "website": "https://example.com/billing-automation",
    "depends": ["sale", "account"],
    "external_dependencies": {"python": ["xlsxwriter"]},
    "data": [
        "security/invoice_manager_security.xml",
        "security/ir.model.access.csv",
        "data/billing_run_sequence.xml",
        "data/billing_run_cron.xml",
        "views/billing_scenario_views.xml",
        "wizards/billing_run_wizard.xml",
        "wizards/billing_run_process_wizard.xml",
        "views/billing_run_line_views.xml",
        "views/billing_run_views.xml",
        "report/billing_to_invoice_report_views.xml",
        "views/sale_order_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/account_move_views.xml",
        "views/invoice_manager_menus.xml",
    ],
    "demo": [
        "demo/invoice_manager_demo.xml",
        "demo/invoice_manager_modes_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "invoice_manager/static/src/components/**/*",
        ],
        "web.assets_tests": [
            "invoice_manager/static/src/js/tours/*.js",
        ],
    },
}
