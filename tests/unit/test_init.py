# Tests for services/init: the boot sequence on the real kernel with a virtual clock, a fake
# HAL and a console scripted through the clock (VirtualClock.type()), including the raw REPL
# soft reset round trip and stopping services at poweroff.
from shellfakes import FakeHal

import kernel
import services.init as boot  # noqa: PLR0402 - the module is called init, boot is what it does
from kernel.clock import VirtualClock
from kernel.version import VERSION
from services.shell import EXIT_POWEROFF, EXIT_RAW, EXIT_REBOOT, EXIT_SOFT

BANNER = ("MultiOS %s on fake (MicroPython 1.25.0)\r\n" % VERSION).encode()


class ClockConsole:
    """The virtual clock's simulated console, plus a record of what was written."""

    def __init__(self, clock):
        self.any = clock.console_any
        self.read = clock.console_read
        self.out = bytearray()

    def write(self, data):
        self.out += data


def typist(clock, script):
    """A boot service that types (delay_ms, bytes) steps on the console, in virtual time."""

    async def typist():
        for delay_ms, data in script:
            await kernel.sleep_ms(delay_ms)
            clock.type(data)

    return typist


HEARTBEAT = ({"name": "heartbeat", "exec": "services.heartbeat:main", "enabled": True},)


def boot_with(typed=b"", hal=None, script=None, units=HEARTBEAT, groups=()):
    clock = VirtualClock(seed=0)
    clock.type(typed)
    hal = hal or FakeHal(now=1764136343)
    con = ClockConsole(clock)
    if script:
        units = units + ({"name": "typist", "exec": typist(clock, script), "enabled": True},)
    code = boot.run(hal, con, clock=clock, ns={}, units=units, groups=groups)
    return code, bytes(con.out), hal


def test_banner():
    assert boot.banner(FakeHal()) == BANNER[:-2].decode()


def test_boot_banner_services_prompt_and_poweroff():
    code, out, hal = boot_with(b"poweroff\r")
    assert out == (
        BANNER + b"[  OK  ] Started heartbeat.\r\n"
        b"multios> poweroff\r\n"
        b"[  OK  ] Stopped heartbeat.\r\n"
    ), out
    assert code == EXIT_POWEROFF
    assert hal.calls == [("poweroff", 0)]


def test_reboot_resets():
    code, out, hal = boot_with(b"reboot\r")
    assert code == EXIT_REBOOT
    assert hal.calls == [("reset",)]


def test_frozen_units_start_in_dependency_order_and_stop_in_reverse():
    from services import units

    code, out, hal = boot_with(b"poweroff\r", units=units.UNITS, groups=units.GROUPS)
    assert (
        out
        == (
            BANNER + b"[  OK  ] Started heartbeat.\r\n"
            b"[  OK  ] Started Network.\r\n"
            b"[  OK  ] Started HTTP service.\r\n"  # after netd (its `after`)
            b"[  OK  ] Started Pair store.\r\n"
            b"[  OK  ] Started Pair ticker.\r\n"
            b"multios> poweroff\r\n"
            b"[  OK  ] Stopped Pair ticker.\r\n"  # the ticker requires the store: it stops first
            b"[  OK  ] Stopped HTTP service.\r\n"  # before netd, which it is ordered after
            b"[  OK  ] Stopped heartbeat.\r\n"  # independent: stopped concurrently
            b"[  OK  ] Stopped Pair store.\r\n"
            b"[  OK  ] Stopped Network.\r\n"
        )
    ), out
    assert code == EXIT_POWEROFF


def test_failing_service_prints_failed_and_boot_goes_on():
    def raises():
        raise ValueError("no config")

    async def needs():
        await kernel.sleep_ms(1)

    code, out, hal = boot_with(
        b"poweroff\r",
        units=(
            {"name": "bad", "exec": "no.such:module", "enabled": True, "restart": "no"},
            {"name": "worse", "exec": raises, "type": "oneshot", "enabled": True, "restart": "no"},
            {"name": "user", "exec": needs, "requires": ["worse"], "enabled": True},
            {"name": "broken", "restart": "sometimes"},
        ),
    )
    lines = out.split(b"\r\n")
    assert lines[1] == (
        b"[FAILED] unit broken: 'restart' must be one of no, on-failure, on-abnormal, "
        b"on-watchdog, always, temporary, transient, permanent, got 'sometimes'"
    ), lines
    assert lines[2].startswith(b"[FAILED] Failed to start bad: exception: exec: ImportError"), (
        lines
    )
    assert lines[3] == b"[FAILED] Failed to start worse: exception: ValueError: no config", lines
    assert lines[4] == b"[FAILED] Failed to start user: dependency: requires worse, which failed"
    assert lines[5] == b"multios> poweroff", lines
    assert code == EXIT_POWEROFF


def test_services_run_while_the_shell_waits():
    code, out, hal = boot_with(
        script=(
            (72_500, b"uptime\rpy import services.heartbeat as hb\rpy hb.beats\rps\r"),
            (10, b"poweroff\r"),
        )
    )
    assert b"uptime\r\nup 00:01:12\r\n" in out, out
    assert b"hb.beats\r\n72\r\n" in out, out
    ps = out.split(b"ps\r\n")[1].split(b"multios> ")[0].decode().split("\r\n")
    assert ps[0].split()[:6] == ["ID", "NAME", "STATE", "STEPS", "CPU_US", "ALLOC_B"]
    names = [row.split()[1] for row in ps[1:] if row]
    assert "heartbeat" in names and "shell" in names and "typist" in names, ps
    assert code == EXIT_POWEROFF


