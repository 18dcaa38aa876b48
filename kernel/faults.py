# kernel/faults: fault detection and escalation, one engine per service manager, and the
# fault journal.
#
# Owns: Engine (attach(mgr)): it hears the manager's events (failed runs), discovery's
# changes (flapping; a recovery's outcome: the instance it waits on ready again, or its
# breaker closed), the health monitor's critical liveness/startup probes (on_critical: that
# is the probe_critical detector, and its default chain is today's restart), and a tick task
# for the held detectors (latency, quotas, breaker open) while a service has one in effect.
# A fault of detector d on service s walks s's chain for d (unit field `escalation`): each
# strategy is tried up to `escalation_tries` times per `escalation_window_sec`; then the
# next; past the last the fault goes to the supervision tree (kernel/recovery.py hand_off:
# the service fails with result `escalated`, its group counts it against its intensity,
# then its parent). A window with no try starts the chain over.
# The journal: one line per detection, escalation, recovery (strategy, try, what it did)
# and outcome (recovered after N ms, or not), and per injected fault; ints only, so a
# replay on the virtual clock is the same text byte for byte on every port.
# Not here: the vocabulary and unit fields (kernel/faultspec.py), the detectors' state
# (kernel/detectors.py), the strategies (kernel/recovery.py), injection (kernel/inject.py),
# the journal's ring (kernel/faultlog.py).
from kernel import backoff, params, recovery
from kernel import detectors as D
from kernel import events as E
from kernel import faultspec as F
from kernel import service as S
from kernel.faultlog import FaultLog


class Fault:
    """Where the faults of one detector on one service are in its chain."""

    pending = None  # strategy code of the recovery waiting for its outcome
    pending_ms = 0
    watch = None  # the instance whose readiness (or closed breaker) says it worked
    last_ms = None  # ms of the last try
    delay_ms = 0  # the last restart_with_delay delay (decorrelated jitter grows from it)

    def __init__(self, det):
        self.det = det
        self.idx = 0  # the strategy being tried (index into the chain)
        self.tries = []  # ms of the tries of that strategy inside the window
        self.rate = backoff.Rate()  # its recoveries' outcomes (adaptive restart delays)


class Target:
    """One service's fault policy, detector state and faults."""

    def __init__(self, svc):
        self.svc = svc
        self.unit = svc.unit
        self.spec = F.Spec(svc.unit)
        self.watch = D.Watch(self.spec)
        self.faults = {}  # detector code -> Fault

    def fault(self, d):
        f = self.faults.get(d)
        if f is None:
            f = self.faults[d] = Fault(d)
        return f


