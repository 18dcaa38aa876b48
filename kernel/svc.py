# kernel/svc: the service manager's public API (re-exported by `kernel`), on the Manager of
# the kernel's current scheduler (a fresh one after kernel.reset(), so a soft reset starts
# clean).
#
# Owns: short functions over Manager: create/start/stop/restart/reload/enable/disable,
# status, listing, discovery (glob by default, `regex:` prefix), groups, subscribers,
# notify_ready()/notify_watchdog() for the calling service, and what boot needs (start the
# enabled units; stop everything, dependents first). Errors are UnitError / CycleError with
# one line a person can act on. Not here: the mechanics (kernel/manager.py).
from kernel import glob as globs
from kernel import sched as _sched
from kernel import service as S
from kernel.names import lookup
from kernel.units import UnitError

_c_status = S._c_status  # kernel/service.py: Service.status in C (modksvc.c), or None
_c_status_of = S._c_status_of  # the same by name, the lookup included
_KSVC = S._KSVC

_mgr = None  # the Manager of the scheduler it was made for
persist = None  # persist(name, enabled): keep enable/disable across boots (set by init)


def manager(sched=None):
    """The Manager of `sched` (default: the kernel's scheduler), made on first use."""
    global _mgr
    if sched is None:
        import kernel

        sched = kernel.scheduler()
    if _mgr is None or _mgr.sched is not sched:
        from kernel import faults
        from kernel.manager import Manager

        _mgr = Manager(sched)
        # discovery's registry, the probe monitor and the fault engine follow its events
        faults.attach(_mgr)
    return _mgr


def create_service(unit, name=None):
    """Register a unit (dict, INI text or JSON text) -> its Service handle (a template
    `web@` -> its Unit). Raises UnitError with one line naming the bad field."""
    return manager().create(unit, name)


def create_group(name, strategy="one_for_one", intensity=None, period_sec=None, parent=None):
    """Create or change a supervision group (units join it with `group = name`)."""
    from kernel.supervisor import configure

    return configure(manager(), name, strategy, intensity, period_sec, parent)


def start_service(name):
    """Start name and what it requires/wants, in dependency order -> the Job (await
    job.wait() to wait for it). A cycle is refused (CycleError) before anything starts."""
    m = manager()
    m.get(name)
    return m.start_job([name], "start %s" % name)


def stop_service(name):
    """Stop name and what requires it, dependents first -> the Job."""
    m = manager()
    m.get(name)
    return m.stop_job([m.services[n] for n in m.dependents(name)], "stop %s" % name)


async def _restart(name):
    await stop_service(name).wait()
    await start_service(name).wait()


def restart_service(name):
    """Stop then start name (and its dependents' stop, its requirements' start) -> Task."""
    m = manager()
    m.get(name)
    return m.sched.spawn(_restart(name), "restart-" + name[:16])


def reload_service(name):
    """Run the unit's reload (or the class instance's reload()) while it stays active."""
    m = manager()
    svc = m.get(name)
    if svc.state != S.ACTIVE:
        raise UnitError(
            "unit %s: can only reload an active service, it is %s" % (name, svc.state_name())
        )
    fn = svc.unit.reload
    if fn is None and svc.obj is not None and hasattr(svc.obj, "reload"):
        fn = lambda s: s.obj.reload()  # noqa: E731
    if fn is None:
        raise UnitError("unit %s: 'reload' is not set (and exec has no reload())" % name)
    m.set_state(svc, S.RELOADING, S.RELOAD, "reloading")
    m.event(name, "reloading")
    try:
        r = S.resolve(fn)(svc)
    except Exception as e:  # noqa: BLE001 - a failed reload leaves it running, as systemd
        m.set_state(svc, S.ACTIVE, S.RUNNING, "reload failed: %s: %s" % (type(e).__name__, e))
        m.event(name, "reload failed", svc.cause)
        return svc
    if hasattr(r, "send"):
        m.sched.spawn(_finish_reload(m, svc, r), "reload-" + name[:17])
    else:
        _reloaded(m, svc)
    return svc