def test_raw_repl_soft_reset_round_trip():
    hal = FakeHal()
    code, out, hal = boot_with(b"\r\x03\r\x01print(1)\x04\x04", hal)  # mpremote's sequence
    assert code == EXIT_RAW
    assert hal.mode == 1  # come back in the raw REPL
    # The HAL heard of the soft reset first (from then on the VM is rebuilt whatever
    # happens); no poweroff, no reset: main() returns to the C loop.
    assert hal.calls == [("reset_request", 2000)]
    assert out.endswith(b"raw REPL; CTRL-B to exit\r\n>OK1\r\n\x04\x04>OK\r\nMPY: soft reboot\r\n")
    assert b"Stopped" not in out  # nothing but the raw REPL writes to the console

    code, out, hal = boot_with(b"print(2 + 2)\x04\r\x02poweroff\r", hal)  # after the reset
    assert out.startswith(b"raw REPL; CTRL-B to exit\r\n>OK4\r\n\x04\x04>\r\nmultios> ")
    assert BANNER not in out and b"Started" not in out
    assert hal.mode == 0
    assert code == EXIT_POWEROFF


def test_ctrl_d_at_the_prompt_soft_resets_to_the_prompt():
    code, out, hal = boot_with(b"\x04")
    assert code == EXIT_SOFT
    assert hal.mode == 0
    assert out.endswith(b"multios> \r\nMPY: soft reboot\r\n[  OK  ] Stopped heartbeat.\r\n")


def test_stop_kills_a_service_that_ignores_cancel():
    stopped = []

    async def stubborn():
        try:
            while True:
                try:
                    await kernel.sleep_ms(1000)
                except kernel.CancelledError:
                    pass  # ignores the stop request
        finally:
            stopped.append(True)

    unit = {"name": "stubborn", "exec": stubborn, "enabled": True}
    code, out, hal = boot_with(b"poweroff\r", units=(unit,))
    assert out.endswith(b"[FAILED] Killed stubborn: did not stop within 3000 ms.\r\n"), out
    assert stopped == [True]  # closed in the end: its finally ran
    assert hal.calls == [("poweroff", 0)]


def test_units_in_a_cycle_fail_alone_at_boot():
    code, out, hal = boot_with(
        b"poweroff\r",
        units=HEARTBEAT
        + (
            {"name": "a", "exec": "services.heartbeat:main", "after": ["b"], "enabled": True},
            {"name": "b", "exec": "services.heartbeat:main", "requires": ["a"], "enabled": True},
            {"name": "c", "exec": "services.heartbeat:main", "requires": ["z"], "enabled": True},
        ),
    )
    lines = out.split(b"\r\n")
    assert lines[1:5] == [
        b"[FAILED] Failed to start c: unit c: 'requires' names z, which does not exist",
        b"[FAILED] Failed to start a: cycle: a -> b -> a",
        b"[FAILED] Failed to start b: cycle: a -> b -> a",
        b"[  OK  ] Started heartbeat.",
    ], lines
    assert code == EXIT_POWEROFF


def test_the_kernel_imports_no_service():
    # Imports point down only: init (services/init.py) knows the kernel, never the reverse.
    import os

    offenders = []
    for name in sorted(os.listdir("kernel")):
        if not name.endswith(".py"):
            continue
        with open("kernel/" + name) as f:
            for n, line in enumerate(f, 1):
                words = line.split()
                if (
                    len(words) > 1
                    and words[0] in ("import", "from")
                    and (words[1] == "services" or words[1].startswith("services."))
                ):
                    offenders.append("kernel/%s:%d: %s" % (name, n, line.strip()))
    assert offenders == [], offenders


def stubborn_unit(stopped):
    async def stubborn():
        try:
            while True:
                try:
                    await kernel.sleep_ms(1000)
                except kernel.CancelledError:
                    pass  # ignores the stop request
        finally:
            stopped.append(True)

    return {"name": "stubborn", "exec": stubborn, "enabled": True}


def test_soft_reset_stops_services_within_the_cap_then_goes_anyway():
    stopped = []
    code, out, hal = boot_with(b"\x04", units=HEARTBEAT + (stubborn_unit(stopped),))
    assert code == EXIT_SOFT
    assert out.endswith(
        b"MPY: soft reboot\r\n[  OK  ] Stopped heartbeat.\r\n"
        b"soft reset: services still stopping after 2000 ms, dropped\r\n"
    ), out
    assert b"Killed stubborn" not in out  # its stop_timeout (3000 ms) never came
    assert stopped == []  # the VM teardown drops it; poweroff would kill it (test above)


def test_soft_reset_after_console_code_broke_imports_and_builtins():
    import sys

    typed = (
        b"py import sys; sys.modules['kernel'] = None; sys.modules.pop('kernel.svc')\r"
        b"py import builtins; builtins.__import__ = None; builtins.len = None\r"
        b"\x04"
    )
    code, out, hal = boot_with(typed)
    assert code == EXIT_SOFT
    assert out.endswith(b"MPY: soft reboot\r\n[  OK  ] Stopped heartbeat.\r\n"), out
    assert sys.modules["kernel"] is kernel  # put back before the stop path ran
    assert sys.modules["kernel.svc"] is boot.svc
    assert len("ab") == 2
