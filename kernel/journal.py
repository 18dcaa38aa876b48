# kernel/journal: the service manager's journal, a bounded ring of lifecycle events.
#
# Owns: one entry per event, (ms, name, event, cause): uptime in ms, the service (or group)
# name, the event word ('starting', 'started', 'failed', ...) and its cause (text or None).
# The ring holds params.JOURNAL_EVENTS entries; the oldest is overwritten. Each name may log
# params.JOURNAL_RATE_BURST events per params.JOURNAL_RATE_INTERVAL_MS; past that events are
# counted, not kept, and the next kept event says how many were suppressed.
# Not here: the kernel log (kernel/log.py), delivering events to subscribers (manager).
from kernel import params


def format_entry(e):
    """'[   12.345] web: failed (exception: ValueError(...))'"""
    ms, name, event, cause = e
    text = "%s: %s" % (name, event)
    if cause:
        text += " (%s)" % cause
    return "[%5d.%03d] %s" % (ms // 1000, ms % 1000, text)


class Journal:
    """The ring of lifecycle events, rate-limited per name."""

    def __init__(self, now_ms, size=params.JOURNAL_EVENTS):
        self.now_ms = now_ms  # uptime in ms
        self.ring = [None] * size
        self.size = size
        self.count = 0  # events ever kept
        self.rate = {}  # name -> [window start ms, events in window, suppressed]

    def add(self, name, event, cause=None):
        """Record an event; returns False when it was rate-limited away."""
        now = self.now_ms()
        r = self.rate.get(name)
        if r is None or now - r[0] >= params.JOURNAL_RATE_INTERVAL_MS:
            dropped = r[2] if r is not None else 0
            if r is None:
                self.rate[name] = r = [now, 0, 0]
            r[0] = now
            r[1] = 0
            r[2] = 0
            if dropped:
                self._put((now, name, "suppressed", "%d events" % dropped))
        if r[1] >= params.JOURNAL_RATE_BURST:
            r[2] += 1
            return False
        r[1] += 1
        self._put((now, name, event, cause))
        return True

    def forget(self, name):
        """Drop the rate state of a name that no longer exists."""
        self.rate.pop(name, None)

    def _put(self, e):
        self.ring[self.count % self.size] = e
        self.count += 1

    def entries(self, n=None, name=None):
        """The last n entries (of `name` only, when given), oldest first."""
        kept = min(self.count, self.size)
        out = []
        for k in range(self.count - 1, self.count - kept - 1, -1):
            e = self.ring[k % self.size]
            if name is None or e[1] == name:
                out.append(e)
                if n is not None and len(out) >= n:
                    break
        out.reverse()
        return out

    def lines(self, n=None, name=None):
        return [format_entry(e) for e in self.entries(n, name)]
