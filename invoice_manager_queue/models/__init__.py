from . import billing_run
from . import billing_run_executor
from . import res_config_settings
