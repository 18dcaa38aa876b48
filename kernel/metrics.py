# kernel/metrics: per-service counters, gauges and histograms, and the kernel's own series.
#
# Owns: Metric (one series: a counter, a gauge or a fixed-bucket histogram with p50/p90/p99,
# plus a bounded ring of its last params.METRIC_HISTORY samples), Registry (one per service
# manager: series by service, the sampler task) and what the kernel records on its own per
# service: starts, restarts, failures (from the manager's events), CPU time and bytes
# allocated with their rates (from the scheduler's accounting of the service's task: bytes
# allocated, not live heap), probe results and latencies (kernel/metprobes.py, read from
# the health monitor's probes at the start of each round), and availability (% of samples
# active and not critical over 1 min, 1 h and since the service was first enabled or
# started).
# Invariants: inc/set/observe allocate nothing for small ints (but the ring's list, once, at
# the first value that differs); a series never grows past its ring; a round samples the
# active services only (a Rec is hot or cold, see Registry.rounds), in slices of
# params.METRIC_SLICE per step (fewer once params.METRIC_SLICE_MS passed in one), once per
# params.METRIC_SAMPLE_MS; series are caught up lazily (Metric), so no round walks every
# series or every service (the probes: O(probes)).
# Other layers plug in through Registry.hooks (fn(reg) after each sample: alerts).
# Not here: probe results (kernel/metprobes.py), alert rules (kernel/alerting.py), probes
# (kernel/health.py).
from micropython import const

from kernel import params
from kernel.heap import presize
from kernel.metprobes import K_PROBE_MS, ProbeReads  # noqa: F401 - K_PROBE_MS re-exported
from kernel.names import Names

COUNTER = const(0)
GAUGE = const(1)
HISTOGRAM = const(2)
KIND_NAMES = ("counter", "gauge", "histogram")
BUCKETS = params.METRIC_BUCKETS  # histogram upper bounds; one more bucket above the last

# Series the kernel keeps for every service it samples.
K_STARTS = "starts"
K_RESTARTS = "restarts"
K_FAILURES = "failures"
K_CPU_US = "cpu_us"
K_CPU_PCT = "cpu_pct"  # % of the sample period the service's task ran
K_ALLOC_B = "alloc_b"
K_ALLOC_RATE = "alloc_b_per_s"


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

    def record(self, v):
        """The sampler's value of this round (the kernel's own series): the rounds before it
        keep the old value."""
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


_REC_SLOTS = const(8)  # a sampled service's Rec: reg, name, hot, hnext, runs, start1, kseries,
#                         avail
_RUN = const(5)  # values per run in Rec.runs


class Rec:
    """The kernel's bookkeeping of one service between samples. __init__ sets two fields;
    the rest are class defaults, set on the instance only when they differ (thousands of
    idle services: each field set is 8 B of table on ARM, and a table outgrown is a hole)."""

    health = None  # worst status of its probes ('passing' | 'warning' | 'critical'), or None
    ready = True  # readiness from the health monitor (True without a readiness probe)
    probes = None  # probe name -> its last status, since the service last started
    kseries = None  # (cpu_us, alloc_b, cpu_pct, alloc_b_per_s) Metrics, once made
    avail = None  # Avail, from the first sample it is enabled or not inactive
    seen = None  # per probe (startup, liveness, readiness): its Seen, once read (metprobes)
    # Runs not read to their end yet, flat, 5 values each: task, cpu_s, cpu_us, alloc_kb,
    # alloc_b as of the last read (an ended Task keeps its counters, so the next sample
    # finishes it); a list from the first run seen.
    runs = ()
    hot = False  # sampled each round (on reg's chain); cold: idle, caught up lazily
    hnext = None  # the next Rec on reg's hot chain
    hold = 0  # stays hot until this round (restarts in the last minute)
    # The round its first start was counted in, while its `starts` series is owed, not made:
    # a service that started once and idles has no series dict (Registry._series_of).
    start1 = None

    def __init__(self, reg, name):
        presize(self, _REC_SLOTS)  # one table, not three on the way (kernel/heap.py)
        self.reg = reg
        self.name = name

    def see(self, t):
        if t is not None:
            runs = self.runs
            for i in range(0, len(runs), _RUN):
                if runs[i] is t:
                    return
            if runs:
                runs.extend((t, 0, 0, 0, 0))
            else:
                self.runs = [t, 0, 0, 0, 0]


