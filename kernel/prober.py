# kernel/prober: the probes of one service: thresholds, hysteresis, startup gating, and what
# a verdict does (restart through the restart policy, readiness in discovery).
#
# Owns: Probe (one probe's thresholded status, counters, last output and a history ring;
# also an item of the monitor's lanes, kernel/lanes.py), Prober (the probes of one service:
# startup gates the other two; liveness or startup failing past its threshold restarts the
# service with result `liveness`; readiness moves its instance in and out of discovery's
# ready set), kill_for() and report() (health_report's dict).
# Invariants: a warning counts as a success for thresholds; every field the monitor's fused
# run or the metrics' read of the counters (kernel/metprobes.py) reads is set in __init__ (a
# read that falls through to a class default costs ~9x an instance read on the boards: those
# are the hot paths of 100 probes at 1 Hz, tools/bench_health.py; boards/common/modkprobes.c
# reads them by name too); the full path's cold fields stay on the class (heap per probe).
# Not here: when probes run (kernel/health.py), the check kinds (kernel/probes.py), the
# registry (kernel/discovery.py), the restart itself (kernel/manager.py).
from micropython import const

from kernel import params
from kernel import service as S
from kernel.discovery import CRITICAL, PASSING, STATUS_NAMES
from kernel.heap import presize
from kernel.probes import K_PROCESS, K_TTL

STARTUP = const(0)
LIVENESS = const(1)
READINESS = const(2)
PROBE_NAMES = ("startup", "liveness", "readiness")
# Probe.steady: may the monitor fuse its next run (kernel/health.py), and which check it fuses
FUSE_NO = const(0)
FUSE_PROCESS = const(1)  # the service's task is alive and stepping
FUSE_TTL = const(2)  # the service's last report_health() is passing and within its TTL


