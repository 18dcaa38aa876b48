# Tests for services/shell and services/commands with a scripted console and a fake kernel:
# each command's output, dispatch, unknown commands, garbage, the raw REPL through the shell,
# soft reset, alerts and the foreground section around `py`.
from shellfakes import FakeConsole, FakeHal, FakeKernel, FakeTask

from services import commands
from services.shell import EXIT_NONE, EXIT_POWEROFF, EXIT_RAW, EXIT_REBOOT, EXIT_SOFT, Shell

PROMPT = b"multios> "


def make(kernel=None, hal=None, raw=False):
    con = FakeConsole()
    sh = Shell(con, kernel or FakeKernel(), hal or FakeHal(), ns={}, asyncio="fake-asyncio")
    sh.start(raw)
    return sh, con


def run(sh, con, line):
    """Types `line` + Enter; returns what the command printed (without echo and prompt)."""
    con.take()
    con.send(line + b"\r")
    sh.poll()
    out = con.take()
    head = line + b"\r\n"
    assert out.startswith(head), out
    out = out[len(head) :]
    if out.endswith(PROMPT):
        out = out[: -len(PROMPT)]
    return out


def test_start_prints_prompt():
    sh, con = make()
    assert con.take() == PROMPT


def test_unknown_command():
    sh, con = make()
    assert run(sh, con, b"frobnicate now") == b"unknown command: frobnicate (try 'help')\r\n"


def test_empty_and_blank_lines_just_prompt_again():
    sh, con = make()
    con.take()
    con.send(b"\r   \r")
    sh.poll()
    assert con.take() == b"\r\n" + PROMPT + b"   \r\n" + PROMPT


def test_help_lists_every_command():
    sh, con = make()
    out = run(sh, con, b"help")
    for name in (
        "help",
        "uptime",
        "free",
        "ps",
        "kill",
        "date",
        "echo",
        "log",
        "py",
        "repl",
        "reboot",
        "poweroff",
    ):
        assert ("\r\n  " + name + " ").encode() in b"\r\n" + out, name


def test_help_for_each_command():
    sh, con = make()
    for name in commands.names():
        out = run(sh, con, b"help " + name.encode())
        assert out.startswith(b"usage: " + name.encode()), out
        assert out.count(b"\r\n") == 2


def test_help_unknown_command():
    sh, con = make()
    assert run(sh, con, b"help nope") == b"help: no command 'nope' (try 'help')\r\n"


def test_uptime():
    sh, con = make(FakeKernel(uptime_ms=72_999))
    assert run(sh, con, b"uptime") == b"up 00:01:12\r\n"
    sh.kernel.now_ms = (2 * 86400 + 3 * 3600 + 4 * 60 + 5) * 1000
    assert run(sh, con, b"uptime") == b"up 2d 03:04:05\r\n"


def test_free_adds_up():
    sh, con = make()
    out = run(sh, con, b"free").decode()
    head, row = out.split("\r\n")[:2]
    assert head.split() == ["total", "used", "free"]
    name, total, used, free = row.split()
    assert name == "heap:"
    assert int(total) == int(used) + int(free) and int(free) > 0


def test_ps_header_and_rows():
    tasks = [
        FakeTask(1, "heartbeat", "sleeping", 12, 3400, 512),
        FakeTask(2, "spin", "failed", 1, 200001, 0, "watchdog"),
    ]
    tasks[0].cpu_s = 2  # carried totals are added back in
    tasks[0].alloc_kb = 1
    sh, con = make(FakeKernel(tasks))
    lines = run(sh, con, b"ps").decode().split("\r\n")
    assert lines[0].split() == ["ID", "NAME", "STATE", "STEPS", "CPU_US", "ALLOC_B", "REASON"]
    assert lines[1].split() == ["1", "heartbeat", "sleeping", "12", "2003400", "1536"]
    assert lines[2].split() == ["2", "spin", "failed", "1", "200001", "0", "watchdog"]
    assert lines[3] == ""


