# services/svc: the shell's `svc` command: list, tree, status, start/stop/restart/reload,
# enable/disable, deps and why, on the kernel's service manager API.
#
# Owns: the verbs and their help (`svc help [VERB]`), and how services look on the console.
# Registered with the shell through services/commands.register(); imported by boot.
# Invariants: a verb never raises to the shell: a UnitError prints its one line.
# Not here: what the verbs do to services (kernel/svc.py, kernel/manager.py).
import kernel
from kernel import service as S
from kernel import svc as api
from kernel.supervisor import STRATEGY_NAMES, Group
from kernel.units import UnitError
from services.commands import COMMANDS, format_uptime, register

VERBS = (
    ("list", "svc list", "one row per service: name, state, sub-state, restarts, uptime"),
    ("tree", "svc tree", "the supervision tree: groups, strategies, budgets, services"),
    ("status", "svc status NAME", "state, result, task, uptime, restarts, budget, deps, log"),
    ("start", "svc start NAME", "start NAME and what it requires, in dependency order"),
    ("stop", "svc stop NAME", "stop NAME and what requires it, dependents first"),
    ("restart", "svc restart NAME", "stop, then start NAME"),
    ("reload", "svc reload NAME", "run NAME's reload while it stays active"),
    ("enable", "svc enable NAME", "start NAME at boot"),
    ("disable", "svc disable NAME", "do not start NAME at boot"),
    ("deps", "svc deps NAME [-r]", "what NAME requires/wants, as a tree (-r: what needs NAME)"),
    ("why", "svc why NAME", "why NAME is in its state: the failure or dependency behind it"),
    ("daemon-reload", "svc daemon-reload", "read the unit files in /etc/units again"),
    ("help", "svc help [VERB]", "these verbs, or how to use one"),
)
LIST_FORMAT = "%-16s %-12s %-12s %8s %9s"


@register("svc", "svc VERB [NAME] (svc help: list the verbs)", "the service manager's verbs")
def cmd_svc(sh, arg):
    words = arg.split()
    verb = words[0] if words else "help"
    fn = globals().get("_" + verb.replace("-", "_"))
    if fn is None or verb not in [v[0] for v in VERBS]:
        sh.println("svc: unknown verb '%s' (try 'svc help')" % verb)
        return
    try:
        fn(sh, words[1:])
    except UnitError as e:
        sh.println("svc %s: %s" % (verb, e))


def complete(arg):
    """Tab after `svc `: a verb, then a service name."""
    verb, sp, word = arg.partition(" ")
    if not sp:
        return [v[0] for v in VERBS if v[0].startswith(verb)]
    if " " in word or verb in ("list", "tree", "help", "daemon-reload"):
        return []
    return [verb + " " + s.name for s in kernel.list_services() if s.name.startswith(word)]


COMMANDS["svc"].complete = complete


def _name(sh, args, verb):
    if not args:
        raise UnitError("expected a service name: %s" % _usage(verb))
    return args[0]


def _usage(verb):
    for v in VERBS:
        if v[0] == verb:
            return v[1]
    return "svc help"


def _help(sh, args):
    for name, usage, summary in VERBS:
        if not args or args[0] == name:
            sh.println("  %-20s %s" % (usage, summary))


def _state(s):
    return "%s (%s)" % (s.state_name(), s.sub_name())


