from . import test_browser_after_uninstall