def test_kill():
    k = FakeKernel([FakeTask(4, "heartbeat")])
    sh, con = make(k)
    assert run(sh, con, b"kill 4") == b"killed 4 (heartbeat)\r\n"
    assert k.killed == [4]
    assert run(sh, con, b"kill 9") == b"kill: no task with id 9 (see 'ps')\r\n"
    assert run(sh, con, b"kill x") == (
        b"kill: expected a task id (an integer, see 'ps'), got 'x'\r\n"
    )
    assert k.killed == [4]


def test_kill_refuses_the_shell_itself():
    k = FakeKernel([FakeTask(3, "shell")])
    sh, con = make(k)
    sh.task = k.tasks()[0]
    assert run(sh, con, b"kill 3") == (
        b"kill: task 3 is this shell (use 'reboot' or 'poweroff')\r\n"
    )
    assert k.killed == []


def test_date_is_iso8601_utc():
    sh, con = make(hal=FakeHal(now=1764136343))
    assert run(sh, con, b"date") == b"2025-11-26T05:52:23Z\r\n"
    sh.hal.now = 0
    assert run(sh, con, b"date") == b"1970-01-01T00:00:00Z\r\n"
    sh.hal.now = 951782400  # leap day
    assert run(sh, con, b"date") == b"2000-02-29T00:00:00Z\r\n"
    sh.hal.now = 4102444799
    assert run(sh, con, b"date") == b"2099-12-31T23:59:59Z\r\n"


def test_echo():
    sh, con = make()
    assert run(sh, con, b"echo hello   world") == b"hello   world\r\n"
    assert run(sh, con, b"echo") == b"\r\n"


def test_log():
    sh, con = make(FakeKernel(lines=["l%d" % i for i in range(30)]))
    out = run(sh, con, b"log").split(b"\r\n")
    assert out[0] == b"l10" and out[19] == b"l29" and len(out) == 21
    assert run(sh, con, b"log 2") == b"l28\r\nl29\r\n"
    assert run(sh, con, b"log -n 1") == b"l29\r\n"
    usage = b"log: usage: log [-n N] [NAME], N a positive integer, got '%s'\r\n"
    assert run(sh, con, b"log 1 2 3") == usage % b"1 2 3"
    assert run(sh, con, b"log 0") == usage % b"0"
    assert run(sh, con, b"log -n x") == usage % b"-n x"
    # A name asks for that service's journal (this fake kernel has none).
    assert run(sh, con, b"log x") == b"log: no journal entries for 'x' (see 'svc list')\r\n"


def test_py_eval_exec_and_persistent_namespace():
    sh, con = make()
    assert run(sh, con, b"py 1 + 1") == b"2\r\n"
    assert run(sh, con, b"py x = 20") == b""
    assert run(sh, con, b"py x * 2") == b"40\r\n"
    assert run(sh, con, b"py None") == b""
    assert run(sh, con, b"py print('a\\nb')") == b"a\r\nb\r\n"
    assert run(sh, con, b"py 'q'") == b"'q'\r\n"
    # statements, then an expression: its value is printed, as the REPL prints it
    assert run(sh, con, b"py y = 3; y * 2") == b"6\r\n"
    assert run(sh, con, b"py import sys; z = 1") == b""
    assert run(sh, con, b"py s = 'a;b'") == b""  # a ';' in a string is not a split
    assert run(sh, con, b"py s; len(s)") == b"3\r\n"
    assert run(sh, con, b"py q = 1;") == b""
    # the statements and the expression are one piece of user code: a heap locked by the
    # first is still locked for the second (and unlocked after both)
    out = run(sh, con, b"py import micropython; micropython.heap_lock(); [1, 2]")
    assert b"MemoryError" in out, out
    assert run(sh, con, b"py [n * 2 for n in range(3)]") == b"[0, 2, 4]\r\n"
    assert sh.ns["x"] == 20


