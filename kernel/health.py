# kernel/health: probes with Kubernetes' semantics and Consul's statuses, one monitor per
# service manager: when probes run, and the public health API.
#
# Owns: Monitor: one task that sleeps until the earliest due probe on FIFO lanes per delay
# (kernel/lanes.py), runs the built-in kinds inline and user code (command, custom) and
# sockets (tcp, http) in a short task each, under the probe's timeout. Due probes run in
# batches of params.HEALTH_BATCH per step. The common run, a process or ttl probe that
# passes again while passing with no result hooks, takes a fused path: a counter, its time
# and its lane, nothing else (no call into the prober, no event, no journal, no allocation);
# where the build has _kprobes (boards/common/modkprobes.c), a lane's run of such probes is
# fused in one C call (it reads the fields its header lists by name: rename them together).
# The monitor subscribes to the manager's events (O(1) per event) and appends each Prober
# it makes to the lists in Monitor.news. Readers of every result register with
# on_result(fn) (and so turn the fused path off); the metrics instead read the probes'
# counters at their sample (kernel/metrics.py), follow new probers through Monitor.news and
# hear only the latency of a run in a task (Monitor.timed).
# Invariants: a probe is on a lane iff it is due to run or running (then due at its
# timeout); due times are monitor time (uptime minus the time the console's foreground code
# starved the kernel), so probe periods, timeouts and TTLs pause meanwhile; a run that
# overlapped such a pause does not count a timeout.
# Not here: running one probe and its result, the API's methods (kernel/proberun.py), one
# service's probes and thresholds (kernel/prober.py), declarations and check kinds
# (kernel/probes.py), the registry (kernel/discovery.py), the restart (kernel/manager.py).
from kernel import discovery as D
from kernel import events as E
from kernel import params
from kernel import service as S
from kernel import svc as _svc
from kernel.discinst import PASSING
from kernel.lanes import Lanes
from kernel.prober import FUSE_PROCESS, FUSE_TTL, Prober
from kernel.proberun import Runs
from kernel.task import DONE, SLEEPING, WAITING

try:  # the C twin of _batch's fused path over one lane (boards/common/modkprobes.c)
    from _kprobes import fuse as _c_fuse
except ImportError:
    _c_fuse = None
_FUSE_K = (FUSE_PROCESS, FUSE_TTL, PASSING, SLEEPING, WAITING, DONE)  # what _c_fuse needs

# ---- the monitor ----


