{
    "name": "Job Billing",
    "summary": "Bill jobs in several invoices: deposits, progress, final and "
    "correction invoices, the job card's invoicing flow and the export to "
    "an accounting system",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "website": "https://example.com/billing-automation",
    "depends": ["sale", "account", "mail"],
    "external_dependencies": {"python": ["xlsxwriter", "num2words"]},
    "data": [
        "security/job_billing_security.xml",
        "security/ir.model.access.csv",
        "data/job_billing_data.xml",
        "wizards/billing_job_invoice.xml",
        "wizards/billing_job_export_wizard.xml",
        "wizards/billing_job_invoice_journal.xml",
        "views/billing_job_views.xml",
        "views/billing_job_export_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
        "report/report_invoice.xml",
        "views/job_billing_menus.xml",
    ],
    "demo": ["demo/job_billing_demo.xml"],
    "pre_init_hook": "pre_init_hook",
    "assets": {
        "web.assets_tests": [
            "job_billing/static/src/js/tours/*.js",
        ],
    },
}
