# kernel/lbhash: the balancer's hashing strategies and the 30-bit key hash they share.
#
# Owns: mix30 / hash_str / hash_key (30 bits: no big ints on the 32-bit boards; a bounded
# cache of text keys' hashes, so a pick with a key seen before allocates nothing), ip_hash
# (NGINX), the ketama ring (consistent_hash) and the Maglev table, and how their tables are
# (re)built: at once outside a kernel task, as their own task inside one (see _Table).
# Invariants: a pick allocates nothing; a table indexes the candidate list it was built
# over (tc) and a member that is no longer a candidate (m.cgen != pool.gen) is walked past.
# Not here: the other strategies and the vocabulary (kernel/lbstrat.py).
from micropython import const

from kernel import params
from kernel.lbstrat import rr_pick, usable

_M30 = const(0x3FFFFFFF)  # params.COUNTER_MASK: 30 bits, small ints on 32-bit boards
_M15 = const(0x7FFF)
_M23 = const(0x7FFFFF)
_RING_IDX_BITS = const(10)  # low bits of a ring point that name its owner (1,024 members)


def _mul30(a, bh, bl):
    # a * b mod 2**30 for b = bh << 15 | bl, in 15-bit halves: no big ints on 32-bit boards.
    al = a & _M15
    lo = al * bl
    hi = ((a >> 15) * bl & _M15) + (al * bh & _M15) + (lo >> 15)
    return (hi & _M15) << 15 | lo & _M15


def mix30(h):
    """A bijection on 30-bit ints with good avalanche (murmur's finalizer, 30-bit)."""
    h ^= h >> 15
    h = _mul30(h, 0x5A3B, 0x2C6D)
    h ^= h >> 13
    h = _mul30(h, 0x1B87, 0x3593)
    return h ^ h >> 16


def hash_str(s, end=-1):
    """The 30-bit hash of text s (of s[:end] when end >= 0): rotate-xor over the characters,
    then mix30. s[i] is a new 1-character string unless that character is interned, so
    picks go through hash_key's cache."""
    n = len(s) if end < 0 else end
    h = n
    for i in range(n):
        h = ((h & _M23) << 7 | h >> 23) ^ ord(s[i])
    return mix30(h & _M30)


_hashes = ({}, {})  # text key -> its hash, whole and (ip_hash) of its first three octets


def cached(key, ip):
    """hash_str of a text key (ip: of an IPv4 key's first three octets), from a bounded
    cache: a key seen before costs one dict lookup and allocates nothing."""
    d = _hashes[1 if ip else 0]
    h = d.get(key)
    if h is None:
        h = hash_str(key, key.rfind(".") if ip else -1)
        if len(d) >= params.LB_KEY_CACHE:
            d.clear()
        d[key] = h
    return h


def hash_key(key):
    """The 30-bit hash of a request key: text, an int, or anything else by its str()."""
    if isinstance(key, str):
        return cached(key, False)
    if isinstance(key, int):
        return mix30(key & _M30)
    return hash_str(str(key))


class IpHash:
    """NGINX ip_hash: an IPv4 key hashes its first three octets, any other key whole;
    candidate hash % n, rehashed up to params.LB_HASH_TRIES times past unusable ones, then
    round robin. No key: round robin. (Membership changes move most keys: use
    consistent_hash or maglev where that matters.)"""

    def pick(self, pool, key, tok):
        c = pool.cands
        n = len(c)
        if key is None or n == 0:
            return rr_pick(pool, tok)
        if isinstance(key, str) and key.count(".") == 3:
            h = cached(key, True)
        else:
            h = hash_key(key)
        for _ in range(params.LB_HASH_TRIES):
            m = c[h % n]
            if usable(m, tok):
                return m
            h = mix30(h + 1 & _M30)
        return rr_pick(pool, tok)


class _Table:
    """What Ring and Maglev share: a table built over one candidate list (tc, at pool
    generation gen). Inside a kernel task the (re)build runs as its own task, a few ms per
    step (a 65537-entry Maglev table takes seconds on a board: a pick must never run into
    the step watchdog); meanwhile picks use the previous table, skipping members that are
    no longer candidates (m.cgen), and before the first one they go round robin. Outside a
    task (boot, tests, benchmarks) the build runs at once."""

    gen = -1  # the pool generation the current table was built for
    tc = None  # the candidate list it indexes
    task = None  # the build task while one runs

    def ready(self, pool):
        if self.gen != pool.gen and self.task is None:
            self.task = pool.spawn(self._build, "lb-build")
            if self.task is None:
                for _ in self.steps(pool.cands):
                    pass
                self.gen = pool.gen
        return self.tc is not None

    async def _build(self, pool):
        from kernel.traps import yield_

        try:
            while self.gen != pool.gen:
                g = pool.gen
                for _ in self.steps(pool.cands):
                    await yield_()
                self.gen = g
        finally:
            self.task = None

    def pick(self, pool, key, tok):
        if key is None or not pool.cands or not self.ready(pool):
            return rr_pick(pool, tok)
        m = self.lookup(hash_key(key), pool.gen, tok)
        return m if m is not None else rr_pick(pool, tok)


