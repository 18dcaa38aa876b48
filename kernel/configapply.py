# kernel/configapply: a new config version reaching its running service, and its rollback watch.
#
# Owns: apply(store, svc, e, v, watch): the service's on_config(config, changed) (a unit field,
# or a method of an exec class), else the unit's config_reload (restart | none); then, when
# asked, a watch of the unit's rollback_sec that rolls back to the previous version if the
# service fails, restarts, turns critical or not ready (journaled with the reason, listed in
# the history as "automatic rollback to vN: why").
# Invariants: a service that is not running is left alone (its next start reads the new
# version); an on_config that raises, or a job it returns that fails, is data: the version is
# rolled back, never the kernel's error; a watch ends when another version comes.
# Not here: layers, versions and saving them (kernel/configstore.py, whose Store calls in).
from kernel import configs as C
from kernel import params, units
from kernel import service as S


def apply(store, svc, e, v, watch):
    """Hand version v of Entry e to service svc (running or reloading); watch it if asked."""
    if svc.state != S.ACTIVE and svc.state != S.RELOADING:
        return  # not running: its next start reads the new version
    mgr = store.mgr
    changed = [k for k, _, _ in v.diff]
    fn = svc.unit.on_config
    if fn is None and svc.obj is not None and hasattr(svc.obj, "on_config"):
        fn = svc.obj.on_config
    job = None
    if fn is not None:
        try:
            r = S.resolve(fn)(C.masked(e.schema, v.values), changed)
        except Exception as err:  # noqa: BLE001 - a failing on_config is data: roll back
            auto_rollback(store, svc, e, v, "on_config raised %s: %s" % (type(err).__name__, err))
            return
        if hasattr(r, "send"):
            job = mgr.sched.spawn(r, "config-" + svc.name[:17])
    elif svc.unit.config_reload == units.CONFIG_RESTART:
        job = mgr.sched.spawn(_restart(mgr, svc), "config-" + svc.name[:17])
    if watch and svc.unit.rollback_ms > 0:
        e.watch = mgr.sched.spawn(_watch(store, svc, e, v, job), "cfgwatch-" + svc.name[:15])


async def _restart(mgr, svc):
    # Only this service: what requires it keeps running across its restart.
    await mgr.stop_job([svc], "config").wait()
    await mgr.start_job([svc.name], "config").wait()


async def _watch(store, svc, e, v, job):
    from kernel import metrics, traps

    if job is not None:
        try:
            await job
        except Exception as err:  # noqa: BLE001 - see apply
            auto_rollback(store, svc, e, v, "%s: %s" % (type(err).__name__, err))
            return
    reg = metrics.registry(store.mgr)
    was_ready = False
    left = svc.unit.rollback_ms
    while True:
        if e.current() is not v:
            return  # another version came since
        rec = reg.current(svc.name)  # its probes' results read up to now (kernel/metprobes.py)
        why = _bad(svc, rec)
        ready = svc.state == S.ACTIVE and rec.ready and why is None
        if why is None and was_ready and not ready and svc.state != S.INACTIVE:
            why = "not ready"
        if why is None and left <= 0 and not ready and svc.state != S.INACTIVE:
            why = "not ready within %d ms" % svc.unit.rollback_ms
        if why is not None:
            auto_rollback(store, svc, e, v, why)
            return
        if left <= 0 or svc.state == S.INACTIVE:  # stopped by hand: not the config's doing
            e.watch = None
            return
        was_ready = was_ready or ready
        step = min(left, params.CONFIG_WATCH_MS)
        await traps.sleep_ms(step)
        left -= step


def auto_rollback(store, svc, e, v, why):
    """Roll svc back to the version before v, saying why; journaled when there is none."""
    e.watch = None
    prev = None
    for old in e.versions:
        if old.number < v.number:
            prev = old
    if prev is None:
        store.mgr.event(
            svc.name, "config error", "v%d: %s; no version to roll back to" % (v.number, why)
        )
        return
    store.rollback(svc.name, prev.number, why)


def _bad(svc, rec):
    """Why the service is not healthy now, or None."""
    if svc.state == S.FAILED:
        return "failed (%s)" % (svc.cause,)
    if svc.state == S.ACTIVATING and svc.sub == S.AUTO_RESTART:
        return "restarting (%s)" % (svc.cause,)
    if rec.health == "critical":
        return "health critical"
    return None
