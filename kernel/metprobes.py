# kernel/metprobes: the probe results in the metrics: counted from the health monitor's
# probes, read lazily.
#
# Owns: ProbeReads, a base class of kernel/metrics.py's Registry (it uses the attributes and
# metric() that Registry sets): what the metrics keep of probe results per service: the
# counters probes_passing / probes_warning / probes_critical, the probe_ms histogram and
# each probe's last status (the service's health: the worst of them; readiness: its
# readiness probe not critical), and Seen, what was counted of one Probe. The results are
# read from the monitor's probes (kernel/prober.py: runs + fused, nwarn, ncrit, last) at
# each sample, at a service's start and whenever a reader asks (read_probes, current,
# Registry.report), as one on_probe call per result would have counted them; only the
# latency of a run in a task is told as it ends (Monitor.timed). probe_ms holds latencies
# only: an inline kind's run (process, ttl, file) has none and observes nothing (it once
# observed 0 ms, which pulled p50 to 0 for a service with a process liveness probe beside
# an http one).
# Invariants: the monitor never calls us per result (a result hook turns its fused path
# off, kernel/health.py); it tells us each Prober it makes (Monitor.news); a read is
# O(probes + new probers), allocates nothing per probe once its Seen and series exist, and
# is cut into steps of the sampler (reading: params.METRIC_PROBE_SLICE probes counted in
# full or followed anew per step); a new Prober (its unit changed) has the old one's last
# results counted first.
# Where the build has _kprobes (boards/common/modkprobes.c), the steady case of reading()'s
# loop (only passes since a read that left the probe passing) runs in C: it reads Seen's,
# Probe's, Metric's and Ring's fields by the names its header lists (rename them together).
# Not here: the series and the sampler (kernel/metrics.py), probes (kernel/health.py).
from kernel import params

try:  # the C twin of reading()'s steady case (boards/common/modkprobes.c)
    from _kprobes import read as _c_read
except ImportError:
    _c_read = None

K_PROBE_MS = "probe_ms"  # histogram of probe latencies

_STATUS_ORDER = ("passing", "warning", "critical")
_STATUS_RANK = {"passing": 0, "warning": 1, "critical": 2}
_PROBE_COUNT = {
    "passing": "probes_passing",
    "warning": "probes_warning",
    "critical": "probes_critical",
}
_PROBE_NAMES = ("startup", "liveness", "readiness")  # kernel/prober.py's, by Probe.which


class Seen:
    """What the registry has counted of one health monitor's Probe (kernel/prober.py)."""

    passing = None  # the service's probes_passing Metric, once one passed

    def __init__(self, probe, name, rec):
        self.probe = probe
        self.name = name  # its service
        self.rec = rec  # its service's Rec (kernel/metrics.py)
        self.runs = 0  # probe.runs + probe.fused when last read
        self.nwarn = 0
        self.ncrit = 0
        self.steady = False  # its last read left it passing in rec.probes: count passes inline


class _Gone:
    """What a Seen whose probe went (with its unit) leaves in the registry's reads until the
    next pass drops it: no runs, so the read loop passes over it."""

    runs = 0
    fused = 0
    probe = None


_GONE = _Gone()
_GONE.probe = _GONE


