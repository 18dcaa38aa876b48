# kernel/manager: the service manager: registry, start/stop of one service, restarts with
# backoff and start limit, and lifecycle events.
#
# Owns: Manager, one per scheduler: services by name, templates, groups, the journal, event
# subscribers and the jobs in flight (kernel/job.py). Every transition of a Service goes
# through set_state() here and is journaled and told to subscribers. Times are uptime ms
# (monotonic). Not here: the public functions (kernel/svc.py), the dependency waves
# (kernel/job.py), deadlines (kernel/timers.py), supervision (kernel/supervisor.py).
from kernel import backoff, params, units
from kernel import service as S
from kernel.job import Jobs
from kernel.journal import Journal
from kernel.lifecycle import WATCHDOG_DROP
from kernel.log import ERROR
from kernel.names import Ids, Names
from kernel.timers import Timers
from kernel.units import UnitError


class Manager(Jobs, Timers):
    """The services of one scheduler."""

    subscriber_errors = 0  # subscribers' exceptions that could not be logged (no heap)
    config_state_dir = None  # where configstore saves config versions; init sets it for the
    #                          booted manager when `/` is mounted (others, e.g. a played
    #                          scenario's, save nothing)

    def __init__(self, sched, rng=None):
        self.sched = sched
        self.services = Names()  # name -> Service (a dict's lookups grow with names here)
        self.required_by = Names()  # name -> names of the units that require it
        self.conflicted = Names()  # name -> names of the units that list it in conflicts
        self.templates = {}  # 'web@' -> Unit
        self.groups = {}  # name -> supervisor.Group
        self.journal = Journal(self.now)
        self.subscribers = []  # fn(name, event, cause)
        self.armed = []  # Services with a deadline
        self.by_task = Ids()  # task id -> Service, for notify_ready() / notify_watchdog()
        sched.end_hooks.append(self._run_ended)  # a run's task ended: exited()
        self.jobs = []  # Jobs in flight
        self.rng = rng  # backoff jitter; None: seeded from the clock at the first restart
        self.timer = None  # the timer Task, while one runs
        self.timer_due = None  # uptime ms the timer task means to wake at
        self.drains = []  # fn(svc) -> ms a stop waits for in-flight requests (the balancer)

    def now(self):
        return self.sched.uptime_ms()

    # ---- registry ----

    def create(self, src, name=None):
        """Register a unit (dict, INI or JSON text) -> its Service (a template -> Unit)."""
        u = units.parse(src, name)
        if u.is_template():
            self.templates[u.name] = u
            return u
        return self.add(u)

    def add(self, u):
        svc = self.services.get(u.name)
        if svc is not None:
            if svc.task is not None or svc.state not in (S.INACTIVE, S.FAILED):
                raise UnitError(
                    "unit %s: is %s; stop it before replacing it" % (u.name, svc.state_name())
                )
            self._index(svc.unit, False)
            svc.unit = u
        else:
            svc = self.services[u.name] = S.Service(self, u)
        self._index(u, True)
        if u.group is not None:
            from kernel.supervisor import group_of

            group_of(self, u.group).adopt(svc)
        if u.breaker is not None:  # its service gets circuit breakers (kernel/breakers.py)
            from kernel.breakers import attach

            attach(self).unit_added(u)
        return svc

    def _index(self, u, add):
        # The reverse edges a start or stop needs (who requires / conflicts with a name), kept
        # as units come and go, so neither scans every service.
        for table, names in ((self.required_by, u.requires), (self.conflicted, u.conflicts)):
            for n in names:
                rows = table.get(n)
                if add:
                    if rows is None:
                        table[n] = rows = []
                    rows.append(u.name)
                elif rows is not None and u.name in rows:
                    rows.remove(u.name)

    def get(self, name):
        """The Service `name` (an instance of a template is made on first use)."""
        svc = self.services.get(name)
        if svc is None:
            t = self.templates.get(units.template_of(name) or "")
            if t is None:
                raise UnitError("unit %s: no such unit (see 'svc list')" % name)
            svc = self.add(units.instance(t, name[len(t.name) :]))
        return svc

    def unit_of(self, name):
        """The Unit `name`, or None (deps.get)."""
        try:
            return self.get(name).unit
        except UnitError:
            return None

    # ---- events ----

    def set_state(self, svc, state, sub, cause=None):
        svc.state = state
        svc.sub = sub
        svc.since_ms = self.now()
        if cause is not None:
            svc.cause = cause

    def event(self, name, event, cause=None):
        svc = self.services.get(name)
        self.journal.add(name, event, cause, svc.result if svc is not None else None)
        for fn in self.subscribers:
            try:
                fn(name, event, cause)
            except Exception as e:  # noqa: BLE001 - a broken subscriber must not stop the manager
                try:
                    self.sched.log.log("svc: subscriber %r raised %r" % (fn, e), ERROR)
                except MemoryError:  # the heap is exhausted: the line cannot be made either;
                    self.subscriber_errors += 1  # the transition goes on, counted

    # ---- one service ----

    def launch(self, svc, manual, why):
        """Start one run of svc now (its dependencies are the job's business)."""
        now = self.now()
        u = svc.unit
        self.disarm(svc)
        if manual:  # asked for (a job: boot, svc start, a group's restart): a fresh budget
            svc.attempt = 0
            svc.limit_n = 0
            g = svc.group
            while g is not None and g.state == S.FAILED:  # its failed groups come back
                g.state = S.ACTIVE
                g.failures = []
                g = g.group
        if manual or now - svc.limit_t0 >= u.interval_ms:
            svc.limit_t0 = now
            svc.limit_n = 0
        svc.limit_n += 1
        if svc.limit_n > u.burst:
            why = "started more than %d times in %d ms" % (u.burst, u.interval_ms)
            self.fail(svc, S.START_LIMIT, why)
            return
        if manual:
            self._conflicts(svc)
        svc.result = S.SUCCESS
        self.set_state(svc, S.ACTIVATING, S.START, why)
        try:
            self._launch(svc, u, why)
        except BaseException as e:
            # The step under us was stopped (its watchdog, Ctrl-C) before the service had a
            # task: it must not stay 'activating' with nothing to finish its start.
            if svc.task is None and svc.state == S.ACTIVATING:
                self.fail(svc, S.EXCEPTION, "start interrupted: %s" % type(e).__name__)
            raise

    def _launch(self, svc, u, why):
        self.event(svc.name, "starting", why)
        step = "exec"
        try:
            if u.exec is None:
                raise UnitError("unit %s: 'exec' is not set" % svc.name)
            S.resolve(u.exec)  # import a 'module:function' now: a typo fails the start
            step = "pre_start"
            S.call_hook(svc, "pre_start")
        except Exception as e:  # noqa: BLE001 - a failing start is data
            self.fail(svc, S.EXCEPTION, "%s: %s: %s" % (step, type(e).__name__, e))
            return
        name = svc.name  # the task's name: the service's own string when it fits (a slice
        if len(name) > params.TASK_NAME_MAX:  # is a new one, 32 B per running service)
            name = name[: params.TASK_NAME_MAX]
        coro = S.direct(svc)  # its own coroutine, or the runner around its exec
        if svc.direct != (coro is not None):
            svc.direct = coro is not None
        t = svc.task = self.sched.spawn(S.runner(svc) if coro is None else coro, name)
        t.quiet = True  # the shell owns the console: what a service prints goes to the log
        self.by_task[t.id] = svc
        if u.type == units.SIMPLE:
            self.activated(svc)
        elif u.start_timeout_ms:
            self.arm(svc, S.T_START, u.start_timeout_ms)

    def _conflicts(self, svc):
        # Conflicts= both ways, as systemd: starting svc stops what it conflicts with and
        # what conflicts with it (through the reverse index: O(its conflicts), not O(units)).
        name = svc.name
        for names in (svc.unit.conflicts, self.conflicted.get(name, ())):
            for n in names:
                other = self.services.get(n)
                if other is not None and other is not svc:
                    self.stop(other, "conflicts with %s" % name)

    def activated(self, svc):
        u = svc.unit
        svc.active_ms = self.now()
        self.disarm(svc)
        self.set_state(svc, S.ACTIVE, S.RUNNING, "started")
        if u.watchdog_ms:
            self.arm(svc, S.T_WATCHDOG, u.watchdog_ms)
        self.event(svc.name, "started")
        self._hook(svc, "post_start")
        self._settle(svc, True)

    def ready(self, svc):
        """notify_ready(): a notify service is up; a reload is done."""
        if svc.state == S.ACTIVATING and svc.sub == S.START and svc.unit.type == units.NOTIFY:
            self.activated(svc)

    def exited(self, svc, result, cause):
        """The runner of svc ended (called from its task, or from a kill)."""
        t = svc.task
        if t is None:
            return
        svc.task = None
        self.by_task.pop(t.id, None)
        self.disarm(svc)
        if svc.kill_result is not None:
            result, cause = svc.kill_result
            svc.kill_result = None
        if svc.state == S.DEACTIVATING:  # a stop we asked for
            killed = svc.sub == S.KILL
            svc.result = S.TIMEOUT if killed else S.SUCCESS
            if killed:
                why = "did not stop within %d ms" % svc.unit.stop_timeout_ms
                self.set_state(svc, S.FAILED, S.DEAD, why + ", killed")
                self.event(svc.name, "killed", why)
            else:
                self.set_state(svc, S.INACTIVE, S.DEAD, "stopped")
                self.event(svc.name, "stopped")
            self._hook(svc, "post_stop")
            self._settle(svc, False)
            return
        u = svc.unit
        if svc.state == S.ACTIVE and self.now() - svc.active_ms >= params.SVC_BACKOFF_RESET_MS:
            svc.attempt = 0
            if svc.rate is not None:  # adaptive backoff: a long run is a success
                svc.rate.record(False)
        if result == S.SUCCESS and svc.state == S.ACTIVATING and u.type == units.NOTIFY:
            result, cause = S.EXIT_CODE, "exited before notify_ready()"
        if result == S.SUCCESS and u.restart != units.ALWAYS:
            done = "finished" if u.type == units.ONESHOT else "exited"
            self.set_state(svc, S.INACTIVE, S.DEAD, done)
            self.event(svc.name, done)
            self._settle(svc, True)
            return
        svc.result = result
        if S.should_restart(u.restart, result):
            self.schedule_restart(svc, cause)
            self._settle(svc, False)  # a start job waiting on this run failed
        else:
            self.fail(svc, result, cause)

    def fail(self, svc, result, cause):
        svc.result = result
        self.set_state(svc, S.FAILED, S.DEAD, cause)
        self.event(svc.name, "failed", "%s: %s" % (S.RESULT_NAMES[result], cause))
        self._settle(svc, False)
        if result != S.DEPENDENCY and svc.group is not None:
            svc.group.child_failed(svc, cause)

    def next_delay(self, svc):
        """The restart delay the next automatic restart would wait, before jitter."""
        u = svc.unit
        return backoff.raw_ms(u.backoff, u.restart_ms, u.backoff_max_ms, svc.attempt)

    def jitter_rng(self):
        """The backoff jitter's Rng, seeded on first use from the clock's seed(): the HAL's
        entropy on a board (each device and boot draws its own delays), the virtual clock's
        own seed in tests (the same seed, the same delays)."""
        if self.rng is None:
            seed = getattr(self.sched.clock, "seed", None)
            self.rng = backoff.Rng(seed() if seed is not None else self.sched._ticks_us())
        return self.rng

    def schedule_restart(self, svc, cause):
        u = svc.unit
        rate_pm = 0
        if u.backoff == backoff.ADAPTIVE:  # the delay follows the recent failure rate
            if svc.rate is None:
                svc.rate = backoff.Rate()
            rate_pm = svc.rate.rate_pm()  # the runs before this one
            svc.rate.record(True)
        d = backoff.delay_ms(
            u.backoff,
            u.jitter,
            u.restart_ms,
            u.backoff_max_ms,
            svc.attempt,
            svc.delay_ms,
            self.jitter_rng(),
            rate_pm,
        )
        svc.delay_ms = d
        svc.attempt += 1
        svc.restarts += 1
        why = "%s: %s; restart %d in %d ms" % (S.RESULT_NAMES[svc.result], cause, svc.restarts, d)
        self.set_state(svc, S.ACTIVATING, S.AUTO_RESTART, why)
        self.event(svc.name, "restarting", why)
        if d <= 0:
            self.launch(svc, False, "restart")
        else:
            self.arm(svc, S.T_RESTART, d)

    def stop(self, svc, why):
        """Begin stopping svc: cancel its run; kill it after stop_timeout."""
        if svc.state == S.INACTIVE or svc.state == S.FAILED or svc.state == S.DEACTIVATING:
            return
        self.disarm(svc)
        if svc.task is None:  # waiting to restart, or to start
            self.set_state(svc, S.INACTIVE, S.DEAD, "stopped (%s)" % why)
            self.event(svc.name, "stopped", why)
            self._settle(svc, False)
            return
        self._hook(svc, "pre_stop")
        self.set_state(svc, S.DEACTIVATING, S.STOP, "stopping (%s)" % why)
        self.event(svc.name, "stopping", why)
        hold = 0
        for fn in self.drains:
            hold = max(hold, fn(svc))
        if hold > 0:  # in-flight requests finish first (drained() ends the wait sooner)
            svc.cause = "stopping (%s), draining up to %d ms" % (why, hold)
            self.arm(svc, S.T_DRAIN, hold)
            return
        self.cancel_run(svc)

    def drained(self, svc):
        """A stopping service's in-flight requests are done: cancel its run now."""
        if svc.timer == S.T_DRAIN:
            self.disarm(svc)
            self.cancel_run(svc)

    def cancel_run(self, svc):
        """The second half of a stop: cancel svc's run, kill it after stop_timeout."""
        t = svc.task
        if t is None:
            return
        if svc.unit.stop_timeout_ms <= 0:
            svc.sub = S.KILL
            self.kill(svc)
            return
        if t.steps == 0 and t is not self.sched.cur:  # never ran: nothing to wait for
            self.kill(svc)
            return
        self.sched.cancel(t, "stopped")
        self.arm(svc, S.T_STOP, svc.unit.stop_timeout_ms)

    def _run_ended(self, t):
        # The scheduler's end hook: the task of a run stepped directly (S.direct) ended;
        # exited() as its runner would have said. True: its failure is the service's,
        # not the supervisor's to hear of (a runner caught it), but for a task dropped for
        # swallowing the watchdog (a runner's task failed then too). A runner tells us itself.
        svc = self.by_task.get(t.id)
        if svc is None or svc.task is not t or not svc.direct:
            return False
        result, cause = S.ended(svc, t)
        self.exited(svc, result, cause)
        return t.exc is not WATCHDOG_DROP

    def kill(self, svc):
        """Close svc's run now (its finally blocks run: the kernel closes the coroutine);
        exited() follows at once."""
        t = svc.task
        if t is None or t is self.sched.cur:
            return
        self.sched.kill(t.id)
        if not t.done():
            self.sched.kill(t.id)
        if svc.task is t and t.done():  # ended without the runner seeing it: tell ourselves
            self.exited(svc, S.EXCEPTION, "killed")

    def _hook(self, svc, which):
        try:
            S.call_hook(svc, which)
        except Exception as e:  # noqa: BLE001 - a post/stop hook's failure is logged, not fatal
            self.event(svc.name, which + " failed", "%s: %s" % (type(e).__name__, e))
