from . import test_billing_scenario
from . import test_billing_run_fetch
from . import test_billing_run_process
from . import test_billing_run_money
from . import test_billing_run_errors
from . import test_billing_security
from . import test_invoice_manager_tour
