from . import chunk_sizer
from . import worker_clock
