# kernel/names: a map from names (str) to values, O(1) per lookup at any size.
#
# Owns: Names, the service manager's tables keyed by unit name (services, the journal's rate
# state, the reverse dependency and conflict indexes). Why not a dict: MicroPython's str hash
# is 16-bit djb2, and names that differ in their last characters (web1, web2, ...) hash to
# neighbouring values; a dict probes linearly from `hash % size`, so such keys pile up in long
# runs. Measured on the unix port, a dict get of 'idleN' names cost 0.3 us at 200 keys and
# 2.3-4 us at 2,000 (50x that on the ARM board, where a service_status lookup cost ~0.3 ms).
# Names mixes the hash first (the multiplier kernel/deps.py's Index uses: mean probe length
# 1.4-1.9 for such names up to 10,000) and stays at most half full. Deletion shifts the run
# back (no tombstones). Small ints only (no big ints on 32-bit boards).
# The dict API subset the kernel uses: get, [], []=, in, len, pop, iteration (keys), keys(),
# values(), items(). Not here: ordering (iteration is in slot order; sort when it matters).
# Ids: the same idea for task ids (ints hash well; the trouble there is one big table).
# Where the build has _knames (boards/common/modknames.c), lookup() and Names.get are its
# get: the same probe in one C call (discovery's exact lookup, tools/bench_health.py).
from micropython import const

from kernel.heap import presize

try:
    from _knames import get as _c_get
    from _knames import move as _c_move
except ImportError:
    _c_get = None
    _c_move = None

_SIZE0 = 8  # slots of an empty map (a power of two)
# Slots live in pages of at most 128 (two lists of 512 B on ARM, 1 KB on x86_64): one list
# of 32,768 slots (128 KB) for 10,000 names is a block a heap cut up by thousands of
# services does not have (measured: 5.5 MB free beside 11,100 units on ARM, and no 128 KB
# run in it). Slot i is page i >> _PSHIFT, offset i & _PMASK.
_PSHIFT = const(7)
_PAGE = const(128)
_PMASK = const(127)


def _pages(size):
    # size slots (a power of two) as pages of None; a small map is one page of size slots.
    n = size >> _PSHIFT
    if n <= 1:
        return [[None] * size]
    out = [None] * n
    for p in range(n):
        out[p] = [None] * _PAGE
    return out


