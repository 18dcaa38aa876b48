# kernel/alertrules: what an alert rule is: the kernel's own rules and a unit's `alerts`.
#
# Owns: the severities (info | warning | critical), Rule (a condition over one service's
# series: metric, op, value, held for for_ms, with a severity; or a test function over the
# service), parse_rules() (the unit field `alerts`: a list of {name, metric, op, value,
# for_sec, severity}, one-line errors naming the rule and key) and BUILTIN, the kernel's own
# rules for every service: a probe critical, the start limit hit, the restart rate,
# allocation rate or CPU over a threshold (all in kernel/params.py).
# Invariants: a rule holds no state (kernel/alerting.py keeps what fired); a test function
# reads only the registry, the service and its Rec.
# Not here: evaluating, firing and resolving (kernel/alerting.py), the series
# (kernel/metrics.py).
from micropython import const

from kernel import metrics as M
from kernel import params
from kernel import service as S
from kernel.discinst import CRITICAL as CRITICAL_CODE  # a probe's status code

INFO = const(0)
WARNING = const(1)
CRITICAL = const(2)
SEVERITY_NAMES = ("info", "warning", "critical")
OPS = (">", ">=", "<", "<=", "==", "!=")
RULE_KEYS = ("name", "metric", "op", "value", "for_sec", "severity")


class Rule:
    """A condition on one series of a service: `metric op value`, held for for_ms."""

    def __init__(self, name, metric, op, value, for_ms=0, severity=WARNING, test=None):
        self.name = name
        self.metric = metric  # a series name of the service (kernel/metrics.py K_* or own)
        self.op = op
        self.value = value
        self.for_ms = for_ms
        self.severity = severity
        self.test = test  # fn(alerts, svc, rec) -> (bool, observed) instead of metric/op

    def holds(self, v):
        op = self.op
        if v is None:
            return False
        if op == ">":
            return v > self.value
        if op == ">=":
            return v >= self.value
        if op == "<":
            return v < self.value
        if op == "<=":
            return v <= self.value
        if op == "==":
            return v == self.value
        return v != self.value

    def describe(self):
        return "%s %s %r" % (self.metric, self.op, self.value)


def parse_rules(unit, v):
    """The unit field `alerts` (a list of dicts, or JSON text) -> tuple of Rules; raises
    ValueError with one line naming the rule and key (units.py makes it a UnitError)."""
    if isinstance(v, str):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            raise ValueError("must be a JSON list of rules, got %r" % (v,)) from None
    if not isinstance(v, (list, tuple)):
        raise ValueError("must be a list of {name, metric, op, value, for_sec, severity}")
    out = []
    for k, d in enumerate(v):
        if not isinstance(d, dict):
            raise ValueError("rule %d: must be a dict, got %r" % (k, d))
        for key in d:
            if key not in RULE_KEYS:
                raise ValueError(
                    "rule %d: unknown key '%s' (use %s)" % (k, key, ", ".join(RULE_KEYS))
                )
        name = d.get("name")
        metric = d.get("metric")
        if not isinstance(name, str) or not name or not isinstance(metric, str) or not metric:
            raise ValueError("rule %d: 'name' and 'metric' must be non-empty strings" % k)
        op = d.get("op", ">")
        if op not in OPS:
            raise ValueError("rule %s: 'op' must be one of %s, got %r" % (name, " ".join(OPS), op))
        value = d.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("rule %s: 'value' must be a number, got %r" % (name, value))
        f = d.get("for_sec", 0)
        if isinstance(f, bool) or not isinstance(f, (int, float)) or f < 0:
            raise ValueError("rule %s: 'for_sec' must be seconds >= 0, got %r" % (name, f))
        sev = d.get("severity", "warning")
        if sev not in SEVERITY_NAMES:
            raise ValueError(
                "rule %s: 'severity' must be one of %s, got %r"
                % (name, ", ".join(SEVERITY_NAMES), sev)
            )
        out.append(Rule(name, metric, op, value, int(f * 1000), SEVERITY_NAMES.index(sev)))
    return tuple(out)


# The kernel's own rules, for every service.


def _probe_critical(al, svc, rec):
    # A probe's last result was critical, as the metrics were told, except a probe that
    # has not passed yet since its service started and has not failed past its threshold
    # either: Kubernetes' initial "not ready" is no failure (it fired at every boot, for the
    # first second of heartbeat's ttl readiness). Needs the health monitor
    # (kernel/health.py) to tell; without one, the health the metrics were told.
    seen = rec.health if rec is not None else None
    if seen != "critical":
        return False, seen
    mon = getattr(al.reg.mgr, "monitor", None)
    pr = mon.probers.get(svc.name) if mon is not None else None
    if pr is None:
        return True, seen
    for p in pr.probes:
        if p is not None and p.fused == 0 and p.last == CRITICAL_CODE:
            if p.status != CRITICAL_CODE or p.failures >= p.spec.fail:
                return True, seen
    return False, "starting"


def _start_limit(al, svc, rec):
    hit = svc.state == S.FAILED and svc.result == S.START_LIMIT
    return hit, S.RESULT_NAMES[svc.result]


def _restart_rate(al, svc, rec):
    if rec is not None and al.reg.samples > rec.hold + 1:
        return False, 0  # no restart in more than a minute of samples (Rec.hold, + 2)
    m = al.reg.get(svc.name, M.K_RESTARTS)
    if m is None:
        return False, 0
    h = m.history()  # one sample a second, the newest being now's
    base = h[max(0, len(h) - params.AVAIL_SLOTS - 1)] if m.ring.n > len(h) else 0
    n = m.value - base  # restarts over about the last minute
    return n > params.ALERT_RESTARTS_PER_MIN, n


BUILTIN = (
    Rule("probe critical", "health", "==", "critical", 0, CRITICAL, _probe_critical),
    Rule("start limit hit", "result", "==", "start-limit-hit", 0, CRITICAL, _start_limit),
    Rule(
        "restart rate",
        "restarts/min",
        ">",
        params.ALERT_RESTARTS_PER_MIN,
        0,
        WARNING,
        _restart_rate,
    ),
    Rule("cpu high", M.K_CPU_PCT, ">", params.ALERT_CPU_PCT, params.ALERT_FOR_MS, WARNING),
    Rule(
        "alloc rate high",
        M.K_ALLOC_RATE,
        ">",
        params.ALERT_ALLOC_B_PER_S,
        params.ALERT_FOR_MS,
        WARNING,
    ),
)
