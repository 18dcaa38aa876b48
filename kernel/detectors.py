# kernel/detectors: fault detectors over what the kernel already sees.
#
# Owns: Window (event times in a sliding window) and Watch, the detector state of one
# service: what each detector in effect has seen (failure and flap times, since when a
# held condition holds, the task counters of the last tick). Each check takes what the kernel
# saw and returns the cause text of a fault, or None: failures (abnormal exits in a window),
# exception (the type of the exception a run ended with, or one of its bases), flapping
# (health/readiness changes in a window), and the held ones, checked on the fault tick:
# latency (an instance's p99 from the balancer's stats above a bound), cpu_quota and
# alloc_quota (from the task's own accounting: CPU µs and bytes allocated since the last
# tick), breaker_open (its breaker in state open). probe_critical needs no state: a failing
# liveness or startup probe is that detector (kernel/health.py tells kernel/faults.py).
# Invariants: causes carry ints only (ms, counts, %, bytes), so a replay journals the same
# text on every port; a detector that fired starts over (its window empties, its hold
# restarts), so one condition is one fault per window, not one per event.
# Not here: the vocabulary and options (kernel/faultspec.py), escalation (kernel/faults.py).
from kernel import faultspec as F
from kernel import service as S
from kernel.circuit import OPEN as _OPEN  # forced_open is an operator's choice, not a fault
from kernel.log import ERROR

# Results that are a failure of the service itself (not a stop, a dependency, a start limit,
# nor a restart or hand-off the fault engine made).
_FAILED = (S.EXIT_CODE, S.EXCEPTION, S.TIMEOUT, S.WATCHDOG)


def is_failure(result):
    return result in _FAILED


class Window:
    """Times (ms) of events inside a sliding window."""

    def __init__(self, window_ms):
        self.window_ms = window_ms
        self.times = []

    def add(self, now):
        """Count one event at `now` -> events in the window, this one included."""
        t = self.times
        t.append(now)
        while len(t) > 1 and now - t[0] >= self.window_ms:
            t.pop(0)
        return len(t)

    def clear(self):
        self.times = []


def _type_names(e):
    # The exception's class and its bases, by name (`types` may name a base class).
    out = []
    todo = [type(e)]
    while todo:
        c = todo.pop(0)
        out.append(c.__name__)
        todo.extend(getattr(c, "__bases__", ()))
    return out


