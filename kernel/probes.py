# kernel/probes: what a probe declares and how each kind checks, one small function per
# kind (process, ttl, command, custom, file, tcp, http).
#
# Owns: Spec (a checked probe dict: the unit fields startup / liveness / readiness, with
# Kubernetes' defaults from kernel/params.py and one-line UnitErrors naming the key), the
# check functions and how a check's return value becomes a status (result_of). A check is
# fn(probe, now): the built-in inline kinds return a status code and set probe.output; the
# others are coroutines returning (status, output), which the monitor runs in a task under
# the probe's timeout. tcp and http use real sockets where the build has them and report
# critical with the reason where it has none (the boards until networking lands).
# Not here: thresholds, scheduling and acting on results (kernel/health.py).
from micropython import const

from kernel import params
from kernel import service as S
from kernel.discovery import CRITICAL, PASSING, STATUS_NAMES, WARNING
from kernel.task import DONE, SLEEPING, WAITING

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
        raise _err(
            name,
            key,
            "'status' must be a code or a range like '200-399', got %r" % (v,),
        )
    return lo, hi


def spec(name, key, d):
    """A Spec from a probe dict; UnitError (one line naming the key) when it is bad."""
    from kernel import units

    kind = d.get("check", "process")
    if kind not in KIND_NAMES:
        raise _err(
            name,
            key,
            "'check' must be one of %s, got %r" % (", ".join(KIND_NAMES), kind),
        )
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
    if t is None or t.state >= DONE:
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
        p.output = "TTL expired: no report_health() for %d ms (ttl %d ms)" % (
            age,
            p.spec.ttl_ms,
        )
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
        req = "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n" % (
            sp.path,
            host,
        )
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


CHECKS = (
    check_process,
    check_ttl,
    check_command,
    check_custom,
    check_file,
    check_tcp,
    check_http,
)
INLINE = (True, True, False, False, True, False, False)  # runs in the monitor's step