def _current(m, gen, tok):
    return m.cgen == gen and usable(m, tok)


class Ring(_Table):
    """Consistent hashing on a ring (ketama): vnodes points per unit of weight and member;
    a key goes to the first point at or after its hash, walking on past unusable members.
    When a member leaves only its points go, so only its keys move. A point is one small
    int, its position's high bits over the owner's candidate index in the low bits, so the
    ring is one sorted int array (a C sort); a member's points are computed once (m.ring)."""

    def __init__(self, vnodes):
        self.vnodes = vnodes
        self.points = None  # array('i'), sorted
        self.mask = 0  # the owner bits of a point

    def _points(self, m, k):
        r = m.ring
        if r is not None and r[0] == k:
            return r[1]
        from array import array

        pts = array("i", bytearray(4 * k))
        h = hash_str(m.name)
        x = h
        for i in range(k):  # one mix per point, a chain keyed by the name
            x = mix30(x ^ h ^ i)
            pts[i] = x
        m.ring = (k, pts)
        return pts

    def steps(self, c):
        from array import array

        bits = _RING_IDX_BITS  # fixed, so a member leaving moves no other member's points
        while 1 << bits < len(c):
            bits += 1
        mask = (1 << bits) - 1
        total = 0
        for m in c:
            total += m.weight * self.vnodes
        scale = max(1, (total + params.LB_RING_POINTS_MAX - 1) // params.LB_RING_POINTS_MAX)
        keys = []
        for idx, m in enumerate(c):
            for p in self._points(m, m.weight * self.vnodes // scale or 1):
                keys.append(p & ~mask | idx)
            yield
        keys.sort()
        self.points = array("i", keys)
        self.mask = mask
        self.tc = c

    def lookup(self, h, gen, tok):
        pts = self.points
        n = len(pts)
        lo = 0
        hi = n
        while lo < hi:  # first point >= h
            mid = (lo + hi) >> 1
            if pts[mid] < h:
                lo = mid + 1
            else:
                hi = mid
        mask = self.mask
        c = self.tc
        for _ in range(n):
            if lo >= n:
                lo = 0
            m = c[pts[lo] & mask]
            if _current(m, gen, tok):
                return m
            lo += 1
        return None


class Maglev(_Table):
    """Google's Maglev lookup table (NSDI 2016) of `size` entries (a prime), weighted as
    Envoy does (a member fills a slot in a round only while behind its share); a key goes
    to table[hash % size], walking on past unusable members. One of N leaving moves about
    1/N of the keys."""

    def __init__(self, size):
        self.size = size
        self.table = None  # array('H'): candidate index + 1 per entry

    def steps(self, c):
        from array import array

        size = self.size
        n = len(c)
        t = array("H", bytearray(2 * size))  # 0: empty
        pos = [0] * n
        skip = [0] * n
        fills = [0] * n
        maxw = 1
        for i, m in enumerate(c):
            h = hash_str(m.name)
            pos[i] = mix30(h ^ 0x2545F491) % size
            skip[i] = mix30(h ^ 0x1E3779B9) % (size - 1) + 1
            maxw = max(maxw, m.weight)
        filled = 0
        rnd = 0
        work = 0
        step = params.LB_TABLE_STEP
        while filled < size and n:
            rnd += 1
            for i in range(n):
                w = c[i].weight
                if fills[i] * maxw >= rnd * w:
                    continue  # ahead of its share this round
                p = pos[i]
                s = skip[i]
                while t[p]:
                    p += s
                    if p >= size:
                        p -= size
                    work += 1
                    if work >= step:  # the last fills probe up to `size` entries
                        work = 0
                        yield
                t[p] = i + 1
                p += s
                pos[i] = p - size if p >= size else p
                fills[i] += 1
                filled += 1
                if filled == size:
                    break
        self.table = t
        self.tc = c

    def lookup(self, h, gen, tok):
        t = self.table
        c = self.tc
        size = self.size
        p = h % size
        for _ in range(min(size, 4 * len(c) + params.LB_HASH_TRIES)):
            m = c[t[p] - 1]
            if _current(m, gen, tok):
                return m
            p += 1
            if p == size:
                p = 0
        return None
