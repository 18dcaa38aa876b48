# services/lbcmd: the shell's `lb` command: list, stats, strategy, help.
#
# Owns: how pools and their per-instance counters look on the console, and the parsing of
# `lb strategy NAME STRATEGY [KEY=VALUE ...]` (values stay text: kernel/lbopts.py parses
# them, so the shell and set_strategy() give the same one-line errors).
# Registered with the shell through services/commands.register(); imported by services/init.
# Invariants: a verb never raises to the shell: a bad name, strategy or option prints one line.
# Not here: balancing (kernel/balancer.py), the strategies (kernel/lbstrat.py).
import kernel
from kernel import lbopts, lbstrat
from services.commands import COMMANDS, register

VERBS = (
    ("list", "lb list", "every balanced service: strategy, instances, ready, panic, picks"),
    ("stats", "lb stats NAME", "NAME's pool: per instance picks, active, ok/failed, latency"),
    (
        "strategy",
        "lb strategy NAME [STRATEGY [KEY=VALUE ...]]",
        "show or set NAME's strategy (%s) and options" % ", ".join(lbstrat.NAMES),
    ),
    ("help", "lb help [VERB]", "these verbs, or how to use one"),
)
LIST_FORMAT = "%-16s %-26s %5s %5s %-5s %8s"
STATS_FORMAT = "%-16s %7s %6s %7s %6s %8s %8s %8s %6s %-5s %s"


@register(
    "lb", "lb VERB ... (lb help: list the verbs)", "the load balancer's pools and strategies"
)
def cmd_lb(sh, arg):
    verb, _, rest = arg.strip().partition(" ")
    verb = verb or "help"
    fn = _VERB_FN.get(verb)
    if fn is None:
        sh.println("lb: unknown verb '%s' (try 'lb help')" % verb)
        return
    try:
        fn(sh, rest.strip())
    except ValueError as e:
        sh.println("lb %s: %s" % (verb, e))


def _usage(verb):
    for v in VERBS:
        if v[0] == verb:
            return "usage: " + v[1]
    return "usage: lb help"


def _help(sh, rest):
    for name, usage, summary in VERBS:
        if not rest or rest == name:
            sh.println("  %-44s %s" % (usage, summary))


def _services():
    from kernel import balancer

    b = balancer.balancer()
    names = set(b.pools)
    for name in b.reg.by_service:
        names.add(name)
    return b, sorted(names)


def _list(sh, rest):
    b, names = _services()
    sh.println(LIST_FORMAT % ("SERVICE", "STRATEGY", "INST", "READY", "PANIC", "PICKS"))
    for name in names:
        s = kernel.lb_stats(name)
        inst = list(s["instances"].values())
        sh.println(
            LIST_FORMAT
            % (
                name,
                s["strategy"],
                len(inst),
                sum(1 for i in inst if i["ready"]),
                "yes" if s["panic"] else "no",
                sum(i["picks"] for i in inst),
            )
        )
    sh.println("%d service%s" % (len(names), "" if len(names) == 1 else "s"))


def _ms(v):
    return "-" if v is None else "%.1f" % v


def _options(s):
    o = s["options"]  # a dict: shown in the order lbopts lists them
    keys = lbopts.takes(lbstrat.NAMES.index(s["strategy"]))
    return ", ".join("%s=%s" % (k, o[k]) for k in keys if k in o)


def _stats(sh, rest):
    if not rest or " " in rest:
        raise ValueError(_usage("stats"))
    s = kernel.lb_stats(rest)
    sh.println("%s: %s (%s)" % (rest, s["strategy"], _options(s)))
    sh.println(
        "  panic %s, %d picks found nothing, %d calls refused"
        % ("yes" if s["panic"] else "no", s["none"], s["denied"])
    )
    sh.println(
        STATS_FORMAT
        % (
            "INSTANCE",
            "PICKS",
            "ACTIVE",
            "OK",
            "FAILED",
            "EWMA_MS",
            "P50_MS",
            "P99_MS",
            "WEIGHT",
            "READY",
            "BREAKER",
        )  # fmt: skip
    )
    for name in sorted(s["instances"]):
        i = s["instances"][name]
        sh.println(
            STATS_FORMAT
            % (
                name,
                i["picks"],
                i["active"],
                i["successes"],
                i["failures"],
                _ms(i["latency_ms"]),
                _ms(i["p50_ms"]),
                _ms(i["p99_ms"]),
                i["weight"],
                "drain" if i["draining"] else "yes" if i["ready"] else "no",
                i["breaker"] or "-",
            )
        )
    if not s["instances"]:
        sh.println("  no instances registered")


def _strategy(sh, rest):
    w = rest.split()
    if not w:
        raise ValueError(_usage("strategy"))
    name = w[0]
    if len(w) > 1:
        opts = {}
        for kv in w[2:]:
            k, eq, v = kv.partition("=")
            if not eq or not k:
                raise ValueError("options are KEY=VALUE, got %r (%s)" % (kv, _usage("strategy")))
            opts[k] = v
        kernel.set_strategy(name, w[1], **opts)
    s = kernel.lb_stats(name)
    sh.println("%s: %s (%s)" % (name, s["strategy"], _options(s)))


_VERB_FN = {"list": _list, "stats": _stats, "strategy": _strategy, "help": _help}


def complete(arg):
    """Tab after `lb `: a verb, then a service name, then a strategy."""
    verb, sp, word = arg.partition(" ")
    if not sp:
        return [v[0] for v in VERBS if v[0].startswith(verb)]
    if verb not in ("stats", "strategy"):
        return []
    name, sp, strat = word.partition(" ")
    if not sp:
        return [verb + " " + n for n in _services()[1] if n.startswith(name)]
    if verb == "strategy" and " " not in strat:
        return ["%s %s %s" % (verb, name, s) for s in lbstrat.NAMES if s.startswith(strat)]
    return []


COMMANDS["lb"].complete = complete
