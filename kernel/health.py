# kernel/health: probes with Kubernetes' semantics and Consul's statuses, one monitor per
# service manager.
#
# Owns: Probe (one probe's thresholded status, counters, last output and a history ring),
# Prober (the probes of one service: startup gates the other two; liveness or startup
# failing past its threshold restarts the service through its restart policy with result
# `liveness`; readiness moves its instance in and out of discovery's ready set) and Monitor:
# one task that sleeps until the earliest due probe on FIFO lanes per delay (kernel/lanes.py),
# runs the built-in kinds inline and user code (command, custom) and sockets (tcp, http) in
# a short task each, under the probe's timeout. The monitor subscribes to the manager's
# events (O(1) per event); metrics register with on_result(fn).
# Invariants: a probe is on a lane iff it is due to run or running (then due at its
# timeout); due times are monitor time (uptime minus the time the console's foreground code
# starved the kernel), so probe periods, timeouts and TTLs pause meanwhile; a warning counts
# as a success for thresholds; a run that overlapped such a pause does not count a timeout.
# Not here: declarations and check kinds (kernel/probes.py), the registry
# (kernel/discovery.py), the restart itself (kernel/manager.py).
from micropython import const

from kernel import discovery as D
from kernel import events as E
from kernel import params
from kernel import service as S
from kernel import svc as _svc
from kernel.discovery import CRITICAL, PASSING, STATUS_NAMES
from kernel.errors import CancelledError, Watchdog
from kernel.lanes import Lanes
from kernel.log import ERROR
from kernel.probes import CHECKS, INLINE, K_TTL, status_code
from kernel.task import SLEEPING

STARTUP = const(0)
LIVENESS = const(1)
READINESS = const(2)
PROBE_NAMES = ("startup", "liveness", "readiness")

# ---- one probe, one service ----


class Probe:
    """One probe of one service: its thresholded status and what its runs said. Also an
    item of the monitor's lanes (kernel/lanes.py: lane, due, prev, next)."""

    lane = None  # the monitor's Lane it waits on (None: not scheduled)
    due = 0  # monitor ms it is due at (its timeout while a run is in flight)
    prev = None
    next = None
    running = None  # the Task of the run in flight (command, custom, tcp, http)
    skew0 = 0  # the monitor's skew when that run began
    t0_us = 0
    on = False  # in effect (its service active, past startup for liveness/readiness)
    seen_steps = -1  # process: the task's steps at the last probe
    runs = 0
    last = -1  # raw status of the last run (-1: none yet)
    output = ""
    last_ms = 0  # uptime ms of the last run
    changed_ms = 0  # uptime ms of the last status change
    hist_n = 0

    def __init__(self, prober, which, sp):
        self.prober = prober
        self.which = which
        self.spec = sp
        self.hist = bytearray(params.HEALTH_HISTORY)
        self.reset()

    def reset(self):
        # Kubernetes' initial results: liveness succeeds, startup and readiness fail.
        self.status = PASSING if self.which == LIVENESS else CRITICAL
        self.successes = 0
        self.failures = 0
        self.seen_steps = -1

    def name(self):
        return PROBE_NAMES[self.which]

    def record(self, code, now_ms):
        """Count one result through the thresholds; True when the status changed."""
        self.runs += 1
        self.last = code
        self.last_ms = now_ms
        n = self.hist_n
        self.hist[n % params.HEALTH_HISTORY] = code
        self.hist_n = n + 1
        sp = self.spec
        new = self.status
        if code != CRITICAL:  # a warning counts as a success
            self.successes += 1
            self.failures = 0
            if new != CRITICAL or self.successes >= sp.succ:
                new = code
        else:
            self.failures += 1
            self.successes = 0
            if self.failures >= sp.fail:
                new = CRITICAL
        if new == self.status:
            return False
        self.status = new
        self.changed_ms = now_ms
        return True

    def history(self):
        """The last results, oldest first, as status names."""
        n = len(self.hist)
        k = min(self.hist_n, n)
        return [STATUS_NAMES[self.hist[(self.hist_n - k + i) % n]] for i in range(k)]

    def report(self):
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


# ---- the monitor ----


