# services/healthsh: the shell's `health [NAME]` and `discover PATTERN` commands, and the
# probe lines `svc status` prints, on the kernel's health and discovery API.
#
# Owns: how health reports and instances look on the console. Registered with the shell
# through services/commands.register(); imported by boot (services/init.py).
# Invariants: a command never raises to the shell: a bad name or pattern prints one line.
# Not here: running probes (kernel/health.py), the registry (kernel/discovery.py).
import kernel
from services.commands import COMMANDS, register

HEALTH_FORMAT = "%-16s %-9s %-6s %s"
DISCOVER_FORMAT = "%-16s %-12s %-9s %-6s %-22s %s"


def _ago(ms):
    if ms <= 0:
        return "-"
    s = max(0, kernel.uptime_ms() - ms)
    return "%d.%d s ago" % (s // 1000, s % 1000 // 100)


def probe_lines(report):
    """One or two lines per probe of a health_report() (also for `svc status`)."""
    out = []
    for name in ("startup", "liveness", "readiness"):
        p = report["probes"].get(name)
        if p is None:
            continue
        if p["status"] is None:
            out.append("%-9s %-7s not run yet" % (name, p["check"]))
            continue
        out.append(
            "%-9s %-7s %-8s %d ok / %d failed in a row, %d runs, last %s%s"
            % (
                name,
                p["check"],
                p["status"],
                p["successes"],
                p["failures"],
                p["runs"],
                _ago(p["last_ms"]),
                "" if p["active"] else " (not in effect)",
            )
        )
        hist = " ".join(h[0].upper() for h in p["history"])
        out.append("          %s%s" % (p["output"] or "-", "   [%s]" % hist if hist else ""))
    return out


@register("health", "health [NAME]", "health and readiness of every instance, or NAME's probes")
def cmd_health(sh, arg):
    name = arg.strip()
    try:
        if name:
            _one(sh, name)
        else:
            _all(sh)
    except ValueError as e:  # UnitError: no such unit
        sh.println("health: %s" % e)


def _one(sh, name):
    r = kernel.health_report(name)
    sh.println(
        "%s: %s, %s%s"
        % (
            name,
            r["health"] or "not registered",
            "ready" if r["ready"] else "not ready",
            (" (%s)" % r["note"]) if r["note"] else "",
        )
    )
    lines = probe_lines(r)
    if not lines:
        sh.println("  no probes (ready while active)")
    for line in lines:
        sh.println("  " + line)


def _all(sh):
    sh.println(HEALTH_FORMAT % ("NAME", "HEALTH", "READY", "PROBES / NOTE"))
    seen = set()
    for inst in sorted(kernel.instances(), key=lambda i: i.name):
        seen.add(inst.name)
        probes = ""
        if inst.svc is not None:
            r = kernel.health_report(inst.name)["probes"]
            probes = " ".join("%s:%s" % (k, r[k]["status"] or "-") for k in sorted(r))
        sh.println(
            HEALTH_FORMAT
            % (inst.name, inst.health, "yes" if inst.ready else "no", probes or inst.note)
        )
    for s in kernel.list_services():
        u = s.unit
        if s.name not in seen and (u.startup or u.liveness or u.readiness):
            sh.println(HEALTH_FORMAT % (s.name, "-", "no", s.state_name()))
    st = kernel.monitor_stats()
    sh.println(
        "probes: %d (%d in effect), %d runs, %d timeouts, %d restarts"
        % (st["probes"], st["active"], st["runs"], st["timeouts"], st["restarts"])
    )


@register(
    "discover",
    "discover [PATTERN]",
    "instances matching PATTERN: glob (default *), regex:, tag:, kind:, health:",
)
def cmd_discover(sh, arg):
    pattern = arg.strip() or "*"
    try:
        found = kernel.instances(pattern)
    except ValueError as e:
        sh.println(str(e))
        return
    sh.println(DISCOVER_FORMAT % ("NAME", "SERVICE", "HEALTH", "READY", "ENDPOINT", "TAGS"))
    for i in sorted(found, key=lambda i: i.name):
        ep = i.endpoint
        if isinstance(ep, dict):
            ep = "%s:%s" % (ep.get("host"), ep.get("port"))
        sh.println(
            DISCOVER_FORMAT
            % (
                i.name,
                i.service,
                i.health,
                "yes" if i.ready else "no",
                ep or "-",
                " ".join(i.tags) or "-",
            )
        )
    sh.println("%d instance%s, index %d" % (len(found), "" if len(found) == 1 else "s", _index()))


def _index():
    from kernel import discovery

    return discovery._reg().index


def _complete(arg):
    if " " in arg:
        return []
    return [s.name for s in kernel.list_services() if s.name.startswith(arg)]


COMMANDS["health"].complete = _complete
