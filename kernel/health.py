# kernel/health: probes with Kubernetes' semantics and Consul's statuses, one monitor per
# service manager.
#
# Owns: Spec (a checked probe declaration: the unit fields startup / liveness / readiness),
# one small function per check kind (process, ttl, command, custom, file, tcp, http),
# Probe (one probe's thresholded status, counters, last output and a history ring),
# Prober (the probes of one service: startup gates the other two; liveness or startup
# failing past its threshold restarts the service through its restart policy with result
# `liveness`; readiness moves its instance in and out of discovery's ready set) and Monitor:
# one task that sleeps until the earliest due probe on one pairing heap (kernel/sleepq.py),
# runs the built-in kinds inline and user code (command, custom) and sockets (tcp, http) in
# a short task each, under the probe's timeout. The monitor subscribes to the manager's
# events (O(1) per event); metrics register with on_result(fn).
# Invariants: a probe is in the heap iff it is due to run or running (then keyed by its
# timeout); heap keys are monitor time (uptime minus the time the console's foreground code
# starved the kernel), so probe periods, timeouts and TTLs pause meanwhile; a warning counts
# as a success for thresholds; a run that overlapped such a pause does not count a timeout.
# Not here: the registry (kernel/discovery.py), the restart itself (kernel/manager.py).
from micropython import const

from kernel import discovery as D
from kernel import events as E
from kernel import params
from kernel import service as S
from kernel import svc as _svc
from kernel.discovery import CRITICAL, PASSING, STATUS_NAMES, WARNING
from kernel.errors import CancelledError, Watchdog
from kernel.log import ERROR
from kernel.sleepq import SleepQueue
from kernel.task import SLEEPING, WAITING

STARTUP = const(0)
LIVENESS = const(1)
READINESS = const(2)
PROBE_NAMES = ("startup", "liveness", "readiness")

K_PROCESS = const(0)
K_TTL = const(1)
K_COMMAND = const(2)
K_CUSTOM = const(3)
K_FILE = const(4)
K_TCP = const(5)
K_HTTP = const(6)
KIND_NAMES = ("process", "ttl", "command", "custom", "file", "tcp", "http")
_KIND_KEYS = (
    (),
    ("ttl_sec",),
    ("exec",),
    ("object",),
    ("path", "max_age_sec"),
    ("host", "port"),
    ("host", "port", "path", "status", "body"),
)
_COMMON = (
    "check",
    "initial_delay_sec",
    "period_sec",
    "timeout_sec",
    "success_threshold",
    "failure_threshold",
)


def _sub(a, b):
    return a - b  # heap keys are monitor ms: plain ints, they do not wrap


def network():
    """True when this build has sockets (the unix port; the boards once networking lands)."""
    try:
        import socket  # noqa: F401
    except ImportError:
        return False
    return True


def no_network_reason():
    try:
        import hal

        board = hal.info()["board"]
    except (ImportError, AttributeError, KeyError):
        import sys

        board = sys.platform
    return "no network on %s yet: tcp/http probes need it" % board


# ---- the declaration ----


class Spec:
    """A checked probe: kind, timing, thresholds and the kind's own keys."""

    ttl_ms = 0
    target = None  # command: exec; custom: object (callables / 'module:attr' text)
    path = None
    max_age_s = None
    host = None
    port = None
    status_lo = 200
    status_hi = 399
    body = None
    status_text = "200-399"

    def __init__(self, kind):
        self.kind = kind
        self.delay_ms = 0
        self.period_ms = params.HEALTH_PERIOD_MS
        self.timeout_ms = params.HEALTH_TIMEOUT_MS
        self.succ = params.HEALTH_SUCCESS_THRESHOLD
        self.fail = params.HEALTH_FAILURE_THRESHOLD

    def kind_name(self):
        return KIND_NAMES[self.kind]


def _err(name, key, msg):
    from kernel.units import UnitError

    return UnitError("unit %s: '%s' %s" % (name, key, msg))


def _threshold(name, key, k, v):
    if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1000:
        raise _err(name, key, "'%s' must be an int in 1..1000, got %r" % (k, v))
    return v


def _status_range(name, key, v):
    s = str(v).strip()
    lo, dash, hi = s.partition("-")
    try:
        lo = int(lo)
        hi = int(hi) if dash else lo
    except ValueError:
        lo = hi = -1
    if not 100 <= lo <= hi <= 599:
        raise _err(name, key, "'status' must be a code or a range like '200-399', got %r" % (v,))
    return lo, hi