async def _finish_reload(m, svc, coro):
    try:
        await coro
    except Exception as e:  # noqa: BLE001 - see reload_service
        m.event(svc.name, "reload failed", "%s: %s" % (type(e).__name__, e))
    _reloaded(m, svc)


def _reloaded(m, svc):
    if svc.state == S.RELOADING:
        m.set_state(svc, S.ACTIVE, S.RUNNING, "reloaded")
        m.event(svc.name, "reloaded")


def enable_service(name):
    """Start name at boot from now on."""
    svc = manager().get(name)
    svc.enabled = True
    manager().event(name, "enabled")
    _persist(name, True)
    return svc


def disable_service(name):
    """Do not start name at boot."""
    svc = manager().get(name)
    svc.enabled = False
    manager().event(name, "disabled")
    _persist(name, False)
    return svc


def _persist(name, enabled):
    if persist is None:
        return
    try:
        persist(name, enabled)
    except OSError as e:
        manager().sched.log.log("svc: %s: enable state not saved (%r)" % (name, e), "error")


def service(name):
    """The Service handle `name` (it survives restarts)."""
    return manager().get(name)


def service_status(name, into=None):
    """A status dict: state, sub, result, cause, task, uptime_ms, restarts, budget, ...
    into: a dict (one an earlier call returned) refilled in place and returned, its other
    keys dropped: polling allocates nothing where _ksvc is built. (Where it is, the name
    is bound below to its C twin, which calls this for anything but a registered service
    of the kernel's running manager.)"""
    m = _mgr
    if m is None or m.sched is not _sched._running:  # else the kernel's, as manager() finds
        m = manager()
    return status_in(m, name, into)


def status_in(m, name, into=None):
    """service_status(name, into) on manager m (a manager the kernel did not make:
    benchmarks; and the long way: a template's instance made on first use)."""
    if _c_status_of is not None:
        d = _c_status_of(m.services, name, _KSVC, into)
        if d is not None:
            return d
        # not registered: a template's instance, made on first use; or UnitError
        return _c_status(m.get(name), _KSVC, into)
    svc = lookup(m.services, name)
    if svc is None:
        svc = m.get(name)
    return _refill(svc.py_status(), into)


if S._c_bind is not None:  # the same, the manager's test and the lookup included, in C
    service_status = S._c_bind(service_status, _KSVC, globals(), _sched)


def _refill(d, into):
    # Without _ksvc (stock builds): the same contract, by copying.
    if into is None:
        return d
    into.clear()
    into.update(d)
    return into


def list_services():
    """Every registered Service, by name."""
    m = manager()
    return [m.services[n] for n in sorted(m.services)]


def discover_services(pattern="*", ready=None):
    """Services whose name matches a glob (`web@*`, `glob:` too), or a regex after `regex:`;
    `tag:T` and `kind:K` match the units' tags and kind (globs too); `health:passing` their
    instance's health. ready=True/False: only those whose instance is (not) ready."""
    import re

    m = manager()
    reg = m.registry
    if pattern.startswith("health:"):
        return [m.services[i.name] for i in reg.lookup(pattern, ready) if i.svc is not None]
    if pattern.startswith("glob:"):
        pattern = pattern[5:]
    field = "name"
    for f in ("tag:", "kind:"):
        if pattern.startswith(f):
            field = f[:-1]
            pattern = pattern[len(f) :]
    if pattern.startswith("regex:"):
        rx = re.compile(pattern[6:])
    else:
        rx = re.compile(globs.to_regex(pattern))
    out = []
    for s in list_services():
        if field == "name":
            values = (s.name,)
        elif field == "tag":
            values = s.unit.tags
        else:
            values = (s.unit.kind or "",)
        for v in values:
            if rx.match(v):
                out.append(s)
                break
    if ready is not None:
        out = [s for s in out if (reg.get(s.name) is not None and reg.get(s.name).ready) == ready]
    return out


