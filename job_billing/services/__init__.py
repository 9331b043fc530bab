from . import billing_job_invoicer
from . import billing_job_invoicer_lines
from . import billing_job_invoicer_policies
