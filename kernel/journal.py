# kernel/journal: the service manager's journal, a bounded ring of lifecycle events.
#
# Owns: one entry per event, (ms, name, event, cause): uptime in ms, the service (or group)
# name, the event word ('starting', 'started', 'failed', ...) and its cause (text or None).
# The ring holds params.JOURNAL_EVENTS entries; the oldest is overwritten.
# Rate limit: each name may log params.JOURNAL_RATE_BURST events per
# params.JOURNAL_RATE_INTERVAL_MS. Past that only repeats are dropped: an event whose key
# (event word, result) is the last one kept in the window for that word. A change of state or
# result is always kept (the `failed (start-limit-hit ...)` that ends a restart storm, the
# `started` after it, a `restarting` for a MemoryError after one for a watchdog even when an
# earlier one in the window had the same result), so the one line an operator needs is never
# the one lost. Dropped events are counted on one "N events suppressed (last: EVENT)" entry
# per run of drops, updated in place while it is still in the ring, so the count and the
# last transition are visible at once.
# Not here: the kernel log (kernel/log.py), delivering events to subscribers (manager).
from kernel import params
from kernel.names import Names

# Per-name rate state: one list of five small ints (48 B on ARM: the state of every name
# that logged in the last window is live at once, thousands after a mass start), indexes:
_T0 = 0  # window start (uptime ms)
_N = 1  # events kept in the window
_KEYS = 2  # bit per key (event, result): the last kept in the window for its event word
_MARK = 3  # ring sequence number of the current "suppressed" entry, -1 when none
_DROPPED = 4  # events counted on that entry
_BITS = 30  # key bits in a small int; keys past that are never dropped (always kept)
_bits = {}  # event word -> {result -> bit number}: the repeat keys seen, numbered once
_word = {}  # event word -> mask of the bits of all its keys
_nbits = [0]  # bit numbers handed out


def _key_bit(event, result):
    # The bit of key (event, result), numbered on first sight (a few dozen exist: the event
    # words times the results they come with); -1 past _BITS (such a key is never dropped).
    d = _bits.get(event)
    if d is None:
        d = _bits[event] = {}
    b = d.get(result)
    if b is None:
        b = d[result] = _nbits[0]
        _nbits[0] += 1
        if b < _BITS:
            _word[event] = _word.get(event, 0) | 1 << b
    return b if b < _BITS else -1


def format_entry(e):
    """'[   12.345] web: failed (exception: ValueError(...))'"""
    ms, name, event, cause = e
    text = "%s: %s" % (name, event)
    if cause:
        text += " (%s)" % cause
    return "[%5d.%03d] %s" % (ms // 1000, ms % 1000, text)


def _suppressed(n):
    return "%d event%s suppressed" % (n, "" if n == 1 else "s")


class Journal:
    """The ring of lifecycle events, rate-limited per name (repeats only)."""

    def __init__(self, now_ms, size=params.JOURNAL_EVENTS):
        self.now_ms = now_ms  # uptime in ms
        self.ring = [None] * size
        self.size = size
        self.count = 0  # entries ever put (the sequence number of the next one)
        self.rate = Names()  # name -> rate state (see _T0 ..), of names heard from lately
        self._sweep_at = params.JOURNAL_RATE_NAMES  # sweep expired rate state at this size

    def add(self, name, event, cause=None, result=None):
        """Record an event; returns False when it was dropped as a repeat past the burst.
        result: the service's result code after the event (part of the repeat key)."""
        now = self.now_ms()
        r = self.rate.get(name)
        if r is None:
            if len(self.rate) >= self._sweep_at:
                self._sweep(now)
            r = [now, 0, 0, -1, 0]
            self.rate[name] = r
        elif now - r[_T0] >= params.JOURNAL_RATE_INTERVAL_MS:
            r[_T0] = now
            r[_N] = 0
            r[_KEYS] = 0
            r[_MARK] = -1
        bit = _key_bit(event, result)
        seen = bit >= 0 and r[_KEYS] >> bit & 1
        if r[_N] >= params.JOURNAL_RATE_BURST and seen:
            self._drop(r, now, name, event)
            return False
        r[_N] += 1
        if bit >= 0:  # this key replaces the word's other results as its last one
            r[_KEYS] = r[_KEYS] & ~_word[event] | 1 << bit
        r[_MARK] = -1  # the next drop starts a new count
        self._put((now, name, event, cause))
        return True

    def _drop(self, r, now, name, event):
        seq = r[_MARK]
        if seq >= 0 and self.count - seq <= self.size:  # its entry is still in the ring
            r[_DROPPED] += 1
            e = self.ring[seq % self.size]
            self.ring[seq % self.size] = (e[0], name, _suppressed(r[_DROPPED]), "last: " + event)
            return
        r[_MARK] = self.count
        r[_DROPPED] = 1
        self._put((now, name, _suppressed(1), "last: " + event))

    def _sweep(self, now):
        # Drop the rate state of names whose window has passed (a fresh window is what a
        # missing entry means), so 10,000 services that each logged once cost nothing here.
        # The next sweep waits until the map doubles again: amortised O(1) per event.
        rate = self.rate
        rate.drop_where(lambda r: now - r[_T0] >= params.JOURNAL_RATE_INTERVAL_MS)
        self._sweep_at = max(params.JOURNAL_RATE_NAMES, 2 * len(rate))

    def forget(self, name):
        """Drop the rate state of a name that no longer exists."""
        self.rate.pop(name, None)

    sink = None  # callable(entry) told of every entry kept (kernel/jstore.py), or None

    def _put(self, e):
        self.ring[self.count % self.size] = e
        self.count += 1
        if self.sink is not None:
            self.sink(e)

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
