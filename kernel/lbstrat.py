# kernel/lbstrat: the load balancer's strategies, one small class each, over a pool's
# candidates (kernel/balancer.py keeps the pool: its candidate list, round-robin cursor,
# effective weights, RNG).
#
# Owns: the closed vocabulary (NAMES), one class per strategy with pick(pool, key, tok) ->
# Member or None, the usable() test and round robin every strategy falls back to; the
# hashing ones (ip_hash, consistent_hash, maglev) live in kernel/lbhash.py. A Member is
# usable for a pick when it is not excluded by the request (m.tried == tok) and its breaker
# (inst.breaker, duck-typed) is None or available().
# Ties (equal connections, equal latency) go round robin, as NGINX: each scan starts at the
# pool's cursor and the cursor moves past the winner, so idle members share the picks.
# Invariants: pick() allocates nothing (no lists, no floats, small ints: hashes are 30 bit,
# weights scaled by 1000 stay far below 2**30); only rebuilds allocate.
# Not here: which instances are candidates (ready, panic, draining), options, stats.
from micropython import const

ROUND_ROBIN = const(0)
LEAST_CONNECTIONS = const(1)
WEIGHTED_ROUND_ROBIN = const(2)
WEIGHTED_LEAST_CONNECTIONS = const(3)
RANDOM = const(4)
IP_HASH = const(5)
CONSISTENT_HASH = const(6)
MAGLEV = const(7)
P2C = const(8)
FASTEST_RESPONSE = const(9)
HEALTH_BASED = const(10)
NAMES = (
    "round_robin",
    "least_connections",
    "weighted_round_robin",
    "weighted_least_connections",
    "random",
    "ip_hash",
    "consistent_hash",
    "maglev",
    "p2c",
    "fastest_response",
    "health_based",
)
# Strategies that use (effective) weights, so slow start means something to them.
WEIGHTED = (WEIGHTED_ROUND_ROBIN, WEIGHTED_LEAST_CONNECTIONS, HEALTH_BASED)


def usable(m, tok):
    """May member m take this pick? (not tried by this request; breaker None or available)"""
    if m.tried == tok:
        return False
    b = m.inst.breaker
    return b is None or b.available()


def rr_pick(pool, tok):
    """Round robin from the pool's cursor: the next usable candidate."""
    c = pool.cands
    n = len(c)
    i = pool.rr
    for _ in range(n):
        if i >= n:
            i = 0
        m = c[i]
        i += 1
        if m.tried != tok:  # usable(), inlined: the hottest loop
            b = m.inst.breaker
            if b is None or b.available():
                pool.rr = i
                return m
    return None


def _nth_usable(c, r, tok):
    for m in c:
        if usable(m, tok):
            if r == 0:
                return m
            r -= 1
    return None


def _count_usable(c, tok):
    k = 0
    for m in c:
        if usable(m, tok):
            k += 1
    return k


class RoundRobin:
    def pick(self, pool, key, tok):
        return rr_pick(pool, tok)


class LeastConnections:
    """Fewest active requests, ties round robin. Weighted (NGINX least_conn): fewest active
    per effective weight, ties by smooth weighted round robin among the tied."""

    def __init__(self, weighted=False):
        self.weighted = weighted

    def pick(self, pool, key, tok):
        c = pool.cands
        n = len(c)
        if n == 0:
            return None
        if self.weighted:
            return self._weighted(c, tok)
        return _least(pool, tok, False)

    def _weighted(self, c, tok):
        best = None
        many = False
        for m in c:
            if m.ew <= 0 or m.tried == tok:
                continue
            b = m.inst.breaker  # usable(), inlined
            if b is not None and not b.available():
                continue
            if best is None or m.active * best.ew < best.active * m.ew:
                best = m
                many = False
            elif m.active * best.ew == best.active * m.ew:
                many = True
        if not many:
            return best
        a = best.active
        bew = best.ew
        total = 0
        for m in c:  # the tied ones, by smooth weighted round robin
            if m.ew > 0 and m.active * bew == a * m.ew and usable(m, tok):
                m.cw += m.ew
                total += m.ew
                if m.cw > best.cw:
                    best = m
        best.cw -= total
        return best


