# kernel/metrics: per-service counters, gauges and histograms, and the kernel's own series.
#
# Owns: Registry (one per service manager: series by service, the sampler task) and what
# the kernel records on its own per service: starts, restarts, failures (from the
# manager's events), CPU time and bytes allocated with their rates (from the scheduler's
# accounting of the service's task: bytes allocated, not live heap), probe results and
# latencies (kernel/metprobes.py, read from the health monitor's probes at the start of
# each round), and availability (% of samples active and not critical over 1 min, 1 h and
# since the service was first enabled or started).
# Invariants: inc/set/observe allocate nothing for small ints (but the ring's list, once, at
# the first value that differs); a series never grows past its ring; a round samples the
# active services only (a Rec is hot or cold, see Registry.rounds), in slices of
# params.METRIC_SLICE per step (fewer once params.METRIC_SLICE_MS passed in one), once per
# params.METRIC_SAMPLE_MS; series are caught up lazily (Metric), so no round walks every
# series or every service (the probes: O(probes)).
# Other layers plug in through Registry.hooks (fn(reg) after each sample: alerts).
# Not here: one series, its ring and Avail (kernel/mseries.py, re-exported here), an idle
# service's samples kept as values (kernel/mkept.py), probe results (kernel/metprobes.py),
# alert rules (kernel/alerting.py), probes (kernel/health.py).
from micropython import const

from kernel import mkept, params
from kernel import service as S
from kernel.heap import presize
from kernel.metprobes import K_PROBE_MS, ProbeReads  # noqa: F401 - K_PROBE_MS re-exported
from kernel.mkept import (  # noqa: F401 - re-exported: the kernel's sampled series
    K_ALLOC_B,
    K_ALLOC_RATE,
    K_CPU_PCT,
    K_CPU_US,
    KSAMPLED,
)
from kernel.mseries import (  # noqa: F401 - re-exported: kernel.metrics is their door
    BUCKETS,
    COUNTER,
    GAUGE,
    HISTOGRAM,
    KIND_NAMES,
    Avail,
    Metric,
    Ring,
    kind_of,
)
from kernel.names import Names, lookup
from kernel.task import ENDED, READY

# Series the kernel keeps for every service it samples.
K_STARTS = "starts"
K_RESTARTS = "restarts"
K_FAILURES = "failures"
# (and cpu_us, alloc_b, cpu_pct, alloc_b_per_s: kernel/mkept.py's KSAMPLED)

