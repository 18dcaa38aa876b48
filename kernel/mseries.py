# kernel/mseries: one metric series: a counter, a gauge or a fixed-bucket histogram with
# p50/p90/p99 (Metric), its bounded ring of the last params.METRIC_HISTORY samples (Ring), and
# a service's availability record (Avail).
#
# Owns: the series' kinds (COUNTER, GAUGE, HISTOGRAM and their names), the buckets, and how a
# series is caught up lazily for the rounds it sat out (a Registry tells it its round count).
# Invariants: inc/set/observe allocate nothing for small ints (but the ring's list, once, at
# the first value that differs); a series never grows past its ring.
# Not here: which series a service has and the sampler (kernel/metrics.py, which re-exports
# these names), probe results (kernel/metprobes.py).
from micropython import const

from kernel import params
from kernel.heap import presize

COUNTER = const(0)
GAUGE = const(1)
HISTOGRAM = const(2)
KIND_NAMES = ("counter", "gauge", "histogram")
BUCKETS = params.METRIC_BUCKETS  # histogram upper bounds; one more bucket above the last


def kind_of(kind):
    """A kind code from 'counter' | 'gauge' | 'histogram' (or a code)."""
    if isinstance(kind, int) and 0 <= kind < len(KIND_NAMES):
        return kind
    if kind in KIND_NAMES:
        return KIND_NAMES.index(kind)
    raise ValueError("metric: kind must be one of %s, got %r" % (", ".join(KIND_NAMES), kind))


class Ring:
    """The last `size` values, oldest first from values(). The list is made at the first
    value that differs from the ones before but the first: an idle service's series repeat
    one value (a start count), or one value after a first (its CPU %: the start's step,
    then 0), and thousands of them each kept a 60-slot list (~256 B on ARM)."""

    buf = None  # the values, once one differed (until then: `first`, then `same` repeated)
    first = 0  # the first value
    same = 0  # the value of every add() after the first, while buf is None

    def __init__(self, size):
        self.size = size
        self.n = 0  # values ever added

    def _make(self):
        self.buf = [self.same] * self.size
        if self.n <= self.size:  # the first value is still kept
            self.buf[0] = self.first

    def add(self, v):
        if self.buf is None:
            n = self.n
            if n <= 1 or v == self.same:
                if n == 0:
                    self.first = v
                self.same = v
                self.n = n + 1
                return
            self._make()
        self.buf[self.n % self.size] = v
        self.n += 1

    def add_n(self, v, k):
        """k values v (rounds a series sat at one value): O(1) while the list is not made,
        else at most `size` writes."""
        if k <= 0:
            return
        if self.buf is None:
            self.add(v)
            if self.buf is None:  # v is `same` now
                self.n += k - 1
                return
            k -= 1
        if k > self.size:
            self.n += k - self.size
            k = self.size
        for _ in range(k):
            self.buf[self.n % self.size] = v
            self.n += 1

    def set_last(self, v):
        """Replace the newest value (the sampler's own value of a round already recorded)."""
        if self.n == 0:
            self.add(v)
            return
        if self.buf is None:
            if v == self.same:
                return
            if self.n <= 2:  # the newest is `same` (and `first` too when alone)
                if self.n == 1:
                    self.first = v
                self.same = v
                return
            self._make()
        self.buf[(self.n - 1) % self.size] = v

    def values(self):
        kept = min(self.n, self.size)
        if self.buf is None:
            if 0 < self.n <= self.size:
                return [self.first] + [self.same] * (kept - 1)
            return [self.same] * kept
        return [self.buf[k % self.size] for k in range(self.n - kept, self.n)]


class _Rounds:
    """A Metric outside any registry: no rounds ever pass, its ring stays empty."""

    samples = 0


_NO_ROUNDS = _Rounds()


