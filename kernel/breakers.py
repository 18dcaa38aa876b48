# kernel/breakers: circuit breakers per instance and per service, over discovery's registry.
#
# Owns: Breakers, one per Manager (attach()): each configured service's options (from
# set_breaker(), or the unit field `breaker` when the unit is added), its service-level
# Breaker (also the balancer's pool `.breaker`: kernel/balancer.py) and a Breaker
# on every instance of the service (inst.breaker; an instance that registers later gets one:
# Breakers listens to discovery). Every transition stamps the instance through the registry,
# reg.changed(inst, EV_BREAKER), so watchers, the balancer and faults see it (a service
# breaker's transition does it for each instance of its service), and writes one journal
# line: `web@1: breaker open (from closed: failure rate 60.0% >= 50.0% over 10 calls; ...)`.
# Names: get_breaker(name) is the instance's breaker, else the service's; reset_breaker(name)
# and the shell's verbs act on every breaker a name reaches (targets(): the instance, the
# service's breaker and its instances' breakers).
# Invariants: a bad set_breaker changes nothing; a service's instances share its Config;
# reconfiguring starts every window empty and closed (a forced state stays).
# Not here: the state machine (kernel/circuit.py), the options (kernel/breakcfg.py), the
# request path (kernel/balancer.py).
from kernel import breakcfg, circuit
from kernel import discovery as D
from kernel import events as E
from kernel import svc as _svc
from kernel.circuit import (  # noqa: F401 - the breaker states, public here
    CLOSED,
    DISABLED,
    FORCED_OPEN,
    HALF_OPEN,
    OPEN,
    STATE_NAMES,
    state_name,
)


def summary(cfg):
    """One line of a Config, for the journal and the shell."""
    o = cfg.options()
    unit = "calls" if cfg.window == breakcfg.COUNT else "s"
    return (
        "%s window of %d %s, min %d calls, open at %s%% failed or %s%% slow (>= %d ms), "
        "wait %s s (x%s up to %s s), %d trial calls"
        % (
            o["window_type"],
            o["window_size"],
            unit,
            o["minimum_calls"],
            o["failure_rate_threshold"],
            o["slow_call_rate_threshold"],
            o["slow_call_duration_ms"],
            o["wait_open_sec"],
            o["wait_multiplier"],
            o["wait_max_sec"],
            o["half_open_calls"],
        )
    )


