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
from kernel.heap import presize

try:
    from _knames import get as _c_get
except ImportError:
    _c_get = None

_SIZE0 = 8  # slots of an empty map (a power of two)


class Names:
    """name -> value with a mixed hash and linear probing; at most half full."""

    def __init__(self):
        self._keys = [None] * _SIZE0
        self._vals = [None] * _SIZE0
        self._mask = _SIZE0 - 1
        self._n = 0

    def _slot(self, name):
        # The slot holding name, or the empty slot where it belongs.
        keys = self._keys
        mask = self._mask
        h = hash(name)
        i = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
        while True:
            k = keys[i]
            if k is None or k == name:
                return i
            i = (i + 1) & mask

    def get(self, name, default=None):
        keys = self._keys  # _slot inlined: this is the lookup every API call makes
        mask = self._mask
        h = hash(name)
        i = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
        while True:
            k = keys[i]
            if k is None:
                return default
            if k == name:
                return self._vals[i]
            i = (i + 1) & mask

    py_get = get  # the Python one (get calls the C twin where built)

    def __getitem__(self, name):
        i = self._slot(name)
        if self._keys[i] is None:
            raise KeyError(name)
        return self._vals[i]

    def __setitem__(self, name, value):
        i = self._slot(name)
        if self._keys[i] is None:
            if 2 * (self._n + 1) > len(self._keys):
                self._grow()
                i = self._slot(name)
            self._keys[i] = name
            self._n += 1
        self._vals[i] = value

    def __contains__(self, name):
        return self._keys[self._slot(name)] is not None

    def __len__(self):
        return self._n

    def pop(self, name, default=None):
        keys = self._keys
        vals = self._vals
        mask = self._mask
        i = self._slot(name)
        if keys[i] is None:
            return default
        value = vals[i]
        j = i
        while True:  # shift back the entries of the run that belong at or before the hole
            j = (j + 1) & mask
            k = keys[j]
            if k is None:
                break
            h = hash(k)
            home = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
            if (j - home) & mask >= (j - i) & mask:  # home is not in (i, j]: move it to i
                keys[i] = k
                vals[i] = vals[j]
                i = j
        keys[i] = None
        vals[i] = None
        self._n -= 1
        return value

    def drop_where(self, fn):
        """Remove every entry whose value v has fn(v) true, in place: no list of the keys
        (at thousands of names that list was the one block of 2 KB a fragmented heap could
        not find). Returns how many were removed."""
        keys = self._keys
        vals = self._vals
        n = 0
        i = 0
        while i < len(keys):
            if keys[i] is not None and fn(vals[i]):
                self.pop(keys[i])  # the run shifts back into slot i: look at it again
                n += 1
            else:
                i += 1
        return n

    def reserve(self, n):
        """Room for n names without growing again. A table grown late, in a heap cut up by
        thousands of services, needs two blocks that long which the heap may not have
        (discovery's at ~4,100 services on ARM: two 64 KB lists): make it while it has."""
        size = len(self._keys)
        if 2 * n > size:
            while 2 * n > size:
                size *= 2
            self._grow(size)

    def _grow(self, size=0):
        # Both new lists first: a MemoryError on the second (thousands of services, no
        # block that long) left the map with new empty keys beside the old values, every
        # entry lost and each later call an error ('a Names out of shape'). Now it stays
        # as it was, and the insert that needed the room raises.
        keys = self._keys
        vals = self._vals
        size = size or 2 * len(keys)
        new_keys = [None] * size
        new_vals = [None] * size
        mask = size - 1
        for i in range(len(keys)):
            k = keys[i]
            if k is not None:
                h = hash(k)
                j = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
                while new_keys[j] is not None:
                    j = (j + 1) & mask
                new_keys[j] = k
                new_vals[j] = vals[i]
        self._keys = new_keys
        self._vals = new_vals
        self._mask = mask

    def __iter__(self):
        for k in self._keys:
            if k is not None:
                yield k

    def keys(self):
        return [k for k in self._keys if k is not None]

    def values(self):
        vals = self._vals
        return [vals[i] for i in range(len(vals)) if self._keys[i] is not None]

    def items(self):
        vals = self._vals
        return [(k, vals[i]) for i, k in enumerate(self._keys) if k is not None]


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