class Monitor(Runs):
    """The probes of one Manager on one heap and one task."""

    def __init__(self, mgr, reg):
        self.mgr = mgr
        self.reg = reg
        self.sched = mgr.sched
        self._uptime = mgr.sched.uptime_ms  # bound once: the manager's now(), one call less
        self.q = Lanes()
        self.probers = {}  # service name -> Prober
        self.news = []  # lists each new Prober is appended to (readers: kernel/metprobes.py)
        self.hooks = []  # fn(service, probe, status, output, latency_us or None) per result
        self.timed = []  # fn(service, probe, latency_us) per result of a run in a task
        self.on_critical = None  # fn(svc, probe, why) -> True: a probe failed, handled there
        self.task = None
        self.due = None  # monitor ms the task means to wake at
        self.skew = 0  # ms the console's foreground code starved the kernel
        self.runs = 0
        self.task_runs = 0
        self.fused = 0  # runs that took _batch's fused path
        self.timeouts = 0
        self.restarts = 0

    def now(self):
        """Monitor time: uptime ms minus the starvation pauses."""
        return self._uptime() - self.skew

    def paused_now(self):
        """now(), once a starvation pause the task has not woken to see yet is accounted:
        past its wake time by more than params.SVC_STARVE_MS, the kernel was starved by
        foreground code, and probe time paused meanwhile."""
        now = self.now()
        due = self.due
        if due is not None and now - due > params.SVC_STARVE_MS:
            self.skew += now - due
            now = due
        return now

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
                pr = self.new_prober(svc)
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

    def new_prober(self, svc):
        """A new Prober of svc's unit, told to the readers that follow them (O(readers))."""
        pr = self.probers[svc.name] = Prober(self, svc)
        for news in self.news:
            news.append(pr)
        return pr

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
            now = self.paused_now()
            if self._batch(now):  # a batch done, more due: let the others step, then go on
                self.due = now
                await sleep_ms(0)
                continue
            due = q.limit  # the earliest due time (nothing is due by now)
            if due < 0:
                break
            self.due = due
            await sleep_ms(min(due - now, params.SVC_TIMER_MAX_MS))
        self.task = None
        self.due = None

    def _batch(self, now):
        """Run the due probes, earliest first: up to params.HEALTH_BATCH full runs and
        params.HEALTH_FUSED_BATCH fused ones -> True when more are due (the batch is full);
        else q.limit is the earliest due time (-1: no probe is on a lane)."""
        q = self.q
        fuse = not self.hooks
        up = now + self.skew  # uptime ms, as the results record it
        cap = params.HEALTH_FUSED_BATCH
        fast = _c_fuse if fuse else None
        n = 0
        fused = 0
        while True:
            lane = q.due_lane(now)
            if lane is None:
                break
            if n >= params.HEALTH_BATCH or fused >= cap:
                self.runs += fused
                self.fused += fused
                return True
            limit = q.limit
            p = lane.head
            d = now + lane.delay  # where a fused run puts p: at the lane's tail
            t = p.prev
            if d - t.due <= min(params.HEALTH_SLACK_MS, lane.delay >> 3):
                d = t.due  # as Lanes.push with the probes' slack (or now went back: a pause)
            while True:
                if fast is not None:  # the lane's fusable due probes in C, then p in Python
                    fused += fast(lane, now, up, d, limit, cap - fused, _FUSE_K)
                    if fused == cap:
                        break
                    p = lane.head
                    if p is None or p.due > limit:
                        break
                st = p.steady
                if fuse and st:
                    # The fused path: a process or ttl probe (not startup's) whose last
                    # result and status are passing passes again: a counter the prober folds
                    # in later (Probe.catch_up), its time, and its lane's head moving to the
                    # tail (as Lanes.rotate); no call, event, journal or allocation.
                    ok = False
                    if st == FUSE_PROCESS:  # as probes.check_process
                        t = p.svc.task
                        if t is not None:
                            st = t.state
                            if (
                                st == SLEEPING
                                or st == WAITING
                                or (st < DONE and t.steps != p.seen_steps)
                            ):
                                p.seen_steps = t.steps
                                ok = True
                    else:  # FUSE_TTL, as probes.check_ttl
                        r = p.prober.report
                        if r is not None and r[0] == PASSING and now - r[2] <= p.spec.ttl_ms:
                            p.output = r[1]
                            ok = True
                    if ok:
                        p.fused += 1
                        p.last_ms = up
                        fused += 1
                        if lane is p.plane:
                            lane.head = p.next
                            p.due = d
                        else:  # from another lane (its initial delay's, a report's) to its own
                            q.remove(p)
                            q.push(p, now, p.period, p.next_slack())
                            p.plane = p.lane
                        if fused == cap:
                            break
                        p = lane.head
                        if p is None or p.due > limit:
                            break
                        continue
                n += 1
                q.remove(p)
                self._fire(p, now)
                break  # the lanes may have changed: pick the earliest again
        self.runs += fused
        self.fused += fused
        return False


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
    """fn(service, probe, status, output, latency_us) is told of every probe result -> fn;
    latency_us is None for a kind that runs inline (process, ttl, file: no latency)."""
    _mon().hooks.append(fn)
    return fn


def off_result(fn):
    m = _mon()
    if fn in m.hooks:
        m.hooks.remove(fn)