class Registry(ProbeReads):
    """The metrics of one service manager's services, sampled by one kernel task."""

    def __init__(self, mgr):
        self.mgr = mgr
        self.series = {}  # service name -> {metric name -> Metric}
        self.recs = Names()  # service name -> Rec (sized for every service, see rec())
        self.hooks = []  # fn(registry) after each sample
        self.task = None  # the sampler task, once started
        self.samples = 0  # sampling rounds begun
        self.mon = None  # the health monitor whose probes we read (hook_health)
        self.reads = []  # a Seen per probe of that monitor (kernel/metprobes.py)
        self.news = []  # the monitor's new Probers that self.reads does not follow yet
        self.holes = 0  # Seens in self.reads left as _GONE (their probe went with its unit)
        self.hot = None  # the chain (Rec.hnext) of Recs the next round samples
        self.sampled = []  # the Recs of the slice just sampled (what hooks evaluate)
        self.slice = params.METRIC_SLICE  # Recs sampled per step of the sampler task
        self.busy = False  # a round is in progress (its chain not all sampled yet)
        self.alerts = None  # its Alerts (kernel/alerting.py), once made
        mgr.subscribers.append(self.on_event)

    # ---- series ----

    def metric(self, service, name, kind=COUNTER):
        """The series service.name, made on first use; a kind other than its own raises."""
        k = kind_of(kind)
        d = self._series_of(service, True)
        m = d.get(name)
        if m is None:
            if len(d) >= params.METRIC_SERIES_MAX:
                raise ValueError(
                    "metric %s.%s: %s already has %d series (params.METRIC_SERIES_MAX)"
                    % (service, name, service, len(d))
                )
            m = d[name] = Metric(service + "." + name, k, params.METRIC_HISTORY, self)
        elif m.kind != k:
            raise ValueError(
                "metric %s.%s: is a %s, not a %s"
                % (service, name, KIND_NAMES[m.kind], KIND_NAMES[k])
            )
        return m

    def get(self, service, name):
        """The series or None (no series is made, but an owed `starts`)."""
        d = self._series_of(service, False)
        return d.get(name) if d is not None else None

    def _series_of(self, service, make):
        # service's {metric name -> Metric}: made with its owed `starts` series (counted on
        # its Rec at its first start: value 1 since round start1, caught up as any series),
        # or when make, or None.
        d = self.series.get(service)
        if d is None:
            r = self.recs.get(service)
            if r is not None and r.start1 is not None:
                d = self.series[service] = {}
                m = d[K_STARTS] = Metric(
                    service + "." + K_STARTS, COUNTER, params.METRIC_HISTORY, self
                )
                m.at = r.start1
                m.value = 1
                r.start1 = None
            elif make:
                d = self.series[service] = {}
        return d

    def value(self, service, name):
        m = self.get(service, name)
        return m.current() if m is not None else None

    def rec(self, service):
        r = self.recs.get(service)
        if r is None:
            # Room for every service's Rec at once, while the heap has the blocks (grown
            # one by one, its table is tens of KB in one piece at thousands of services).
            self.recs.reserve(len(self.mgr.services))
            r = self.recs[service] = Rec(self, service)
            self._hot(r)
        return r

    def touch(self, service):
        """Something about `service` changed (its health, readiness, a series): sample it
        from the next round on, and evaluate its alert rules."""
        r = self.recs.get(service)
        if r is None:
            self.rec(service)
        elif not r.hot:
            self._hot(r)

    def _hot(self, r):
        # Onto the chain the next round samples (no allocation: the scheduler's _ready calls
        # it for a watched task, kernel/waits.py). Its cold rounds are caught up there.
        if not r.hot:
            r.hot = True
            r.hnext = self.hot
            self.hot = r

    # ---- what the kernel tells us ----

    def on_event(self, name, event, cause):
        """A manager subscriber: counts starts, restarts and failures, and catches each run
        once it is active (one that ends before the next sample is still counted)."""
        r = self.rec(name)
        if not r.hot:
            self._hot(r)
        if event == "started":
            svc = self.mgr.services.get(name)
            if self.mon is not None:
                self.probes_started(name, r)
            if svc is not None:
                r.see(svc.task)
            if r.probes is not None or r.health is not None or not r.ready:
                r.probes = None  # a new run: its probes start over
                r.health = None
                r.ready = True  # (only when changed: an idle service's Rec keeps one field)
            if r.start1 is None and name not in self.series:
                r.start1 = self.samples  # its first start: counted here, its series owed
            else:
                self.metric(name, K_STARTS).inc()
        elif event == "restarting":
            self.metric(name, K_RESTARTS).inc()
            r.hold = self.samples + params.AVAIL_SLOTS + 1  # its restart rate moves a minute
        elif event == "failed":
            self.metric(name, K_FAILURES).inc()

    # ---- sampling ----

    def start(self):
        """Spawn the sampler task (once)."""
        if self.task is None or self.task.done():
            self.task = self.mgr.sched.spawn(self._run(), "metrics")
        return self.task

    async def _run(self):
        from kernel import traps

        while True:
            await traps.sleep_ms(params.METRIC_SAMPLE_MS)
            for _ in self.rounds():
                await traps.sleep_ms(0)  # a slice per step: other tasks run between

    def sample(self, period_ms=params.METRIC_SAMPLE_MS):
        """One round at once (tests, benchmarks): see rounds()."""
        for _ in self.rounds(period_ms):
            pass

    def rounds(self, period_ms=params.METRIC_SAMPLE_MS):
        """One round, a generator yielding after each slice of self.slice Recs (or fewer:
        a slice also ends once params.METRIC_SLICE_MS of ticks have passed in it): the
        services whose Rec is hot (their task ran, an event, a probe result, a series
        change) get the kernel's series and an availability sample; then the hooks hear
        the slice (reg.sampled). A Rec whose service sat idle this round (its task did not
        step and is not ready, no restart in the last minute) goes cold: it is not
        sampled again until something touches it (its task is woken: the scheduler's
        _ready sees Task.watch), and the rounds it sits out repeat its last sample (caught up
        lazily: its series by Metric, availability here). O(active services) per round;
        the probes' results are read first (they count for this round, as before)."""
        for _ in self.reading():  # may touch Recs: their health changed
            yield
        self.samples += 1
        self.busy = True
        r = self.hot
        self.hot = None
        done = self.sampled
        clock = self.mgr.sched.clock
        ticks_ms = clock.ticks_ms  # (bound once a round: a bound method allocates)
        diff = clock.ticks_diff
        while r is not None:
            del done[:]
            t0 = ticks_ms()
            while r is not None and len(done) < self.slice:
                nxt = r.hnext
                r.hnext = None
                self._sample_one(r, period_ms)
                done.append(r)
                r = nxt
                if diff(ticks_ms(), t0) >= params.METRIC_SLICE_MS:
                    break  # a slow slice (a GC pause, slow samples): the rest next step
            for fn in self.hooks:
                fn(self)
            if r is not None:
                yield
        del done[:]
        self.busy = False

    def _sample_one(self, r, period_ms):
        from kernel import service as S
        from kernel.task import READY

        r.hot = False  # off the chain; back on it below while active
        svc = self.mgr.services.get(r.name)
        if svc is None:  # a series' owner that is no service ('kernel'): nothing to sample
            return
        cpu, alloc = self._account(r.name, svc, r, period_ms)
        if r.avail is None and (svc.is_enabled() or svc.state != S.INACTIVE):
            r.avail = Avail(self.samples - 1)
        a = r.avail
        if a is not None:
            a.add_n(a.last_up, self.samples - 1 - a.synced)  # the rounds it sat out
            on = svc.state == S.ACTIVE or svc.state == S.RELOADING
            a.last_up = on and r.health != "critical" and r.ready
            a.add(a.last_up)
            a.synced = self.samples
        t = svc.task
        # Active: its task ran or is ready, it restarted in the last minute, or its unit has
        # alert rules of its own (over series anyone may change): sampled again next round.
        if cpu or alloc or self.samples < r.hold or (t is not None and t.state == READY):
            self._hot(r)
        elif svc.unit.alerts:
            self._hot(r)
        elif t is not None:  # idle: cold until touched (its task readied, an event)
            t.watch = r

    def _account(self, name, svc, r, period_ms):
        # CPU and allocation since the last sample, from the tasks' accounting: each run
        # seen is read as a delta; an ended one for the last time.
        r.see(svc.task)
        cpu = 0
        alloc = 0
        ended = False
        runs = r.runs
        for i in range(0, len(runs), _RUN):
            t = runs[i]
            cpu += (t.cpu_s - runs[i + 1]) * 1000000 + t.cpu_us - runs[i + 2]
            alloc += (t.alloc_kb - runs[i + 3]) * 1024 + t.alloc_b - runs[i + 4]
            runs[i + 1] = t.cpu_s
            runs[i + 2] = t.cpu_us
            runs[i + 3] = t.alloc_kb
            runs[i + 4] = t.alloc_b
            if t is not svc.task or t.done():
                ended = True
        if ended:  # read for the last time: only the current run stays
            t = svc.task
            r.runs = ()
            for i in range(0, len(runs), _RUN):
                if runs[i] is t and not t.done():
                    r.runs = runs[i : i + _RUN]
        k = r.kseries
        if k is None:  # the four series every sample updates, looked up once
            k = r.kseries = (
                self.metric(name, K_CPU_US),
                self.metric(name, K_ALLOC_B),
                self.metric(name, K_CPU_PCT, GAUGE),
                self.metric(name, K_ALLOC_RATE, GAUGE),
            )
        k[0].record(k[0].value + cpu)
        k[1].record(k[1].value + alloc)
        k[2].record(cpu / (period_ms * 10))
        k[3].record(alloc * 1000 // period_ms)
        return cpu, alloc

    # ---- reports ----

    def availability(self, name):
        r = self.recs.get(name)
        if r is None or r.avail is None:
            return (None, None, None)
        lim = self.samples - 1 if self.busy else self.samples  # (the round in progress may
        a = r.avail
        if a.synced < lim:  # still sample it) the rounds it sat out repeat its last sample
            a.add_n(a.last_up, lim - a.synced)
            a.synced = lim
        return r.avail.pct()

    def report(self, name):
        """{metric name -> snapshot dict with 'history'} for one service (its probes'
        results read up to now)."""
        self.read_probes(name)
        out = {}
        for k, m in (self._series_of(name, False) or {}).items():
            d = m.snapshot()
            d["history"] = m.history()
            out[k] = d
        return out


def registry(mgr=None):
    """The Registry of `mgr` (default: the kernel's service manager), made on first use and
    kept on it (mgr.metrics), as its monitor and discovery registry are: one slot for the
    last manager asked about let a Registry made for another manager (tools/bench_svc.py's)
    replace the kernel's, whose sampler then ran on out of reach of the API."""
    if mgr is None:
        from kernel import svc

        mgr = svc.manager()
    r = getattr(mgr, "metrics", None)
    if r is None:
        r = mgr.metrics = Registry(mgr)
    return r


# ---- the kernel's API (re-exported by `kernel`) ----


def metric(name, kind="counter", service=None):
    """A series of the calling service (or of `service`; 'kernel' outside a service):
    metric('requests').inc(), metric('queue', 'gauge').set(n), metric('ms', 'histogram')."""
    if service is None:
        service = _caller_name()
    return registry().metric(service, name, kind)


def service_metrics(name):
    """Every series of service `name`: {metric -> {kind, value, history, p50.. }}."""
    return registry().report(name)


def availability(name):
    """(1 min, 1 h, since enabled) % of time `name` was active and not critical."""
    return registry().availability(name)


def _caller_name():
    import kernel
    from kernel import svc

    t = kernel.current()
    s = svc.manager().by_task.get(t.id) if t is not None else None
    return s.name if s is not None else "kernel"
