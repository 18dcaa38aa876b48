# kernel: the public API of the MultiOS kernel, one process-wide scheduler.
#
# Owns: the default Scheduler (made on first use; its clock is bound by run()) and short
# functions over it that services, the shell and boot code use. Tasks enter the kernel only
# through traps (kernel/traps.py); everything else here is plain calls. The asyncio-compatible
# API is the submodule kernel.asyncio (imported on first use: `import kernel.asyncio`).
# Not here: scheduling logic (kernel/sched.py), sync primitives (kernel/sync.py).
from kernel import sched as _sched
from kernel.errors import (  # noqa: F401 - public names
    CallNotPermitted,
    CancelledError,
    KernelPanic,
    QueueEmpty,
    QueueFull,
    TimeoutError,
    Watchdog,
)
from kernel.log import DEBUG, ERROR, INFO, WARN  # noqa: F401
from kernel.sync import Event, Lock, Queue, Semaphore, ThreadSafeFlag  # noqa: F401
from kernel.task import STATE_NAMES, Task  # noqa: F401
from kernel.traps import sleep, sleep_ms, sleep_us, wait_console, yield_  # noqa: F401

_default = None  # the kernel's Scheduler


def scheduler():
    """The running scheduler, else the kernel's default one (made on first use)."""
    global _default
    s = _sched.running()
    if s is not None:
        return s
    if _default is None:
        _default = _sched.Scheduler()
    return _default


def reset(clock=None):
    """Replace the default scheduler by a fresh one (tests; the boot, before it runs).
    Refused while a scheduler runs: the console, the services and this API would then
    part ways (the shell ran on the old one, the API on the new), and the next wait of the
    console took the kernel down. A soft reset gives a fresh kernel; a Scheduler(clock) of
    its own (kernel/sched.py) runs beside the kernel."""
    global _default
    if _sched.running() is not None:
        raise RuntimeError(
            "kernel.reset: the kernel is running; for a fresh one soft reset (Ctrl-D, "
            "machine.soft_reset()), for another one beside it use kernel.sched.Scheduler(clock)"
        )
    _default = _sched.Scheduler(clock)
    return _default


def spawn(coro, name=None, budget_ms=None):
    """Start a coroutine/generator as a task -> Task. budget_ms: watchdog per step
    (None: params.WATCHDOG_BUDGET_MS, 0: none)."""
    return scheduler().spawn(coro, name, budget_ms)


def run(clock=None):
    """Run the kernel on `clock` (default: the HAL's real clock) until stop(); returns."""
    s = scheduler()
    if clock is not None or s.clock is None:
        from kernel.clock import real_clock

        s.set_clock(clock or real_clock())
    s.run()


def stop():
    """Make kernel.run() return after the current step."""
    scheduler().stop()


def current():
    """The task stepping now, or None."""
    return scheduler().cur


def tasks():
    """Alive tasks by id, then recently ended ones (attributes: id, name, state,
    state_name(), steps, cpu_us/cpu_s, alloc_b/alloc_kb, last_run, reason, value, exc)."""
    return scheduler().tasks()


def task(tid):
    """The task with this id (alive or recently ended), or None."""
    return scheduler().get(tid)


def kill(task_id):
    """Cancel task task_id (reason 'killed'); a second kill closes it at once (its finally
    blocks run under the watchdog). -> bool"""
    return scheduler().kill(task_id)


def set_foreground(t, flag):
    """Mark task t as running the console's foreground code (no watchdog; may call
    asyncio.run(), which then runs a nested loop) or clear that mark."""
    scheduler().set_foreground(t, flag)


def set_failure_hook(fn):
    """fn(task) is told once of every task that fails (the supervisor); None: log them."""
    scheduler().on_failure = fn


def log(msg, level=INFO):
    """Append a line to the kernel log (level: DEBUG..ERROR or 'info', 'warn', 'error')."""
    scheduler().log.log(msg, level)