def spec(name, key, d):
    """A Spec from a probe dict; UnitError (one line naming the key) when it is bad."""
    from kernel import units

    kind = d.get("check", "process")
    if kind not in KIND_NAMES:
        raise _err(name, key, "'check' must be one of %s, got %r" % (", ".join(KIND_NAMES), kind))
    k = KIND_NAMES.index(kind)
    sp = Spec(k)
    own = _KIND_KEYS[k]
    for x, v in d.items():
        if x not in _COMMON and x not in own:
            raise _err(
                name,
                key,
                "has unknown key '%s' (check %s takes %s)"
                % (x, kind, ", ".join(_COMMON[1:] + own)),
            )
    if "initial_delay_sec" in d:
        sp.delay_ms = units._ms(name, key + ".initial_delay_sec", d["initial_delay_sec"])
    if "period_sec" in d:
        sp.period_ms = max(1, units._ms(name, key + ".period_sec", d["period_sec"]))
    if "timeout_sec" in d:
        sp.timeout_ms = max(1, units._ms(name, key + ".timeout_sec", d["timeout_sec"]))
    if "success_threshold" in d:
        sp.succ = _threshold(name, key, "success_threshold", d["success_threshold"])
    if "failure_threshold" in d:
        sp.fail = _threshold(name, key, "failure_threshold", d["failure_threshold"])
    if k == K_TTL:
        if "ttl_sec" not in d:
            raise _err(name, key, "check ttl needs 'ttl_sec'")
        sp.ttl_ms = max(1, units._ms(name, key + ".ttl_sec", d["ttl_sec"]))
    elif k == K_COMMAND or k == K_CUSTOM:
        x = "exec" if k == K_COMMAND else "object"
        v = d.get(x)
        if v is None:
            raise _err(name, key, "check %s needs '%s'" % (kind, x))
        if isinstance(v, str):
            units._exec(name, key + "." + x, v)
        elif k == K_COMMAND and not callable(v):
            raise _err(name, key, "'exec' must be a callable or 'module:function', got %r" % v)
        elif k == K_CUSTOM and not hasattr(v, "check"):
            raise _err(name, key, "'object' must have a check() method, got %r" % (v,))
        sp.target = v
    elif k == K_FILE:
        p = d.get("path")
        if not isinstance(p, str) or not p:
            raise _err(name, key, "check file needs 'path' (text), got %r" % (p,))
        sp.path = p
        if "max_age_sec" in d:
            sp.max_age_s = units._ms(name, key + ".max_age_sec", d["max_age_sec"]) / 1000
    else:  # tcp, http
        if "host" in d:
            sp.host = units._str(name, key + ".host", d["host"])
        if "port" in d:
            p = d["port"]
            if isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 65536:
                raise _err(name, key, "'port' must be an int in 1..65535, got %r" % (p,))
            sp.port = p
        if k == K_HTTP:
            sp.path = units._str(name, key + ".path", d.get("path", "/"))
            if "status" in d:
                sp.status_lo, sp.status_hi = _status_range(name, key, d["status"])
                sp.status_text = str(d["status"])
            if "body" in d:
                sp.body = units._str(name, key + ".body", d["body"])
        if not network():
            import kernel

            kernel.log(
                "health %s: %s is a %s probe; %s, so it reports critical"
                % (name, key, kind, no_network_reason()),
                "warn",
            )
    return sp


# ---- results ----


def result_of(r):
    """A check's return value -> (status code, note). True / None / 0: passing; 1 or
    'warning': warning; False, another int or 'critical': critical; (status, note) too."""
    note = ""
    if isinstance(r, tuple) and len(r) == 2:
        r, note = r
        note = str(note)
    if r is True or r is None:
        return PASSING, note
    if r is False:
        return CRITICAL, note or "returned False"
    if isinstance(r, str):
        if r in STATUS_NAMES:
            return STATUS_NAMES.index(r), note
        return CRITICAL, "returned %r, not a status" % (r,)
    if isinstance(r, int):
        if r == 0 or r == 1:
            return r, note
        return CRITICAL, note or "returned %d" % r
    return CRITICAL, "returned %r, not a status" % (r,)


def status_code(status):
    """'passing' / 'warning' / 'critical' (or 0..2) -> the code; ValueError otherwise."""
    if isinstance(status, str) and status in STATUS_NAMES:
        return STATUS_NAMES.index(status)
    if isinstance(status, int) and not isinstance(status, bool) and 0 <= status <= 2:
        return status
    raise ValueError(
        "health: status must be one of %s, got %r" % (", ".join(STATUS_NAMES), status)
    )