def subscribe(fn):
    """Tell fn(name, event, cause) of every lifecycle event; returns fn (unsubscribe())."""
    manager().subscribers.append(fn)
    return fn


def unsubscribe(fn):
    m = manager()
    if fn in m.subscribers:
        m.subscribers.remove(fn)


def journal_lines(n=None, name=None):
    """The last n journal lines (of one service when name is given), oldest first."""
    return manager().journal.lines(n, name)


def _caller():
    import kernel

    t = kernel.current()
    svc = manager().by_task.get(t.id) if t is not None else None
    if svc is None:
        raise RuntimeError("notify: call it from a service's own task (or on its handle)")
    return svc


def notify_ready():
    """From a notify service's task: it is ready (its state becomes active)."""
    _caller().notify_ready()


def notify_watchdog():
    """From a service's task: liveness ping; without one per watchdog_sec it restarts."""
    _caller().notify_watchdog()


def boot_start(say=None):
    """Start the enabled units in dependency order -> Job; say(line) prints systemd-style
    lines for them as they settle until the job is done. Units caught in a cycle (or
    missing a requirement) fail with one [FAILED] line each; the others still start."""
    from kernel import deps
    from kernel.deps import CycleError

    m = manager()
    names = [n for n in sorted(m.services) if m.services[n].is_enabled()]
    while names:
        try:
            return m.start_job(names, "boot") if say is None else _boot_job(m, names, say)
        except UnitError as e:
            bad = e.members if isinstance(e, CycleError) else ()
            keep = []
            for n in names:  # drop every root that pulls a bad unit in (error path only)
                try:
                    pulled = deps.closure(m.unit_of, [n])
                except UnitError:
                    pulled = None
                if pulled is None or n in bad or any(b in pulled for b in bad):
                    m.fail(m.services[n], S.DEPENDENCY, str(e))
                    if say is not None:
                        say("[FAILED] Failed to start %s: %s" % (n, e))
                else:
                    keep.append(n)
            if len(keep) == len(names):
                raise  # not a cycle or missing unit we can step around: a kernel bug
            names = keep
    return None


def _boot_job(m, names, say):
    def told(name, event, cause):
        svc = m.services.get(name)
        if svc is None:
            return
        if event == "started" or (event == "finished" and svc.unit.type == S.units.ONESHOT):
            say(
                "[  OK  ] %s %s."
                % ("Started" if event == "started" else "Finished", svc.unit.label())
            )
        elif event == "failed" or event == "restarting":
            say("[FAILED] Failed to start %s: %s" % (name, cause))

    m.subscribers.append(told)
    try:
        job = m.start_job(names, "boot")
    except BaseException:
        m.subscribers.remove(told)
        raise
    job.told = told
    if job.done.state:
        m.subscribers.remove(told)
    return job


def boot_done(job):
    """Stop printing boot lines for job (boot calls this once the job is done)."""
    if job is not None and job.told is not None:
        unsubscribe(job.told)
        job.told = None


async def stop_all(say=None, why="shutdown"):
    """Stop every running service, dependents first, concurrently where independent;
    each gets its stop_timeout, then is killed. say(line) prints what happened."""
    m = manager()
    svcs = [s for s in list_services() if s.state != S.INACTIVE and s.state != S.FAILED]
    if not svcs:
        return

    def told(name, event, cause):
        if event == "stopped":
            say("[  OK  ] Stopped %s." % m.services[name].unit.label())
        elif event == "killed":
            say("[FAILED] Killed %s: %s." % (name, cause))

    if say is not None:
        m.subscribers.append(told)
    try:
        await m.stop_job(svcs, why).wait()
    finally:
        if say is not None:
            unsubscribe(told)
