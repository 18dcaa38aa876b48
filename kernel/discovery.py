# kernel/discovery: the instance registry: what runs (or is reachable) where, and whether
# it may take traffic; lookups by name and pattern; Consul-style blocking watches.
#
# Owns: Instance and Registry, one Registry per Manager (attach()). The manager's
# services register as they start and leave as they stop: the Registry subscribes to the
# manager's events (O(1) per event, no scan), nothing in the manager calls it. External
# endpoints come and go with register_instance()/deregister_instance(), optionally leased
# for ttl_sec. Health (kernel/health.py) sets health/ready through set_status(); the balancer
# and others plug in with listen(fn) or watch().
# Invariants: every change to an instance (appears, leaves, health, ready, breaker, fields)
# takes the next value of one registry-wide index and stamps the instance with it, wakes the
# watches whose pattern matches it and tells the listeners; a cached pattern result is
# valid only while the index is unchanged and its TTL has not run out (so invalidation is
# one compare). Lookups by exact name are one dict get.
# Patterns: glob by default (`glob:` too) on the name; `regex:` (re.match on the name);
# `tag:GLOB`, `kind:GLOB`; `health:passing|warning|critical`.
# Not here: running probes (kernel/health.py), picking an instance (the balancer).
from micropython import const

from kernel import events as E
from kernel import glob as globs
from kernel import params
from kernel import service as S
from kernel import svc as _svc
from kernel.heap import presize
from kernel.log import ERROR
from kernel.names import Names

PASSING = const(0)
WARNING = const(1)
CRITICAL = const(2)
STATUS_NAMES = ("passing", "warning", "critical")

# Pattern fields and modes (a compiled pattern is the tuple (field, mode, arg)).
_NAME = const(0)
_TAG = const(1)
_KIND = const(2)
_HEALTH = const(3)
_ALL = const(0)  # '*'
_EXACT = const(1)  # no wildcard
_PREFIX = const(2)  # 'web@*'
_REGEX = const(3)  # anything else (a glob becomes a regex)


class Instance:
    """One endpoint of a service. `health` is 'passing', 'warning' or 'critical'; `ready`
    says whether it is in the ready set (load balancing picks from it); `index` is the
    registry index of its last change; `breaker` is the balancer's (None until it sets one)."""

    kind = None
    tags = ()
    meta = None  # dict (the balancer reads meta['weight'])
    endpoint = None  # 'host:port' text or a dict, as the unit / registrant gave it
    health = "passing"
    ready = False
    note = ""  # why it has its health / readiness (the last probe output, 'ttl expired')
    index = 0
    breaker = None
    svc = None  # the manager's Service when the manager keeps it; None: external
    expires = None  # uptime ms when an external instance's ttl runs out
    ttl_ms = 0

    def __init__(self, name, service):
        presize(self, 8)  # a service's: name, service, svc, note, index, ready, health
        self.name = name
        self.service = service

    def is_external(self):
        return self.svc is None

    def __repr__(self):
        return "<Instance %s %s%s>" % (
            self.name,
            self.health,
            " ready" if self.ready else "",
        )


def service_of(name):
    """'web' for 'web@1' (and for 'web')."""
    i = name.find("@")
    return name if i < 0 else name[:i]


def _glob(g, field):
    if g == "*":
        return (field, _ALL, None)
    star = g.find("*")
    if "?" not in g and "[" not in g:
        if star < 0:
            return (field, _EXACT, g)
        if star == len(g) - 1:
            return (field, _PREFIX, g[:-1])
    return (field, _REGEX, _regex(globs.to_regex(g)))


def _regex(text):
    import re

    try:
        return re.compile(text)
    except Exception as e:  # noqa: BLE001 - MicroPython's re raises plain exceptions
        raise ValueError("discovery: bad regex %r: %s" % (text, e)) from None


