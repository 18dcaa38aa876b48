# kernel/faultspec: the fault-tolerance vocabulary and the unit fields that use it.
#
# Owns: the detector and recovery-strategy codes and names (closed vocabularies), each
# detector's options with their defaults (kernel/params.py) and the default escalation per
# detector; parsing the unit fields `detectors` ({detector: {option: value}}) and
# `escalation` ({detector: [strategy, ...]}) with one-line errors naming the unit and field;
# Spec: one unit's resolved policy (which detectors are on, with what options, which chain
# of strategies each escalates through, how many tries in what window).
# Invariants: option values are ints (ms, counts, per-mille, bytes); probe_critical is on
# for every unit (a failing liveness or startup probe is that detector), with `restart` as
# its default chain, so today's liveness restart is the default escalation.
# Not here: detecting (kernel/detectors.py), escalating (kernel/faults.py), acting
# (kernel/recovery.py).
from micropython import const

from kernel import params

FAILURES = const(0)  # N failures (abnormal exits) in T
EXCEPTION = const(1)  # a run ended with one of the given exception types
LATENCY = const(2)  # an instance's p99 above a bound for T
FLAPPING = const(3)  # k health/readiness changes in T
PROBE_CRITICAL = const(4)  # liveness or startup probe failed past its threshold
CPU_QUOTA = const(5)  # % CPU of its task above a quota for T
ALLOC_QUOTA = const(6)  # bytes allocated per second above a quota for T
BREAKER_OPEN = const(7)  # its circuit breaker open longer than T
DETECTOR_NAMES = (
    "failures",
    "exception",
    "latency",
    "flapping",
    "probe_critical",
    "cpu_quota",
    "alloc_quota",
    "breaker_open",
)
HELD = (LATENCY, CPU_QUOTA, ALLOC_QUOTA, BREAKER_OPEN)  # checked on the fault tick

RESTART = const(0)
RESTART_WITH_DELAY = const(1)
SCALE_UP = const(2)
SCALE_DOWN = const(3)
FAILOVER = const(4)
CIRCUIT_BREAKER_RESET = const(5)
CONFIG_RELOAD = const(6)
STRATEGY_NAMES = (
    "restart",
    "restart_with_delay",
    "scale_up",
    "scale_down",
    "failover",
    "circuit_breaker_reset",
    "config_reload",
)

# What a detector escalates through when the unit's `escalation` does not name it.
DEFAULT_CHAIN = (
    (RESTART_WITH_DELAY,),  # failures
    (RESTART,),  # exception
    (SCALE_UP,),  # latency
    (RESTART_WITH_DELAY,),  # flapping
    (RESTART,),  # probe_critical: today's liveness restart
    (RESTART,),  # cpu_quota
    (RESTART,),  # alloc_quota
    (CIRCUIT_BREAKER_RESET,),  # breaker_open
)

# Options per detector: name -> (default, kind); kind 'n' a count, 'ms' seconds given
# (kept as ms), 'names' a list of exception type names.
OPTIONS = (
    {"count": (params.FAULT_FAILURES, "n"), "window_sec": (params.FAULT_FAILURES_WINDOW_MS, "ms")},
    {"types": ((), "names")},
    {"p99_ms": (params.FAULT_P99_MS, "n"), "for_sec": (params.FAULT_LATENCY_FOR_MS, "ms")},
    {"changes": (params.FAULT_FLAPS, "n"), "window_sec": (params.FAULT_FLAP_WINDOW_MS, "ms")},
    {},
    {"pct": (params.FAULT_CPU_PCT, "n"), "for_sec": (params.FAULT_QUOTA_FOR_MS, "ms")},
    {"b_per_s": (params.FAULT_ALLOC_B_PER_S, "n"), "for_sec": (params.FAULT_QUOTA_FOR_MS, "ms")},
    {"open_sec": (params.FAULT_BREAKER_OPEN_MS, "ms")},
)


def _err(name, key, msg):
    from kernel.units import UnitError

    return UnitError("unit %s: '%s' %s" % (name, key, msg))


def _code(name, key, word, names, what):
    if isinstance(word, str) and word in names:
        return names.index(word)
    raise _err(name, key, "%s %r is not one of %s" % (what, word, ", ".join(names)))


def parse_escalation(name, key, v):
    """{detector: [strategy, ...]} (or its JSON text) -> {detector code: (strategy codes)}."""
    from kernel.units import json_value

    v = json_value(name, key, v, (dict,))
    out = {}
    for det in sorted(v):
        d = _code(name, key, det, DETECTOR_NAMES, "detector")
        chain = v[det]
        if isinstance(chain, str):
            chain = [chain]
        if not isinstance(chain, list) or not chain:
            raise _err(name, key, "%s must map to a list of strategies, got %r" % (det, chain))
        out[d] = tuple(_code(name, key, s, STRATEGY_NAMES, "strategy") for s in chain)
    return out


def parse_detectors(name, key, v):
    """{detector: {option: value}} (or its JSON text) -> {detector code: {option: int}}."""
    from kernel.units import _count, _ms, json_value

    v = json_value(name, key, v, (dict,))
    out = {}
    for det in sorted(v):
        d = _code(name, key, det, DETECTOR_NAMES, "detector")
        given = v[det]
        if given is None or given is True:
            given = {}
        if not isinstance(given, dict):
            raise _err(name, key, "%s must map to a dict of options, got %r" % (det, given))
        opts = OPTIONS[d]
        got = {}
        for k in sorted(given):
            if k not in opts:
                allowed = ", ".join(sorted(opts)) or "none"
                raise _err(name, key, "%s has no option %r (options: %s)" % (det, k, allowed))
            kind = opts[k][1]
            x = given[k]
            where = "%s.%s" % (key, det + "." + k)
            if kind == "ms":
                got[k] = _ms(name, where, x)
            elif kind == "n":
                got[k] = _count(name, where, x)
            else:
                if isinstance(x, str):
                    x = [x]
                if not isinstance(x, list) or not all(isinstance(t, str) for t in x):
                    raise _err(name, where, "must be a list of exception names, got %r" % (x,))
                got[k] = tuple(x)
        out[d] = got
    return out


class Spec:
    """One unit's fault policy, resolved against the defaults."""

    def __init__(self, unit):
        self.unit = unit
        esc = unit.escalation or {}
        dets = unit.detectors or {}
        self.on = [PROBE_CRITICAL]  # detector codes in effect, in code order
        for d in range(len(DETECTOR_NAMES)):
            if d != PROBE_CRITICAL and (d in esc or d in dets):
                self.on.append(d)
        self.on.sort()
        self.chains = {d: esc.get(d, DEFAULT_CHAIN[d]) for d in self.on}
        self.opts = {}
        for d in self.on:
            o = {k: v[0] for k, v in OPTIONS[d].items()}
            o.update(dets.get(d, {}))
            self.opts[d] = o
        t = unit.escalation_tries
        self.tries = unit.burst if t is None else t  # default: the unit's start limit
        w = unit.escalation_window_ms
        self.window_ms = unit.interval_ms if w is None else w
        self.held = [d for d in self.on if d in HELD]

    def has(self, d):
        return d in self.chains

    def opt(self, d, key):
        return self.opts[d][key]