class Monitor:
    """The probes of one Manager on one heap and one task."""

    def __init__(self, mgr, reg):
        self.mgr = mgr
        self.reg = reg
        self.sched = mgr.sched
        self._uptime = mgr.sched.uptime_ms  # bound once: the manager's now(), one call less
        self.q = Lanes()
        self.probers = {}  # service name -> Prober
        self.hooks = []  # fn(service, probe, status, output, latency_us) per result
        self.on_critical = None  # fn(svc, probe, why) -> True: a probe failed, handled there
        self.task = None
        self.due = None  # monitor ms the task means to wake at
        self.skew = 0  # ms the console's foreground code starved the kernel
        self.runs = 0
        self.task_runs = 0
        self.timeouts = 0
        self.restarts = 0

    def now(self):
        """Monitor time: uptime ms minus the starvation pauses."""
        return self._uptime() - self.skew

    def on_event(self, name, event, cause):
        svc = self.mgr.services.get(name)
        if svc is None:
            return
        u = svc.unit
        pr = self.probers.get(name)
        if u.startup is None and u.liveness is None and u.readiness is None and pr is None:
            return  # the common case: no probes
        code = E.event_code(event)
        if code == E.EV_STARTED:
            if pr is None or pr.unit is not u:
                if pr is not None:
                    pr.end()
                pr = self.probers[name] = Prober(self, svc)
            pr.begin()
        elif pr is not None and (
            code == E.EV_STOPPING
            or code == E.EV_RESTARTING
            or code == E.EV_STOPPED
            or code == E.EV_FAILED
            or code == E.EV_EXITED
            or code == E.EV_FINISHED
            or code == E.EV_KILLED
        ):
            pr.end()

    # ---- the schedule ----

    def arm(self, p, delay_ms):
        p.on = True
        self._push(p, delay_ms)

    def disarm(self, p):
        p.on = False
        self.q.remove(p)
        t = p.running
        if t is not None:
            p.running = None
            self.sched.cancel(t, "probe disarmed")

    def _push(self, p, delay_ms):
        self.q.push(p, self.now(), delay_ms)
        key = p.due
        t = self.task
        if t is None or t.done():
            self.due = None
            self.task = t = self.sched.spawn(self._loop(), "health", budget_ms=None)
            t.quiet = True
        elif t.state == SLEEPING and (self.due is None or key < self.due):
            self.sched.wake(t)

    async def _loop(self):
        from kernel.traps import sleep_ms

        q = self.q
        while q.n:
            now = self.now()
            due = self.due
            if due is not None and now - due > params.SVC_STARVE_MS:
                self.skew += now - due  # starved by foreground code: probe time paused
                now = due
            n = 0
            while True:
                p = q.first()
                if p is None or p.due > now or n == params.HEALTH_BATCH:
                    break
                q.remove(p)
                self._fire(p, now)
                n += 1
            if p is None:
                break
            if p.due <= now:  # a batch done, more due: let the others step, then go on
                self.due = now
                await sleep_ms(0)
                continue
            self.due = p.due
            await sleep_ms(min(max(self.due - now, 0), params.SVC_TIMER_MAX_MS))
        self.task = None
        self.due = None

    def _fire(self, p, now):
        t = p.running
        if t is not None:  # its timeout ran out
            if p.skew0 != self.skew:  # the kernel was paused meanwhile: give it its time
                p.skew0 = self.skew
                self.q.push(p, now, p.spec.timeout_ms)
                return
            p.running = None
            self.sched.cancel(t, "probe timeout")
            self.timeouts += 1
            self._result(p, CRITICAL, "timed out after %d ms" % p.spec.timeout_ms, now)
            return
        self.start(p, now)

    def start(self, p, now):
        """Run p now: inline for the built-in kinds, else in a task under its timeout."""
        k = p.spec.kind
        self.runs += 1
        if INLINE[k]:
            code = CHECKS[k](p, now)
            self._result(p, code, p.output, now)
            return
        self.task_runs += 1
        p.skew0 = self.skew
        p.t0_us = self.sched.clock.ticks_us()
        p.running = t = self.sched.spawn(self._run(p, now), "probe-" + p.prober.svc.name[:18])
        t.quiet = True
        self.q.push(p, now, p.spec.timeout_ms)

    async def _run(self, p, now):
        me = self.sched.cur
        try:
            code, out = await CHECKS[p.spec.kind](p, now)
        except CancelledError:
            return  # its timeout, or the probe was disarmed: the monitor took note
        except Watchdog:
            code, out = CRITICAL, "the check ran past the kernel's step watchdog"
        except Exception as e:  # noqa: BLE001 - a failing check is a critical result
            code, out = CRITICAL, "%s: %s" % (type(e).__name__, e)
        if p.running is not me:
            return
        p.running = None
        self.q.remove(p)
        self._result(p, code, out, self.now())

    def _result(self, p, code, out, now):
        p.output = out
        changed = p.record(code, now + self.skew)  # uptime ms
        pr = p.prober
        if self.hooks:
            lat = 0
            if p.t0_us:
                lat = self.sched.clock.ticks_diff(self.sched.clock.ticks_us(), p.t0_us)
                p.t0_us = 0
            for fn in self.hooks:
                try:
                    fn(pr.svc.name, PROBE_NAMES[p.which], STATUS_NAMES[code], out, lat)
                except Exception as e:  # noqa: BLE001 - a broken hook must not stop probes
                    self.sched.log.log("health: hook %r raised %r" % (fn, e), ERROR)
        if changed:
            why = "%s %s" % (p.name(), STATUS_NAMES[p.status])
            self.mgr.journal.add(pr.svc.name, "probe", why + ": " + out if out else why)
        pr.recorded(p, changed)
        if p.on and p.lane is None and p.running is None:
            sp = p.spec
            d = sp.period_ms
            if sp.kind == K_TTL and sp.ttl_ms < d:
                d = sp.ttl_ms + 1  # right after the TTL would run out without a report
            self.q.push(p, now, d)
            t = self.task
            if t is not None and t.state == SLEEPING and (self.due is None or p.due < self.due):
                self.sched.wake(t)

    # ---- API ----

    async def check_now(self, name):
        pr = self.probers.get(name)
        if pr is not None:
            for p in pr.active():
                if p.running is None:
                    self.q.remove(p)
                    self.start(p, self.now())
                t = p.running
                if t is not None:
                    await t  # _run never raises: its timeout comes from the monitor
        return self.report(name)

    def report(self, name):
        svc = self.mgr.get(name)
        inst = self.reg.by_name.get(name)
        pr = self.probers.get(name)
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

    def report_health(self, svc, status, note):
        code = status_code(status)
        pr = self.probers.get(svc.name)
        if pr is None:
            pr = self.probers[svc.name] = Prober(self, svc)
        now = self.now()
        pr.report = (code, str(note), now)
        for p in pr.probes:
            if p is not None and p.on and p.spec.kind == K_TTL and p.running is None:
                self._push(p, 0)  # evaluate it at once (Consul: a TTL update applies now)

    def stats(self):
        n = 0
        on = 0
        for pr in self.probers.values():
            for p in pr.probes:
                if p is not None:
                    n += 1
                    on += p.on
        t = self.task
        return {
            "services": len(self.probers),
            "probes": n,
            "active": on,
            "runs": self.runs,
            "task_runs": self.task_runs,
            "timeouts": self.timeouts,
            "restarts": self.restarts,
            "paused_ms": self.skew,
            "task": t.id if t is not None else None,
            "cpu_us": (t.cpu_s * 1000000 + t.cpu_us) if t is not None else 0,
        }