def compile_pattern(pattern):
    """A pattern string -> (field, mode, arg); ValueError for a bad one (one line)."""
    if not isinstance(pattern, str):
        raise ValueError("discovery: a pattern is text, got %r" % (pattern,))
    if pattern.startswith("regex:"):
        return (_NAME, _REGEX, _regex(pattern[6:]))
    if pattern.startswith("glob:"):
        return _glob(pattern[5:], _NAME)
    if pattern.startswith("tag:"):
        return _glob(pattern[4:], _TAG)
    if pattern.startswith("kind:"):
        return _glob(pattern[5:], _KIND)
    if pattern.startswith("health:"):
        h = pattern[7:]
        if h not in STATUS_NAMES:
            raise ValueError(
                "discovery: 'health:' takes one of %s, got %r" % (", ".join(STATUS_NAMES), h)
            )
        return (_HEALTH, _EXACT, h)
    return _glob(pattern, _NAME)


def _match_one(mode, arg, v):
    if mode == _ALL:
        return True
    if v is None:
        return False
    if mode == _EXACT:
        return v == arg
    if mode == _PREFIX:
        return v.startswith(arg)
    return arg.match(v) is not None


def matches(m, inst):
    """Does compiled pattern m match Instance inst?"""
    field, mode, arg = m
    if field == _NAME:
        return _match_one(mode, arg, inst.name)
    if field == _KIND:
        return _match_one(mode, arg, inst.kind or "")
    if field == _HEALTH:
        return inst.health == arg
    for t in inst.tags:
        if _match_one(mode, arg, t):
            return True
    return False


class _Watch:
    """One blocked watch(): its pattern and the queue its task parks on."""

    def __init__(self, m):
        from kernel.task import TaskQueue

        self.m = m
        self.q = TaskQueue()