# ---- the check kinds: fn(probe, now) -> status code (probe.output set), or a coroutine
# that returns (status code, output) ----


def check_process(p, now):
    t = p.prober.svc.task
    if t is None or t.done():
        p.output = "not running"
        return CRITICAL
    if t.steps != p.seen_steps or t.state == SLEEPING or t.state == WAITING:
        p.seen_steps = t.steps
        p.output = "alive"
        return PASSING
    p.output = "runnable but not stepped since the last probe"
    return WARNING


def check_ttl(p, now):
    r = p.prober.report
    if r is None:
        p.output = "no report_health() yet"
        return CRITICAL
    age = now - r[2]
    if age > p.spec.ttl_ms:
        p.output = "TTL expired: no report_health() for %d ms (ttl %d ms)" % (age, p.spec.ttl_ms)
        return CRITICAL
    p.output = r[1]
    return r[0]


def check_file(p, now):
    sp = p.spec
    try:
        import os

        st = os.stat(sp.path)
    except ImportError:
        p.output = "no filesystem on this board"
        return CRITICAL
    except AttributeError:
        p.output = "no filesystem on this board"
        return CRITICAL
    except OSError:
        p.output = "%s: no such file" % sp.path
        return CRITICAL
    if sp.max_age_s is not None:
        import time

        age = time.time() - st[8]
        if age > sp.max_age_s:
            p.output = "%s: modified %d s ago (max %d s)" % (sp.path, age, sp.max_age_s)
            return CRITICAL
    p.output = "%s: present" % sp.path
    return PASSING


async def check_command(p, now):
    fn = S.resolve(p.spec.target)
    r = fn()
    if hasattr(r, "send"):
        r = await r
    return result_of(r)


async def check_custom(p, now):
    obj = S.resolve(p.spec.target)
    r = obj.check()
    if hasattr(r, "send"):
        r = await r
    return result_of(r)


def _target(p):
    # (host, port): the probe's own keys, else the instance's endpoint.
    sp = p.spec
    host = sp.host
    port = sp.port
    ep = p.prober.svc.unit.endpoint
    if isinstance(ep, dict):
        host = host or ep.get("host")
        port = port or ep.get("port")
    elif isinstance(ep, str):
        h, _, pt = ep.rpartition(":")
        host = host or h
        if port is None and pt.isdigit():
            port = int(pt)
    if port is None:
        raise ValueError("no port: give 'port' or the unit an 'endpoint'")
    return host or "127.0.0.1", port


async def _connect(host, port):
    import select
    import socket

    from kernel.traps import sleep_ms

    addr = socket.getaddrinfo(host, port)[0][-1]
    s = socket.socket()
    try:
        s.setblocking(False)
        try:
            s.connect(addr)
        except OSError as e:
            if e.errno != 115:  # EINPROGRESS
                raise
        poll = select.poll()
        poll.register(s, select.POLLOUT)
        while True:
            ev = poll.poll(0)
            if ev:
                if ev[0][1] & (select.POLLERR | select.POLLHUP):
                    raise OSError("connection to %s:%d refused" % (host, port))
                return s
            await sleep_ms(params.HEALTH_POLL_MS)
    except BaseException:
        s.close()
        raise


async def check_tcp(p, now):
    if not network():
        return CRITICAL, no_network_reason()
    host, port = _target(p)
    s = await _connect(host, port)
    s.close()
    return PASSING, "connected to %s:%d" % (host, port)


async def check_http(p, now):
    if not network():
        return CRITICAL, no_network_reason()
    from kernel.traps import sleep_ms

    sp = p.spec
    host, port = _target(p)
    s = await _connect(host, port)
    try:
        req = "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" % (sp.path, host)
        s.send(req.encode())
        buf = b""
        while len(buf) < params.HEALTH_HTTP_MAX_B:
            try:
                b = s.recv(512)
            except OSError as e:
                if e.errno != 11:  # EAGAIN: nothing yet
                    raise
                await sleep_ms(params.HEALTH_POLL_MS)
                continue
            if not b:
                break
            buf += b
    finally:
        s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    words = head.split(b"\r\n", 1)[0].split()
    if len(words) < 2 or not words[0].startswith(b"HTTP/") or not words[1].isdigit():
        return CRITICAL, "not an HTTP response from %s:%d" % (host, port)
    code = int(words[1])
    if not sp.status_lo <= code <= sp.status_hi:
        return CRITICAL, "HTTP %d, expected %s" % (code, sp.status_text)
    if sp.body is not None and sp.body.encode() not in body:
        return CRITICAL, "HTTP %d, body lacks %r" % (code, sp.body)
    return PASSING, "HTTP %d" % code