_REC_SLOTS = const(8)  # a sampled service's Rec: reg, name, hot, hnext, runs, start1, and
#                         first (an idle one) or kseries and avail
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
    # Its samples, while the service idles between them (started once, woken now and then),
    # kept as values instead of the four kernel series and the Avail they would have made
    # (kernel/mkept.py: its layout, and when they are made after all: sampled more often,
    # its availability changed, or anything reads its series or availability).
    first = None

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

    keep_first = True  # an idle service's samples kept as values (Rec.first); False: made at once

    def __init__(self, mgr):
        self.mgr = mgr
        self.series = Names()  # service name -> {metric name -> Metric} (paged: no 3 KB table)
        self.recs = Names()  # service name -> Rec (sized with the services: grows at a create)
        mgr.services.follow(self.recs)
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
        self.errors = 0  # samples and rounds that raised (a full heap): the sampler goes on
        self.error = None  # the last of those exceptions
        mgr.subscribers.append(self.on_event)

    # ---- series ----

    def metric(self, service, name, kind=COUNTER):
        """The series service.name, made on first use; a kind other than its own raises."""
        k = kind_of(kind)
        d = self._series_of(service, True, name)
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
        d = self._series_of(service, False, name)
        return d.get(name) if d is not None else None

    def _series_of(self, service, make, name=None):
        # service's {metric name -> Metric}: made with its owed `starts` series (counted on
        # its Rec at its first start: value 1 since round start1, caught up as any series),
        # or when make, or None. Its samples kept as values (Rec.first) are made into their
        # series when one of those (name) or all (None) are wanted: not for the alert
        # rules' `restarts`, read each round for every service sampled (nor the owed
        # `starts` for it: none is made for a series it does not hold).
        r = self.recs.get(service)
        if r is not None and r.first is not None and (name is None or name in KSAMPLED):
            self._made(r)  # (makes its series)
        d = lookup(self.series, service)  # (Names.get without its method call)
        if d is None:
            if (
                r is not None
                and r.start1 is not None
                and (make or name is None or name == K_STARTS)
            ):
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
        r = self.recs.get(service)
        if r is not None and r.first is not None and name in KSAMPLED:
            return mkept.value(r.first, name)  # (the alert rules' cpu and alloc rates)
        m = self.get(service, name)
        return m.current() if m is not None else None

    def rec(self, service):
        r = self.recs.get(service)
        if r is None:
            # Room for every service's Rec (a no-op: it follows mgr.services, but for the
            # 'kernel' Rec and registries made on another manager's services table).
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
            t = self.task
            if t is not None and t.state >= ENDED:  # ended by what it cannot catch (the step
                self.start()  # watchdog, a cancel): again at the next start (once a start)
            svc = self.mgr.services.get(name)
            if self.mon is not None:
                self.probes_started(name, r)
            if svc is not None:
                r.see(svc.task)
            if r.probes is not None or r.health is not None or not r.ready:
                r.probes = None  # a new run: its probes start over
                r.health = None
                r.ready = True  # (only when changed: an idle service's Rec keeps one field)
            if r.start1 is None and lookup(self.series, name) is None:
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
            try:
                for _ in self.rounds():
                    await traps.sleep_ms(0)  # a slice per step: other tasks run between
            except Exception as e:  # noqa: BLE001 - the sampler outlives a failed round
                self._failed(None, e)  # (the probes' reading: the next round anew)
                self.busy = False

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
                try:
                    self._sample_one(r, period_ms)
                    done.append(r)
                except Exception as e:  # noqa: BLE001 - one failed sample (the heap full)
                    self._failed(r, e)  # must not stop the sampler: again next round
                r = nxt
                if diff(ticks_ms(), t0) >= params.METRIC_SLICE_MS:
                    break  # a slow slice (a GC pause, slow samples): the rest next step
            for fn in self.hooks:
                try:
                    fn(self)
                except Exception as e:  # noqa: BLE001 - a broken hook must not lose the round
                    self._failed(None, e)
            if r is not None:
                yield
        del done[:]
        self.busy = False

    def _failed(self, r, e):
        # A sample (of r) or a round (r None) that raised: counted, the last error kept
        # (no text made: the heap may be full), r sampled again next round.
        self.errors += 1
        self.error = e
        if r is not None:
            self._hot(r)

    def _sample_one(self, r, period_ms):
        r.hot = False  # off the chain; back on it below while active
        svc = self.mgr.services.get(r.name)
        if svc is None:  # a series' owner that is no service ('kernel'): nothing to sample
            return
        on = svc.state == S.ACTIVE or svc.state == S.RELOADING
        up = on and r.health != "critical" and r.ready
        cpu, alloc = self._account(r, svc)
        keep = svc.is_enabled() or svc.state != S.INACTIVE  # (else no Avail yet)
        if not keep:
            up = None  # (no Avail yet)
        f = None
        if r.kseries is None and r.avail is None and self.keep_first:  # kept as values
            rnd = self.samples
            if r.first is None:  # its first sample
                f = (rnd, cpu, alloc, period_ms, up)
            else:
                f = mkept.keep(r.first, rnd, cpu, alloc, period_ms, up)
        if f is not None:
            r.first = f
        else:
            if r.first is not None:
                self._made(r)
            self._sampled(r, self.samples, cpu, alloc, period_ms, up)
        t = svc.task
        # Active: its task ran or is ready, it restarted in the last minute, or its unit has
        # alert rules of its own (over series anyone may change): sampled again next round.
        if cpu or alloc or self.samples < r.hold or (t is not None and t.state == READY):
            self._hot(r)
        elif svc.unit.alerts:
            self._hot(r)
        elif t is not None:  # idle: cold until touched (its task readied, an event)
            t.watch = r

    def _account(self, r, svc):
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
        return cpu, alloc

    def _kseries(self, r):
        k = r.kseries
        if k is None:  # the four series every sample updates, looked up once
            name = r.name
            k = r.kseries = (
                self.metric(name, K_CPU_US),
                self.metric(name, K_ALLOC_B),
                self.metric(name, K_CPU_PCT, GAUGE),
                self.metric(name, K_ALLOC_RATE, GAUGE),
            )
        return k

    def _sampled(self, r, rnd, cpu, alloc, period_ms, up):
        # One sample of round rnd into r's series and Avail (up None: no Avail yet).
        mkept.record(self._kseries(r), cpu, alloc, period_ms, rnd)
        if r.avail is None and up is not None:
            r.avail = Avail(rnd - 1)
        a = r.avail
        if a is not None:
            a.add_n(a.last_up, rnd - 1 - a.synced)  # the rounds it sat out
            a.last_up = up
            a.add(up)
            a.synced = rnd

    def _made(self, r):
        # r's samples kept as values (Rec.first) made into its series and Avail (mkept.made).
        f = r.first
        del r.first  # (its slot for the two made below: a Rec's table stays at 8)
        try:
            k = self._kseries(r)
        except MemoryError:
            r.first = f  # its samples kept: made at a later sample or read
            raise
        a = mkept.made(f, k)
        if a is not None:
            r.avail = a

    # ---- reports ----

    def availability(self, name):
        r = self.recs.get(name)
        if r is not None and r.first is not None:
            self._made(r)
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
