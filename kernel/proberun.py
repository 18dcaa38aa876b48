# kernel/proberun: one probe run and its result, the lower half of the health monitor.
#
# Owns: Runs, the base class of kernel/health.py's Monitor (it uses the attributes that
# Monitor.__init__ sets): starting a run (inline for the built-in kinds, else a short task
# under the probe's timeout), its timeout, counting its result (the prober's thresholds,
# the result hooks, the latency hooks of a run in a task, the journal line on a change, the
# next run on its period lane), and
# the monitor's API methods (check_now, report, report_health, stats).
# Not here: when probes run and the fused run (kernel/health.py), thresholds and verdicts
# (kernel/prober.py), the check kinds (kernel/probes.py).
from kernel import prober as P
from kernel.discovery import CRITICAL, PASSING, STATUS_NAMES
from kernel.errors import CancelledError, Watchdog
from kernel.log import ERROR
from kernel.prober import FUSE_NO, PROBE_NAMES
from kernel.probes import CHECKS, INLINE, K_TTL, status_code
from kernel.task import SLEEPING


class Runs:
    """Running probes and counting their results (Monitor's lower half)."""

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
        self.runs += 1
        k = p.spec.kind
        if INLINE[k]:
            code = CHECKS[k](p, now)
            self._result(p, code, p.output, now)
            return
        self.task_runs += 1
        p.skew0 = self.skew
        p.t0_us = self.sched.clock.ticks_us()
        p.running = t = self.sched.spawn(self._run(p, now), "probe-" + p.svc.name[:18])
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
        # (a run that ended right after a pause, before the monitor's task woke to see it,
        # must not put its next run a pause's length ahead)
        self._result(p, code, out, self.paused_now())

    def _result(self, p, code, out, now):
        if p.fused:
            p.catch_up()
        p.output = out
        changed = p.record(code, now + self.skew)  # uptime ms
        steady = FUSE_NO
        if code == PASSING and p.status == PASSING:
            steady = p.fusable()
        p.steady = steady  # _batch may fuse its next run
        pr = p.prober
        lat = None  # an inline kind's run has no latency
        if not INLINE[p.spec.kind]:  # a run in a task (start() set t0_us): its latency
            lat = self.sched.clock.ticks_diff(self.sched.clock.ticks_us(), p.t0_us)
            for fn in self.timed:
                try:
                    fn(pr.svc.name, PROBE_NAMES[p.which], lat)
                except Exception as e:  # noqa: BLE001 - a broken hook must not stop probes
                    self.sched.log.log("health: hook %r raised %r" % (fn, e), ERROR)
        if self.hooks:
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
            self.q.push(p, now, p.period, p.next_slack())
            p.plane = p.lane
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
        return P.report(self, name)

    def report_health(self, svc, status, note):
        code = status_code(status)
        pr = self.probers.get(svc.name)
        if pr is None:
            pr = self.new_prober(svc)
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
            "fused": self.fused,
            "timeouts": self.timeouts,
            "restarts": self.restarts,
            "paused_ms": self.skew,
            "task": t.id if t is not None else None,
            "cpu_us": (t.cpu_s * 1000000 + t.cpu_us) if t is not None else 0,
        }
