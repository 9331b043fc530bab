from . import billing_job_invoice
from . import billing_job_invoice_line
from . import billing_job_export_wizard
from . import billing_job_invoice_journal