class Names:
    """name -> value with a mixed hash and linear probing; at most half full. Its slots are
    pages of keys (_kp) and values (_vp): no block grows with the number of names but the
    page lists (4 B a page)."""

    def __init__(self):
        self._kp = [[None] * _SIZE0]
        self._vp = [[None] * _SIZE0]
        self._mask = _SIZE0 - 1
        self._n = 0
        self._followers = None  # maps sized with this one (follow)

    def follow(self, other):
        """Size `other` (a map keyed by the same names) with this one from now on: each time
        this one grows, other gets as many slots, so other's inserts never grow it (a
        growth is O(n) in one go: at thousands of names, inside a task's step, it was past
        the step watchdog's budget). The service manager's table leads the tables kept per
        service (discovery's, the metrics' Recs): they grow when a unit is created."""
        if self._followers is None:
            self._followers = []
        self._followers.append(other)
        other.reserve((self._mask + 1) // 2)

    def slots(self):
        """The slots it has (twice the names it holds at most)."""
        return self._mask + 1

    def _slot(self, name):
        # The slot holding name, or the empty slot where it belongs.
        kp = self._kp
        mask = self._mask
        h = hash(name)
        i = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
        while True:
            k = kp[i >> _PSHIFT][i & _PMASK]
            if k is None or k == name:
                return i
            i = (i + 1) & mask

    def get(self, name, default=None):
        kp = self._kp  # _slot inlined: this is the lookup every API call makes
        mask = self._mask
        h = hash(name)
        i = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
        while True:
            k = kp[i >> _PSHIFT][i & _PMASK]
            if k is None:
                return default
            if k == name:
                return self._vp[i >> _PSHIFT][i & _PMASK]
            i = (i + 1) & mask

    py_get = get  # the Python one (get calls the C twin where built)

    def __getitem__(self, name):
        i = self._slot(name)
        if self._kp[i >> _PSHIFT][i & _PMASK] is None:
            raise KeyError(name)
        return self._vp[i >> _PSHIFT][i & _PMASK]

    def __setitem__(self, name, value):
        i = self._slot(name)
        if self._kp[i >> _PSHIFT][i & _PMASK] is None:
            if 2 * (self._n + 1) > self._mask + 1:
                self._grow()
                i = self._slot(name)
            self._kp[i >> _PSHIFT][i & _PMASK] = name
            self._n += 1
        self._vp[i >> _PSHIFT][i & _PMASK] = value

    def __contains__(self, name):
        i = self._slot(name)
        return self._kp[i >> _PSHIFT][i & _PMASK] is not None

    def __len__(self):
        return self._n

    def pop(self, name, default=None):
        kp = self._kp
        vp = self._vp
        mask = self._mask
        i = self._slot(name)
        if kp[i >> _PSHIFT][i & _PMASK] is None:
            return default
        value = vp[i >> _PSHIFT][i & _PMASK]
        j = i
        while True:  # shift back the entries of the run that belong at or before the hole
            j = (j + 1) & mask
            k = kp[j >> _PSHIFT][j & _PMASK]
            if k is None:
                break
            h = hash(k)
            home = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
            if (j - home) & mask >= (j - i) & mask:  # home is not in (i, j]: move it to i
                kp[i >> _PSHIFT][i & _PMASK] = k
                vp[i >> _PSHIFT][i & _PMASK] = vp[j >> _PSHIFT][j & _PMASK]
                i = j
        kp[i >> _PSHIFT][i & _PMASK] = None
        vp[i >> _PSHIFT][i & _PMASK] = None
        self._n -= 1
        return value

    def drop_where(self, fn):
        """Remove every entry whose value v has fn(v) true, in place: no list of the keys
        (at thousands of names that list was the one block of 2 KB a fragmented heap could
        not find). Returns how many were removed."""
        kp = self._kp
        vp = self._vp
        n = 0
        i = 0
        while i <= self._mask:
            k = kp[i >> _PSHIFT][i & _PMASK]
            if k is not None and fn(vp[i >> _PSHIFT][i & _PMASK]):
                self.pop(k)  # the run shifts back into slot i: look at it again
                n += 1
            else:
                i += 1
        return n

    def reserve(self, n):
        """Room for n names without growing again (an insert then allocates nothing)."""
        size = self._mask + 1
        if 2 * n > size:
            while 2 * n > size:
                size *= 2
            self._grow(size)

    def _grow(self, size=0):
        # Both new page sets first: a MemoryError on the second (thousands of services, a
        # heap with no room) left the map with new empty keys beside the old values, every
        # entry lost and each later call an error ('a Names out of shape'). Now it stays
        # as it was, and the insert that needed the room raises.
        kp = self._kp
        vp = self._vp
        size = size or 2 * (self._mask + 1)
        nkp = _pages(size)
        nvp = _pages(size)
        mask = size - 1
        if self._followers is not None:
            for f in self._followers:
                f.reserve(size // 2)  # (a MemoryError here: this one is as it was)
        if _c_move is not None:
            _c_move(kp, vp, nkp, nvp, mask)
            self._kp = nkp
            self._vp = nvp
            self._mask = mask
            return
        for p in range(len(kp)):
            keys = kp[p]
            vals = vp[p]
            for o in range(len(keys)):
                k = keys[o]
                if k is not None:
                    h = hash(k)
                    j = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
                    while nkp[j >> _PSHIFT][j & _PMASK] is not None:
                        j = (j + 1) & mask
                    nkp[j >> _PSHIFT][j & _PMASK] = k
                    nvp[j >> _PSHIFT][j & _PMASK] = vals[o]
        self._kp = nkp
        self._vp = nvp
        self._mask = mask

    def __iter__(self):
        for keys in self._kp:
            for k in keys:
                if k is not None:
                    yield k

    def keys(self):
        return [k for k in self]

    def values(self):
        kp = self._kp
        vp = self._vp
        return [
            vp[p][o] for p in range(len(kp)) for o in range(len(kp[p])) if kp[p][o] is not None
        ]

    def items(self):
        kp = self._kp
        vp = self._vp
        return [
            (kp[p][o], vp[p][o])
            for p in range(len(kp))
            for o in range(len(kp[p]))
            if kp[p][o] is not None
        ]


# lookup(m, name, default=None): m.get(name, default) without the method call, for the
# hot callers (discovery's exact lookup). A builtin function in a Python class is a
# staticmethod to MicroPython (it binds no self), so Names.get wraps it.
if _c_get is not None:
    lookup = _c_get

    def _get(self, name, default=None):
        return _c_get(self, name, default)

    Names.get = _get
else:
    lookup = Names.py_get


_ID_SHIFT = 4  # Ids: 16 ids per chunk (a table of 128 B on ARM, made at its first id)
_ID_CHUNKS = 1024  # Ids: chunks its table of chunks holds before it regrows (16,384 ids)
_MISSING = object()


class Ids:
    """int id -> value (task ids) in dicts of at most 16 ids each: a dict of 10,000 ids
    needs one table of ~39 KB (ARM), which a heap fragmented by thousands of services may
    not have (measured: MemoryError at ~3,300 started services); 256-id chunks (2,344 B)
    failed the same way at 1,500 of 10,000, with 3.9 MB free in smaller holes, and 64-id
    chunks (512 B) at 6,760 on the kernel's manager, 1.48 MB free. The dict API subset
    the kernel uses: get, [], []=, in, len, pop, values()."""

    def __init__(self):
        # id >> _ID_SHIFT -> {id: value}. Its table is made now (8 KB on ARM): grown late (of
        # 64-id chunks, at 127 -> 167), it needed 1,336 B in one piece when 6,191 started
        # services had left 3.2 MB free in smaller holes (MemoryError). Deleted chunks'
        # slots are reused.
        self._chunks = presize({}, _ID_CHUNKS)
        self._n = 0

    def get(self, k, default=None):
        c = self._chunks.get(k >> _ID_SHIFT)
        return default if c is None else c.get(k, default)

    def __getitem__(self, k):
        v = self.get(k, _MISSING)
        if v is _MISSING:
            raise KeyError(k)
        return v

    def __setitem__(self, k, value):
        c = self._chunks.get(k >> _ID_SHIFT)
        if c is None:  # its table made once for the chunk's 16 ids (not 8, then 17 slots)
            c = self._chunks[k >> _ID_SHIFT] = presize({}, 1 << _ID_SHIFT)
        if k not in c:
            self._n += 1
        c[k] = value

    def __contains__(self, k):
        c = self._chunks.get(k >> _ID_SHIFT)
        return c is not None and k in c

    def __len__(self):
        return self._n

    def pop(self, k, default=None):
        c = self._chunks.get(k >> _ID_SHIFT)
        if c is None or k not in c:
            return default
        self._n -= 1
        value = c.pop(k)
        if not c:
            del self._chunks[k >> _ID_SHIFT]
        return value

    def values(self):
        return [v for c in self._chunks.values() for v in c.values()]
