{
    "name": "Invoice Manager - Queue Jobs",
    "summary": "Billing runs invoiced and rendered by OCA queue jobs, spread over "
    "every Odoo worker and server of the database",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "website": "https://example.com/billing-automation",
    "depends": ["invoice_manager", "queue_job"],
    "data": [
        "data/queue_job_data.xml",
        "data/billing_run_cron.xml",
        "views/billing_run_views.xml",
        "views/res_config_settings_views.xml",
    ],
    "auto_install": True,
}
