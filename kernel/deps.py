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
    A missing required unit is an error; a missing wanted one is skipped (systemd)."""
    seen = set()
    out = []
    for r in roots:
        if get(r) is None:
            raise UnitError("unit %s: no such unit" % r)
        if r not in seen:
            seen.add(r)
            out.append(r)
    i = 0
    while i < len(out):
        u = get(out[i])
        i += 1
        for names, required in ((u.requires, True), (u.wants, False)):
            for n in names:
                if n in seen:
                    continue
                if get(n) is None:
                    if required:
                        raise UnitError("unit %s: 'requires' names %s, which does not exist"
                                        % (u.name, n))
                    continue
                seen.add(n)
                out.append(n)
    return out


def build(get, names):
    """Ordering edges among `names` -> (succ, pend): succ[i] lists (j << 1 | required) for
    every j that starts after i; pend[j] counts the edges into j."""
    idx = {}
    for i, n in enumerate(names):
        idx[n] = i
    succ = [None] * len(names)
    pend = [0] * len(names)
    for j, n in enumerate(names):
        u = get(n)
        for m in u.after:
            i = idx.get(m)
            if i is not None:
                _edge(succ, pend, i, j, False)
        for m in u.requires:
            i = idx.get(m)
            if i is not None:
                _edge(succ, pend, i, j, True)
        for m in u.before:
            i = idx.get(m)
            if i is not None:
                _edge(succ, pend, j, i, False)
    return succ, pend


def _edge(succ, pend, i, j, required):
    s = succ[i]
    if s is None:
        succ[i] = s = []
    s.append(j << 1 | required)
    pend[j] += 1


def toposort(succ, pend):
    """Kahn's algorithm: indexes in start order (ties in index order), all when acyclic."""
    left = list(pend)
    order = [i for i in range(len(left)) if left[i] == 0]
    k = 0
    while k < len(order):
        s = succ[order[k]]
        k += 1
        if s is not None:
            for e in s:
                j = e >> 1
                left[j] -= 1
                if left[j] == 0:
                    order.append(j)
    return order


def find_cycle(names, succ, order):
    """The members of one cycle among the nodes toposort() could not order, in order."""
    placed = bytearray(len(names))
    for i in order:
        placed[i] = 1
    pred = {}  # node -> one unplaced predecessor (every unplaced node has one)
    for i in range(len(names)):
        if not placed[i] and succ[i] is not None:
            for e in succ[i]:
                j = e >> 1
                if not placed[j] and j not in pred:
                    pred[j] = i
    start = min(pred)
    pos = {}
    path = []
    x = start
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
