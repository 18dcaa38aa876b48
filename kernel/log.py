# kernel/log: the kernel log, a bounded ring buffer of lines (dmesg).
#
# Owns: log levels and the ring. Services never print to the console (the shell owns it);
# they and the kernel log here, and the shell shows the lines. The ring holds at most
# params.LOG_LINES entries; the oldest is overwritten. One entry is (ms, level, text): ms is
# the uptime when logged. A subscriber (e.g. the future journal or the shell's alert line)
# may be set with subscribe(). Not here: formatting for a person beyond format_line().
from micropython import const

from kernel import params

DEBUG = const(0)
INFO = const(1)
WARN = const(2)
ERROR = const(3)
LEVEL_NAMES = ("debug", "info", "warn", "error")


def level_of(level):
    """An int level from an int or a name ('info', 'warn', 'warning', 'error', 'err', ...)."""
    if isinstance(level, int):
        return level if DEBUG <= level <= ERROR else ERROR
    name = str(level).lower()
    if name.startswith("warn"):
        return WARN
    if name.startswith("err") or name.startswith("crit"):
        return ERROR
    if name.startswith("debug"):
        return DEBUG
    return INFO


def format_line(entry):
    """'[   12.345] warn: text' for one (ms, level, text) entry."""
    ms, level, text = entry
    return "[%5d.%03d] %s: %s" % (ms // 1000, ms % 1000, LEVEL_NAMES[level], text)


class Log:
    """A ring of the last params.LOG_LINES log entries."""

    def __init__(self, now_ms=None, size=params.LOG_LINES):
        self.ring = [None] * size  # preallocated slots
        self.size = size
        self.count = 0  # entries ever logged (index of the next slot = count % size)
        self.now_ms = now_ms  # function giving uptime in ms, or None (then 0)
        self.subscriber = None  # callable(entry) told of every new entry, or None
        self.partial = ""  # captured output not yet ended by a newline

    def pull(self, data):
        """Log what quiet (service) tasks printed: bytes from hal.captured(), one entry per
        complete line, as 'stdout: <line>'."""
        try:
            text = self.partial + data.decode()
        except UnicodeError:  # not UTF-8: keep the ASCII, mark the rest
            text = self.partial + "".join(chr(c) if c < 128 else "?" for c in data)
        lines = text.split("\n")
        self.partial = lines.pop()[: params.LOG_LINE_MAX]
        for line in lines:
            line = line.rstrip("\r")
            if line:
                self.log("stdout: " + line)

    def log(self, text, level=INFO):
        """Append one line; text is cut to params.LOG_LINE_MAX characters."""
        if not isinstance(text, str):
            text = str(text)
        if len(text) > params.LOG_LINE_MAX:
            text = text[: params.LOG_LINE_MAX - 3] + "..."
        entry = (self.now_ms() if self.now_ms else 0, level_of(level), text)
        self.ring[self.count % self.size] = entry
        self.count += 1
        if self.subscriber is not None:
            self.subscriber(entry)

    def entries(self, n=None):
        """The last n entries (all kept when n is None), oldest first."""
        kept = min(self.count, self.size)
        if n is None or n > kept:
            n = kept
        start = self.count - n
        return [self.ring[i % self.size] for i in range(start, self.count)]

    def lines(self, n=None):
        """The last n entries as formatted lines, oldest first."""
        return [format_line(e) for e in self.entries(n)]

    def subscribe(self, fn):
        """Tell fn(entry) of every new entry (None to stop); returns the previous one."""
        prev = self.subscriber
        self.subscriber = fn
        return prev
