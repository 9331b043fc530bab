from . import billing_run_wizard
from . import billing_run_process_wizard
