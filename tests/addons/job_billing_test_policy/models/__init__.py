from . import account_move
from . import billing_job_invoicer
