# services/breakersh: the shell's `breaker [NAME [open|close|reset|disable]]`, on the kernel's
# circuit breaker API.
#
# Owns: how breakers look on the console (one row per breaker, then its service's config)
# and the verbs, which act on every breaker NAME reaches (kernel.breakers.breakers_of: an
# instance's; for a service, its own and its instances'): open forces it open, close closes
# it (window emptied), reset clears it and its counters, disable lets every call through
# uncounted. Registered with the shell through services/commands.register(); imported by
# boot (services/init.py). kernel.breakers is imported on first use, not at boot.
# Invariants: a command never raises to the shell: a bad name or verb prints one line.
# Not here: the state machine (kernel/circuit.py), who has which breaker (kernel/breakers.py).
from services.commands import COMMANDS, register

ROW = "%-16s %-11s %6s %6s %6s %7s %7s %7s %6s  %s"
VERBS = ("open", "close", "reset", "disable")
USAGE = "breaker [NAME [open|close|reset|disable]]"


def _pm(pm):
    return "-" if pm < 0 else "%d.%d%%" % (pm // 10, pm % 10)


def _row(b):
    c = b.counters()
    st = c["state"]
    if st == "open":
        note = "%d ms to half_open" % c["open_left_ms"] if c["open_left_ms"] else "may try again"
    elif st == "half_open":
        note = "%d trial permits left" % c["permits"]
    else:
        note = "wait %d ms" % c["wait_ms"]
    return ROW % (
        b.name,
        st,
        c["calls"],
        c["failures"],
        c["slow_calls"],
        _pm(c["failure_rate_pm"]),
        _pm(c["slow_call_rate_pm"]),
        c["not_permitted"],
        c["opened"],
        note,
    )


def _table(sh, found):
    sh.println(
        ROW
        % ("NAME", "STATE", "CALLS", "FAILED", "SLOW", "FAIL%", "SLOW%", "DENIED", "OPENED", "")
    )
    for b in found:
        sh.println(_row(b))


@register(
    "breaker",
    USAGE,
    "circuit breakers: state, counters and config (NAME: an instance, or a service and its "
    "instances); open forces open, close closes, reset clears, disable lets all through",
)
def cmd_breaker(sh, arg):
    from kernel import breakers

    parts = arg.split()
    try:
        if not parts:
            found = breakers.all_breakers()
            if not found:
                sh.println(
                    "breaker: none set (kernel.set_breaker(SERVICE, ...) or a unit's breaker)"
                )
                return
            _table(sh, found)
        elif len(parts) == 1:
            found = breakers.breakers_of(parts[0])
            _table(sh, found)
            cfgs = []
            for b in found:
                if b.cfg not in cfgs:  # identity: a service's breakers share one Config
                    cfgs.append(b.cfg)
                    svc = b.name if b.owner is None else b.owner.service
                    sh.println("config %s: %s" % (svc, breakers.summary(b.cfg)))
        elif len(parts) == 2 and parts[1] in VERBS:
            for b in breakers.breakers_of(parts[0]):
                old = b.state_name()
                getattr(b, "force_open" if parts[1] == "open" else parts[1])()
                if parts[1] == "reset":
                    sh.println("%s: reset, %s (was %s)" % (b.name, b.state_name(), old))
                else:
                    sh.println("%s: %s -> %s" % (b.name, old, b.state_name()))
        else:
            sh.println("breaker: usage: %s, got %r" % (USAGE, arg.strip()))
    except ValueError as e:  # no breaker by that name
        sh.println(str(e))


def _complete(arg):
    from kernel import breakers

    parts = arg.split(" ")
    if len(parts) == 1:
        return sorted(b.name for b in breakers.all_breakers() if b.name.startswith(arg))
    if len(parts) == 2:
        return [parts[0] + " " + v for v in VERBS if v.startswith(parts[1])]
    return []


COMMANDS["breaker"].complete = _complete