class Breakers:
    """The breakers of one Manager's services and instances."""

    def __init__(self, mgr):
        self.mgr = mgr
        self.reg = D.attach(mgr)
        self.configs = {}  # service -> breakcfg.Config in effect
        self.units = {}  # service -> the Config its unit declared last (applied once)
        self.services = {}  # service -> its service-level Breaker
        self.transitions = 0  # transitions of all its breakers (resets included)
        self.reg.listeners.append(self.on_registry)

    def on_registry(self, code, inst):
        """Discovery's listener: an instance of a configured service gets its breaker."""
        if code == E.EV_REGISTERED and inst.breaker is None:
            cfg = self.configs.get(inst.service)
            if cfg is not None:
                inst.breaker = self._make(cfg, inst.name, inst)

    def _make(self, cfg, name, owner):
        b = circuit.Breaker(cfg, self.mgr.sched, name)
        b.owner = owner
        b.on_change = self.on_change
        return b

    def on_change(self, b, old, why):
        """A breaker's transition: a journal line, then EV_BREAKER on what it guards."""
        self.transitions += 1
        if why == "reset":
            self.mgr.journal.add(b.name, "breaker reset", "was " + STATE_NAMES[old])
        else:
            cause = "from %s: %s" % (STATE_NAMES[old], why)
            self.mgr.journal.add(b.name, "breaker " + STATE_NAMES[b.state], cause)
        inst = b.owner
        if inst is not None:
            if inst.breaker is b:  # else a replaced breaker's late outcome
                self.reg.changed(inst, E.EV_BREAKER)
            return
        if self.services.get(b.name) is b:
            for i in tuple(self.reg.of_service(b.name)):
                self.reg.changed(i, E.EV_BREAKER)

    # ---- configuration ----

    def set(self, service, options):
        """set_breaker(): check, then apply; a bad option keeps the previous config."""
        had = "kept previous config" if service in self.configs else "no breaker set"
        if not isinstance(service, str) or not service or "@" in service:
            raise ValueError(
                "set_breaker: the service is a service name ('web' for web@1), got %r (%s)"
                % (service, had)
            )
        try:
            cfg = breakcfg.parse("breaker " + service, options)
        except ValueError as e:
            raise ValueError("%s (%s)" % (e, had)) from None
        return self.apply(service, cfg)

    def apply(self, service, cfg):
        """service and its instances have breakers with cfg (made, or reconfigured) -> the
        service-level Breaker. Each instance's change is one EV_BREAKER."""
        self.configs[service] = cfg
        b = self.services.get(service)
        if b is None:
            b = self.services[service] = self._make(cfg, service, None)
        else:
            b.configure(cfg)
        self._pool(service, b)
        for inst in tuple(self.reg.of_service(service)):
            ib = inst.breaker
            if ib is None or ib.owner is not inst:
                inst.breaker = self._make(cfg, inst.name, inst)
            else:
                ib.configure(cfg)
            self.reg.changed(inst, E.EV_BREAKER)
        self.mgr.journal.add(service, "breaker configured", summary(cfg))
        return b

    def unit_added(self, u):
        """The manager added unit u with a `breaker` field: its service takes that config,
        once per declaration (the instances of a template share it)."""
        service = D.service_of(u.name)
        if self.units.get(service) is not u.breaker:
            self.units[service] = u.breaker
            self.apply(service, u.breaker)

    def _pool(self, service, b):
        from kernel import balancer  # below this module; loaded only once a breaker is set

        balancer.attach(self.mgr).pool(service).breaker = b

    # ---- lookups ----

    def get(self, name):
        """The breaker of instance `name`, else of service `name`, else None."""
        inst = self.reg.get(name)
        if inst is not None and inst.breaker is not None:
            return inst.breaker
        return self.services.get(name)

    def targets(self, name):
        """Every breaker `name` reaches: the instance's, the service's, its instances'."""
        out = []
        inst = self.reg.get(name)
        if inst is not None and inst.breaker is not None:
            out.append(inst.breaker)
        b = self.services.get(name)
        if b is not None:
            if b not in out:
                out.append(b)
            for i in self.reg.of_service(name):
                if i.breaker is not None and i.breaker not in out:
                    out.append(i.breaker)
        if not out:
            raise ValueError(
                "breaker %s: no breaker by that name (set_breaker(SERVICE, ...) gives a "
                "service and its instances one)" % name
            )
        return out

    def reset(self, name):
        ts = self.targets(name)
        for b in ts:
            b.reset()
        return len(ts)


def attach(mgr):
    """The Breakers of mgr, made (listening to its discovery registry) on first use."""
    b = getattr(mgr, "breakers", None)
    if b is None:
        b = mgr.breakers = Breakers(mgr)
    return b


def _brk():
    m = _svc.manager()
    b = getattr(m, "breakers", None)
    return b if b is not None else attach(m)


# ---- the public API (re-exported by `kernel`) ----


def set_breaker(service, **options):
    """Give service (and each instance of it, now and later) a circuit breaker with these
    options (kernel/breakcfg.py: window_type, window_size, minimum_calls, ...; the others
    default) -> the service-level breaker. ValueError (one line) leaves the previous one."""
    return _brk().set(service, options)


def get_breaker(name):
    """The breaker of instance `name`, else the service-level breaker of service `name`,
    else None: .state (a code), .state_name(), .counters(), .available(), .allow(),
    .record(ok, dur_ms), .reset()."""
    return _brk().get(name)


def reset_breaker(name):
    """Reset every breaker `name` reaches (an instance; a service: its breaker and its
    instances') to closed with empty windows -> how many. ValueError when there is none."""
    return _brk().reset(name)


def breakers_of(name):
    """The breakers `name` reaches (the shell's verbs act on these); ValueError: none."""
    return _brk().targets(name)


def all_breakers():
    """Every breaker: each configured service's, followed by its instances', by name."""
    brk = _brk()
    out = []
    for service in sorted(brk.services):
        out.append(brk.services[service])
        for i in sorted(brk.reg.of_service(service), key=lambda i: i.name):
            if i.breaker is not None:
                out.append(i.breaker)
    return out
