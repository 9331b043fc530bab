from . import test_invoicing_modes
from . import test_invoicing_modes_tour
from . import test_credited_returns
from . import test_billing_periods
from . import test_first_run_on_history
