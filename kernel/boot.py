# kernel/boot: what the firmware runs after every (soft) reset, read top to bottom.
#
# 1. the banner `MultiOS <version> on <board> (MicroPython <version>)`;
# 2. the boot services of services.BOOT, each a kernel task, one systemd-style line each;
# 3. the console shell, a kernel task; then the kernel runs until the shell ends;
# 4. the services are stopped (cancelled, then killed after STOP_TIMEOUT_MS), newest first;
# 5. by the shell's exit code: power off, reset, or return to the C loop (soft reset).
# After a soft reset asked for in the raw REPL (hal.boot_mode() == 1) steps 1-2 print
# nothing and the shell starts in the raw REPL, as mpremote expects. Nothing is printed
# while stopping for such a reset either.
# Not here: the scheduler (kernel/sched.py), the shell (services/shell.py); the service
# manager will replace the static boot list.
import sys

from micropython import const

import kernel
from kernel.version import VERSION

STOP_TIMEOUT_MS = const(3000)  # ms a stopping service gets before it is killed
_STOP_POLL_MS = const(10)  # ms between checks while services stop

_BOOT_RAW = const(1)  # hal.boot_mode(): come back in the raw REPL


def main():
    """The firmware's entry (boards/common/main.c) after each reset. Returns for a soft
    reset; the C loop then tears the VM down and calls main() again."""
    import __main__
    import hal
    from services.shell import HalConsole

    # __main__'s dict is where main.c runs, so `repl` (C) and `py` share one namespace.
    return run(hal, HalConsole(hal), ns=__main__.__dict__)


def banner(hal):
    v = sys.implementation.version
    return "MultiOS %s on %s (MicroPython %d.%d.%d)" % (
        VERSION,
        hal.info()["board"],
        v[0],
        v[1],
        v[2],
    )


def run(hal, console, clock=None, ns=None, boot_list=None):
    """Boots on `console` (any/read/write) and runs until the shell ends; returns the
    shell's exit code (services.shell.EXIT_*) after acting on it."""
    from services import BOOT
    from services.shell import EXIT_POWEROFF, EXIT_RAW, EXIT_REBOOT, Shell

    raw = hal.boot_mode() == _BOOT_RAW
    hal.set_boot_mode(0)  # a later reset boots normally unless asked again

    def say(text):
        if not raw:
            console.write(text.encode() + b"\r\n")

    kernel.reset(clock)  # a fresh scheduler (clock None: the HAL's, bound by run())
    say(banner(hal))
    started = start_services(BOOT if boot_list is None else boot_list, say)
    shell = Shell(console, kernel, hal, ns=ns, asyncio=_asyncio())
    shell.task = kernel.spawn(_console(shell, raw, started), name="shell", budget_ms=0)
    kernel.run(clock)

    code = shell.exit
    if code == EXIT_POWEROFF:
        hal.poweroff(0)
    elif code == EXIT_REBOOT:
        hal.reset()
    elif code == EXIT_RAW:
        hal.set_boot_mode(_BOOT_RAW)
    return code


def start_services(boot_list, say):
    """Spawns each (name, async fn) as a task; returns [(name, task)] of those started."""
    started = []
    for name, fn in boot_list:
        try:
            task = kernel.spawn(fn(), name=name)
        except Exception as e:  # noqa: BLE001 - a service that cannot start is reported
            kernel.log("boot: %s failed to start: %r" % (name, e), "error")
            say("[FAILED] Failed to start %s: %s: %s" % (name, type(e).__name__, e))
            continue
        started.append((name, task))
        say("[  OK  ] Started %s." % name)
    return started


async def stop_services(started, say):
    """Cancels the services newest first; kills what has not ended after STOP_TIMEOUT_MS."""
    for name, task in reversed(started):
        if task.done():
            continue
        task.cancel()
        waited_ms = 0
        while not task.done() and waited_ms < STOP_TIMEOUT_MS:
            await kernel.sleep_ms(_STOP_POLL_MS)
            waited_ms += _STOP_POLL_MS
        if task.done():
            say("[  OK  ] Stopped %s." % name)
        else:
            kernel.kill(task.id)
            kernel.log("boot: %s did not stop in %d ms, killed" % (name, STOP_TIMEOUT_MS), "warn")
            say("[FAILED] Killed %s: did not stop in %d ms." % (name, STOP_TIMEOUT_MS))


async def _console(shell, raw, started):
    # The shell's task: run the shell, then stop the services and the kernel.
    from services.shell import EXIT_RAW

    while True:
        try:
            code = await shell.run(raw)
            break
        except Exception as e:  # noqa: BLE001 - a shell bug must not leave the console dead
            kernel.log("shell: crashed with %r, restarted" % e, "error")
            shell.console.write(b"\r\nshell: crashed (see 'log'), restarted\r\n")
            raw = False
    quiet = code == EXIT_RAW  # mpremote waits for the raw REPL banner: print nothing

    def say(text):
        if not quiet:
            shell.console.write(text.encode() + b"\r\n")

    await stop_services(started, say)
    kernel.stop()


def _asyncio():
    # The kernel's asyncio for the console namespace; a build without it still boots.
    try:
        import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__
    except ImportError as e:
        kernel.log("boot: no kernel.asyncio for the console (%s)" % e, "warn")
        return None
    return asyncio