def attach(mgr):
    """The Monitor of mgr (and discovery's Registry below it), made on first use."""
    m = getattr(mgr, "monitor", None)
    if m is None:
        reg = D.attach(mgr)
        m = mgr.monitor = Monitor(mgr, reg)
        mgr.subscribers.append(m.on_event)
        for svc in mgr.services.values():  # attached late: probe what is already active
            if svc.state == S.ACTIVE:
                m.on_event(svc.name, "started", None)
    return m


def _mon():
    m = _svc.manager()
    mon = getattr(m, "monitor", None)
    return mon if mon is not None else attach(m)


# ---- the public API (re-exported by `kernel`) ----


async def check_health(name):
    """Run name's probes now (awaiting those that run in a task) -> health_report(name)."""
    return await _mon().check_now(name)


def health_report(name):
    """name's health: instance health and readiness, and per probe: status, consecutive
    successes/failures, last output, last change, history of the last results."""
    return _mon().report(name)


def report_health(status, note=""):
    """From a service's task: its status ('passing', 'warning', 'critical') for its ttl
    probe (Consul's TTL check update)."""
    mon = _mon()
    t = mon.sched.cur
    s = mon.mgr.by_task.get(t.id) if t is not None else None
    if s is None:
        raise RuntimeError("report_health: call it from a service's own task")
    mon.report_health(s, status, note)


def monitor_stats():
    """The monitor's counters: probes, runs, timeouts, restarts, paused ms, its CPU time."""
    return _mon().stats()


def on_result(fn):
    """fn(service, probe, status, output, latency_us) is told of every probe result -> fn
    (metrics register here)."""
    _mon().hooks.append(fn)
    return fn


def off_result(fn):
    m = _mon()
    if fn in m.hooks:
        m.hooks.remove(fn)
