# kernel/service: one service's state as systemd shows it, and the task body that runs it.
#
# Owns: the states (inactive, activating, active, reloading, deactivating, failed), sub-states
# and results as const() ints with name tuples; the Service object, which is the handle a
# caller keeps (it survives restarts: each run is a new kernel task, the handle stays); the
# restart decision per policy and result; resolving `exec` and calling hooks; the runner
# coroutine that awaits the service's own code and reports how it ended to the manager.
# Invariants: one attribute, one meaning; runtime fields default on the class, but the ones
# every start sets are set in __init__ too (see Service.__init__); `task` is set iff a run is
# alive; `deadline` (uptime ms) is set iff the service is on the manager's timer list.
# Not here: deciding what runs when (kernel/manager.py, kernel/job.py), groups.
from micropython import const

from kernel import backoff, units
from kernel.errors import CancelledError, Watchdog
from kernel.heap import presize
from kernel.lifecycle import WATCHDOG_DROP

INACTIVE = const(0)
ACTIVATING = const(1)
ACTIVE = const(2)
RELOADING = const(3)
DEACTIVATING = const(4)
FAILED = const(5)
STATE_NAMES = ("inactive", "activating", "active", "reloading", "deactivating", "failed")

DEAD = const(0)  # inactive / failed: nothing runs
WAITING = const(1)  # activating: waiting for what it is ordered after
START = const(2)  # activating: running, not ready yet (notify, oneshot)
AUTO_RESTART = const(3)  # activating: waiting restart_sec before the next run
RUNNING = const(4)  # active
RELOAD = const(5)  # reloading
STOP = const(6)  # deactivating: cancelled, waiting up to stop_timeout
KILL = const(7)  # deactivating: stop_timeout ran out, closed
SUB_NAMES = ("dead", "waiting", "start", "auto-restart", "running", "reload", "stop", "stop-kill")

SUCCESS = const(0)
EXIT_CODE = const(1)  # returned a value other than None / 0
EXCEPTION = const(2)  # raised (or was killed from outside)
TIMEOUT = const(3)  # start or stop timeout ran out
WATCHDOG = const(4)  # missed notify_watchdog(), or the kernel's step watchdog hit it
START_LIMIT = const(5)  # started more than burst times in interval
DEPENDENCY = const(6)  # something it requires failed
LIVENESS = const(7)  # its liveness (or startup) probe failed past its threshold
FAULT = const(8)  # fault detection restarted it (kernel/faults.py: a recovery)
ESCALATED = const(9)  # its faults outran its recoveries: handed to its supervisor
RESULT_NAMES = (
    "success",
    "exit-code",
    "exception",
    "timeout",
    "watchdog",
    "start-limit-hit",
    "dependency",
    "liveness",
    "fault",
    "escalated",
)

# Timer kinds: what the one deadline of a service means.
T_START = const(1)  # start_timeout (notify, oneshot)
T_STOP = const(2)  # stop_timeout
T_WATCHDOG = const(3)  # watchdog_sec since the last notify_watchdog()
T_RESTART = const(4)  # restart delay (backoff) ran out
T_DRAIN = const(5)  # drain_sec of a stopping instance ran out (kernel/balancer.py)

# Policy -> results that restart (bit per result), systemd's table; `always` adds success.
# A failed liveness probe counts as a watchdog (Kubernetes restarts on it unless Never), and
# so does a fault's restart; an escalated fault never restarts (its supervisor decides).
_ABNORMAL = 1 << EXCEPTION | 1 << TIMEOUT | 1 << WATCHDOG | 1 << LIVENESS | 1 << FAULT
_RESTART_ON = (
    0,
    _ABNORMAL | 1 << EXIT_CODE,
    _ABNORMAL,
    1 << WATCHDOG | 1 << LIVENESS | 1 << FAULT,
    _ABNORMAL | 1 << EXIT_CODE | 1 << SUCCESS,
)


_SLOTS = const(16)  # Service.__init__ sets 14 attributes; two spare

# status() in C where built (boards/common/modksvc.c): it reads these attributes by name
# (own table or class default) and takes _KSVC per call. A rename on either side fails
# tests/unit/test_ksvc.py, which also checks the two builders give equal dicts.
KSVC_SERVICE_FIELDS = (
    "mgr",
    "unit",
    "name",
    "state",
    "sub",
    "result",
    "cause",
    "task",
    "active_ms",
    "restarts",
    "limit_t0",
    "limit_n",
    "attempt",
    "enabled",
    "group",
)
KSVC_UNIT_FIELDS = (
    "name",
    "description",
    "interval_ms",
    "burst",
    "backoff",
    "restart_ms",
    "backoff_max_ms",
    "enabled",
    "type",
    "restart",
    "requires",
    "wants",
    "after",
    "before",
    "tags",
)
KSVC_SCHED_FIELDS = ("clock", "_ticks_ms", "_diff", "_up_ms", "_up_last")
try:
    from _ksvc import bind as _c_bind  # kernel.service_status as one C call (kernel/svc.py)
    from _ksvc import status as _c_status
    from _ksvc import status_of as _c_status_of  # (services, name, _KSVC, into): by name
