# services/faultsh: the shell's `faults [NAME]` and `fault inject|clear|run|help` commands,
# on the kernel's fault API (kernel/faults.py, kernel/inject.py, kernel/scenario.py).
#
# Owns: how the fault journal and injected faults look on the console, parsing KEY=VALUE
# options (ints), and finding a scenario: a file where a filesystem has it, else one
# frozen into the firmware (services/scenarios.py). `fault run` plays it on a separate
# kernel on the virtual clock, as the console's foreground code (no step watchdog: a long
# scenario runs in one step of the shell's task). Registered with the shell through
# services/commands.register(); imported by boot.
# Invariants: a command never raises to the shell: a bad verb, target, kind, option or
# scenario prints one line.
# Not here: detecting, recovering, injecting, playing (the kernel modules above).
import kernel
from services.commands import register

VERBS = (
    ("inject", "fault inject TARGET KIND [KEY=VALUE ...]",
     "inject a fault: crash, hang, memory, flap (a service), slow, error (its calls)"),
    ("clear", "fault clear ID", "end injected fault ID (see 'faults')"),
    ("run", "fault run SCENARIO [seed=N]",
     "play a scenario file (or a frozen one: demo) on a separate virtual kernel"),
    ("help", "fault help", "these verbs"),
)  # fmt: skip


@register("faults", "faults [NAME]", "the fault journal (of NAME and its instances) and faults")
def cmd_faults(sh, arg):
    name = arg.strip() or None
    for line in kernel.fault_journal(name):
        sh.println(line)
    active = kernel.injected_faults()
    for f in active:
        if name is None or f["target"] == name or f["target"].startswith(name + "@"):
            opts = " ".join("%s=%d" % (k, f["options"][k]) for k in sorted(f["options"]))
            sh.println(
                "injected #%d %s %s%s, fired %d"
                % (f["id"], f["kind"], f["target"], " " + opts if opts else "", f["fired"])
            )
    st = kernel.fault_stats()
    sh.println(
        "faults: %d detected, %d recoveries (%d recovered), %d escalated, %d to supervisor, "
        "%d injected active"
        % (
            st["detected"],
            st["tried"],
            st["recovered"],
            st["escalated"],
            st["handed"],
            len(active),
        )  # fmt: skip
    )


def _options(words):
    out = {}
    for w in words:
        k, eq, v = w.partition("=")
        try:
            if not eq or not k:
                raise ValueError
            out[k] = int(v)
        except ValueError:
            raise ValueError("option %r: expected KEY=INT, e.g. ms=200" % w) from None
    return out


def _inject(sh, words):
    if len(words) < 2:
        sh.println("usage: " + VERBS[0][1])
        return
    fid = kernel.inject_fault(words[0], words[1], **_options(words[2:]))
    sh.println("fault %d: %s %s" % (fid, words[1], words[0]))


def _clear(sh, words):
    if len(words) != 1 or not words[0].isdigit():
        sh.println("usage: " + VERBS[1][1])
        return
    fid = int(words[0])
    sh.println("fault %d: %s" % (fid, "cleared" if kernel.clear_fault(fid) else "not active"))


def load(name):
    """The scenario `name`: a file's text where it exists, else a frozen one."""
    try:
        with open(name) as f:
            return f.read()
    except OSError:
        pass
    from services.scenarios import SCENARIOS

    s = SCENARIOS.get(name)
    if s is None:
        raise ValueError(
            "no scenario file or frozen scenario %r (frozen: %s)"
            % (name, ", ".join(sorted(SCENARIOS)))
        )
    return s


def _run(sh, words):
    if not words:
        sh.println("usage: " + VERBS[2][1])
        return
    seed = _options(words[1:]).get("seed", 0)
    src = load(words[0])
    sh._foreground(True)  # one long step of ours: no step watchdog meanwhile
    try:
        lines = kernel.run_scenario(src, seed)
    finally:
        sh._foreground(False)
    for line in lines:
        sh.println(line)


def _help(sh, words):
    for _, usage, summary in VERBS:
        sh.println("  %-42s %s" % (usage, summary))


@register("fault", "fault VERB ... (fault help: the verbs)", "inject, clear and replay faults")
def cmd_fault(sh, arg):
    words = arg.split()
    verb = words[0] if words else "help"
    fn = {"inject": _inject, "clear": _clear, "run": _run, "help": _help}.get(verb)
    if fn is None:
        sh.println("fault: unknown verb '%s' (try 'fault help')" % verb)
        return
    try:
        fn(sh, words[1:])
    except ValueError as e:  # UnitError, a bad kind/option/scenario: one line
        msg = str(e)
        sh.println(msg if msg.startswith(("fault ", "scenario")) else "fault %s: %s" % (verb, msg))
