# services/init: the boot sequence (MultiOS's init), what the firmware runs after every (soft)
# reset, read top to bottom. It sits above the kernel: it knows the frozen units and the
# shell, the kernel knows neither (imports point down only).
#
# 1. the banner `MultiOS <version> on <board> (MicroPython <version>)`;
# 2. the frozen units (services/units.py) are registered and the enabled ones started in
#    dependency order by the service manager, one systemd-style line each as they settle;
# 3. the console shell, a kernel task: its prompt comes once the boot job is done; then the
#    kernel runs until the shell ends;
# 4. every service is stopped in reverse dependency order (each cancelled, then killed after
#    its stop_timeout), concurrently where independent;
# 5. by the shell's exit code: power off, reset, or return to the C loop (soft reset).
# After a soft reset asked for in the raw REPL (hal.boot_mode() == 1) steps 1-2 print
# nothing and the shell starts in the raw REPL, as mpremote expects. Nothing is printed
# while stopping for such a reset either.
# Not here: the scheduler (kernel/sched.py), the shell (services/shell.py), the service
# manager (kernel/svc.py and below).
import sys

from micropython import const

import kernel
import services.svc  # noqa: F401 - registers the shell's `svc` verbs
from kernel import storage, svc
from kernel.version import VERSION
from services import units as frozen
from services.shell import EXIT_POWEROFF, EXIT_RAW, EXIT_REBOOT, HalConsole, Shell

_BOOT_RAW = const(1)  # hal.boot_mode(): come back in the raw REPL


def main():
    """The firmware's entry (boards/common/main.c) after each reset. Returns for a soft
    reset; the C loop then tears the VM down and calls main() again."""
    import __main__
    import hal

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


def run(hal, console, clock=None, ns=None, units=None, groups=None):
    """Boots on `console` (any/read/write) and runs until the shell ends; returns the
    shell's exit code (services.shell.EXIT_*) after acting on it. units/groups replace the
    frozen ones of services/units.py (tests)."""
    raw = hal.boot_mode() == _BOOT_RAW
    hal.set_boot_mode(0)  # a later reset boots normally unless asked again

    def say(text):
        if not raw:
            console.write(text.encode() + b"\r\n")

    kernel.reset(clock)  # a fresh scheduler (clock None: the HAL's, bound by run())
    say(banner(hal))
    storage.mount_root(hal, say)  # `/` before anything reads files
    frozen.install(
        kernel,
        frozen.UNITS if units is None else units,
        frozen.GROUPS if groups is None else groups,
        say,
    )
    job = svc.boot_start(say)
    aio = _asyncio()
    if aio is not None:
        aio.install()  # services that `import asyncio` get the kernel's
    shell = Shell(console, kernel, hal, ns=ns, asyncio=aio)
    shell.task = kernel.spawn(_console(shell, raw, job), name="shell", budget_ms=0)
    kernel.run(clock)

    code = shell.exit
    if code == EXIT_POWEROFF:
        hal.poweroff(0)
    elif code == EXIT_REBOOT:
        hal.reset()
    elif code == EXIT_RAW:
        hal.set_boot_mode(_BOOT_RAW)
    return code


async def _console(shell, raw, job):
    # The shell's task: wait for the boot job (its lines come first), run the shell, then
    # stop the services and the kernel.
    if job is not None:
        if not raw:
            await job.wait()
        svc.boot_done(job)
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

    await svc.stop_all(say)
    kernel.stop()


def _asyncio():
    # The kernel's asyncio for the console namespace; a build without it still boots.
    try:
        import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__
    except ImportError as e:
        kernel.log("boot: no kernel.asyncio for the console (%s)" % e, "warn")
        return None
    return asyncio
