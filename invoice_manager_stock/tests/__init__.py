from . import test_invoicing_modes
