{
    "name": "Job Billing: a Ninth Policy (test addon)",
    "summary": "Shows that a new invoicing policy is one selection value, its "
    "properties and one method",
    "version": "18.0.1.0.0",
    "category": "Hidden/Tests",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "website": "https://example.com/billing-automation",
    "depends": ["job_billing"],
    "installable": True,
}