class ProbeReads:
    """Probe results in a metrics Registry (its base class)."""

    def on_probe(self, name, probe, status, latency_ms=None, ready=None):
        """One probe result of service `name` (a caller's own, or a result hook's). Its
        health is the worst status of its probes; a critical readiness probe makes it not
        ready."""
        r = self.rec(name)
        self._last(r, probe, status, ready)
        c = _PROBE_COUNT.get(status)
        if c is not None:
            self.metric(name, c).inc()
        if latency_ms is not None:
            self.metric(name, K_PROBE_MS, "histogram").observe(latency_ms)

    def _last(self, r, probe, status, ready=None):
        # probe's last result is `status`: the service's health and readiness from it; its
        # Rec is sampled (and its alert rules evaluated) in the next round (kernel/metrics.py)
        if not r.hot:
            self._hot(r)
        if r.probes is None:
            r.probes = {}
        r.probes[probe] = status
        worst = 0
        for s in r.probes.values():
            worst = max(worst, _STATUS_RANK.get(s, 0))
        r.health = _STATUS_ORDER[worst]
        if ready is not None:
            r.ready = ready
        elif probe == "readiness":
            r.ready = status != "critical"

    def hook_health(self):
        """Read the probes of our manager's health monitor (kernel/health.py), when the
        build has one: at each sample and when a reader asks (read_probes), with only the
        latency of a run in a task told to us as it ends; the monitor is told about us, not
        the other way round, and its fused path stays on."""
        try:
            from kernel import health
        except (ImportError, AttributeError):
            return False
        mon = health.attach(self.mgr)
        if self.mon is not mon:
            self.mon = mon
            mon.timed.append(self._probe_latency)
            mon.news.append(self.news)  # its new Probers, followed at the next read
            self.news.extend(mon.probers.values())
        return True

    def _probe_result(self, service, probe, status, output, latency_us):
        """health.on_result's shape (a monitor's per-result hook) -> on_probe."""
        self.on_probe(service, probe, status, None if latency_us is None else latency_us / 1000)

    def _probe_latency(self, service, probe, latency_us):
        self.metric(service, K_PROBE_MS, "histogram").observe(latency_us / 1000)

    def read_probes(self, name=None):
        """Count the results the health monitor's probes had since the last read, of every
        service it probes (or only of `name`): the probes_* counters and each probe's last
        status (the service's health and readiness), as one on_probe per result would have.
        Nothing when nothing ran."""
        mon = self.mon
        if mon is None:
            return
        if name is None:
            for _ in self.reading():
                pass
            return
        pr = mon.probers.get(name)
        if pr is not None:
            r = self.rec(name)
            self._sync(name, pr, r)
            for e in r.seen:
                if e is not None:
                    p = e.probe
                    if p.runs + p.fused != e.runs:
                        self._count(e)

    def reading(self):
        """read_probes() of every service, in steps: a generator that yields after each
        params.METRIC_PROBE_SLICE probes followed anew or counted in full (a Seen, series
        made: ~3 ms each on ARM; a first read after 100 new services took 325 ms in one
        step, past the step watchdog) or params.METRIC_PROBE_LOOKS looked at. One flat pass
        over the probes, after the Probers the monitor made since (self.news): O(new
        probers + probes), allocating nothing per probe once its Seen and series exist
        (the generator and the clock's bound method, once a pass). A step also ends once
        params.METRIC_SLICE_MS of ticks have passed in it (a GC pause, a slow count)."""
        mon = self.mon
        if mon is None:
            return
        if self.holes:
            self.holes = 0
            self.reads = [e for e in self.reads if e is not _GONE]
        cap = params.METRIC_PROBE_SLICE
        looks = params.METRIC_PROBE_LOOKS
        slice_ms = params.METRIC_SLICE_MS
        clock = self.mgr.sched.clock
        ticks_ms = clock.ticks_ms
        diff = clock.ticks_diff
        t0 = ticks_ms()
        news = self.news
        work = 0
        while news:
            pr = news.pop()
            name = pr.svc.name
            if mon.probers.get(name) is pr:  # (else replaced since: its successor is news too)
                work += self._sync(name, pr, self.rec(name))
                if work >= cap or diff(ticks_ms(), t0) >= slice_ms:
                    work = 0
                    yield
                    t0 = ticks_ms()
        reads = self.reads
        fast = _c_read
        i = 0
        looked = 0
        while i < len(reads):  # the hot loop: 100 probes at 1 Hz on a booted board
            if fast is not None:  # the steady probes in C: it stops at one to read here
                i = fast(reads, i, self.samples)
                if i >= len(reads):
                    break
            e = reads[i]
            i += 1
            p = e.probe
            runs = p.runs + p.fused
            if runs == e.runs:
                continue
            looked += 1
            if e.steady and p.nwarn == e.nwarn and p.ncrit == e.ncrit:
                # Only passes since a read that left it passing (the fused runs' case): the
                # counter, what _count does, without a call.
                n = runs - e.runs
                e.runs = runs
                m = e.passing
                if m.at != m.reg.samples:  # its ring first records the rounds since
                    m.sync()
                m.value += n
            else:
                self._count(e)
                work += 1
                if diff(ticks_ms(), t0) >= slice_ms:
                    work = cap  # a slow count (a GC pause): the rest in the next step
            if work >= cap or looked >= looks:
                work = 0
                looked = 0
                yield
                t0 = ticks_ms()

    def probes_started(self, name, r):
        """Service `name` (Rec r) started again: what its last run's probes said counts for
        that run; their next results are the new run's first."""
        self.read_probes(name)
        for e in r.seen or ():
            if e is not None:
                e.steady = False

    def _sync(self, name, pr, r):
        # r.seen follows pr.probes: a Seen per probe; a new Prober's (its unit changed) have
        # the old ones' last results counted first, each in its old one's place in
        # self.reads (a pass in progress, reading(), goes on over them) -> Seens made
        seen = r.seen
        if seen is None:
            seen = r.seen = [None, None, None]
        probes = pr.probes
        made = 0
        for i in range(3):
            p = probes[i]
            e = seen[i]
            if e is not None and e.probe is p:
                continue
            at = -1
            if e is not None:
                self._count(e)
                at = self.reads.index(e)
                self.reads[at] = _GONE
                self.holes += 1
                e = seen[i] = None
            if p is not None:
                e = seen[i] = Seen(p, name, r)
                made += 1
                if at >= 0:
                    self.reads[at] = e
                    self.holes -= 1
                else:
                    self.reads.append(e)
        return made

    def _count(self, e):
        p = e.probe
        runs = p.runs + p.fused
        n = runs - e.runs
        if n == 0:
            return
        e.runs = runs
        name = e.name
        w = p.nwarn - e.nwarn
        c = p.ncrit - e.ncrit
        if w:
            e.nwarn = p.nwarn
            self.metric(name, _PROBE_COUNT["warning"]).inc(w)
        if c:
            e.ncrit = p.ncrit
            self.metric(name, _PROBE_COUNT["critical"]).inc(c)
        if n > w + c:
            m = e.passing
            if m is None:
                m = e.passing = self.metric(name, _PROBE_COUNT["passing"])
            m.sync()
            m.value += n - w - c
        st = _STATUS_ORDER[0 if p.fused else p.last]
        r = e.rec
        pn = _PROBE_NAMES[p.which]
        got = r.probes  # (None: its service started again since, its probes start over)
        if got is None or got.get(pn) != st:
            self._last(r, pn, st)
        # read_probes may count the next passes inline (e.passing exists then)
        e.steady = st == _STATUS_ORDER[0] and e.passing is not None

    def current(self, name):
        """The Rec of service `name` with its probes' results read up to now."""
        self.read_probes(name)
        return self.rec(name)
