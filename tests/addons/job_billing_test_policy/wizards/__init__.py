from . import billing_job_invoice