class Registry:
    """The instances of one Manager's world, by name."""

    def __init__(self, mgr):
        self.mgr = mgr
        self.by_name = Names()  # name -> Instance (kernel/names.py: O(1) for web@1..web@N)
        self.by_service = Names()  # service -> [Instance], in registration order
        self.index = 0  # the registry-wide change index (Consul's X-Consul-Index)
        self.cache = ({}, {}, {})  # ready None / True / False: pattern -> (index, until, tuple)
        self.compiled = {}  # pattern -> compiled pattern
        self.watches = []  # _Watch objects of blocked watch() calls
        self.gone = []  # recently deregistered Instances (their index stamped), oldest first
        self.gone_floor = 0  # index of the newest tombstone dropped from `gone`
        self.listeners = []  # fn(code, inst), told of every change (the balancer)
        self.leased = []  # external instances with a ttl
        self.next_expiry = None  # uptime ms of the earliest lease end (may be early)
        self.ttl_task = None
        self.lookups = 0  # pattern lookups answered, and how many from the cache
        self.hits = 0
        self.now = mgr.sched.uptime_ms  # bound once: the manager's now(), one call less

    # ---- changes ----

    def changed(self, inst, code):
        """Stamp inst with the next index, wake the watches it matches, tell listeners."""
        self.index = i = (self.index + 1) & params.COUNTER_MASK or 1
        inst.index = i
        for w in self.watches:
            if w.q.head is not None and matches(w.m, inst):
                self.mgr.sched.wake(w.q.head)
        for fn in self.listeners:
            try:
                fn(code, inst)
            except Exception as e:  # noqa: BLE001 - a broken listener must not stop discovery
                self.mgr.sched.log.log("discovery: listener %r raised %r" % (fn, e), ERROR)

    def add(self, inst):
        self.by_name[inst.name] = inst
        lst = self.by_service.get(inst.service)
        if lst is None:
            self.by_service[inst.service] = lst = []
        lst.append(inst)
        self.changed(inst, E.EV_REGISTERED)

    def remove(self, inst):
        if self.by_name.get(inst.name) is not inst:
            return
        self.by_name.pop(inst.name)
        lst = self.by_service.get(inst.service)
        if lst is not None:
            lst.remove(inst)
            if not lst:
                self.by_service.pop(inst.service)
        if inst.expires is not None:
            self.leased.remove(inst)
            inst.expires = None
        inst.ready = False
        self.changed(inst, E.EV_DEREGISTERED)
        g = self.gone
        g.append(inst)
        if len(g) > params.DISC_TOMBSTONES:
            self.gone_floor = g.pop(0).index

    def set_status(self, inst, health=None, ready=None, note=None):
        """Health (a STATUS_NAMES name) and/or readiness of inst; a change bumps the index."""
        if note is not None:
            inst.note = note
        code = E.EV_OTHER
        if health is not None and health != inst.health:
            inst.health = health
            code = E.EV_HEALTH
        if ready is not None and ready != inst.ready:
            inst.ready = ready
            code = E.EV_READY if ready else E.EV_NOT_READY
        if code != E.EV_OTHER:
            self.changed(inst, code)
        return code

    # ---- the manager's services ----

    def on_event(self, name, event, cause):
        """The manager's subscriber: its services' instances follow their lifecycle."""
        svc = self.mgr.services.get(name)
        if svc is None:
            return  # a group's event
        code = E.event_code(event)
        inst = self.by_name.get(name)
        if code == E.EV_STARTING:
            if inst is not None and inst.svc is svc:  # a restart: same unit (it cannot change)
                self.set_status(inst, ready=False, note="starting")
                return
            if inst is not None:  # an external one of that name: the service's replaces it
                self.remove(inst)
            self.add(self._managed(svc))
        elif inst is None or inst.svc is not svc:
            return
        elif code == E.EV_STARTED:
            u = svc.unit
            if u.readiness is None and u.startup is None:  # else health decides
                self.set_status(inst, "passing", True, "active")
        elif code == E.EV_CONFIG or code == E.EV_ALERT:
            self.changed(inst, code)  # watches on it wake; listeners hear the code
        elif code == E.EV_STOPPING:
            self.set_status(inst, ready=False, note="stopping")
        elif code == E.EV_RESTARTING:
            self.set_status(inst, "critical", False, cause or "restarting")
        elif (
            code == E.EV_STOPPED
            or code == E.EV_FAILED
            or code == E.EV_EXITED
            or code == E.EV_FINISHED
            or code == E.EV_KILLED
        ):
            self.remove(inst)

    def _managed(self, svc):
        u = svc.unit
        inst = Instance(svc.name, service_of(svc.name))
        inst.svc = svc
        # Only what differs from the class defaults: an idle service's instance then holds
        # six attributes, not ten (thousands of them are live after a mass start).
        if u.kind is not None:
            inst.kind = u.kind
        if u.tags:
            inst.tags = u.tags
        if u.meta is not None:
            inst.meta = u.meta
        if u.endpoint is not None:
            inst.endpoint = u.endpoint
        inst.note = "starting"
        return inst

    # ---- external instances ----

    def register(self, name, service=None, kind=None, tags=(), meta=None, endpoint=None,
                 ttl_sec=None):  # fmt: skip
        from kernel import units

        name = units.check_name(name)
        tags = units._list(name, "tags", tags)
        if meta is not None and not isinstance(meta, dict):
            raise ValueError("instance %s: 'meta' must be a dict, got %r" % (name, meta))
        ttl_ms = 0 if ttl_sec is None else units._ms(name, "ttl_sec", ttl_sec)
        inst = self.by_name.get(name)
        if inst is not None and inst.svc is not None:
            raise ValueError(
                "instance %s: kept by the service manager (stop the service to replace it)" % name
            )
        fresh = inst is None
        if fresh:
            inst = Instance(name, service or service_of(name))
        elif (
            inst.kind != kind
            or inst.tags != tags
            or inst.meta != meta
            or inst.endpoint != endpoint
            or inst.service != (service or service_of(name))
        ):
            self.remove(inst)  # a different registration: leave, then appear again
            inst = Instance(name, service or service_of(name))
            fresh = True
        inst.kind = kind
        inst.tags = tags
        inst.meta = meta
        inst.endpoint = endpoint
        self._lease(inst, ttl_ms)
        if fresh:
            inst.health = "passing"
            inst.ready = True
            inst.note = "registered"
            self.add(inst)
        else:
            self.set_status(inst, "passing", True, "registered")
        return inst

    def deregister(self, name):
        inst = self.by_name.get(name)
        if inst is None:
            return False
        if inst.svc is not None:
            raise ValueError("instance %s: kept by the service manager (stop the service)" % name)
        self.remove(inst)
        return True

    def _lease(self, inst, ttl_ms):
        if ttl_ms <= 0:
            if inst.expires is not None:
                self.leased.remove(inst)
                inst.expires = None
            inst.ttl_ms = 0
            return
        inst.ttl_ms = ttl_ms
        if inst.expires is None:
            self.leased.append(inst)
        inst.expires = self.now() + ttl_ms
        if self.next_expiry is None or inst.expires < self.next_expiry:
            self.next_expiry = inst.expires
        t = self.ttl_task
        if t is None or t.done():
            self.ttl_task = t = self.mgr.sched.spawn(self._ttl_loop(), "disc-ttl")
            t.quiet = True

    def expire(self, now):
        """End the leases that ran out by `now` (uptime ms): not ready, critical."""
        nxt = None
        for inst in self.leased:
            if inst.expires <= now:
                if inst.ready:
                    inst.health = "critical"
                    inst.ready = False
                    inst.note = "ttl %d ms expired" % inst.ttl_ms
                    self.changed(inst, E.EV_EXPIRED)
            elif nxt is None or inst.expires < nxt:
                nxt = inst.expires
        self.next_expiry = nxt

    async def _ttl_loop(self):
        from kernel.traps import sleep_ms

        due = None
        while self.leased:
            now = self.now()
            if due is not None and now - due > params.SVC_STARVE_MS:
                for inst in self.leased:  # starved by foreground code: leases pause too
                    inst.expires += now - due
                if self.next_expiry is not None:
                    self.next_expiry += now - due
            if self.next_expiry is not None and self.next_expiry <= now:
                self.expire(now)
            due = self.next_expiry
            if due is None:  # every lease ran out: sleep until one is renewed
                due = now + params.SVC_TIMER_MAX_MS
            await sleep_ms(min(max(due - self.now(), 0), params.SVC_TIMER_MAX_MS))
        self.ttl_task = None

    # ---- lookups ----

    def get(self, name):
        """The Instance `name`, or None: one dict get."""
        nx = self.next_expiry
        if nx is not None and self.now() >= nx:
            self.expire(self.now())
        return self.by_name.get(name)

    def pattern(self, pattern):
        m = self.compiled.get(pattern)
        if m is None:
            m = compile_pattern(pattern)
            if len(self.compiled) >= params.DISC_CACHE_MAX:
                self.compiled.clear()
            self.compiled[pattern] = m
        return m

    def lookup(self, pattern="*", ready=None):
        """The instances matching pattern (and readiness, when ready is not None), as a
        tuple in registration order by service; cached until the next change or the TTL."""
        nx = self.next_expiry
        if nx is not None:
            now = self.now()
            if now >= nx:
                self.expire(now)
        cache = self.cache[0 if ready is None else 1 if ready else 2]
        self.lookups += 1
        s = self.mgr.sched
        if s.clock is None:  # before the kernel runs (boot): no clock, no cache
            return self._find(self.pattern(pattern), ready)
        t = s._ticks_ms()  # the clock's own ticks: a C call on the boards, cheaper than uptime
        e = cache.get(pattern)
        if e is not None and e[0] == self.index and s._diff(e[1], t) > 0:
            self.hits += 1
            return e[2]
        out = self._find(self.pattern(pattern), ready)
        if len(cache) >= params.DISC_CACHE_MAX:
            cache.clear()
        cache[pattern] = (self.index, s._add(t, params.DISC_CACHE_TTL_MS), out)
        return out

    def _find(self, m, ready):
        if m[1] == _EXACT and m[0] == _NAME:
            inst = self.by_name.get(m[2])
            return () if inst is None or (ready is not None and inst.ready != ready) else (inst,)
        return self._scan(m, ready)

    def _scan(self, m, ready):
        # Its own function: a generator expression in lookup() would make `m` and `ready`
        # closure cells, allocated on every call, cache hits included.
        return tuple(
            i
            for i in self.by_name.values()
            if (ready is None or i.ready == ready) and matches(m, i)
        )

    def of_service(self, service):
        """The instances of `service` (a list kept by the registry: do not change it)."""
        return self.by_service.get(service, ())

    # ---- watches ----

    def changed_since(self, m, index):
        if index <= 0 or index > self.index or index < self.gone_floor:
            return True  # 0, another boot's index, or tombstones dropped: answer now
        for inst in self.by_name.values():
            if inst.index > index and matches(m, inst):
                return True
        for inst in self.gone:
            if inst.index > index and matches(m, inst):
                return True
        return False

    async def watch(self, pattern, index=0, timeout_ms=None):
        from kernel.errors import TimeoutError
        from kernel.traps import park

        m = self.pattern(pattern)
        if not self.changed_since(m, index):
            w = _Watch(m)
            self.watches.append(w)
            try:
                await park(w.q, -1 if timeout_ms is None else max(0, int(timeout_ms)))
            except TimeoutError:
                pass
            finally:
                self.watches.remove(w)
        return self.index, self.lookup(pattern)

    def stats(self):
        return {
            "instances": len(self.by_name),
            "index": self.index,
            "watches": len(self.watches),
            "leased": len(self.leased),
            "lookups": self.lookups,
            "cache_hits": self.hits,
        }


