# kernel/discinst: what discovery keeps per endpoint: health codes and the Instance.
#
# Owns: PASSING / WARNING / CRITICAL (Consul's statuses, as codes and names), Instance and
# service_of(). Imported by everything that reads health (probes, the balancer); re-exported
# by kernel/discovery.py.
# Not here: the registry (kernel/discovery.py), patterns (kernel/discpat.py).
from micropython import const

from kernel.heap import presize

PASSING = const(0)
WARNING = const(1)
CRITICAL = const(2)
STATUS_NAMES = ("passing", "warning", "critical")


class Instance:
    """One endpoint of a service. `health` is 'passing', 'warning' or 'critical'; `ready`
    says whether it is in the ready set (load balancing picks from it); `index` is the
    registry index of its last change; `breaker` is the balancer's (None until it sets one)."""

    kind = None
    tags = ()
    meta = None  # dict (the balancer reads meta['weight'])
    endpoint = None  # 'host:port' text or a dict, as the unit / registrant gave it
    health = "passing"
    ready = False
    note = ""  # why it has its health / readiness (the last probe output, 'ttl expired')
    index = 0
    breaker = None
    svc = None  # the manager's Service when the manager keeps it; None: external
    expires = None  # uptime ms when an external instance's ttl runs out
    ttl_ms = 0

    def __init__(self, name, service):
        presize(self, 8)  # a service's: name, service, alone, svc, note, index, ready, health
        self.name = name
        self.service = service
        self.alone = (self,)  # what instances(name) returns for it: made once, not per call

    def is_external(self):
        return self.svc is None

    def __repr__(self):
        return "<Instance %s %s%s>" % (
            self.name,
            self.health,
            " ready" if self.ready else "",
        )


def service_of(name):
    """'web' for 'web@1' (and for 'web')."""
    i = name.find("@")
    return name if i < 0 else name[:i]
