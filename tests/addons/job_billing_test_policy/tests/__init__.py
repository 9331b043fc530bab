from . import test_ninth_policy
