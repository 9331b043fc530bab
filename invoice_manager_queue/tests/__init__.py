from . import test_billing_run_jobs
