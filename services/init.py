# services/init: the boot sequence (MultiOS's init), what the firmware runs after every (soft)
# reset, read top to bottom. It sits above the kernel: it knows the frozen units and the
# shell, the kernel knows neither (imports point down only).
#
# 1. the banner `MultiOS <version> on <board> (MicroPython <version>)`;
# 2. storage: `/` is mounted (a blank disk formatted), this boot's journal starts on it and
#    the previous boot's crash report is moved into it (kernel/storage.py, kernel/jstore.py);
#    the secrets key is read from it once the first secret has made it (kernel/vault.py);
# 3. the frozen units (services/units.py) are registered, then the files in /etc/units
#    (over frozen units of the same name) and the saved enable/disable choices; /boot.py
#    runs (unless Ctrl-C waits on the console); the enabled units start in dependency order,
#    one systemd-style line each as they settle;
# 4. the console shell, a kernel task: once the boot job is done /main.py runs (not after a
#    raw-REPL reset), then the prompt; the kernel runs until the shell ends;
# 5. every service is stopped in reverse dependency order (each cancelled, then killed after
#    its stop_timeout), concurrently where independent; for a soft reset within
#    params.SOFT_RESET_MAX_MS in all (the C HAL tears the VM down after that anyway), after
#    putting back any of our modules that console code replaced in sys.modules; the
#    journal is flushed;
# 6. by the shell's exit code: power off, reset, or return to the C loop (soft reset).
# Everything the stop path runs is bound when this module is imported: no import and no
# builtins override of the console's user code reaches it (see services/pyrun.py).
# After a soft reset asked for in the raw REPL (hal.boot_mode() == 1) steps 1-2 print
# nothing and the shell starts in the raw REPL, as mpremote expects. Nothing is printed
# while stopping for such a reset either.
# Not here: the scheduler (kernel/sched.py), the shell (services/shell.py), the service
# manager (kernel/svc.py and below).
import sys

import kernel
import services.breakersh  # noqa: F401 - registers `breaker`
import services.configcmd  # noqa: F401 - registers `config`
import services.faultsh  # noqa: F401 - registers `faults` and `fault`
import services.fscmds  # noqa: F401 - registers ls, cat, rm, mkdir, df, mount
import services.healthsh  # noqa: F401 - registers `health` and `discover`
import services.lbcmd  # noqa: F401 - registers `lb`
import services.metricscmd  # noqa: F401 - registers `metrics`, `alerts`, `top`
import services.netcmds  # noqa: F401 - registers ifconfig, ping, netstat, wget
import services.svc  # noqa: F401 - registers the shell's `svc` verbs
from kernel import alerting, jstore, params, storage, svc, unitfiles, vault
from kernel.errors import TimeoutError as StopTimeout
from kernel.version import VERSION
from services import units as frozen
from services.commands import BOOT_NO_SCRIPTS
from services.shell import (
    BOOT_RAW,
    EXIT_POWEROFF,
    EXIT_RAW,
    EXIT_REBOOT,
    EXIT_SOFT,
    HalConsole,
    Shell,
)

BOOT_PY = "/boot.py"  # run before the units start, as on MicroPython boards
MAIN_PY = "/main.py"  # run once the boot job is done, before the prompt


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
    mode = hal.boot_mode()
    raw = mode == BOOT_RAW
    hal.set_boot_mode(0)  # a later reset boots normally unless asked again

    def say(text):
        if not raw:
            console.write(text.encode() + b"\r\n")

    kernel.reset(clock)  # a fresh scheduler (clock None: the HAL's, bound by run())
    say(banner(hal))
    disk = _storage(hal, say)  # `/`, this boot's journal on it, the last crash report
    _secrets(disk, say)  # the secrets key on `/` (made by the first secret), config saved there
    frozen.install(
        kernel,
        frozen.UNITS if units is None else units,
        frozen.GROUPS if groups is None else groups,
        say,
    )
    svc.persist = None
    if disk:
        unitfiles.load(svc.manager(), say)  # /etc/units: in addition to, or over, frozen
        unitfiles.load_enabled(svc.manager())  # the operator's enable/disable choices
        svc.persist = unitfiles.save_enabled
    aio = _asyncio()
    if aio is not None:
        aio.install()  # services that `import asyncio` get the kernel's
    shell = Shell(console, kernel, hal, ns=ns, asyncio=aio)
    scripts = disk and _scripts(hal, say, mode == BOOT_NO_SCRIPTS)
    if scripts and _exists(BOOT_PY):
        shell.runner.run_file(BOOT_PY)  # before the units start: it may add or change some
    # the kernel's series and alert rules, from the first start; each alert firing or
    # resolving is one console line (held while foreground code owns the console)
    alerting.start(changed=_alert_line)
    job = svc.boot_start(say)
    main_py = scripts and not raw and _exists(MAIN_PY)  # as MicroPython: none in raw REPL
    modules = dict(sys.modules)  # what a soft reset puts back (_restore_modules)
    shell.task = kernel.spawn(
        _console(shell, raw, job, main_py, aio, modules), name="shell", budget_ms=0
    )
    try:
        kernel.run(clock)
    except BaseException as e:
        jstore.panic(e)  # through the filesystem first; main.c then reports it
        raise
    jstore.detach()  # the last lines reach the disk before power-off or reset

    code = shell.exit
    if code == EXIT_POWEROFF:
        hal.poweroff(0)
    elif code == EXIT_REBOOT:
        hal.reset()
    return code  # a soft reset: the shell has set the boot mode


