# kernel/balancer: load-balancing pools over discovery's instances, one per service.
#
# Owns: Balancer (one per service Manager, mgr.balancer; a discovery listener), Pool (a
# service's strategy, options, members and candidates, and the service-level breaker slot),
# Member (one instance's pick, request and latency counters), selection, lb_stats, draining
# (the manager holds a stopping instance's cancel while it has active requests, up to
# drain_sec) and the fault-injection call hook.
# Candidates: the ready members not draining; in panic (fewer than panic_threshold % of the
# members ready, Envoy's 50%) every member not draining. Breakers plug in duck-typed: a
# candidate whose inst.breaker is not available() is skipped at each pick, never picked in
# panic either; a pool whose .breaker is not available() picks nothing.
# Invariants: a discovery change only marks the pool dirty; the candidates are rebuilt at the
# next pick (O(members), allocating); a pick with clean candidates allocates nothing.
# Not here: the strategies (kernel/lbstrat.py, kernel/lbhash.py), option checking
# (kernel/lbopts.py), the call path kernel.request (kernel/lbcall.py), breakers and faults
# (they plug in from above).
from kernel import backoff, lbopts, params
from kernel import events as E
from kernel import lbstrat as L
from kernel import sched as _sched
from kernel import service as S
from kernel import svc as _svc

_hook = None  # the call hook (fault injection): kernel.request awaits _hook(inst)
_last = None  # the Balancer balancer() returned last


class Member:
    """One instance in a pool, with its counters (they survive restarts of the instance)."""

    ramp_from = None  # uptime ms when its slow start began, while it ramps
    hist = None  # metrics.Metric histogram of latencies (ms), made at the first call
    ring = None  # (count, array) of its consistent_hash points, computed once (lbhash.Ring)

    def __init__(self, inst):
        self.inst = inst
        self.name = inst.name
        self.weight = 1  # meta['weight'] (1..params.LB_WEIGHT_MAX)
        self.ew = 1000  # effective weight: weight * 1000, times the slow-start ramp
        self.hw = 1000  # ew scaled by health (health_based)
        self.cw = 0  # smooth weighted round robin's current weight
        self.tried = 0  # the last request token that excluded it
        self.cgen = 0  # the pool generation it was last a candidate in
        self.draining = False
        self.picks = 0
        self.active = 0
        self.successes = 0
        self.failures = 0
        self.cancelled = 0
        self.ewma16 = 0  # latency EWMA in ms * 16 (0: no call yet)

    def ewma_ms(self):
        return None if self.hist is None else self.ewma16 / 16


def weight_of(inst):
    w = inst.meta.get("weight") if inst.meta else None
    if isinstance(w, str) and w.isdigit():
        w = int(w)
    if not isinstance(w, int) or isinstance(w, bool) or not 1 <= w <= params.LB_WEIGHT_MAX:
        return 1
    return w


