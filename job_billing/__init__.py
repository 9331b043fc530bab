from . import models
from . import services
from . import wizards
from .hooks import pre_init_hook