def _storage(hal, say):
    """Mount `/`; when it is there, start this boot's journal on it and move the previous
    boot's crash report (if any) into it. Returns True when `/` is mounted."""
    jstore.detach()
    storage.mount_root(hal, say)
    if not storage.mounted():
        return False
    js = jstore.JStore()
    try:
        js.open()
    except OSError as e:
        kernel.log("journal: no journal on disk (%s)" % storage.errno_name(e), "error")
        return True
    jstore.attach(kernel, js)
    n = jstore.take_crash(hal, js)
    if n:
        kernel.log(
            "crash report of boot %d (%d lines) is in 'log --boot -1'" % (js.boot - 1, n), "warn"
        )
        say("[ WARN ] the previous boot crashed: 'log --boot -1' shows its report")
    return True


def _secrets(disk, say):
    # The key is read from `/` now if it is there; the first secret set makes it (vault.py).
    # Without `/` nothing is saved and that key lives in RAM.
    svc.manager().config_state_dir = params.CONFIG_STATE_DIR if disk else None
    v = vault.open_key(params.SECRET_KEY_PATH if disk else None, log=kernel.log)
    if v.state == vault.BAD:
        kernel.log("secrets: " + v.reason, "error")
        say("[FAILED] secrets: " + v.reason)


def _scripts(hal, say, no_scripts):
    # /boot.py and /main.py run unless a Ctrl-C is waiting on the console (held at boot) or
    # this boot came from `reboot --no-scripts`.
    peek = getattr(hal, "console_peek", None)
    why = "reboot --no-scripts" if no_scripts else None
    if why is None and peek is not None and b"\x03" in peek():
        why = "Ctrl-C at boot"
    if why is not None:
        say("[ SKIP ] /boot.py and /main.py: " + why)
        return False
    return True


def _exists(path):
    import os

    try:
        os.stat(path)
        return True
    except OSError:
        return False


async def _console(shell, raw, job, main_py=False, aio=None, modules=None):
    # The shell's task: wait for the boot job (its lines come first), run the shell, then
    # stop the services and the kernel.
    if job is not None:
        if not raw:
            await job.wait()
        svc.boot_done(job)
    if main_py:
        shell.runner.run_file(MAIN_PY)  # in the foreground, before the prompt
    while True:
        try:
            code = await shell.run(raw)
            break
        except Exception as e:  # noqa: BLE001 - a shell bug must not leave the console dead
            kernel.log("shell: crashed with %r, restarted" % e, "error")
            shell.console.write(b"\r\nshell: crashed (see 'log'), restarted\r\n")
            raw = shell.in_raw  # mpremote in the raw REPL stays there
            await kernel.sleep_ms(params.SHELL_RESTART_MS)  # a shell that keeps failing
    quiet = code == EXIT_RAW  # mpremote waits for the raw REPL banner: print nothing
    soft = code == EXIT_RAW or code == EXIT_SOFT

    def say(text):
        if not quiet:
            shell.console.write(text.encode() + b"\r\n")

    try:
        if soft and modules is not None:
            _restore_modules(modules)
        if soft and aio is not None:
            await aio.wait_for_ms(svc.stop_all(say), shell.reset_max_ms)
        else:
            await svc.stop_all(say)
    except StopTimeout:
        shell.console.write(
            b"soft reset: services still stopping after %d ms, dropped\r\n" % shell.reset_max_ms
        )
    except Exception as e:  # noqa: BLE001 - said in one line; the reset goes on
        shell.console.write(b"stop: failed: %s\r\n" % repr(e).encode())
    finally:
        kernel.stop()


def _alert_line(a):
    from services import shell

    shell.alert(a.console_line())


def _restore_modules(saved):
    # Console code may have replaced or removed our modules in sys.modules
    # (`sys.modules['kernel'] = None`): put back what boot had, before the stop path runs.
    mods = sys.modules
    for name in saved:
        m = saved[name]
        if mods.get(name) is not m:
            mods[name] = m


def _asyncio():
    # The kernel's asyncio for the console namespace; a build without it still boots.
    try:
        import kernel.asyncio as asyncio  # noqa: PLR0402 - not through kernel.__getattr__
    except ImportError as e:
        kernel.log("boot: no kernel.asyncio for the console (%s)" % e, "warn")
        return None
    return asyncio