CHECKS = (check_process, check_ttl, check_command, check_custom, check_file, check_tcp, check_http)
_INLINE = (True, True, False, False, True, False, False)  # runs in the monitor's step


# ---- one probe, one service ----


class Probe:
    """One probe of one service: its thresholded status and what its runs said. Also a node
    of the monitor's pairing heap (the ph_* fields, as kernel/sleepq.py expects)."""

    ph_key = 0
    ph_child = None
    ph_next = None
    ph_child_last = None
    ph_rightmost_parent = None
    timed = False  # in the heap
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
        self.hist[self.hist_n % len(self.hist)] = code
        self.hist_n += 1
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
        svc = self.svc
        why = "%s probe failed %d times: %s" % (p.name(), p.failures, p.output)
        self.end()
        m = self.mon.mgr
        reg = self.mon.reg
        inst = reg.by_name.get(svc.name)
        if inst is not None:
            reg.set_status(inst, "critical", False, why)
        self.mon.restarts += 1
        svc.kill_result = (S.LIVENESS, why)
        m.event(svc.name, "liveness", why)
        m.kill(svc)

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


# ---- the monitor ----


class Monitor:
    """The probes of one Manager on one heap and one task."""

    def __init__(self, mgr, reg):
        self.mgr = mgr
        self.reg = reg
        self.sched = mgr.sched
        self.q = SleepQueue(_sub)
        self.probers = {}  # service name -> Prober
        self.hooks = []  # fn(service, probe, status, output, latency_us) per result
        self.task = None
        self.due = None  # monitor ms the task means to wake at
        self.skew = 0  # ms the console's foreground code starved the kernel
        self.runs = 0
        self.task_runs = 0
        self.timeouts = 0
        self.restarts = 0

    def now(self):
        """Monitor time: uptime ms minus the starvation pauses."""
        return self.mgr.now() - self.skew

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
        self._push(p, self.now() + delay_ms)

    def disarm(self, p):
        p.on = False
        if p.timed:
            self.q.remove(p)
        t = p.running
        if t is not None:
            p.running = None
            self.sched.cancel(t, "probe disarmed")

    def _push(self, p, key):
        if p.timed:
            self.q.remove(p)
        self.q.push(p, key)
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
        while q.heap is not None:
            now = self.now()
            due = self.due
            if due is not None and now - due > params.SVC_STARVE_MS:
                self.skew += now - due  # starved by foreground code: probe time paused
                now = due
            while q.heap is not None and q.heap.ph_key <= now:
                self._fire(q.pop(), now)
            if q.heap is None:
                break
            self.due = q.heap.ph_key
            await sleep_ms(min(max(self.due - now, 0), params.SVC_TIMER_MAX_MS))
        self.task = None
        self.due = None

    def _fire(self, p, now):
        t = p.running
        if t is not None:  # its timeout ran out
            if p.skew0 != self.skew:  # the kernel was paused meanwhile: give it its time
                p.skew0 = self.skew
                self.q.push(p, now + p.spec.timeout_ms)
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
        if _INLINE[k]:
            code = CHECKS[k](p, now)
            self._result(p, code, p.output, now)
            return
        self.task_runs += 1
        p.skew0 = self.skew
        p.t0_us = self.sched.clock.ticks_us()
        p.running = t = self.sched.spawn(self._run(p, now), "probe-" + p.prober.svc.name[:18])
        t.quiet = True
        self.q.push(p, now + p.spec.timeout_ms)

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
        if p.timed:
            self.q.remove(p)
        self._result(p, code, out, self.now())

    def _result(self, p, code, out, now):
        p.output = out
        changed = p.record(code, self.mgr.now())
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
        if p.on and not p.timed and p.running is None:
            self.q.push(p, self._next_due(p, now))
            t = self.task
            if t is not None and t.state == SLEEPING and (self.due is None or p.ph_key < self.due):
                self.sched.wake(t)

    def _next_due(self, p, now):
        d = now + p.spec.period_ms
        r = p.prober.report
        if p.spec.kind == K_TTL and r is not None:
            end = r[2] + p.spec.ttl_ms + 1  # right after the TTL would run out
            if now < end < d:
                d = end
        return d

    # ---- API ----

    async def check_now(self, name):
        pr = self.probers.get(name)
        if pr is not None:
            for p in pr.active():
                if p.running is None:
                    if p.timed:
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
                self._push(p, now)  # evaluate it at once (Consul: a TTL update applies now)

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