def log_lines(n=None):
    """The last n kernel log lines (all kept when None), oldest first, formatted."""
    s = scheduler()
    s.pull_output()
    return s.log.lines(n)


def uptime_ms():
    """ms since the kernel's clock was bound."""
    return scheduler().uptime_ms()


def now_ms():
    """The kernel clock's ticks_ms() (a ticks value: compare with ticks_diff)."""
    s = scheduler()
    return s.clock.ticks_ms() if s.clock is not None else 0


def deadline(timeout_ms):
    """A deadline timeout_ms from now (a ticks_ms value): one deadline across many waits,
    e.g. `d = kernel.deadline(500)` then `await asyncio.wait_for_ms(x, kernel.remaining_ms(d))`."""
    s = scheduler()
    return s.clock.ticks_add(s.clock.ticks_ms(), timeout_ms)


def remaining_ms(deadline):
    """ms left until `deadline` (from kernel.deadline()), 0 once it has passed."""
    s = scheduler()
    return max(0, s.clock.ticks_diff(deadline, s.clock.ticks_ms()))


def idle_ms():
    """Total ms the kernel spent idle (CPU load = 1 - idle / uptime)."""
    return scheduler().idle_ms()


# The service manager's API (kernel/svc.py), imported on first use like kernel.asyncio.
_SVC_API = (
    "create_service",
    "create_group",
    "start_service",
    "stop_service",
    "restart_service",
    "reload_service",
    "enable_service",
    "disable_service",
    "service_status",
    "list_services",
    "discover_services",
    "notify_ready",
    "notify_watchdog",
    "subscribe",
    "unsubscribe",
    "journal_lines",
)

# Other subsystems' API, by module, imported on first use the same way.
_API = {
    "register_instance": "discovery",
    "deregister_instance": "discovery",
    "instances": "discovery",
    "instance": "discovery",
    "watch": "discovery",
    "check_health": "health",
    "health_report": "health",
    "report_health": "health",
    "monitor_stats": "health",
    "event_name": "events",
    "event_code": "events",
    "metric": "metrics",
    "service_metrics": "metrics",
    "availability": "metrics",
    "ConfigError": "configapi",
    "validate_config": "configapi",
    "update_config": "configapi",
    "load_config": "configapi",
    "config_version": "configapi",
    "config_history": "configapi",
    "rollback_config": "configapi",
    "set_kind_config": "configapi",
    "service_config": "configapi",
    "secret": "configapi",
    "alerts": "alerting",
    "set_breaker": "breakers",
    "get_breaker": "breakers",
    "reset_breaker": "breakers",
    "fault_journal": "faults",
    "fault_stats": "faults",
    "inject_fault": "inject",
    "clear_fault": "inject",
    "injected_faults": "inject",
    "run_scenario": "scenario",
    "select_instance": "balancer",
    "set_strategy": "balancer",
    "lb_stats": "balancer",
    "request": "lbcall",
}


def __getattr__(name):
    # `kernel.asyncio` without importing it (and MicroPython's asyncio) at boot.
    if name == "asyncio":
        __import__("kernel.asyncio")  # `from kernel import asyncio` would come back here
        return globals()["asyncio"]
    if name in _SVC_API:
        __import__("kernel.svc")  # binds kernel.svc in this module's globals
        fn = globals()[name] = getattr(globals()["svc"], name)  # later lookups skip this
        return fn
    mod = "events" if name.startswith("EV_") else _API.get(name)
    if mod is not None:
        __import__("kernel." + mod)
        fn = globals()[name] = getattr(globals()[mod], name)
        return fn
    # A submodule not imported yet: with a module __getattr__, MicroPython's
    # `from kernel import x` asks here instead of importing kernel.x itself.
    try:
        __import__("kernel." + name)
    except ImportError:
        raise AttributeError(name) from None
    return globals()[name]
