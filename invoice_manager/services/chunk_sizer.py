"""How many lines the scheduler invoices in its next transaction, so that each
call of its batched job ends within the time a worker has."""

# What one line is assumed to cost before the run has measured it: enough for a
# sale of a few lines invoiced, posted and rendered on a busy 2-core machine.
DEFAULT_LINE_SECONDS = 0.25
# Weight of the newest chunk in the measured cost per line.
NEWEST_WEIGHT = 0.5


class ChunkSizer:
    """Sizes chunks of lines from the time left and the measured cost of a line.

    ``max_size``: the configured chunk size (never exceeded); ``line_seconds``:
    the cost per line measured so far (0: unknown); ``cap``: a size a killed
    chunk left (0: none).
    """

    def __init__(self, max_size, line_seconds=0.0, cap=0):
        self.max_size = max(int(max_size), 1)
        self.line_seconds = line_seconds or 0.0
        self.cap = cap or 0

    @property
    def expected_line_seconds(self):
        return self.line_seconds or DEFAULT_LINE_SECONDS

    def next_size(self, seconds_left=None):
        """Lines of the next chunk: what fits in ``seconds_left`` (None: no
        limit), at least one, never above the cap or the configured size."""
        size = self.max_size
        if self.cap:
            size = min(size, self.cap)
        if seconds_left is not None:
            size = min(size, max(int(seconds_left / self.expected_line_seconds), 1))
        return size

    def has_time_for_a_line(self, seconds_left):
        return seconds_left >= self.expected_line_seconds

    def record(self, lines, seconds):
        """A chunk of ``lines`` lines took ``seconds``: update the cost per line."""
        if lines <= 0 or seconds < 0:
            return
        per_line = seconds / lines
        if self.line_seconds:
            per_line = (
                NEWEST_WEIGHT * per_line + (1 - NEWEST_WEIGHT) * self.line_seconds
            )
        self.line_seconds = per_line