def test_py_has_kernel_hal_asyncio():
    sh, con = make()
    assert run(sh, con, b"py asyncio") == b"'fake-asyncio'\r\n"
    assert run(sh, con, b"py kernel is not None and hal is not None") == b"True\r\n"


def test_py_prints_the_exception():
    sh, con = make()
    out = run(sh, con, b"py 1/0")
    assert out == (
        b"Traceback (most recent call last):\r\n"
        b'  File "<stdin>", line 1, in <module>\r\n'
        b"ZeroDivisionError: divide by zero\r\n"
    )
    assert b"SyntaxError" in run(sh, con, b"py def (")
    assert run(sh, con, b"py") == b"py: expected Python after 'py', e.g. 'py 1 + 1'\r\n"


def test_py_runs_in_the_foreground():
    k = FakeKernel()
    sh, con = make(k)
    sh.task = "shell-task"
    run(sh, con, b"py 1")
    assert k.foreground == [("shell-task", True), ("shell-task", False)]
    run(sh, con, b"py 1/0")  # an exception still ends the foreground section
    assert k.foreground[-1] == ("shell-task", False)


def test_py_keyboard_interrupt_is_printed():
    sh, con = make()
    out = run(sh, con, b"py raise KeyboardInterrupt")
    assert out.endswith(b"KeyboardInterrupt: \r\n")


def test_repl_runs_hal_repl_in_the_namespace():
    hal = FakeHal()
    k = FakeKernel()
    sh, con = make(k, hal)
    sh.task = "shell-task"
    seen = []

    def repl():
        seen.append(sorted(sh.ns))
        hal.calls.append(("repl",))

    hal.repl = repl
    out = run(sh, con, b"repl")
    assert out == b"MicroPython REPL; Ctrl-D returns to the MultiOS shell\r\n"
    assert hal.calls == [("repl",)]
    assert "_multios_repl" in seen[0]  # called through the namespace (globals = ns)
    assert "_multios_repl" not in sh.ns  # and taken out again
    assert k.foreground == [("shell-task", True), ("shell-task", False)]


def test_repl_left_with_ctrl_a_continues_in_the_raw_repl():
    hal = FakeHal()
    hal.repl = lambda: "raw"  # what hal.repl() returns when Ctrl-A left MicroPython's REPL
    sh, con = make(hal=hal)
    out = run(sh, con, b"repl")
    assert out.endswith(b"raw REPL; CTRL-B to exit\r\n>")
    assert sh.in_raw
    assert "_multios_repl_result" not in sh.ns
    con.send(b"print(3)\x04")
    sh.poll()
    assert con.take() == b"OK3\r\n\x04\x04>"


def test_repl_error_is_reported():
    hal = FakeHal()

    def repl():
        raise OSError("repl: no console REPL on the unix port")

    hal.repl = repl
    sh, con = make(hal=hal)
    out = run(sh, con, b"repl")
    assert out.endswith(b"repl: failed: OSError: repl: no console REPL on the unix port\r\n")


def test_a_failing_command_does_not_end_the_shell():
    def boom(sh, arg):
        raise RuntimeError("kaputt")

    commands.register("boom", "boom", "raises")(boom)
    try:
        sh, con = make()
        assert run(sh, con, b"boom") == b"boom: failed: RuntimeError: kaputt\r\n"
        assert run(sh, con, b"echo alive") == b"alive\r\n"
    finally:
        del commands.COMMANDS["boom"]


def test_tab_completes_command_names_and_help_argument():
    sh, con = make()
    con.take()
    con.send(b"upt\t")
    sh.poll()
    assert bytes(sh.editor.buf) == b"uptime "
    con.send(b"\x03help pow\t")
    sh.poll()
    assert bytes(sh.editor.buf) == b"help poweroff "
    con.send(b"\x03p\t")  # ps, py, poweroff: common prefix is just "p": list them
    sh.poll()
    assert b"poweroff  ps  py" in con.take()


