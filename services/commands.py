# services/commands: the shell's built-in commands and the table they live in.
#
# Owns: the command registry (name -> Command) and the commands every MultiOS console has:
# help, uptime, free, ps, kill, date, echo, log, py, repl, reboot, poweroff.
# A command is fn(sh, arg): `sh` is the Shell (output through sh.println, the kernel and HAL
# as sh.kernel and sh.hal), `arg` the rest of the line after the command's name.
# Other layers add verbs with register() (e.g. the service manager's `svc`).
# Not here: line editing, parsing of the line into name and argument (services/shell.py).
import gc

COMMANDS = {}  # name -> Command


class Command:
    """One shell command: what it runs, how it is called and what it is for."""

    complete = None  # complete(arg) -> candidate whole arguments for Tab, or None

    def __init__(self, name, fn, usage, summary):
        self.name = name
        self.fn = fn  # fn(sh, arg)
        self.usage = usage  # e.g. "kill ID"
        self.summary = summary  # one line, shown by `help`


def register(name, usage, summary):
    """Decorator that adds fn(sh, arg) to the shell as command `name`."""

    def add(fn):
        COMMANDS[name] = Command(name, fn, usage, summary)
        return fn

    return add


def names():
    return sorted(COMMANDS)


@register("help", "help [COMMAND]", "list the commands, or show how to use one")
def cmd_help(sh, arg):
    name = arg.strip()
    if name:
        c = COMMANDS.get(name)
        if c is None:
            sh.println("help: no command '%s' (try 'help')" % name)
        else:
            sh.println("usage: " + c.usage)
            sh.println("  " + c.summary)
        return
    width = max(len(n) for n in COMMANDS)
    for n in names():
        sh.println("  %s  %s" % (n + " " * (width - len(n)), COMMANDS[n].summary))
    sh.println("'help COMMAND' for one command; Ctrl-A enters the raw REPL (mpremote)")