class Engine:
    """Fault detection, escalation and the fault journal of one Manager."""

    def __init__(self, mgr, reg):
        self.mgr = mgr
        self.reg = reg
        self.journal = FaultLog(params.FAULT_JOURNAL)
        self.targets = {}  # service name -> Target (made when something happens to it)
        self.ticking = []  # Targets with a held detector whose service runs, in order
        self.tick_task = None
        self.awaiting = []  # (Target, Fault) whose recovery waits for its outcome
        self.standby_of = {}  # promoted name -> the demoted one a failover goes back to
        self.latency = None  # fn(service) -> {instance: p99 ms}; None: the balancer's stats
        self.lat_prev = {}  # instance -> the balancer's latency bucket counts at the last tick
        self.injector = None  # kernel/inject.py Injector, made at the first injection
        self.configs = {}  # service -> its config versions' readiness (recovery.config_ready)
        self.later = []  # (Target, detector, cause) found inside a manager transition
        self.worker = None  # the task that handles `later` (spawned on demand)
        self.detected = 0
        self.recovered = 0
        self.tried = 0
        self.escalated = 0
        self.handed = 0

    # ---- the journal ----

    def log(self, name, text):
        self.journal.add(self.mgr.now(), name, text)
        self.mgr.journal.add(name, "fault", text)  # `svc status` and `log` show it too

    def lines(self, name=None):
        return self.journal.lines(name)

    # ---- targets ----

    def target(self, svc):
        t = self.targets.get(svc.name)
        if t is None or t.unit is not svc.unit:  # a replaced unit starts over
            t = self.targets[svc.name] = Target(svc)
        return t

    # ---- what the kernel tells us ----

    def on_event(self, name, event, cause):
        """The manager's subscriber: failed runs, and which services the tick watches."""
        svc = self.mgr.services.get(name)
        if svc is None:
            return
        code = E.event_code(event)
        u = svc.unit
        if code == E.EV_RESTARTING or code == E.EV_FAILED:
            if D.is_failure(svc.result) and (u.escalation or u.detectors):
                t = self.target(svc)
                for d, why in t.watch.failed(svc, self.mgr.now()):
                    self._defer(t, d, why)
        if code == E.EV_STARTED:
            if u.escalation or u.detectors:
                t = self.target(svc)
                if t.spec.held and t not in self.ticking:
                    self.ticking.append(t)
                    self._tick_on()

    def on_change(self, code, inst):
        """Discovery's listener: flapping, and the outcome of recoveries waiting on inst."""
        if code == E.EV_READY or code == E.EV_BREAKER:
            b = inst.breaker
            if code == E.EV_READY or (b is not None and b.state == 0):  # ready; breaker closed
                for t, f in list(self.awaiting):
                    if f.watch == inst.name:
                        self._outcome(t, f, True)
        if code == E.EV_HEALTH or code == E.EV_READY or code == E.EV_NOT_READY:
            svc = inst.svc
            if svc is not None and (svc.unit.escalation or svc.unit.detectors):
                t = self.target(svc)
                if svc.unit.config is not None and code != E.EV_HEALTH:
                    recovery.config_ready(self, svc, code == E.EV_READY)
                now = self.mgr.now()
                # Flapping is a running service's health going back and forth; its own
                # start (ready in the ms it became active) and restarts are not flaps.
                if svc.state == S.ACTIVE and now != svc.active_ms:
                    why = t.watch.flapped(inst, now)
                    if why is not None:
                        self._defer(t, F.FLAPPING, why)

    def good_config(self, name):
        """The last config version `name` stayed ready on, or None (config_reload)."""
        return recovery.good_config(self, name)

    def _defer(self, t, d, cause):
        # Found inside a manager transition (an event, a status change): recover from a task
        # of our own, once the transition is over, not from inside it.
        self.later.append((t, d, cause))
        w = self.worker
        if w is None or w.done():
            self.worker = w = self.mgr.sched.spawn(self._drain(), "faults-do")
            w.quiet = True

    async def _drain(self):
        later = self.later
        while later:
            t, d, cause = later.pop(0)
            self.detect(t, d, cause)
        self.worker = None

    def on_critical(self, svc, probe, why):
        """The health monitor: a liveness/startup probe failed past its threshold -> True
        (the fault is handled here: probe_critical's chain, by default a restart)."""
        self.detect(self.target(svc), F.PROBE_CRITICAL, why)
        return True

    # ---- escalation ----

    def detect(self, t, d, cause):
        """Detector d found a fault on t's service: try the next recovery of its chain."""
        sp = t.spec
        name = t.svc.name
        now = self.mgr.now()
        self.detected += 1
        self.log(name, "detected %s: %s" % (F.DETECTOR_NAMES[d], cause))
        f = t.fault(d)
        if f.pending is not None:
            self._outcome(t, f, False)
        win = sp.window_ms
        f.tries = [x for x in f.tries if now - x < win]
        if not f.tries and f.last_ms is not None and now - f.last_ms >= win:
            f.idx = 0  # a whole window without a try: a new fault
        chain = sp.chains[d]
        if len(f.tries) >= sp.tries:
            n = len(f.tries)
            f.idx += 1
            f.tries = []
            self.escalated += 1
            if f.idx < len(chain):
                self.log(
                    name,
                    "escalated %s to %s after %d tries in %d ms"
                    % (F.DETECTOR_NAMES[d], F.STRATEGY_NAMES[chain[f.idx]], n, win),
                )
        if f.idx >= len(chain):
            f.idx = 0
            f.last_ms = None
            self.handed += 1
            self.log(name, "to supervisor: %s" % recovery.hand_off(self, t.svc, d, cause))
            return
        s = chain[f.idx]
        f.tries.append(now)
        f.last_ms = now
        self.tried += 1
        ok, text, watch = recovery.run(self, t, f, s, cause)  # on the rate before this fault
        f.rate.record(True)  # a fault is a failure; a recovery, a success
        self.log(name, "%s %d/%d: %s" % (F.STRATEGY_NAMES[s], len(f.tries), sp.tries, text))
        if ok and watch is not None:
            f.pending = s
            f.pending_ms = now
            f.watch = watch
            self.awaiting.append((t, f))
            inst = self.reg.by_name.get(watch)
            if inst is not None and inst.ready:  # it is back already (a simple service)
                self._outcome(t, f, True)

    def _outcome(self, t, f, ok):
        ms = self.mgr.now() - f.pending_ms
        what = F.STRATEGY_NAMES[f.pending]
        if ok:
            self.recovered += 1
            self.log(t.svc.name, "recovered by %s in %d ms" % (what, ms))
        else:
            self.log(t.svc.name, "%s did not recover it (%d ms)" % (what, ms))
        if ok:
            f.rate.record(False)
        f.pending = None
        f.watch = None
        for i, tf in enumerate(self.awaiting):
            if tf[1] is f:
                self.awaiting.pop(i)
                break

    # ---- the held detectors ----

    def _tick_on(self):
        t = self.tick_task
        if t is None or t.done():
            self.tick_task = t = self.mgr.sched.spawn(self._tick_loop(), "faults")
            t.quiet = True

    async def _tick_loop(self):
        from kernel.traps import sleep_ms

        while self.ticking:
            await sleep_ms(params.FAULT_TICK_MS)
            now = self.mgr.now()
            stats = {}  # service -> {instance: p99 ms}, read once per tick
            for t in list(self.ticking):
                svc = t.svc
                if svc.state != S.ACTIVE and svc.state != S.RELOADING:
                    if svc.state == S.INACTIVE or svc.state == S.FAILED:
                        self.ticking.remove(t)
                    continue
                inst = self.reg.by_name.get(svc.name)
                p99 = None
                if t.spec.has(F.LATENCY) and inst is not None:
                    p99 = stats.get(inst.service)
                    if p99 is None:
                        p99 = stats[inst.service] = self._p99(inst.service)
                for d, why in t.watch.tick(svc, inst, p99, now):
                    self.detect(t, d, why)
        self.tick_task = None

    def _p99(self, service):
        fn = self.latency
        return fn(service) if fn is not None else D.lb_p99(self.mgr, service, self.lat_prev)

    def stats(self):
        return {
            "detected": self.detected,
            "tried": self.tried,
            "recovered": self.recovered,
            "escalated": self.escalated,
            "handed": self.handed,
            "awaiting": len(self.awaiting),
            "watched": len(self.ticking),
            "journal": self.journal.count,
        }


def attach(mgr):
    """The Engine of mgr, made on first use: it hears the manager, discovery and health."""
    eng = getattr(mgr, "faults", None)
    if eng is None:
        from kernel import health

        mon = health.attach(mgr)
        eng = mgr.faults = Engine(mgr, mon.reg)
        mgr.subscribers.append(eng.on_event)
        mon.reg.listeners.append(eng.on_change)
        mon.on_critical = eng.on_critical
    return eng


def engine():
    """The Engine of the kernel's service manager."""
    from kernel import svc

    return attach(svc.manager())


# ---- the public API (re-exported by `kernel`) ----


def fault_journal(name=None):
    """The fault journal's lines (of service `name` and its instances `name@*` when given),
    oldest first: detections, escalations, recoveries and their outcomes, injections."""
    return engine().lines(name)


def fault_stats():
    """The engine's counters: detected, tried, recovered, escalated, handed, ..."""
    return engine().stats()
