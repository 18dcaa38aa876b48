# kernel/alerting: alert rules over the metrics, deduplicated, resolved, journaled.
#
# Owns: Rule (a condition over one service's series: metric, op, value, held for for_ms,
# with a severity info | warning | critical), the kernel's own rules per service (a probe
# critical, restart rate, start limit hit, allocation rate or CPU over a threshold, all in
# kernel/params.py) plus the rules a unit lists in its `alerts` field, and Alerts: one Alert
# per (service, rule) that fires when its condition has held for for_ms, counts each firing
# (deduplicated: a firing alert is updated, not repeated), resolves when the condition clears,
# and is journaled both ways; notify hooks (fn(alert)) hear every firing, change hooks
# every firing and resolving (boot prints each on the console, services/init.py).
# Evaluated after each metrics sample (a hook of the metrics registry).
# Invariants: O(services x rules) per sample; resolved alerts beyond params.ALERTS_KEPT are
# dropped oldest first; the module is not named `alerts`: that is kernel.alerts(), a function.
# Not here: the series (kernel/metrics.py), printing (services/metricscmd.py, the console
# line: services/shell.py alert()).
from micropython import const

from kernel import metrics as M
from kernel import params
from kernel import service as S
from kernel.discinst import CRITICAL as CRITICAL_CODE  # a probe's status code
from kernel.log import ERROR

INFO = const(0)
WARNING = const(1)
CRITICAL = const(2)
SEVERITY_NAMES = ("info", "warning", "critical")
FIRING = const(0)
RESOLVED = const(1)
STATE_NAMES = ("firing", "resolved")
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


class Alert:
    """One (service, rule) alert: firing or resolved, with how often it fired."""

    state = FIRING
    resolved_ms = None

    def __init__(self, service, rule, now):
        self.service = service
        self.rule = rule
        self.count = 0  # times it fired (deduplicated firings)
        self.since_ms = now  # uptime ms it last fired
        self.value = None  # the observed value when last evaluated

    def severity_name(self):
        return SEVERITY_NAMES[self.rule.severity]

    def state_name(self):
        return STATE_NAMES[self.state]

    def text(self):
        return "%s %s: %s (%s, value %s)" % (
            self.severity_name(),
            self.service,
            self.rule.name,
            self.rule.describe(),
            _show(self.value),
        )

    def console_line(self):
        """The console's line for its last change: 'alert: critical web probe-critical
        firing (x3)' (the count once it fired again), '... resolved'."""
        line = "alert: %s %s %s %s" % (
            self.severity_name(),
            self.service,
            self.rule.name.replace(" ", "-"),
            self.state_name(),
        )
        if self.state == FIRING and self.count > 1:
            line += " (x%d)" % self.count
        return line

    def snapshot(self):
        return {
            "service": self.service,
            "name": self.rule.name,
            "severity": self.severity_name(),
            "state": self.state_name(),
            "count": self.count,
            "since_ms": self.since_ms,
            "resolved_ms": self.resolved_ms,
            "value": self.value,
            "text": self.text(),
        }


def _show(v):
    return ("%.1f" % v) if isinstance(v, float) else repr(v)


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
    mon = getattr(al.reg.mgr, "monitor", None)
    pr = mon.probers.get(svc.name) if mon is not None else None
    if pr is None or seen != "critical":
        return seen == "critical", seen
    for p in pr.probes:
        if p is not None and p.fused == 0 and p.last == CRITICAL_CODE:
            if p.status != CRITICAL_CODE or p.failures >= p.spec.fail:
                return True, seen
    return False, "starting"


def _start_limit(al, svc, rec):
    hit = svc.state == S.FAILED and svc.result == S.START_LIMIT
    return hit, S.RESULT_NAMES[svc.result]


def _restart_rate(al, svc, rec):
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


class Alerts:
    """The alerts of one metrics registry, evaluated after each of its samples."""

    def __init__(self, reg):
        self.reg = reg
        self.alerts = {}  # (service, rule name) -> Alert
        self.held = {}  # (service, rule name) -> uptime ms its condition began to hold
        self.notify = []  # fn(alert) on every firing
        self.changes = []  # fn(alert) on every firing and resolving (the console's line)
        reg.hooks.append(self.evaluate)

    def evaluate(self, reg=None):
        now = self.reg.mgr.now()
        for name, svc in self.reg.mgr.services.items():
            rec = self.reg.recs.get(name)
            for rule in BUILTIN:
                self._one(now, svc, rec, rule)
            for rule in svc.unit.alerts:
                self._one(now, svc, rec, rule)

    def _one(self, now, svc, rec, rule):
        if rule.test is not None:
            on, v = rule.test(self, svc, rec)
        else:
            v = self.reg.value(svc.name, rule.metric)
            on = rule.holds(v)
        key = (svc.name, rule.name)
        a = self.alerts.get(key)
        if a is not None:
            a.value = v
        if not on:
            self.held.pop(key, None)
            if a is not None and a.state == FIRING:
                a.state = RESOLVED
                a.resolved_ms = now
                self.reg.mgr.event(svc.name, "alert resolved", a.text())
                self._changed(a)
            return
        t0 = self.held.get(key)
        if t0 is None:
            t0 = self.held[key] = now
        if now - t0 < rule.for_ms or (a is not None and a.state == FIRING):
            return
        if a is None:
            a = self.alerts[key] = Alert(svc.name, rule, now)
            a.value = v
            self._trim()
        a.state = FIRING
        a.count += 1
        a.since_ms = now
        a.resolved_ms = None
        self.reg.mgr.event(svc.name, "alert firing", a.text())
        for fn in self.notify:
            fn(a)
        self._changed(a)

    def _changed(self, a):
        for fn in self.changes:
            try:
                fn(a)
            except Exception as e:  # noqa: BLE001 - a broken hook must not stop the rules
                self.reg.mgr.sched.log.log("alerts: hook %r raised %r" % (fn, e), ERROR)

    def _trim(self):
        if len(self.alerts) <= params.ALERTS_KEPT:
            return
        old = None
        for k, a in self.alerts.items():
            if a.state == RESOLVED and (
                old is None or a.resolved_ms < self.alerts[old].resolved_ms
            ):
                old = k
        if old is not None:
            del self.alerts[old]

    def listing(self, everything=True):
        """Alerts, firing first (most severe first), then resolved, newest first."""
        out = [a for a in self.alerts.values() if everything or a.state == FIRING]
        out.sort(key=lambda a: (a.state, -a.rule.severity, -a.since_ms))
        return out


_alerts = None  # the Alerts of the registry they were made for


def alerts_of(reg=None):
    """The Alerts of `reg` (default: the kernel's metrics registry), made on first use."""
    global _alerts
    if reg is None:
        reg = M.registry()
    if _alerts is None or _alerts.reg is not reg:
        _alerts = Alerts(reg)
    return _alerts


def start(notify=None, changed=None):
    """Boot: the metrics sampler and the alert rules over it; notify(alert) on each firing,
    changed(alert) on each firing and resolving."""
    al = alerts_of()
    if notify is not None:
        al.notify.append(notify)
    if changed is not None and changed not in al.changes:
        al.changes.append(changed)
    al.reg.start()
    al.reg.hook_health()
    return al


# ---- the kernel's API (re-exported by `kernel`) ----


def alerts(everything=False):
    """Firing alerts (everything=True: resolved ones too) as dicts: service, name, severity,
    state, count, since_ms, resolved_ms, value, text."""
    return [a.snapshot() for a in alerts_of().listing(everything)]
