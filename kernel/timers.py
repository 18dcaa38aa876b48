# kernel/timers: the service manager's deadlines: start and stop timeouts, liveness
# watchdogs and restart delays, on one kernel task.
#
# Owns: Timers, a base class of kernel.manager.Manager (it uses the Manager's sched, now(),
# launch() and kill()). Each Service has at most one deadline (`deadline`, uptime ms, and
# `timer`, a T_* kind); the services with one are on `armed`. One task ("svc-timer")
# sleeps until the earliest deadline and exits when none is armed. When it wakes later than
# SVC_STARVE_MS past its deadline, the scheduler was starved (the console's foreground
# code: `py`, `repl`): every deadline moves by that lateness, so watchdog and liveness
# deadlines pause meanwhile instead of causing a restart storm.
# Not here: what a service does when its deadline passes beyond these few lines.
from kernel import params
from kernel import service as S
from kernel.task import SLEEPING
from kernel.traps import sleep_ms


class Timers:
    """Deadlines of services, on one timer task."""

    def arm(self, svc, kind, ms):
        d = self.now() + ms
        if svc.deadline is None:
            self.armed.append(svc)
        svc.deadline = d
        svc.timer = kind
        t = self.timer
        if t is None or t.done():
            self.timer_due = None
            self.timer = self.sched.spawn(self._timer_loop(), "svc-timer")
        elif t.state == SLEEPING and (self.timer_due is None or d < self.timer_due):
            self.sched.wake(t)

    def disarm(self, svc):
        if svc.deadline is not None:
            svc.deadline = None
            svc.timer = 0
            self.armed.remove(svc)

    async def _timer_loop(self):
        while self.armed:
            now = self.now()
            due = self.timer_due
            if due is not None and now - due > params.SVC_STARVE_MS:
                for s in self.armed:  # starved by foreground code: pause the deadlines
                    s.deadline += now - due
            fired = [s for s in self.armed if s.deadline <= now]
            for s in fired:
                if s.deadline is not None and s.deadline <= now:
                    self._fire(s)
            nxt = None
            for s in self.armed:
                if nxt is None or s.deadline < nxt:
                    nxt = s.deadline
            if nxt is None:
                break
            self.timer_due = nxt
            await sleep_ms(min(max(nxt - self.now(), 0), params.SVC_TIMER_MAX_MS))
        self.timer = None
        self.timer_due = None

    def _fire(self, svc):
        kind = svc.timer
        self.disarm(svc)
        u = svc.unit
        if kind == S.T_RESTART:
            self.launch(svc, False, "restart")
        elif kind == S.T_DRAIN:
            self.cancel_run(svc)
        elif kind == S.T_STOP:
            svc.sub = S.KILL
            self.kill(svc)
        elif kind == S.T_START:
            svc.kill_result = (S.TIMEOUT, "not ready within %d ms" % u.start_timeout_ms)
            self.kill(svc)
        elif kind == S.T_WATCHDOG:
            svc.kill_result = (S.WATCHDOG, "no notify_watchdog() within %d ms" % u.watchdog_ms)
            self.event(svc.name, "watchdog", svc.kill_result[1])
            self.kill(svc)
