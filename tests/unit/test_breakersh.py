# Tests for services/breakersh (the shell's `breaker`), on the kernel's default scheduler
# with a virtual clock: the table, the config line, each verb on an instance and on a
# service, one-line errors, help and Tab completion.
from shellfakes import FakeConsole, FakeHal, cmd

import kernel
import services.breakersh  # noqa: F401 - registers `breaker`
from kernel.clock import VirtualClock
from services.commands import COMMANDS
from services.shell import Shell


def setup():
    kernel.reset(VirtualClock(0, 0))
    kernel.register_instance("web@1")
    kernel.register_instance("web@2")
    kernel.set_breaker("web", window_size=4, minimum_calls=2, wait_open_sec=5)
    con = FakeConsole()
    return Shell(con, kernel, FakeHal(), ns={}), con


def fail(b, n):
    for _ in range(n):
        b.allow()
        b.record(False, 1)


def test_breaker_lists_every_breaker_and_shows_one_with_its_config():
    sh, con = setup()
    fail(kernel.get_breaker("web@2"), 2)
    out = cmd(sh, con, "breaker")
    assert out[0].split() == [
        "NAME", "STATE", "CALLS", "FAILED", "SLOW", "FAIL%", "SLOW%", "DENIED", "OPENED",
    ]  # fmt: skip
    assert out[1].split() == [
        "web", "closed", "0", "0", "0", "-", "-", "0", "0", "wait", "5000", "ms",
    ]  # fmt: skip
    assert out[3].split() == [
        "web@2", "open", "2", "2", "0", "100.0%", "0.0%", "0", "1",
        "5000", "ms", "to", "half_open",
    ]  # fmt: skip
    assert len(out) == 4
    out = cmd(sh, con, "breaker web@2")
    assert out[1].split()[:2] == ["web@2", "open"] and len(out) == 3
    assert out[2] == (
        "config web: count window of 4 calls, min 2 calls, open at 50% failed or 100% slow "
        "(>= 60000 ms), wait 5 s (x1 up to 600 s), 10 trial calls"
    )


def test_each_verb_acts_on_what_the_name_reaches_and_says_what_moved():
    sh, con = setup()
    assert cmd(sh, con, "breaker web@1 open") == ["web@1: closed -> forced_open"]
    assert not kernel.get_breaker("web@1").available()
    assert cmd(sh, con, "breaker web@1 close") == ["web@1: forced_open -> closed"]
    assert cmd(sh, con, "breaker web disable") == [
        "web: closed -> disabled",
        "web@1: closed -> disabled",
        "web@2: closed -> disabled",
    ]
    fail(kernel.get_breaker("web@1"), 5)
    assert kernel.get_breaker("web@1").state_name() == "disabled"
    assert cmd(sh, con, "breaker web reset")[2] == "web@2: reset, closed (was disabled)"
    assert kernel.get_breaker("web@1").total_calls == 0
    lines = kernel.journal_lines(3)
    assert lines[-1].endswith("web@2: breaker reset (was disabled)")


def test_bad_names_and_verbs_are_one_line():
    sh, con = setup()
    assert cmd(sh, con, "breaker db") == [
        "breaker db: no breaker by that name (set_breaker(SERVICE, ...) gives a service and "
        "its instances one)"
    ]
    assert cmd(sh, con, "breaker web explode") == [
        "breaker: usage: breaker [NAME [open|close|reset|disable]], got 'web explode'"
    ]
    kernel.reset(VirtualClock(0, 0))
    assert cmd(sh, con, "breaker")[0].startswith("breaker: none set")


def test_help_and_tab_completion():
    sh, con = setup()
    out = cmd(sh, con, "help breaker")
    assert out[0] == "usage: breaker [NAME [open|close|reset|disable]]"
    comp = COMMANDS["breaker"].complete
    assert comp("web@") == ["web@1", "web@2"]
    assert comp("web@1 ") == ["web@1 open", "web@1 close", "web@1 reset", "web@1 disable"]
    assert comp("web@1 d") == ["web@1 disable"]
