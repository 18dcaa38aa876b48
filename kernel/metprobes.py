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
# latency of a run in a task is told as it ends (Monitor.timed); an inline kind's results
# observe 0 ms, as the monitor's latency of them always was.
# Invariants: the monitor never calls us per result (a result hook turns its fused path
# off, kernel/health.py); a read is O(probes) and allocates nothing once each probe's Seen
# and series exist; a new Prober (its unit changed) has the old one's last results counted
# first.
# Not here: the series and the sampler (kernel/metrics.py), probes (kernel/health.py).
K_PROBE_MS = "probe_ms"  # histogram of probe latencies

_STATUS_ORDER = ("passing", "warning", "critical")
_STATUS_RANK = {"passing": 0, "warning": 1, "critical": 2}
_PROBE_COUNT = {
    "passing": "probes_passing",
    "warning": "probes_warning",
    "critical": "probes_critical",
}
_PROBE_NAMES = ("startup", "liveness", "readiness")  # kernel/prober.py's, by Probe.which


def _inline(p):
    # p's kind runs in the monitor's step: no task, no latency told (kernel/probes.py)
    from kernel.probes import INLINE

    return INLINE[p.spec.kind]


class Seen:
    """What the registry has counted of one health monitor's Probe (kernel/prober.py)."""

    def __init__(self, probe):
        self.probe = probe
        self.runs = 0  # probe.runs + probe.fused when last read
        self.nwarn = 0
        self.ncrit = 0
        self.passing = None  # the service's probes_passing Metric, once one passed
        self.ms = None  # its probe_ms histogram, once an inline kind's result observed 0 ms
        self.inline = _inline(probe)  # its kind runs in the monitor's step: no latency told


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
        # probe's last result is `status`: the service's health and readiness from it
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
        return True

    def _probe_result(self, service, probe, status, output, latency_us):
        """health.on_result's shape (a monitor's per-result hook) -> on_probe."""
        self.on_probe(service, probe, status, latency_us / 1000)

    def _probe_latency(self, service, probe, latency_us):
        self.metric(service, K_PROBE_MS, "histogram").observe(latency_us / 1000)

    def read_probes(self, name=None):
        """Count the results the health monitor's probes had since the last read, of every
        service it probes (or only of `name`): the probes_* counters, an inline kind's
        latencies (0 ms) and each probe's last status (the service's health and readiness),
        as one on_probe per result would have. O(probes); nothing when nothing ran."""
        mon = self.mon
        if mon is None:
            return
        if name is not None:
            pr = mon.probers.get(name)
            if pr is not None:
                self._read(name, pr, self.rec(name))
            return
        recs = self.recs
        for name, pr in mon.probers.items():
            r = recs.get(name)
            if r is None:
                r = self.rec(name)
            self._read(name, pr, r)

    def _read(self, name, pr, r):
        seen = r.seen
        if seen is None:
            seen = r.seen = [None, None, None]
        probes = pr.probes
        for i in range(3):
            p = probes[i]
            e = seen[i]
            if e is not None and e.probe is not p:  # a new Prober (its unit changed)
                self._count(name, r, e, i)  # the old one's last results first
                e = seen[i] = None
            if p is None:
                continue
            if e is None:
                if p.runs + p.fused == 0:
                    continue
                e = seen[i] = Seen(p)
            self._count(name, r, e, i)

    def _count(self, name, r, e, which):
        p = e.probe
        runs = p.runs + p.fused
        n = runs - e.runs
        if n == 0:
            return
        e.runs = runs
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
            m.value += n - w - c
        if e.inline:
            m = e.ms
            if m is None:
                m = e.ms = self.metric(name, K_PROBE_MS, "histogram")
            m.observe(0, n)
        st = _STATUS_ORDER[0 if p.fused else p.last]
        probe = _PROBE_NAMES[which]
        if r.probes is None or r.probes.get(probe) != st:
            self._last(r, probe, st)

    def current(self, name):
        """The Rec of service `name` with its probes' results read up to now."""
        self.read_probes(name)
        return self.rec(name)
