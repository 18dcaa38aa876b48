# kernel/discovery: the instance registry: what runs (or is reachable) where, and whether
# it may take traffic; lookups by name and pattern; Consul-style blocking watches.
#
# Owns: Registry, one per Manager (attach()), and the public API. The manager's services
# register as they start and leave as they stop: the Registry subscribes to the manager's
# events (O(1) per event, no scan), nothing in the manager calls it. Health
# (kernel/health.py) sets health/ready through set_status(); the balancer and others plug in
# with listen(fn) or watch().
# Invariants: every change to an instance (appears, leaves, health, ready, breaker, fields,
# its service's config applied or an alert of it firing or resolving) takes the next value
# of one registry-wide index and stamps the instance with it, wakes the watches whose
# pattern matches it and tells the listeners; a cached pattern result is valid only while
# the index is unchanged and its TTL has not run out (so invalidation is one compare).
# Lookups by exact name are one Names get (in C where the build has _knames).
# Not here: Instance and the health codes (kernel/discinst.py), patterns
# (kernel/discpat.py), external instances and leases (kernel/disclease.py), pattern scans
# and watches (kernel/disclook.py), running probes (kernel/health.py), picking an instance
# (the balancer).
from kernel import events as E
from kernel import params
from kernel import service as S
from kernel import svc as _svc
from kernel.discinst import (  # noqa: F401 - health codes and Instance: re-exported
    CRITICAL,
    PASSING,
    STATUS_NAMES,
    WARNING,
    Instance,
    service_of,
)
from kernel.disclease import Leases
from kernel.disclook import Lookups
from kernel.discpat import compile_pattern, matches  # noqa: F401 - re-exported
from kernel.log import ERROR
from kernel.names import Names
from kernel.names import lookup as name_get


class Registry(Lookups, Leases):
    """The instances of one Manager's world, by name."""

    def __init__(self, mgr):
        self.mgr = mgr
        self.by_name = Names()  # name -> Instance (kernel/names.py: O(1) for web@1..web@N)
        self.by_service = Names()  # service -> [Instance] in registration order ((inst,): one)
        mgr.services.follow(self.by_name)  # both grow as units are created, not at a start
        mgr.services.follow(self.by_service)
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
        n = len(self.mgr.services)  # (sized with the services: names outside them may add)
        self.by_name.reserve(n)
        self.by_service.reserve(n)
        self.by_name[inst.name] = inst
        lst = self.by_service.get(inst.service)
        if lst is None:  # the service's only instance: its own 1-tuple (no list per service)
            self.by_service[inst.service] = inst.alone
        elif type(lst) is tuple:
            self.by_service[inst.service] = [lst[0], inst]
        else:
            lst.append(inst)
        self.changed(inst, E.EV_REGISTERED)

    def remove(self, inst):
        if self.by_name.get(inst.name) is not inst:
            return
        self.by_name.pop(inst.name)
        lst = self.by_service.get(inst.service)
        if type(lst) is tuple:  # (inst,): it was the only one
            self.by_service.pop(inst.service)
        elif lst is not None:
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
        # seven attributes, not eleven (thousands of them are live after a mass start).
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

    # ---- lookups: the hot two, on the class itself ----

    def get(self, name):
        """The Instance `name`, or None: one Names lookup (one C call where built)."""
        nx = self.next_expiry
        if nx is not None and self.now() >= nx:
            self.expire(self.now())
        return name_get(self.by_name, name)

    def lookup(self, pattern="*", ready=None):
        """The instances matching pattern (and readiness, when ready is not None), as a
        tuple in registration order by service; cached until the next change or the TTL.
        A pattern that is an instance's name (names have no wildcard or ':') is answered
        from the name table: O(1), nothing built, no cache."""
        nx = self.next_expiry
        if nx is not None:
            now = self.now()
            if now >= nx:
                self.expire(now)
        try:  # (no type() check: a builtin's name misses this module's globals first)
            inst = name_get(self.by_name, pattern)
        except TypeError:  # unhashable: no name (compile_pattern below says what is wrong)
            inst = None
        if inst is not None:
            return inst.alone if ready is None or inst.ready == ready else ()
        self.lookups += 1  # pattern lookups (and names that are not there)
        cache = self.cache[0 if ready is None else 1 if ready else 2]
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
