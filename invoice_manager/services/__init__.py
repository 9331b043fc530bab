from . import chunk_sizer
