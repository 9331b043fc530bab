{
    "name": "Invoice Manager beside OCA neighbours (tests only)",
    "summary": "Tests of invoice_manager installed with OCA partner_invoicing_mode "
    "and sale_line_refund_to_invoice_qty. Not shipped.",
    "version": "18.0.1.0.0",
    "license": "LGPL-3",
    "author": "Billing Automation",
    "depends": [
        "invoice_manager",
        "partner_invoicing_mode",
        "sale_line_refund_to_invoice_qty",
    ],
    "installable": True,
}