class Pool:
    """The balancer of one service."""

    breaker = None  # the service-level breaker (kernel/breakers.py sets it), duck-typed
    explicit = False  # set_strategy() configured it (a unit's `balancer` field then yields)
    from_unit = None  # the unit `balancer` value it was configured from

    def __init__(self, bal, service):
        self.bal = bal
        self.service = service
        self.members = []  # Members in registry order
        self.by_name = {}
        self.cands = []  # the Members picks choose from
        self.gen = 0  # bumped at each rebuild (hash strategies rebuild their tables)
        self.dirty = True
        self.panic = False
        self.rr = 0  # round-robin cursor (and the tie breaker)
        self.ramping = 0  # members in slow start
        self.token = 0  # the last request token
        self.none = 0  # picks that found no usable instance
        self.denied = 0  # requests refused with CallNotPermitted
        self.rng = bal.rng
        self.configure(L.ROUND_ROBIN, lbopts.check("balancer", "round_robin", None)[1])

    def configure(self, code, opts):
        self.code = code
        self.opts = opts
        self.strat = L.make(code, opts)
        seed = opts.get("seed")
        self.rng = self.bal.rng if seed is None else backoff.Rng(seed)
        self.rr = 0
        self.dirty = True

    def strategy(self):
        return L.NAMES[self.code]

    def spawn(self, fn, name):
        """fn(self) as a kernel task when called from inside one (-> Task), else None."""
        return self.bal.spawn(fn(self), name)

    def member(self, name):
        if self.dirty:
            self.rebuild()
        return self.by_name.get(name)

    def _member(self, inst):
        m = self.by_name.get(inst.name)
        if m is None or m.inst is not inst:
            m = Member(inst)
            self.by_name[inst.name] = m
        return m

    def rebuild(self):
        """Members from discovery; candidates by readiness, draining and panic."""
        insts = self.bal.reg.of_service(self.service)
        members = []
        by_name = {}
        ready = 0
        live = 0
        for inst in insts:
            m = self._member(inst)
            m.weight = weight_of(inst)
            s = inst.svc
            m.draining = s is not None and s.state == S.DEACTIVATING
            members.append(m)
            by_name[inst.name] = m
            if not m.draining:
                live += 1
                if inst.ready:
                    ready += 1
            if s is not None and not self.explicit:
                u = s.unit.balancer  # a unit's `balancer` field, until set_strategy()
                if u is not None and u is not self.from_unit:
                    self.from_unit = u
                    self.configure(*u)
        pct = self.opts["panic_pct"]
        self.panic = live > 0 and ready * 100 < pct * live
        self.members = members
        self.by_name = by_name
        self.cands = [m for m in members if not m.draining and (self.panic or m.inst.ready)]
        g = self.gen + 1
        for m in self.cands:
            m.cw = 0
            m.cgen = g
        self._weigh(self.bal.now())
        self.gen = g
        self.dirty = False

    def _weigh(self, now):
        # Effective weights: weight * 1000 scaled by the slow-start ramp, and by health.
        slow = self.opts["slow_start_ms"]
        lo = params.LB_SLOW_START_MIN_PCT * 10
        ramping = 0
        for m in self.cands:
            f = 1000
            if m.ramp_from is not None:
                el = now - m.ramp_from
                if slow <= 0 or el >= slow:
                    m.ramp_from = None
                else:
                    f = max(lo, el * 1000 // slow)
                    ramping += 1
            m.ew = m.weight * f
            h = m.inst.health
            m.hw = 0 if h == "critical" else m.ew * params.LB_WARNING_WEIGHT_PCT // 100 if (
                h == "warning") else m.ew  # fmt: skip
        self.ramping = ramping

    def pick(self, key, tok):
        """The Member to take a call (counted as a pick), or None."""
        if self.dirty:
            self.rebuild()
        elif self.ramping:
            self._weigh(self.bal.now())
        b = self.breaker
        if b is not None and not b.available():
            self.none += 1
            return None
        m = self.strat.pick(self, key, tok)
        if m is None:
            self.none += 1
        else:
            m.picks += 1
        return m

    def on_change(self, code, inst, now):
        self.dirty = True
        if self.opts["slow_start_ms"] <= 0 or not inst.ready:
            return
        if code == E.EV_READY or code == E.EV_REGISTERED:
            for m in self.members:  # the first instance up takes all at once: no ramp
                if m.inst is not inst and m.inst.ready:
                    self._member(inst).ramp_from = now
                    return

    def stats(self):
        inst = {}
        for m in self.members:
            b = m.inst.breaker
            h = m.hist
            inst[m.name] = {
                "picks": m.picks,
                "active": m.active,
                "successes": m.successes,
                "failures": m.failures,
                "cancelled": m.cancelled,
                "latency_ms": m.ewma_ms(),
                "p50_ms": None if h is None else h.percentile(0.5),
                "p99_ms": None if h is None else h.percentile(0.99),
                "weight": m.weight,
                "ready": m.inst.ready,
                "draining": m.draining,
                "breaker": None if b is None else b.state_name(),
            }
        return {
            "service": self.service,
            "strategy": self.strategy(),
            "options": lbopts.shown(self.code, self.opts),
            "panic": self.panic,
            "none": self.none,
            "denied": self.denied,
            "instances": inst,
        }


