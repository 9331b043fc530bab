from . import billing_run
from . import billing_run_executor