class Probe:
    """One probe of one service: its thresholded status and what its runs said."""

    # Cold fields (the full path only), defaults on the class; the rest are set in __init__.
    running = None  # the Task of the run in flight (command, custom, tcp, http)
    skew0 = 0  # the monitor's skew when that run began
    t0_us = 0
    changed_ms = 0  # uptime ms of the last status change

    def __init__(self, prober, which, sp):
        presize(self, 25)  # its table made once at its final size (kernel/heap.py)
        self.prober = prober
        self.svc = prober.svc
        self.which = which
        self.spec = sp
        d = sp.period_ms
        if sp.kind == K_TTL and sp.ttl_ms < d:
            d = sp.ttl_ms + 1  # right after the TTL would run out without a report
        self.period = d  # ms from one result to the next run
        # ms a run may come early to share the monitor's wake with the probe before it
        self.slack = min(params.HEALTH_SLACK_MS, d >> 3)
        self.plane = None  # the monitor's Lane of that period, once pushed onto it
        self.steady = FUSE_NO  # last result and status passing: the monitor may fuse a run
        self.hist = bytearray(params.HEALTH_HISTORY)
        # the monitor's lanes (kernel/lanes.py) and runs
        self.lane = None  # the Lane it waits on (None: not scheduled)
        self.due = 0  # monitor ms it is due at (its timeout while a run is in flight)
        self.prev = None
        self.next = None
        self.on = False  # in effect (its service active, past startup for liveness/readiness)
        self.runs = 0  # results counted (and written to the history ring)
        self.fused = 0  # passing runs of the monitor's fused path not yet counted here
        # warning / critical results ever counted: readers (the metrics, each second) take
        # deltas of these and of runs + fused, the passing ones being the rest
        self.nwarn = 0
        self.ncrit = 0
        self.last = -1  # raw status of the last run (-1: none yet)
        self.output = ""
        self.last_ms = 0  # uptime ms of the last run
        self.reset()

    def reset(self):
        # Kubernetes' initial results: liveness succeeds, startup and readiness fail.
        self.status = PASSING if self.which == LIVENESS else CRITICAL
        if self.fused:
            self.catch_up()
        self.successes = 0
        self.failures = 0
        self.steady = self.fusable() if self.status == PASSING else FUSE_NO  # liveness: at once
        self.plane = None  # its period's lane: None until its first push since a start
        self.seen_steps = -1  # process: the task's steps at the last probe

    def name(self):
        return PROBE_NAMES[self.which]

    def fusable(self):
        """How the monitor may fuse its passing runs (kernel/health.py): FUSE_PROCESS or
        FUSE_TTL for a process or ttl probe that is not startup's (whose first pass ends
        it), else FUSE_NO."""
        if self.which == STARTUP:
            return FUSE_NO
        k = self.spec.kind
        return FUSE_PROCESS if k == K_PROCESS else FUSE_TTL if k == K_TTL else FUSE_NO

    def next_slack(self):
        """The slack of its next push onto its period lane: p.slack, or for its first one
        since its service started (plane None) up to half a period, so that it comes due
        with the probes started shortly before it (a startup probe's never: its
        failure_threshold x period is the time a service is given to start)."""
        if self.plane is None and self.which != STARTUP:
            return self.period >> params.HEALTH_ALIGN_SHIFT
        return self.slack

    def catch_up(self):
        """Count the fused runs (each a passing check, while passing) as the full runs
        would have (a fused ttl run set its output itself: the report's note)."""
        k = self.fused
        self.fused = 0
        self.last = PASSING
        if self.spec.kind == K_PROCESS:
            self.output = "alive"
        n = self.runs
        h = len(self.hist)
        for i in range(n + k - min(k, h), n + k):
            self.hist[i % h] = PASSING
        self.runs = n + k
        self.successes += k
        self.failures = 0

    def record(self, code, now_ms):
        """Count one result through the thresholds; True when the status changed."""
        if self.fused:
            self.catch_up()
        n = self.runs
        self.hist[n % params.HEALTH_HISTORY] = code
        self.runs = n + 1
        self.last = code
        self.last_ms = now_ms
        new = self.status
        if code != CRITICAL:  # a warning counts as a success
            if code != PASSING:
                self.nwarn += 1
            self.successes += 1
            self.failures = 0
            if new != CRITICAL or self.successes >= self.spec.succ:
                new = code
        else:
            self.ncrit += 1
            self.failures += 1
            self.successes = 0
            if self.failures >= self.spec.fail:
                new = CRITICAL
        if new == self.status:
            return False
        self.status = new
        self.changed_ms = now_ms
        return True

    def history(self):
        """The last results, oldest first, as status names."""
        if self.fused:
            self.catch_up()
        n = len(self.hist)
        k = min(self.runs, n)
        return [STATUS_NAMES[self.hist[(self.runs - k + i) % n]] for i in range(k)]

    def report(self):
        if self.fused:
            self.catch_up()
        return {
            "check": self.spec.kind_name(),
            "status": STATUS_NAMES[self.status],
            "last": STATUS_NAMES[self.last] if self.last >= 0 else None,
            "active": self.on,
            "successes": self.successes,
            "failures": self.failures,
            "output": self.output,
            "runs": self.runs,
            "last_ms": self.last_ms,
            "changed_ms": self.changed_ms,
            "history": self.history(),
            "period_ms": self.spec.period_ms,
        }


