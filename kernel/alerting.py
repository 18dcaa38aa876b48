# kernel/alerting: alerts from rules over the metrics, deduplicated, resolved, journaled.
#
# Owns: Alert (one per (service, rule): firing or resolved, with how often it fired) and
# Alerts: per service the kernel's own rules and the rules its unit lists in `alerts`
# (kernel/alertrules.py), evaluated after each metrics sample (a hook of the metrics
# registry); an alert fires when its condition has held for the rule's for_ms, counts each
# firing (deduplicated: a firing alert is updated, not repeated), resolves when the condition
# clears, and is journaled both ways; notify hooks (fn(alert)) hear every firing, change
# hooks every firing and resolving (boot prints each on the console, services/init.py).
# Invariants: O(sampled services x rules) per sample (kernel/metrics.py: the active ones);
# resolved alerts beyond params.ALERTS_KEPT are dropped oldest first; the module is not
# named `alerts`: that is kernel.alerts(), a function.
# Not here: the rules (kernel/alertrules.py), the series (kernel/metrics.py), printing
# (services/metricscmd.py, the console line: services/shell.py alert()).
from micropython import const

from kernel import metrics as M
from kernel import params
from kernel.alertrules import (  # noqa: F401 - the rules' names: re-exported
    BUILTIN,
    CRITICAL,
    INFO,
    SEVERITY_NAMES,
    WARNING,
    Rule,
    parse_rules,
)
from kernel.log import ERROR

FIRING = const(0)
RESOLVED = const(1)
STATE_NAMES = ("firing", "resolved")


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


class Alerts:
    """The alerts of one metrics registry, evaluated after each of its samples."""

    def __init__(self, reg):
        self.reg = reg
        self.alerts = {}  # (service, rule name) -> Alert
        self.held = {}  # (service, rule name) -> uptime ms its condition began to hold
        # Services with an entry in held or alerts (a stale name only costs the long way):
        # a rule that does not hold for any other service has nothing to update or resolve,
        # so a sampled service with none costs its rules' tests only (no key, no lookups:
        # five rules for each of thousands of services starting and sampled).
        self.marked = set()
        self.notify = []  # fn(alert) on every firing
        self.changes = []  # fn(alert) on every firing and resolving (the console's line)
        reg.hooks.append(self.evaluate)

    def evaluate(self, reg=None):
        """The rules of the services the registry just sampled (reg.sampled: a slice of its
        round; an idle service's inputs did not change, so neither did its rules' verdict).
        A rule waiting out its for_sec keeps its service sampled."""
        now = self.reg.mgr.now()
        services = self.reg.mgr.services
        marked = self.marked
        for rec in self.reg.sampled:
            svc = services.get(rec.name)
            if svc is None:
                continue
            known = rec.name in marked
            self._rules(now, svc, rec, BUILTIN, known)
            if svc.unit.alerts:
                self._rules(now, svc, rec, svc.unit.alerts, known)

    def _rules(self, now, svc, rec, rules, known):
        for rule in rules:
            if rule.test is not None:
                on, v = rule.test(self, svc, rec)
            else:
                v = self.reg.value(svc.name, rule.metric)
                on = rule.holds(v)
            if on or known:  # (else nothing held, no alert to update or resolve)
                self._one(now, svc, rule, on, v)

    def _one(self, now, svc, rule, on, v):
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
            self.marked.add(svc.name)
        if a is not None and a.state == FIRING:
            return
        if now - t0 < rule.for_ms:
            self.reg.touch(svc.name)  # held, not yet for_sec: look again next round
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


def alerts_of(reg=None):
    """The Alerts of `reg` (default: the kernel's metrics registry), made on first use and
    kept on it (reg.alerts)."""
    if reg is None:
        reg = M.registry()
    al = reg.alerts
    if al is None:
        al = reg.alerts = Alerts(reg)
    return al


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
