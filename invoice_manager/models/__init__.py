from . import account_move
from . import sale_order_line
from . import sale_order
from . import billing_scenario
from . import billing_run
from . import billing_run_line