class Prober:
    """The probes of one service (None where the unit declares none)."""

    started = False  # the startup probe has passed (or there is none) in this run
    report = None  # (status code, note, monitor ms) of the last report_health()

    def __init__(self, mon, svc):
        self.mon = mon
        self.svc = svc
        self.unit = svc.unit
        u = svc.unit
        self.probes = tuple(
            None if sp is None else Probe(self, i, sp)
            for i, sp in enumerate((u.startup, u.liveness, u.readiness))
        )

    def begin(self):
        """The service became active: startup first, else liveness and readiness."""
        m = self.mon
        st = self.probes[STARTUP]
        self.started = st is None
        for p in self.probes:
            if p is not None:
                p.reset()
        if st is not None:
            m.arm(st, st.spec.delay_ms)
        else:
            self._arm_rest()
        self.settle()

    def _arm_rest(self):
        for p in self.probes[1:]:
            if p is not None:
                self.mon.arm(p, p.spec.delay_ms)

    def end(self):
        for p in self.probes:
            if p is not None:
                self.mon.disarm(p)

    def active(self):
        return [p for p in self.probes if p is not None and p.on]

    def recorded(self, p, changed):
        """p counted a result (changed: its status moved): act on startup / liveness;
        update the instance when something changed (the common run changes nothing)."""
        if not changed and p.which != STARTUP:
            return
        svc = self.svc
        if svc.state != S.ACTIVE and svc.state != S.RELOADING:
            return
        if p.which == STARTUP and not self.started:
            if p.status != CRITICAL:
                self.started = True
                self.mon.disarm(p)
                self._arm_rest()
            elif p.failures >= p.spec.fail:
                self.restart(p)
                return
        elif p.which == LIVENESS and p.status == CRITICAL:
            self.restart(p)
            return
        elif not changed:
            return
        self.settle()

    def restart(self, p):
        # A critical liveness/startup probe is the fault engine's probe_critical detector
        # (kernel/faults.py, on_critical): its chain decides, by default this same restart
        # (kill_for). Without an engine attached, the restart is done here.
        svc = self.svc
        why = "%s probe failed %d times: %s" % (p.name(), p.failures, p.output)
        self.end()
        reg = self.mon.reg
        inst = reg.by_name.get(svc.name)
        if inst is not None:
            reg.set_status(inst, "critical", False, why)
        self.mon.restarts += 1
        hook = self.mon.on_critical
        if hook is None or not hook(svc, p.name(), why):
            kill_for(svc, why)

    def settle(self):
        """Health = the worst status of the probes in effect; ready = started and readiness
        (if any) not critical. Tells discovery (a change bumps its index)."""
        inst = self.mon.reg.by_name.get(self.svc.name)
        if inst is None:
            return
        worst = PASSING
        note = None
        for p in self.probes:
            if p is not None and p.fused:
                p.catch_up()  # its output, as the full runs would have left it
            if p is not None and p.on and p.status >= worst:
                if p.status > worst or note is None:
                    note = p.output
                worst = p.status
        rd = self.probes[READINESS]
        ready = self.started and (rd is None or rd.status != CRITICAL)
        if not self.started:
            note = "startup probe has not passed yet"
        elif rd is not None and rd.status == CRITICAL:
            note = "readiness: " + (rd.output or "no success yet")
        self.mon.reg.set_status(inst, STATUS_NAMES[worst], ready, note or "")


def kill_for(svc, why):
    """End svc's run for a failed probe: result `liveness`, then its restart policy."""
    m = svc.mgr
    svc.kill_result = (S.LIVENESS, why)
    m.event(svc.name, "liveness", why)
    m.kill(svc)


def report(mon, name):
    """health_report(name) of monitor mon: instance health and readiness, and per probe:
    status, consecutive successes/failures, last output, last change, history."""
    svc = mon.mgr.get(name)
    inst = mon.reg.by_name.get(name)
    pr = mon.probers.get(name)
    out = {
        "name": name,
        "health": inst.health if inst is not None else None,
        "ready": inst.ready if inst is not None else False,
        "note": inst.note if inst is not None else svc.state_name(),
        "started": pr.started if pr is not None else svc.state == S.ACTIVE,
        "probes": {},
    }
    u = svc.unit
    for i, sp in enumerate((u.startup, u.liveness, u.readiness)):
        if sp is None:
            continue
        p = pr.probes[i] if pr is not None and pr.unit is u else None
        if p is None:
            out["probes"][PROBE_NAMES[i]] = {
                "check": sp.kind_name(),
                "status": None,
                "active": False,
                "output": "not run yet",
                "history": [],
            }
        else:
            out["probes"][PROBE_NAMES[i]] = p.report()
    return out