def _list(sh, args):
    sh.println(LIST_FORMAT % ("NAME", "STATE", "SUB", "RESTARTS", "UPTIME"))
    for s in kernel.list_services():
        up = format_uptime(s.uptime_ms() // 1000) if s.uptime_ms() else "-"
        sh.println(LIST_FORMAT % (s.name, s.state_name(), s.sub_name(), s.restarts, up))


def _tree(sh, args):
    m = api.manager()
    sh.println("root")
    top = [g for g in m.groups.values() if g.group is None]
    top += [s for s in kernel.list_services() if s.group is None]
    _branch(sh, top, "")


def _branch(sh, nodes, indent):
    for k, n in enumerate(nodes):
        last = k == len(nodes) - 1
        lead = indent + ("`- " if last else "|- ")
        if isinstance(n, Group):
            sh.println(
                "%sgroup %s  %s  %s, %d in %d ms, budget %d, restarts %d"
                % (
                    lead,
                    n.name,
                    n.state_name(),
                    STRATEGY_NAMES[n.strategy],
                    n.intensity,
                    n.period_ms,
                    n.budget(),
                    n.restarts,
                )
            )
            _branch(sh, n.children, indent + ("   " if last else "|  "))
        else:
            sh.println(
                "%s%s  %s  restarts %d, budget %d, next delay %d ms"
                % (lead, n.name, _state(n), n.restarts, n.budget(), api.manager().next_delay(n))
            )


def _status(sh, args):
    name = _name(sh, args, "status")
    st = kernel.service_status(name)
    sh.println("%s - %s" % (name, st["description"]))
    sh.println("  state:    %s (%s), result %s" % (st["state"], st["sub"], st["result"]))
    sh.println("  why:      %s" % (st["cause"] or "-"))
    up = format_uptime(st["uptime_ms"] // 1000) if st["uptime_ms"] else "-"
    sh.println("  task:     %s   uptime: %s" % (st["task"] or "-", up))
    svc = api.service(name)
    sh.println(
        "  type:     %s, restart %s, enabled %s"
        % (st["type"], st["restart"], "yes" if st["enabled"] else "no")
    )
    sh.println(
        "  restarts: %d, start budget %d of %d per %d ms, next delay %d ms"
        % (st["restarts"], st["budget"], svc.unit.burst, svc.unit.interval_ms, st["next_delay_ms"])
    )
    if st["group"]:
        g = svc.group
        sh.println(
            "  group:    %s (%s, budget %d)" % (g.name, STRATEGY_NAMES[g.strategy], g.budget())
        )
    sh.println("  origin:   %s" % svc.unit.origin)
    for key in ("requires", "wants", "after", "before"):
        if st[key]:
            sh.println("  %-9s %s" % (key + ":", " ".join(st[key])))
    _health(sh, name)

    if svc.unit.config:
        cfg = kernel.load_config(name)  # secrets as ***
        sh.println(
            "  config:   v%d %s"
            % (kernel.config_version(name), " ".join("%s=%s" % (k, cfg[k]) for k in sorted(cfg)))
        )
    for line in kernel.journal_lines(5, name):
        sh.println("  " + line)


def _daemon_reload(sh, args):
    from kernel import storage, unitfiles

    if not storage.mounted():
        sh.println("svc daemon-reload: no filesystem (%s)" % storage.root.reason)
        return
    loaded, refused = unitfiles.load(api.manager(), sh.println)
    sh.println(
        "svc daemon-reload: %d unit files loaded from %s, %d refused"
        % (loaded, unitfiles.UNIT_DIR, refused)
    )


def _health(sh, name):
    # Readiness (discovery's ready set) and the probes, as `health NAME` shows them.
    from services.healthsh import probe_lines

    r = kernel.health_report(name)
    sh.println(
        "  health:   %s, %s%s"
        % (
            r["health"] or "-",
            "ready" if r["ready"] else "not ready",
            (" (%s)" % r["note"]) if r["note"] else "",
        )
    )
    lead = "  probes:   "
    for line in probe_lines(r):
        sh.println(lead + line)
        lead = "            "


def _verb(sh, args, verb, fn):
    name = _name(sh, args, verb)
    fn(name)
    s = api.service(name)
    sh.println("%s: %s" % (name, _state(s)))


def _start(sh, args):
    _verb(sh, args, "start", kernel.start_service)


def _stop(sh, args):
    _verb(sh, args, "stop", kernel.stop_service)


def _restart(sh, args):
    _verb(sh, args, "restart", kernel.restart_service)


def _reload(sh, args):
    _verb(sh, args, "reload", kernel.reload_service)


def _enable(sh, args):
    name = _name(sh, args, "enable")
    kernel.enable_service(name)
    sh.println("%s: enabled (starts at boot)" % name)


def _disable(sh, args):
    name = _name(sh, args, "disable")
    kernel.disable_service(name)
    sh.println("%s: disabled" % name)


def _deps(sh, args):
    name = _name(sh, args, "deps")
    reverse = "-r" in args[1:]
    m = api.manager()
    m.get(name)
    rev = None
    if reverse:
        rev = {}
        for s in m.services.values():
            for kind in ("requires", "wants"):
                for r in getattr(s.unit, kind):
                    rev.setdefault(r, []).append((kind, s.name))
    what = "needed by" if reverse else "needs"
    sh.println("%s  %s  (%s)" % (name, _state(m.get(name)), what))
    _deps_branch(sh, m, name, rev, "", {name})


def _deps_branch(sh, m, name, rev, indent, seen):
    if rev is None:
        u = m.unit_of(name)
        edges = [("requires", n) for n in u.requires] + [("wants", n) for n in u.wants]
    else:
        edges = rev.get(name, [])
    for k, (kind, n) in enumerate(edges):
        last = k == len(edges) - 1
        u = m.unit_of(n)
        state = _state(m.services[n]) if u is not None else "missing"
        again = n in seen
        lead = indent + ("`- " if last else "|- ")
        sh.println("%s%s (%s)  %s%s" % (lead, n, kind, state, "  (see above)" if again else ""))
        if u is not None and not again:
            seen.add(n)
            _deps_branch(sh, m, n, rev, indent + ("   " if last else "|  "), seen)


def _why(sh, args):
    name = _name(sh, args, "why")
    m = api.manager()
    s = m.get(name)
    seen = set()
    while s is not None and s.name not in seen:
        seen.add(s.name)
        sh.println(
            "%s is %s, result %s: %s"
            % (s.name, _state(s), s.result_name(), s.cause or _idle_reason(s))
        )
        nxt = None
        if s.state == S.FAILED and s.result == S.DEPENDENCY:
            for r in s.unit.requires:
                d = m.services.get(r)
                if d is not None and d.state == S.FAILED:
                    nxt = d
                    break
        g = s.group
        while nxt is None and g is not None:
            if g.state == S.FAILED:
                sh.println("  in group %s, which failed: %s" % (g.name, g.cause))
            g = g.group
        s = nxt


def _idle_reason(s):
    return "enabled, not started yet" if s.is_enabled() else "not enabled, never started"
