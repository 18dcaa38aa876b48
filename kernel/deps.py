# kernel/deps: the unit dependency graph: what a start pulls in, in which order, and cycles.
#
# Owns: requirement (`requires`, `wants`: what is pulled in) kept apart from ordering
# (`after`, `before`: who waits for whom), as systemd does, with one addition: `requires`
# also orders (a unit starts after what it requires; `wants` does not order). Everything is
# linear in units + edges: a breadth-first closure, Kahn's topological sort over integer
# indexes, and a cycle walk that names every member in order (`cycle: a -> b -> c -> a`,
# read "a starts after b, which starts after c, ..."). `get(name)` looks a Unit up.
# Not here: starting anything (kernel/manager.py), parsing units (kernel/units.py).
from kernel.units import UnitError


class CycleError(UnitError):
    """An ordering cycle; nothing was started. `members` lists the names in order."""

    def __init__(self, members):
        super().__init__("cycle: " + " -> ".join(members + [members[0]]))
        self.members = members


def closure(get, roots):
    """Names of roots plus everything they require or want, transitively, roots first.
    A missing required unit is an error; a missing wanted one is skipped (systemd).
    `seen` holds Unit objects: their hash (the address) spreads better than names'."""
    if len(roots) == 1:  # one unit that pulls nothing in (start_service): no set, no lists
        u = get(roots[0])
        if u is not None and not u.requires and not u.wants:
            return [u.name]
    seen = set()
    out = []
    for r in roots:
        u = get(r)
        if u is None:
            raise UnitError("unit %s: no such unit" % r)
        if u not in seen:
            seen.add(u)
            out.append(u)
    i = 0
    while i < len(out):
        u = out[i]
        i += 1
        for names, required in ((u.requires, True), (u.wants, False)):
            for n in names:
                d = get(n)
                if d is None:
                    if required:
                        raise UnitError(
                            "unit %s: 'requires' names %s, which does not exist" % (u.name, n)
                        )
                elif d not in seen:
                    seen.add(d)
                    out.append(d)
    return [u.name for u in out]


class Index:
    """name -> position in `names`: open addressing over a list, at most half full.
    MicroPython's str hash is short (16 bits here) and clusters for names like web1, web2,
    ...; a dict of 10,000 such names was measured 3-7x slower per lookup than this, and
    slower per entry as it grew. Mixing the hash and keeping the table half empty keeps
    each lookup O(1) at any size. Small ints only (no big-int allocation on 32-bit)."""

    def __init__(self, names):
        size = 4
        while size < 2 * len(names):
            size <<= 1
        self.mask = mask = size - 1
        self.names = names
        self.slots = slots = [-1] * size
        for i in range(len(names)):
            h = hash(names[i])
            h = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
            while slots[h] >= 0:
                h = (h + 1) & mask
            slots[h] = i

    def find(self, name):
        """The position of name, or -1."""
        mask = self.mask
        slots = self.slots
        names = self.names
        h = hash(name)
        h = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask
        while True:
            i = slots[h]
            if i < 0 or names[i] == name:
                return i
            h = (h + 1) & mask


def build(get, names):
    """Ordering edges among `names` -> (succ, pend). succ is (start, adj), compressed rows:
    adj[start[i]:start[i + 1]] lists (j << 1 | required) for every j that starts after i;
    pend[j] counts the edges into j. Two flat lists, not one list per unit: less heap."""
    find = Index(names).find
    units = [None] * len(names)
    m = 0
    for i in range(len(names)):
        u = units[i] = get(names[i])
        m += len(u.after) + len(u.requires) + len(u.before)
    # Edge i -> j as src[k] = i, dst[k] = j << 1 | required. Sized once: growing big lists
    # by append makes the allocator search a large heap again and again (superlinear).
    src = [0] * m
    dst = [0] * m
    k = 0
    for j in range(len(names)):
        u = units[j]
        for name in u.after:
            i = find(name)
            if i >= 0:
                src[k] = i
                dst[k] = j << 1
                k += 1
        for name in u.requires:
            i = find(name)
            if i >= 0:
                src[k] = i
                dst[k] = j << 1 | 1
                k += 1
        for name in u.before:
            i = find(name)
            if i >= 0:
                src[k] = j
                dst[k] = i << 1
                k += 1
    return rows(len(names), src, dst, k)


def rows(n, src, dst, m=None):
    """The first m edges src[k] -> dst[k] >> 1 as ((start, adj), pend): a counting sort by
    source, so adj[start[i]:start[i + 1]] are the edges out of i."""
    if m is None:
        m = len(src)
    start = [0] * (n + 1)
    for k in range(m):
        start[src[k] + 1] += 1
    for i in range(n):
        start[i + 1] += start[i]
    fill = start[:n]
    adj = [0] * m
    pend = [0] * n
    for k in range(m):
        i = src[k]
        e = dst[k]
        adj[fill[i]] = e
        fill[i] += 1
        pend[e >> 1] += 1
    return (start, adj), pend


def reverse(succ, n):
    """The same edges backwards, without the required flag (stop order)."""
    start, adj = succ
    src = [0] * len(adj)
    dst = [0] * len(adj)
    for i in range(n):
        for k in range(start[i], start[i + 1]):
            src[k] = adj[k] >> 1
            dst[k] = i << 1
    return rows(n, src, dst)


def toposort(succ, pend):
    """Kahn's algorithm: indexes in start order (ties in index order), all when acyclic."""
    start, adj = succ
    n = len(pend)
    left = list(pend)
    order = [0] * n  # sized once (see build)
    top = 0
    for i in range(n):
        if left[i] == 0:
            order[top] = i
            top += 1
    k = 0
    while k < top:
        i = order[k]
        k += 1
        for e in range(start[i], start[i + 1]):
            j = adj[e] >> 1
            left[j] -= 1
            if left[j] == 0:
                order[top] = j
                top += 1
    if top < n:
        del order[top:]
    return order


def find_cycle(names, succ, order):
    """The members of one cycle among the nodes toposort() could not order, in order."""
    start, adj = succ
    placed = bytearray(len(names))
    for i in order:
        placed[i] = 1
    pred = {}  # node -> one unplaced predecessor (every unplaced node has one)
    for i in range(len(names)):
        if not placed[i]:
            for e in range(start[i], start[i + 1]):
                j = adj[e] >> 1
                if not placed[j] and j not in pred:
                    pred[j] = i
    first = min(pred)
    pos = {}
    path = []
    x = first
    while x not in pos:
        pos[x] = len(path)
        path.append(x)
        x = pred[x]
    return [names[i] for i in path[pos[x] :]]


def resolve(get, roots=None, all_names=None):
    """Start order (names) of roots and what they pull in (of all_names when roots is
    None); stop order is its reverse. Raises CycleError or UnitError; starts nothing."""
    names = closure(get, roots) if roots is not None else list(all_names)
    succ, pend = build(get, names)
    order = toposort(succ, pend)
    if len(order) < len(names):
        raise CycleError(find_cycle(names, succ, order))
    return [names[i] for i in order]