class SmoothWeighted:
    """NGINX's smooth weighted round robin (weights 5,1,1: a a b a c a a). health_based:
    the same over weights scaled by health (passing 100%, warning
    params.LB_WARNING_WEIGHT_PCT, critical 0: never)."""

    def __init__(self, health=False):
        self.health = health

    def pick(self, pool, key, tok):
        total = 0
        best = None
        hb = self.health
        for m in pool.cands:
            w = m.hw if hb else m.ew
            if w <= 0 or m.tried == tok:
                continue
            b = m.inst.breaker  # usable(), inlined
            if b is not None and not b.available():
                continue
            m.cw += w
            total += w
            if best is None or m.cw > best.cw:
                best = m
        if best is not None:
            best.cw -= total
        return best


class Random:
    """Uniform over the usable candidates (one draw when all are usable)."""

    def pick(self, pool, key, tok):
        c = pool.cands
        n = len(c)
        if n == 0:
            return None
        m = c[pool.rng.below(n)]
        if usable(m, tok):
            return m
        k = _count_usable(c, tok)
        return _nth_usable(c, pool.rng.below(k), tok) if k else None


class PowerOfTwo:
    """Power of two choices (Envoy's least_request): two distinct random candidates, the
    one with fewer active requests (the first drawn on a tie). Two draws when both are
    usable; else the same over the usable ones."""

    def pick(self, pool, key, tok):
        c = pool.cands
        n = len(c)
        if n < 2:
            return c[0] if n and usable(c[0], tok) else None
        rng = pool.rng
        i = rng.below(n)
        j = rng.below(n - 1)
        if j >= i:
            j += 1
        a = c[i]
        b = c[j]
        if not (usable(a, tok) and usable(b, tok)):
            k = _count_usable(c, tok)
            if k <= 1:
                return _nth_usable(c, 0, tok) if k else None
            i = rng.below(k)
            j = rng.below(k - 1)
            if j >= i:
                j += 1
            a = _nth_usable(c, i, tok)
            b = _nth_usable(c, j, tok)
        return b if b.active < a.active else a


class FastestResponse:
    """Lowest latency EWMA times (active + 1) (NGINX Plus least_time: latency and load);
    a member without a measurement scores 0, so a new one is tried first. Ties round robin."""

    def pick(self, pool, key, tok):
        if not pool.cands:
            return None
        return _least(pool, tok, True)


def _least(pool, tok, timed):
    """The usable member with the lowest score, scanning from the round-robin cursor so ties
    go round robin: active calls, or (timed) latency EWMA times (active + 1)."""
    c = pool.cands
    n = len(c)
    i = pool.rr % n
    best = None
    bs = 0
    bi = 0
    for _ in range(n):
        m = c[i]
        s = m.ewma16 * (m.active + 1) if timed else m.active
        if (best is None or s < bs) and usable(m, tok):
            best = m
            bs = s
            bi = i
        i += 1
        if i == n:
            i = 0
    if best is not None:
        pool.rr = bi + 1
    return best


def make(code, opts):
    """A strategy object for code (NAMES index) with checked options (kernel/balancer.py)."""
    if code == ROUND_ROBIN:
        return RoundRobin()
    if code == LEAST_CONNECTIONS or code == WEIGHTED_LEAST_CONNECTIONS:
        return LeastConnections(code == WEIGHTED_LEAST_CONNECTIONS)
    if code == WEIGHTED_ROUND_ROBIN or code == HEALTH_BASED:
        return SmoothWeighted(code == HEALTH_BASED)
    if code == RANDOM:
        return Random()
    if code == IP_HASH or code == CONSISTENT_HASH or code == MAGLEV:
        from kernel import lbhash

        if code == IP_HASH:
            return lbhash.IpHash()
        if code == CONSISTENT_HASH:
            return lbhash.Ring(opts["vnodes"])
        return lbhash.Maglev(opts["table_size"])
    if code == P2C:
        return PowerOfTwo()
    return FastestResponse()