except ImportError:
    _c_status = _c_status_of = _c_bind = None


def should_restart(policy, result):
    return bool(_RESTART_ON[policy] >> result & 1)


class Service:
    """The handle of one registered unit and its run-time state."""

    state = INACTIVE
    sub = DEAD
    result = SUCCESS
    cause = None  # why it is in its state (svc why), text
    task = None  # the kernel Task of the current run
    obj = None  # the instance, when exec is a class
    group = None  # the supervisor Group it belongs to
    enabled = None  # None: as the unit says; True/False: enable_service/disable_service
    restarts = 0  # automatic restarts since registration
    attempt = 0  # consecutive automatic restarts (backoff attempt), reset by a long run
    delay_ms = 0  # the last restart delay (decorrelated jitter grows from it)
    limit_t0 = 0  # start of the start-limit window (uptime ms)
    limit_n = 0  # starts in that window
    since_ms = 0  # uptime ms of the last state change
    active_ms = 0  # uptime ms when it last became active
    deadline = None  # uptime ms of the pending timer
    timer = 0  # T_* kind of that timer
    waiters = None  # [(job, index)] waiting for this service to settle
    kill_result = None  # (result, cause) when the manager kills a run for a reason
    exc = None  # the exception its last failed run raised
    rate = None  # backoff.Rate of its recent runs (adaptive backoff only)
    direct = False  # its run's task steps its own coroutine (direct()): no runner tells

    def __init__(self, mgr, unit):
        presize(self, _SLOTS)  # one table, not six on the way (kernel/heap.py)
        self.mgr = mgr
        self.unit = unit
        self.name = unit.name
        # What every start sets, set now: a start that adds attributes regrows this
        # instance's table, allocated when the unit was created, and frees the old one
        # there. MicroPython's allocator scans for a multi-block run from its lowest free
        # block, so each such hole, left behind all the services created since, made every
        # later allocation walk the whole heap: starts grew O(services) (unix port, 3,000
        # units: 1.8 ms per start, 0.12 ms with this).
        self.state = INACTIVE
        self.sub = DEAD
        self.result = SUCCESS
        self.cause = None
        self.task = None
        self.attempt = 0
        self.limit_t0 = 0
        self.limit_n = 0
        self.since_ms = 0
        self.active_ms = 0
        self.waiters = None

    def state_name(self):
        return STATE_NAMES[self.state]

    def sub_name(self):
        return SUB_NAMES[self.sub]

    def result_name(self):
        return RESULT_NAMES[self.result]

    def is_enabled(self):
        return self.unit.enabled if self.enabled is None else self.enabled

    def uptime_ms(self):
        """ms since it became active (0 unless active or reloading)."""
        if self.state != ACTIVE and self.state != RELOADING:
            return 0
        return self.mgr.now() - self.active_ms

    def budget(self):
        """Starts left in the current start-limit window."""
        u = self.unit
        if self.mgr.now() - self.limit_t0 >= u.interval_ms:
            return u.burst
        return max(0, u.burst - self.limit_n)

    def notify_ready(self):
        """A notify service tells the manager it is ready (active)."""
        self.mgr.ready(self)

    def notify_watchdog(self):
        """Liveness ping: pushes the watchdog deadline watchdog_sec further."""
        if self.timer == T_WATCHDOG:
            self.deadline = self.mgr.now() + self.unit.watchdog_ms

    def status(self):
        """A dict for `svc status` and callers (a snapshot, not live): service_status()."""
        if _c_status is not None:
            return _c_status(self, _KSVC)
        return self.py_status()

    def py_status(self):
        """status() in Python (builds without _ksvc; its C twin is checked against it). One
        clock read and no method calls for the derived fields (description, uptime_ms,
        budget, next_delay_ms; fixed backoff inline)."""
        u = self.unit
        t = self.task
        st = self.state
        now = self.mgr.sched.uptime_ms()
        if now - self.limit_t0 >= u.interval_ms:
            budget = u.burst
        else:
            budget = max(0, u.burst - self.limit_n)
        if u.backoff == backoff.FIXED:
            delay = u.restart_ms if u.restart_ms < u.backoff_max_ms else u.backoff_max_ms
        else:
            delay = backoff.raw_ms(u.backoff, u.restart_ms, u.backoff_max_ms, self.attempt)
        return {
            "name": self.name,
            "description": u.description or u.name,
            "state": STATE_NAMES[st],
            "sub": SUB_NAMES[self.sub],
            "result": RESULT_NAMES[self.result],
            "cause": self.cause,
            "task": t.id if t is not None else None,
            "uptime_ms": now - self.active_ms if st == ACTIVE or st == RELOADING else 0,
            "restarts": self.restarts,
            "budget": budget,
            "next_delay_ms": delay,
            "enabled": u.enabled if self.enabled is None else self.enabled,
            "type": units.TYPE_NAMES[u.type],
            "restart": units.RESTART_NAMES[u.restart],
            "group": self.group.name if self.group is not None else None,
            "requires": u.requires,
            "wants": u.wants,
            "after": u.after,
            "before": u.before,
            "tags": u.tags,
        }

    def __repr__(self):
        return "<Service %s %s/%s>" % (self.name, self.state_name(), self.sub_name())