def test_history_through_the_shell():
    sh, con = make()
    run(sh, con, b"echo one")
    con.send(b"\x1b[A\r")
    sh.poll()
    assert con.take().endswith(b"one\r\n" + PROMPT)


def test_garbage_never_ends_the_shell():
    sh, con = make()
    junk = bytearray()
    for i in range(2000):
        junk.append((i * 7919 + 13) % 256)
    # no Ctrl-A (raw REPL) or Ctrl-D (soft reset): those are commands, not garbage
    junk = bytes(b for b in junk if b not in (1, 4))
    con.send(junk + b"\x03" + b"x" * 5000 + b"\x03\x1b[" + b"9" * 100 + b"\x1b\x1b[\x03")
    sh.poll()
    assert sh.exit == EXIT_NONE
    assert run(sh, con, b"echo still here") == b"still here\r\n"


def test_very_long_line_is_capped_and_answered():
    sh, con = make()
    room = sh.editor.line_max - len(b"echo ")
    assert room >= 200
    out = run(sh, con, b"echo " + b"y" * room)
    assert out == b"y" * room + b"\r\n"
    con.take()
    con.send(b"echo " + b"z" * 10000 + b"\r")
    sh.poll()
    assert con.take().endswith(b"z" * room + b"\r\n" + PROMPT)


def test_raw_repl_through_the_shell():
    sh, con = make()
    con.take()
    con.send(b"\r\x01")  # what mpremote sends
    sh.poll()
    assert con.take() == b"\r\n" + PROMPT + b"\r\nraw REPL; CTRL-B to exit\r\n>"
    con.send(b"print('hi')\x04")
    sh.poll()
    assert con.take() == b"OKhi\r\n\x04\x04>"
    con.send(b"\r\x02")  # mpremote leaves with CR Ctrl-B
    sh.poll()
    assert con.take() == b"\r\n" + PROMPT
    assert run(sh, con, b"echo back") == b"back\r\n"


def test_raw_repl_shares_the_py_namespace():
    sh, con = make()
    run(sh, con, b"py shared = 7")
    con.send(b"\x01print(shared)\x04\x02")
    sh.poll()
    assert b"OK7\r\n\x04\x04>" in con.take()


def test_mpremote_resume_sequence_from_inside_the_raw_repl():
    sh, con = make(raw=True)
    con.take()
    con.send(b"\r\x03\r\x01")  # enter_raw_repl(soft_reset=False) while already there
    sh.poll()
    assert con.take() == b"raw REPL; CTRL-B to exit\r\n>"


def test_ctrl_d_in_raw_repl_is_soft_reset_into_raw():
    sh, con = make()
    con.take()
    con.send(b"\r\x03\r\x01\x04ignored")
    sh.poll()
    assert con.take().endswith(b"raw REPL; CTRL-B to exit\r\n>OK\r\nMPY: soft reboot\r\n")
    assert sh.exit == EXIT_RAW


def test_start_in_raw_mode_after_soft_reset():
    sh, con = make(raw=True)
    assert con.take() == b"raw REPL; CTRL-B to exit\r\n>"
    assert sh.in_raw


def test_ctrl_d_at_the_prompt_is_soft_reset():
    hal = FakeHal()
    sh, con = make(hal=hal)
    con.take()
    con.send(b"\x04")
    sh.poll()
    assert con.take() == b"\r\nMPY: soft reboot\r\n"
    assert sh.exit == EXIT_SOFT
    assert hal.calls == [("reset_request", 2000)] and hal.mode == 0  # back at the prompt


def test_reboot_and_poweroff_request_exit():
    sh, con = make()
    run(sh, con, b"reboot")
    assert sh.exit == EXIT_REBOOT
    sh, con = make()
    con.send(b"poweroff\recho never\r")
    sh.poll()
    assert sh.exit == EXIT_POWEROFF
    assert b"never" not in con.take().split(b"poweroff\r\n")[1]