class Balancer:
    """The pools of one Manager's services."""

    def __init__(self, mgr):
        from kernel import discovery

        self.mgr = mgr
        self.reg = discovery.attach(mgr)
        self.now = mgr.now
        self.pools = {}  # service -> Pool
        seed = getattr(mgr.sched.clock, "seed", None)
        self.rng = backoff.Rng((seed() if seed is not None else mgr.sched._ticks_us()) ^ 0x1B)
        self.reg.listeners.append(self.on_change)
        drains = getattr(mgr, "drains", None)
        if drains is not None:
            drains.append(self.drain_ms)

    def pool(self, service):
        p = self.pools.get(service)
        if p is None:
            p = self.pools[service] = Pool(self, service)
        return p

    def on_change(self, code, inst):
        p = self.pools.get(inst.service)
        if p is not None:
            p.on_change(code, inst, self.now())

    def spawn(self, coro_or_none, name):
        # Only from inside a task of our scheduler: a build outside one runs at once.
        s = self.mgr.sched
        if _sched.running() is not s or s.cur is None:
            if coro_or_none is not None:
                coro_or_none.close()
            return None
        t = s.spawn(coro_or_none, name)
        t.quiet = True
        return t

    def drain_ms(self, svc):
        """The manager asks before it cancels a stopping service: ms to hold the cancel."""
        inst = self.reg.by_name.get(svc.name)
        p = self.pools.get(inst.service) if inst is not None else None
        m = p.by_name.get(inst.name) if p is not None else None
        if m is None:
            return 0
        m.draining = True
        p.dirty = True
        return p.opts["drain_ms"] if m.active > 0 else 0

    def finished(self, p, m):
        """A request on m ended: a draining member's last one lets its stop go on."""
        if m.draining and m.active == 0 and m.inst.svc is not None:
            drained = getattr(self.mgr, "drained", None)
            if drained is not None:
                drained(m.inst.svc)


def attach(mgr):
    """The Balancer of mgr, made on first use."""
    b = getattr(mgr, "balancer", None)
    if b is None:
        b = mgr.balancer = Balancer(mgr)
    return b


def balancer():
    """The Balancer of the kernel's service manager (one compare when it is the last one)."""
    global _last
    m = _svc.manager()
    b = _last
    if b is None or b.mgr is not m:
        b = _last = attach(m)
    return b


# ---- the public API (re-exported by `kernel`) ----


def select_instance(service, key=None):
    """An Instance of service to send a call to (pick only: nothing is counted active, no
    breaker permit is taken), or None when none may be picked. key: for the hashing
    strategies (ip_hash, consistent_hash, maglev), e.g. the client's address."""
    m = balancer().pool(service).pick(key, -1)
    return None if m is None else m.inst


def set_strategy(service, strategy, **options):
    """Set service's balancing strategy (lbstrat.NAMES) and its flat options (vnodes,
    table_size, seed, slow_start_sec, panic_threshold, drain_sec). A bad name or option
    raises ValueError (one line) and keeps the previous configuration."""
    p = balancer().pool(service)
    who = "balancer %s" % service
    try:
        code, opts = lbopts.check(who, strategy, options)
    except ValueError as e:
        raise ValueError("%s; kept %s" % (e, p.strategy())) from None
    p.configure(code, opts)
    p.explicit = True
    return p


def lb_stats(service):
    """service's strategy, options, panic flag and per instance: picks, active, successes,
    failures, cancelled, latency_ms (EWMA), p50_ms, p99_ms, weight, ready, draining, breaker."""
    b = balancer()
    p = b.pools.get(service) or Pool(b, service)  # a name never balanced: not kept
    if p.dirty:
        p.rebuild()
    return p.stats()


def set_call_hook(fn):
    """kernel.request awaits fn(inst) before each call (fault injection); None clears it."""
    global _hook
    _hook = fn


def call_hook():
    return _hook