def attach(mgr):
    """The Registry of mgr, made (and subscribed to its events) on first use."""
    r = getattr(mgr, "registry", None)
    if r is None:
        r = mgr.registry = Registry(mgr)
        mgr.subscribers.append(r.on_event)
        for svc in mgr.services.values():  # services already running (attached late)
            if svc.task is not None:
                r.on_event(svc.name, "starting", None)
                if svc.state == S.ACTIVE or svc.state == S.RELOADING:
                    r.on_event(svc.name, "started", None)
    return r


def _reg():
    m = _svc.manager()
    r = getattr(m, "registry", None)
    return r if r is not None else attach(m)


# ---- the public API (re-exported by `kernel`) ----


def register_instance(name, service=None, kind=None, tags=(), meta=None, endpoint=None,
                      ttl_sec=None):  # fmt: skip
    """Add or renew an external instance -> Instance. service defaults to the part of name
    before '@'. With ttl_sec it is ready until ttl_sec passes without another call."""
    return _reg().register(name, service, kind, tags, meta, endpoint, ttl_sec)


def deregister_instance(name):
    """Remove an external instance -> True if it was registered."""
    return _reg().deregister(name)


def instances(pattern="*", ready=None):
    """Instances matching pattern (glob, glob:, regex:, tag:, kind:, health:), optionally
    only the ready (True) or not-ready (False) ones -> a tuple of Instance."""
    return _reg().lookup(pattern, ready)


def instance(name):
    """The Instance called name, or None (O(1))."""
    return _reg().get(name)


async def watch(pattern, index=0, timeout_ms=None):
    """Consul's blocking query: -> (index, instances) once an instance matching pattern
    changed after `index` (at once for index=0), or when timeout_ms runs out (None: never).
    Pass the returned index to the next call."""
    return await _reg().watch(pattern, index, timeout_ms)


def listen(fn):
    """fn(code, instance) is told of every change (kernel.EV_* codes) -> fn."""
    _reg().listeners.append(fn)
    return fn


def unlisten(fn):
    r = _reg()
    if fn in r.listeners:
        r.listeners.remove(fn)
