from . import test_job
from . import test_policies_fixed_price
from . import test_policies_itemized
from . import test_invoice_rules
from . import test_invoice_workflow
from . import test_invoice_report
from . import test_job_billing_tour
