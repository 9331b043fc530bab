from . import test_billing_run_jobs
from . import test_engine_settings
