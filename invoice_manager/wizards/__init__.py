from . import billing_run_wizard