# What the C status() takes per call (modksvc.c's `names`, in this order).
_KSVC = (
    STATE_NAMES,
    SUB_NAMES,
    RESULT_NAMES,
    units.TYPE_NAMES,
    units.RESTART_NAMES,
    backoff.raw_ms,
    ACTIVE,
    RELOADING,
    backoff.FIXED,
)


def resolve(target):
    """A callable from 'module:function' (imported now) or the callable itself."""
    if not isinstance(target, str):
        return target
    mod, _, attr = target.partition(":")
    m = __import__(mod)
    for part in mod.split(".")[1:] + attr.split("."):
        m = getattr(m, part)
    return m


def call_hook(svc, which):
    """Call the unit's hook `which` (a field name) with the handle; raises what it raises."""
    h = getattr(svc.unit, which)
    if h is not None:
        resolve(h)(svc)


def body(svc):
    """The service's code for one run: a coroutine or generator, or None when exec was a
    plain function (it has then run to completion; its value is svc.mgr's to read)."""
    u = svc.unit
    fn = resolve(u.exec)
    if isinstance(fn, type):
        svc.obj = obj = fn(*u.args)
        run = getattr(obj, "run", None) or obj.main
        return run()
    return fn(*u.args)


def direct(svc):
    """The coroutine of svc's run for its task to step itself (no runner around it: 112 B
    per running service on ARM, and one generator resume less per step), when exec is an
    async def or a generator function (calling one runs none of its code); else None (a
    plain function or a class runs at the call: that must be the task's first step, in
    runner). The manager maps the task's end to the run's result (ended())."""
    u = svc.unit
    fn = resolve(u.exec)
    if type(fn) is not _GENFN:
        return None
    try:
        return fn(*u.args)
    except Exception:  # noqa: BLE001 - a bad call (its arguments): runner reports it
        return None


def ended(svc, t):
    """(result, cause) of svc's run stepped directly, from its ended task t: what runner's
    except clauses say for the same end."""
    from kernel.task import CANCELLED, DONE

    st = t.state
    if st == DONE:
        r = t.value
        if r is None or r == 0:
            return SUCCESS, None
        return EXIT_CODE, "returned %r" % (r,)
    if st == CANCELLED:  # closed by a kill ('killed'), or its CancelledError came out
        return EXCEPTION, "killed" if t.reason == "killed" else "cancelled"
    e = t.exc
    if e is WATCHDOG_DROP:  # it swallowed the watchdog and was dropped
        return WATCHDOG, "swallowed the kernel's step watchdog"
    if isinstance(e, Watchdog):
        return WATCHDOG, "step ran past the kernel's watchdog budget"
    svc.exc = e  # kept for a person to inspect (py kernel.svc.service(name).exc)
    return EXCEPTION, "%s: %s" % (type(e).__name__, e)


async def runner(svc):
    """The kernel task of one run: runs the body, then tells the manager how it ended."""
    mgr = svc.mgr
    if svc.state == DEACTIVATING or svc.kill_result is not None:
        mgr.exited(svc, SUCCESS, None)  # stopped or killed before its first step
        return
    result = SUCCESS
    cause = None
    try:
        r = body(svc)
        if hasattr(r, "send"):
            r = await r
        if r is not None and r != 0:
            result = EXIT_CODE
            cause = "returned %r" % (r,)
    except CancelledError:
        mgr.exited(svc, EXCEPTION, "cancelled")  # a stop the manager asked for, or a kill
        raise
    except GeneratorExit:  # closed by the kernel: a kill, or a swallowed step watchdog
        t = svc.task
        if t is not None and t.reason == "watchdog":
            mgr.exited(svc, WATCHDOG, "swallowed the kernel's step watchdog")
        else:
            mgr.exited(svc, EXCEPTION, "killed")
        raise
    except Watchdog:
        result = WATCHDOG
        cause = "step ran past the kernel's watchdog budget"
    except Exception as e:  # noqa: BLE001 - a service's failure is data, handed to the manager
        result = EXCEPTION
        cause = "%s: %s" % (type(e).__name__, e)
        svc.exc = e  # kept for a person to inspect (py kernel.svc.service(name).exc)
    mgr.exited(svc, result, cause)


_GENFN = type(runner)  # the type of an async def (a generator function)
