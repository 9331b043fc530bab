from . import res_company
from . import res_config_settings
from . import billing_job
from . import billing_job_invoiceable
from . import billing_job_allocation
from . import billing_job_export
from . import account_move
from . import account_move_line
