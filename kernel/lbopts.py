# kernel/lbopts: checking a balancer configuration: a strategy name and its flat options,
# from set_strategy(), the shell (`lb strategy web maglev table_size=4093`: text values)
# or a unit's `balancer: {strategy, options}` field.
#
# Owns: which options each strategy takes, their ranges and defaults (kernel/params.py),
# and the one-line errors naming what was wrong and what was expected.
# Invariants: check() returns a complete, normalized option dict (every option the strategy
# takes, durations in ms under *_ms keys) or raises ValueError; it never half-applies.
# Not here: applying them (kernel/balancer.py), the strategies (kernel/lbstrat.py).
from kernel import lbstrat as L
from kernel import params

COMMON = ("panic_threshold", "drain_sec")
_OWN = {  # options only some strategies take
    "slow_start_sec": L.WEIGHTED,
    "vnodes": (L.CONSISTENT_HASH,),
    "table_size": (L.MAGLEV,),
    "seed": (L.RANDOM, L.P2C),
}


def takes(code):
    """The option names strategy `code` accepts, in display order."""
    own = tuple(k for k in ("slow_start_sec", "vnodes", "table_size", "seed") if code in _OWN[k])
    return own + COMMON


def strategy_code(who, name):
    if isinstance(name, str) and name.strip().lower() in L.NAMES:
        return L.NAMES.index(name.strip().lower())
    raise ValueError(
        "%s: unknown strategy %r (expected one of %s)" % (who, name, ", ".join(L.NAMES))
    )


def maglev_default():
    """65537 entries (Envoy's default) on a big heap, params.LB_MAGLEV_TABLE_SMALL on the
    boards: memory (and a board's CPU) says so."""
    import gc

    if gc.mem_free() + gc.mem_alloc() >= params.LB_MAGLEV_BIG_HEAP_B:
        return params.LB_MAGLEV_TABLE
    return params.LB_MAGLEV_TABLE_SMALL


def _is_prime(n):
    if n < 2 or n % 2 == 0:
        return n == 2
    d = 3
    while d * d <= n:
        if n % d == 0:
            return False
        d += 2
    return True


def _int(who, key, v, lo, hi):
    n = None
    if isinstance(v, int) and not isinstance(v, bool):
        n = v
    elif isinstance(v, str) and v.strip().lstrip("-").isdigit():
        n = int(v.strip())
    if n is None or not lo <= n <= hi:
        raise ValueError("%s: '%s' must be an int in %d..%d, got %r" % (who, key, lo, hi, v))
    return n


def _pct(who, key, v):
    s = v.strip().rstrip("%") if isinstance(v, str) else v
    try:
        p = float(s) if isinstance(s, str) else s
    except ValueError:
        p = None
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 100:
        raise ValueError("%s: '%s' must be a percentage in 0..100, got %r" % (who, key, v))
    return int(p)


def _ms(who, key, v):
    from kernel import units

    try:
        return units._ms(who, key, v)
    except units.UnitError as e:  # 'unit WHO: ...' -> 'WHO: ...'
        raise ValueError(str(e)[5:]) from None


def check(who, strategy, options):
    """-> (code, opts) for strategy name and an options dict; ValueError (one line) when the
    name, an option's name or its value is wrong. who: 'balancer web' (error prefix)."""
    code = strategy_code(who, strategy)
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ValueError("%s: options must be a dict, got %r" % (who, options))
    ok = takes(code)
    for k in options:
        if k not in ok:
            raise ValueError(
                "%s: %s takes no option %r (expected %s)" % (who, L.NAMES[code], k, ", ".join(ok))
            )
    g = options.get
    opts = {
        "panic_pct": _pct(who, "panic_threshold", g("panic_threshold", params.LB_PANIC_PCT)),
        "drain_ms": _ms(who, "drain_sec", g("drain_sec", params.LB_DRAIN_MS / 1000)),
        "slow_start_ms": 0,
    }
    if "slow_start_sec" in ok:
        opts["slow_start_ms"] = _ms(
            who, "slow_start_sec", g("slow_start_sec", params.LB_SLOW_START_MS / 1000)
        )
    if code == L.CONSISTENT_HASH:
        top = params.LB_VNODES_MAX
        opts["vnodes"] = _int(who, "vnodes", g("vnodes", params.LB_RING_VNODES), 1, top)
    if code == L.MAGLEV:
        v = g("table_size", maglev_default())
        t = _int(who, "table_size", v, 7, params.LB_TABLE_MAX)
        if not _is_prime(t):
            raise ValueError(
                "%s: 'table_size' must be a prime (e.g. 65537, 4093), got %r" % (who, v)
            )
        opts["table_size"] = t
    if code == L.RANDOM or code == L.P2C:
        s = g("seed")
        opts["seed"] = None if s is None else _int(who, "seed", s, 0, params.COUNTER_MASK)
    return code, opts


def shown(code, opts):
    """The options as a person gives them (flat names, durations in seconds)."""
    out = {}
    for k in takes(code):
        if k.endswith("_sec"):
            ms = opts[k[:-4] + "_ms"]
            out[k] = ms // 1000 if ms % 1000 == 0 else ms / 1000
        elif k == "panic_threshold":
            out[k] = opts["panic_pct"]
        else:
            out[k] = opts[k]
    return out


def unit_field(name, key, v):
    """A unit's `balancer` field: {"strategy": .., "options": {..}} -> (code, opts)."""
    if not isinstance(v, dict) or "strategy" not in v:
        raise ValueError('\'%s\' must be {"strategy": NAME, "options": {..}}, got %r' % (key, v))
    for k in v:
        if k not in ("strategy", "options"):
            raise ValueError("'%s' takes strategy and options, got %r" % (key, k))
    return check("'%s'" % key, v["strategy"], v.get("options"))
