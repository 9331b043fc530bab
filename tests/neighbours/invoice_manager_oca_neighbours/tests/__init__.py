from . import test_oca_neighbours
