from . import test_invoicing_modes
from . import test_invoicing_modes_tour
