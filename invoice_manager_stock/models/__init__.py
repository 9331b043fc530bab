from . import account_move
from . import billing_run_line_item
from . import sale_order_line
from . import billing_run_selector
