from . import billing_run_xlsx
from . import billing_to_invoice_report
