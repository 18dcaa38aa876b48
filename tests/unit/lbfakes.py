# lbfakes: small fakes for the balancer's unit tests: a breaker with the duck-typed
# contract of /work's issue-10 note (available / allow / record / release / state_name) whose
# answers a test sets, and a pool on a fresh World with external instances. Nothing in the
# firmware imports this.
from svcfakes import World

from kernel import balancer as B
from kernel import health, lbopts


class FakeBreaker:
    """A breaker whose answers the test sets; it remembers every call."""

    def __init__(self, avail=True, allow=None):
        self.avail = avail  # what available() says
        self.permit = avail if allow is None else allow  # what allow() says
        self.allows = 0
        self.records = []  # (ok, dur_ms)
        self.releases = 0

    def available(self):
        return self.avail

    def allow(self):
        self.allows += 1
        return self.permit

    def record(self, ok, dur_ms):
        self.records.append((ok, dur_ms))

    def release(self):
        self.releases += 1

    def state_name(self):
        return "closed" if self.avail else "open"


def pool(strategy="round_robin", members=("a", "b", "c"), weights=None, **opts):
    """(world, pool) with external instances web@<name> (meta weight from weights)."""
    w = World()
    health.attach(w.m)
    bal = B.attach(w.m)
    for i, n in enumerate(members):
        meta = {"weight": weights[i]} if weights else None
        w.m.registry.register("web@" + n, meta=meta)
    p = bal.pool("web")
    p.configure(*lbopts.check("balancer web", strategy, opts))
    return w, p


def seq(p, n, key=None):
    """The names' last letters of n picks, as one string."""
    return "".join(p.pick(key, -1).name[4:] for _ in range(n))


def counts(p, n, key=None):
    out = {}
    for _ in range(n):
        k = p.pick(key, -1).name
        out[k] = out.get(k, 0) + 1
    return out


def chi2(observed, expected):
    return sum((o - e) * (o - e) / e for o, e in zip(observed, expected))