def test_alert_redraws_prompt_and_line():
    import services.shell

    sh, con = make()
    con.send(b"echo hal")
    sh.poll()
    con.take()
    assert services.shell.alert("disk on fire")
    assert con.take() == b"\r\x1b[Kdisk on fire\r\n\r" + PROMPT + b"echo hal\x1b[K"
    con.send(b"f\r")
    sh.poll()
    assert con.take().startswith(b"f\r\nhalf\r\n")


def test_no_alert_while_raw_repl_is_active():
    import services.shell

    sh, con = make(raw=True)
    con.take()
    assert not services.shell.alert("disk on fire")
    assert con.take() == b""


def test_run_task_body_ends_with_the_exit_code():
    sh, con = make()
    con.send(b"poweroff\r")
    coro = sh.run()
    try:
        while True:
            coro.send(None)
    except StopIteration as e:
        assert e.value == EXIT_POWEROFF


def test_soft_reset_tells_the_hal_first_and_drops_the_namespace():
    hal = FakeHal()
    sh, con = make(hal=hal)
    run(sh, con, b"py left = bytearray(1000)")
    con.send(b"\x01\x04")  # the raw REPL, then Ctrl-D on an empty program
    sh.poll()
    assert sh.exit == EXIT_RAW
    assert hal.calls == [("reset_request", 2000)]  # from here the VM is rebuilt anyway
    assert hal.mode == 1  # set now: init may never run again in this VM
    assert "left" not in sh.ns and "kernel" not in sh.ns  # the user's heap is free again


class IntoConsole(FakeConsole):
    """A console with readinto, as the HAL's: the shell reads into its own buffer."""

    reads = 0

    def read(self, n):
        raise AssertionError("read() allocates: the shell must use readinto")

    def readinto(self, buf):
        n = min(len(buf), len(self.inbuf))
        buf[:n] = self.inbuf[:n]
        self.inbuf = self.inbuf[n:]
        self.reads += 1
        return n


def test_poll_reads_into_a_preallocated_buffer():
    con = IntoConsole()
    sh = Shell(con, FakeKernel(), FakeHal(), ns={}, asyncio=None)
    sh.start()
    con.take()
    con.send(b"echo " + b"x" * 100 + b"\r")
    sh.poll()
    assert con.take().endswith(b"\r\n" + b"x" * 100 + b"\r\n" + PROMPT)
    assert con.reads == 2  # 106 bytes, 64 at a time


def test_memory_error_while_editing_is_answered_and_the_shell_goes_on():
    sh, con = make()
    con.take()

    def full(c):
        raise MemoryError

    feed_line = sh._feed_line
    sh._feed_line = full
    con.send(b"x")
    sh.poll()
    assert con.take() == b"\r\nMemoryError: heap full (Ctrl-D: soft reset)\r\n"
    sh._feed_line = feed_line
    assert run(sh, con, b"echo still") == b"still\r\n"


def test_reboot_no_scripts_is_a_soft_reset_the_hal_hears_of():
    hal = FakeHal()
    sh, con = make(hal=hal)
    run(sh, con, b"reboot --no-scripts")
    assert sh.exit == EXIT_SOFT
    assert hal.calls == [("reset_request", 2000)] and hal.mode == 2  # commands.BOOT_NO_SCRIPTS


def test_an_alert_during_foreground_code_is_held_until_the_prompt():
    import services.shell

    sh, con = make()
    out = run(sh, con, b"py __import__('services.shell').shell.alert('disk on fire') and 7")
    assert out == b"7\r\ndisk on fire\r\n"  # after the code's own output, before the prompt
    assert sh.held == [] and sh.fg == 0
    for i in range(12):  # more than params.SHELL_ALERTS_HELD: the newest are kept
        sh._foreground(True)
        assert services.shell.alert("a%d" % i)
        sh._foreground(False)
    assert sh.held == ["a%d" % i for i in range(4, 12)]
    out = run(sh, con, b"echo x")
    assert out == b"x\r\n" + b"".join(b"a%d\r\n" % i for i in range(4, 12))