@register("uptime", "uptime", "time since boot, as up HH:MM:SS")
def cmd_uptime(sh, arg):
    sh.println("up " + format_uptime(sh.kernel.uptime_ms() // 1000))


def format_uptime(s):
    days, s = divmod(s, 86400)
    text = "%02d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
    return "%dd %s" % (days, text) if days else text


@register("free", "free", "heap total, used and free, in bytes, after a collection")
def cmd_free(sh, arg):
    gc.collect()
    used = gc.mem_alloc()
    free = gc.mem_free()
    sh.println("%-6s %10s %10s %10s" % ("", "total", "used", "free"))
    sh.println("%-6s %10d %10d %10d" % ("heap:", used + free, used, free))


@register("ps", "ps", "one row per task (steps, CPU time, heap allocated), then the CPU load")
def cmd_ps(sh, arg):
    sh.println(PS_FORMAT % ("ID", "NAME", "STATE", "STEPS", "CPU_US", "ALLOC_B", "REASON"))
    for t in sh.kernel.tasks():
        # The kernel carries the hot counters into coarser ones (cpu_s, alloc_kb) so they
        # stay small ints; the totals may be big ints, which is fine here.
        cpu_us = t.cpu_s * 1000000 + t.cpu_us
        alloc_b = t.alloc_kb * 1024 + t.alloc_b
        row = (t.id, t.name, t.state_name(), t.steps, cpu_us, alloc_b, t.reason or "")
        sh.println(PS_FORMAT % row)
    up = sh.kernel.uptime_ms()
    idle = getattr(sh.kernel, "idle_ms", None)
    if idle is not None and up > 0:
        busy = max(0, up - idle())
        sh.println(
            "cpu: %d.%d%% busy, idle %d.%03d s of %d.%03d s up"
            % (
                busy * 100 // up,
                busy * 1000 // up % 10,
                (up - busy) // 1000,
                (up - busy) % 1000,
                up // 1000,
                up % 1000,
            )
        )


PS_FORMAT = "%4s %-14s %-9s %9s %11s %10s %s"


@register("kill", "kill ID", "stop the task with that id (see 'ps')")
def cmd_kill(sh, arg):
    try:
        tid = int(arg.strip())
    except ValueError:
        sh.println("kill: expected a task id (an integer, see 'ps'), got '%s'" % arg.strip())
        return
    if sh.task is not None and sh.task.id == tid:
        sh.println("kill: task %d is this shell (use 'reboot' or 'poweroff')" % tid)
        return
    for t in sh.kernel.tasks():
        if t.id == tid:
            if sh.kernel.kill(tid):
                sh.println("killed %d (%s)" % (tid, t.name))
            else:
                sh.println("kill: task %d (%s) has already ended" % (tid, t.name))
            return
    sh.println("kill: no task with id %d (see 'ps')" % tid)


@register("date", "date", "the wall clock, ISO-8601 UTC")
def cmd_date(sh, arg):
    sh.println(iso8601(sh.hal.time()))


def iso8601(epoch_s):
    """Seconds since 1970-01-01 UTC as YYYY-MM-DDTHH:MM:SSZ (proleptic Gregorian)."""
    days, s = divmod(int(epoch_s), 86400)
    # civil_from_days (H. Hinnant): eras of 400 years from 0000-03-01.
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (m <= 2)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, s // 3600, s // 60 % 60, s % 60)


@register("echo", "echo [TEXT]", "print TEXT")
def cmd_echo(sh, arg):
    sh.println(arg)


@register(
    "log",
    "log [-n N] [NAME] | log --boot [-K] [-n N]",
    "the last N lines (default 20) of the kernel log and the "
    "service journal, or NAME's journal only",
)
def cmd_log(sh, arg):
    words = arg.split()
    if "--boot" in words:
        log_boot(sh, words)
        return
    n = 20
    name = None
    bad = False
    got_n = False
    while words:
        w = words.pop(0)
        if w == "-n" and words:
            w = words.pop(0)
            bad = bad or not w.isdigit()
        if w.isdigit() and not got_n:
            n = int(w)
            got_n = True
        elif name is None and not w.startswith("-") and not w.isdigit():
            name = w
        else:
            bad = True
    if bad or n < 1:
        sh.println("log: usage: log [-n N] [NAME], N a positive integer, got '%s'" % arg.strip())
        return
    journal = getattr(sh.kernel, "journal_lines", None)
    if name is not None:
        lines = journal(n, name) if journal is not None else []
        if not lines:
            sh.println("log: no journal entries for '%s' (see 'svc list')" % name)
    else:
        lines = sh.kernel.log_lines(n)
        if journal is not None:
            lines = merge(lines, journal(n))[-n:]
    for line in lines:
        sh.println(line)


def log_boot(sh, words):
    """`log --boot [-K] [-n N]`: boot K before this one (0: this one) from the journal on
    disk, all of its lines or the last N."""
    from kernel import jstore

    back, n, bad = 0, None, False
    words = [w for w in words if w != "--boot"]
    while words:
        w = words.pop(0)
        if w == "-n" and words and words[0].isdigit():
            n = int(words.pop(0))
        elif w[:1] == "-" and w[1:].isdigit() or w == "0":
            back = int(w)
        else:
            bad = True
    if bad or (n is not None and n < 1):
        sh.println("log: usage: log --boot [-K] [-n N], e.g. 'log --boot -1' (the previous boot)")
        return
    js = jstore.store
    if js is None:
        sh.println("log: no journal on disk (see 'mount')")
        return
    js.flush()
    boot = js.boot + back
    lines = js.boot_lines(boot, n)
    if not lines:
        sh.println("log: no lines of boot %d on disk (this boot is %d)" % (boot, js.boot))
    for line in lines:
        sh.println(line)


def merge(a, b):
    """Two lists of '[sssss.mmm] ...' lines, each oldest first, as one (a first on a tie)."""
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        if b[j][:11] < a[i][:11]:
            out.append(b[j])
            j += 1
        else:
            out.append(a[i])
            i += 1
    return out + a[i:] + b[j:]


@register("py", "py EXPR | py STATEMENTS", "evaluate Python and print the result (Ctrl-C stops)")
def cmd_py(sh, arg):
    if not arg.strip():
        sh.println("py: expected Python after 'py', e.g. 'py 1 + 1'")
        return
    sh.runner.run_line(arg)


@register("repl", "repl", "MicroPython's REPL in the same namespace; Ctrl-D returns here")
def cmd_repl(sh, arg):
    sh.println("MicroPython REPL; Ctrl-D returns to the MultiOS shell")
    sh.run_foreground_repl()


BOOT_NO_SCRIPTS = 2  # hal.boot_mode() after `reboot --no-scripts` (1 is the raw REPL's)


@register(
    "reboot",
    "reboot [--no-scripts]",
    "stop the services and restart the machine (--no-scripts: a soft reset that skips "
    "/boot.py and /main.py once)",
)
def cmd_reboot(sh, arg):
    if arg.strip() == "--no-scripts":
        sh.hal.set_boot_mode(BOOT_NO_SCRIPTS)
        sh.soft_reset()
    elif arg.strip():
        sh.println("reboot: usage: reboot [--no-scripts], got '%s'" % arg.strip())
    else:
        sh.reboot()


@register("poweroff", "poweroff", "stop the services and power the machine off")
def cmd_poweroff(sh, arg):
    sh.poweroff()