class Metric:
    """One series. Counter: inc(n). Gauge: set(v), inc(n). Histogram: observe(v).
    Its ring is caught up lazily: `at` rounds of its registry are recorded; a change or a
    read first records the rounds since with the value they had (it did not change), so the
    sampler never walks the series (thousands of idle services' series)."""

    def __init__(self, name, kind, history=params.METRIC_HISTORY, reg=None):
        self.name = name  # 'service.metric'
        self.kind = kind
        self.value = 0  # counter / gauge value; histogram: observations
        self.ring = Ring(history)  # one sample per period: value, or p50 for a histogram
        self.reg = _NO_ROUNDS if reg is None else reg  # whose rounds (reg.samples) it follows
        self.at = self.reg.samples  # rounds recorded in the ring (it did not exist before)
        if kind == HISTOGRAM:
            self.counts = [0] * (len(BUCKETS) + 1)
            self.total = 0  # sum of observations
            self.lo = None  # smallest / largest observation
            self.hi = None

    def _wrong(self, what):
        return ValueError("metric %s: a %s has no %s()" % (self.name, KIND_NAMES[self.kind], what))

    def _behind(self):
        # Rounds passed since the last record: they all had the current value.
        self.ring.add_n(self.current(), self.reg.samples - self.at)
        self.at = self.reg.samples

    def sync(self):
        """Record the rounds passed since the last record (before changing `value` or a
        histogram's counts directly, as kernel/metprobes.py's inline count does)."""
        if self.at != self.reg.samples:
            self._behind()

    def record(self, v, n=None):
        """The sampler's value of this round (the kernel's own series), or of round n (a
        sample kept as values, made later): the rounds before it keep the old value."""
        if n is None:
            n = self.reg.samples
        if self.at < n - 1:
            self.ring.add_n(self.current(), n - 1 - self.at)
        self.value = v
        if self.at >= n:  # a reader caught this round up already: the sampler's value wins
            self.ring.set_last(self.current())
        else:
            self.ring.add(self.current())
        self.at = n

    def inc(self, n=1):
        if self.kind == HISTOGRAM:
            raise self._wrong("inc")
        if self.kind == COUNTER and n < 0:
            raise ValueError("metric %s: a counter only goes up, got inc(%r)" % (self.name, n))
        if self.at != self.reg.samples:
            self._behind()
        self.value += n

    def set(self, v):
        if self.kind != GAUGE:
            raise self._wrong("set")
        if self.at != self.reg.samples:
            self._behind()
        self.value = v

    def observe(self, v, n=1):
        """One observation of v (n: that many)."""
        if self.kind != HISTOGRAM:
            raise self._wrong("observe")
        if self.at != self.reg.samples:
            self._behind()
        i = 0
        for b in BUCKETS:
            if v <= b:
                break
            i += 1
        self.counts[i] += n
        self.value += n
        self.total += v * n
        if self.lo is None or v < self.lo:
            self.lo = v
        if self.hi is None or v > self.hi:
            self.hi = v

    def percentile(self, q):
        """Histogram: the q-quantile (0..1) estimated within its bucket, clamped to the
        observed range; None without observations."""
        n = self.value
        if self.kind != HISTOGRAM or n == 0:
            return None
        rank = q * n
        seen = 0
        for i, c in enumerate(self.counts):
            if c and seen + c >= rank:
                lo = BUCKETS[i - 1] if i > 0 else 0
                hi = BUCKETS[i] if i < len(BUCKETS) else self.hi
                est = lo + (hi - lo) * (rank - seen) / c
                return min(max(est, self.lo), self.hi)
            seen += c
        return self.hi

    def current(self):
        """What one sample records: the value, or a histogram's p50 (0 when empty)."""
        if self.kind == HISTOGRAM:
            return self.percentile(0.5) or 0
        return self.value

    def history(self):
        if self.at != self.reg.samples:
            self.ring.add_n(self.current(), self.reg.samples - self.at)
            self.at = self.reg.samples
        return self.ring.values()

    def snapshot(self):
        d = {"name": self.name, "kind": KIND_NAMES[self.kind], "value": self.value}
        if self.kind == HISTOGRAM:
            d["count"] = self.value
            d["sum"] = self.total
            d["min"] = self.lo
            d["max"] = self.hi
            for label, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
                d[label] = self.percentile(q)
        return d


class Avail:
    """Availability of one service: up samples over the last minute, hour and since it was
    first enabled or started (one sample per params.METRIC_SAMPLE_MS)."""

    def __init__(self, synced=0):
        presize(self, 7)
        self.secs = bytearray(params.AVAIL_SLOTS)  # 1: up in that sample
        self.mins = bytearray(params.AVAIL_SLOTS)  # up samples per slot of AVAIL_SLOTS samples
        self.n = 0  # samples taken
        self.up = 0  # up samples since the start
        self.cur = 0  # up samples in the current (unfinished) minute slot
        self.synced = synced  # its registry's rounds recorded (those it sat out: lazily)
        self.last_up = False  # what it recorded last (a cold round repeats it)

    def add(self, up):
        k = params.AVAIL_SLOTS
        self.secs[self.n % k] = 1 if up else 0
        self.n += 1
        if up:
            self.up += 1
            self.cur += 1
        if self.n % k == 0:
            self.mins[(self.n // k - 1) % k] = self.cur
            self.cur = 0

    def add_n(self, up, k):
        """k samples `up` (rounds an idle service sat out): O(AVAIL_SLOTS) writes at most,
        the same state as k add(up)."""
        if k <= 0:
            return
        s = params.AVAIL_SLOTS
        u = 1 if up else 0
        n = self.n
        for j in range(min(k, s)):  # the last min(k, s) seconds
            self.secs[(n + k - 1 - j) % s] = u
        f = min(k, s - n % s)  # the rest of the current minute
        self.cur += f * u
        end = n + f
        if end % s == 0:
            self.mins[(end // s - 1) % s] = self.cur
            self.cur = 0
        r = k - f  # whole minutes, then a partial one
        w = r // s
        first = end // s
        for j in range(max(0, w - s), w):
            self.mins[(first + j) % s] = s * u
        self.cur += (r % s) * u
        self.n = n + k
        self.up += k * u

    def pct(self):
        """(1 min, 1 h, since start) as % floats, None before the first sample."""
        if self.n == 0:
            return (None, None, None)
        k = params.AVAIL_SLOTS
        kept = min(self.n, k)
        m1 = sum(self.secs[(self.n - 1 - j) % k] for j in range(kept)) * 100 / kept
        full = min(self.n // k, k - 1)  # finished minute slots kept beside the current one
        done = self.n // k
        h_up = self.cur + sum(self.mins[(done - 1 - j) % k] for j in range(full))
        h_n = self.n % k + full * k
        h1 = h_up * 100 / h_n if h_n else m1
        return (m1, h1, self.up * 100 / self.n)