class Watch:
    """The detector state of one service under one Spec."""

    def __init__(self, spec):
        self.spec = spec
        self.failures = (
            Window(spec.opt(F.FAILURES, "window_sec")) if spec.has(F.FAILURES) else None
        )
        self.flaps = Window(spec.opt(F.FLAPPING, "window_sec")) if spec.has(F.FLAPPING) else None
        self.since = {}  # held detector code -> ms its condition began holding
        self.last = None  # (task, cpu µs, alloc bytes, ms) at the last tick

    # ---- on events ----

    def failed(self, svc, now):
        """A run of svc ended failed (result is_failure): -> [(detector, cause)]."""
        out = []
        sp = self.spec
        what = S.RESULT_NAMES[svc.result]
        if self.failures is not None:
            n = self.failures.add(now)
            need = sp.opt(F.FAILURES, "count")
            if n >= need:
                self.failures.clear()
                w = self.failures.window_ms
                out.append((F.FAILURES, "%d failures in %d ms (last: %s)" % (n, w, what)))
        if sp.has(F.EXCEPTION) and svc.result == S.EXCEPTION and svc.exc is not None:
            names = _type_names(svc.exc)
            want = sp.opt(F.EXCEPTION, "types")
            hit = names[0] if not want else None
            for n in want:
                if n in names:
                    hit = names[0]
                    break
            if hit is not None:
                out.append((F.EXCEPTION, "raised %s" % hit))
        return out

    def flapped(self, inst, now):
        """inst's health or readiness changed: -> a cause when it flaps, else None."""
        if self.flaps is None:
            return None
        n = self.flaps.add(now)
        if n < self.spec.opt(F.FLAPPING, "changes"):
            return None
        self.flaps.clear()
        return "%d health changes in %d ms" % (n, self.flaps.window_ms)

    # ---- on the tick ----

    def _held(self, d, bad, now, what):
        # `what` holds now when bad: a fault once it has held for the option for_sec/open_sec.
        if not bad:
            self.since.pop(d, None)
            return None
        t0 = self.since.get(d)
        if t0 is None:
            self.since[d] = t0 = now
        need = self.spec.opt(d, "open_sec" if d == F.BREAKER_OPEN else "for_sec")
        if now - t0 < need:
            return None
        self.since[d] = now  # held again for as long before the next fault
        return "%s for %d ms" % (what, now - t0)

    def tick(self, svc, inst, p99, now):
        """The held detectors -> [(detector, cause)]; p99: {instance: p99 ms} or None."""
        out = []
        sp = self.spec
        for d in sp.held:
            cause = None
            if d == F.LATENCY:
                ms = p99.get(svc.name, 0) if p99 else 0
                bound = sp.opt(d, "p99_ms")
                cause = self._held(d, ms > bound, now, "p99 %d ms over %d ms" % (ms, bound))
            elif d == F.BREAKER_OPEN:
                b = inst.breaker if inst is not None else None
                cause = self._held(d, b is not None and b.state == _OPEN, now, "breaker open")
            if cause is not None:
                out.append((d, cause))
        if sp.has(F.CPU_QUOTA) or sp.has(F.ALLOC_QUOTA):
            out.extend(self._quota(svc, now))
        return out

    def _quota(self, svc, now):
        # CPU and allocation of the current run since the last tick, from its task's counters.
        t = svc.task
        out = []
        if t is None:
            self.last = None
            return out
        cpu = t.cpu_s * 1000000 + t.cpu_us
        alloc = t.alloc_kb * 1024 + t.alloc_b
        last = self.last
        self.last = (t, cpu, alloc, now)
        if last is None or last[0] is not t or now <= last[3]:
            return out
        dt = now - last[3]
        pct = (cpu - last[1]) // (dt * 10)
        rate = (alloc - last[2]) * 1000 // dt
        sp = self.spec
        if sp.has(F.CPU_QUOTA):
            q = sp.opt(F.CPU_QUOTA, "pct")
            c = self._held(F.CPU_QUOTA, pct > q, now, "cpu %d%% over %d%%" % (pct, q))
            if c is not None:
                out.append((F.CPU_QUOTA, c))
        if sp.has(F.ALLOC_QUOTA):
            q = sp.opt(F.ALLOC_QUOTA, "b_per_s")
            c = self._held(F.ALLOC_QUOTA, rate > q, now, "alloc %d B/s over %d B/s" % (rate, q))
            if c is not None:
                out.append((F.ALLOC_QUOTA, c))
        return out


def _p99(counts, hi):
    # The 99th percentile of latencies counted per bucket (params.METRIC_BUCKETS, one more
    # above), estimated within its bucket as kernel/metrics.py does; None without calls.
    from kernel.params import METRIC_BUCKETS as B

    n = 0
    for c in counts:
        n += c
    if n == 0:
        return None
    rank = n * 99 // 100 or 1
    seen = 0
    for i, c in enumerate(counts):
        if c and seen + c >= rank:
            lo = B[i - 1] if i > 0 else 0
            top = B[i] if i < len(B) else hi
            return min(int(lo + (top - lo) * (rank - seen) // c), int(hi))
        seen += c
    return int(hi)


def lb_p99(mgr, service, prev):
    """{instance: p99 ms of its calls since the last call} from the balancer's histograms
    (the calls of one tick, not of its lifetime: a slow spell that ended stops counting);
    prev: {instance: bucket counts} kept by the caller between calls. {} without a balancer."""
    bal = getattr(mgr, "balancer", None)  # kernel/balancer.py's Balancer of this manager
    pool = bal.pools.get(service) if bal is not None else None
    if pool is None:
        return {}
    try:
        out = {}
        for m in pool.members:
            h = m.hist
            if h is None:
                continue
            old = prev.get(m.name)
            now = list(h.counts)
            prev[m.name] = now
            if old is not None and len(old) == len(now):
                v = _p99([a - b for a, b in zip(now, old)], h.hi)
                if v is not None:
                    out[m.name] = v
        return out
    except Exception as e:  # noqa: BLE001 - no stats is no latency fault, not a crash
        mgr.sched.log.log("faults: latency stats of %s: %r" % (service, e), ERROR)
        return {}
