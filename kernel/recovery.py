# kernel/recovery: the recovery strategies a fault's chain tries, and the hand-off to the
# supervision tree past its last one.
#
# Owns: one function per strategy (the specification's list), each run(...) -> (ok, what it
# did, the instance whose readiness says it worked or None): restart (a probe_critical
# fault kills the run with result `liveness`, exactly today's liveness restart; others with
# result `fault`; the restart policy then restarts it), restart_with_delay (its run ends and
# it starts again after the unit's backoff: fixed, linear, exponential, or adaptive to the
# recent failure rate of this fault's recoveries), scale_up / scale_down (template
# instances `web@N` between the template's min_instances and max_instances), failover (the
# unit's `standby` promoted, the failed one demoted; a later failover goes back),
# circuit_breaker_reset (the instance's breaker object's reset()), config_reload (back to
# the config version that was current when the service was last ready, else reload or
# restart it); hand_off: the service fails with result `escalated`, which its group counts
# against its intensity (then its parent). Journaled values are ints.
# Not here: when to recover (kernel/faults.py), the manager's mechanics (kernel/manager.py).
from kernel import backoff, params, units
from kernel import faultspec as F
from kernel import service as S


def _running(svc):
    return svc.state != S.INACTIVE and svc.state != S.FAILED


def restart(eng, t, f, cause):
    svc = t.svc
    mgr = eng.mgr
    if svc.task is not None:
        if f.det == F.PROBE_CRITICAL:
            from kernel.prober import kill_for

            kill_for(svc, cause)
        else:
            svc.kill_result = (S.FAULT, "%s: %s" % (F.DETECTOR_NAMES[f.det], cause))
            mgr.kill(svc)
        return True, "ended its run (its restart policy starts it again)", svc.name
    if svc.state == S.ACTIVATING and svc.sub == S.AUTO_RESTART:
        mgr.disarm(svc)
        mgr.launch(svc, False, "fault restart")
        return True, "restarted it now", svc.name
    if not _running(svc):
        mgr.start_job([svc.name], "fault restart")
        return True, "started it", svc.name
    return True, "it is %s already" % S.STATE_NAMES[svc.state], svc.name


def restart_with_delay(eng, t, f, cause):
    svc = t.svc
    mgr = eng.mgr
    u = svc.unit
    d = backoff.delay_ms(
        u.backoff,
        u.jitter,
        u.restart_ms,
        u.backoff_max_ms,
        len(f.tries) - 1,
        getattr(f, "delay_ms", 0),
        mgr.jitter_rng(),
        f.rate.rate_pm(),
    )
    f.delay_ms = d
    if svc.state == S.ACTIVATING and svc.sub == S.AUTO_RESTART:
        mgr.disarm(svc)
        mgr.arm(svc, S.T_RESTART, d)  # the manager's own restart timer, re-armed
    else:
        job = mgr.stop_job([svc], "fault restart") if _running(svc) else None
        mgr.sched.spawn(_later(mgr, svc, job, d), "fault-" + svc.name[:18])
    return True, "%s backoff, start in %d ms" % (backoff.KIND_NAMES[u.backoff], d), svc.name


async def _later(mgr, svc, job, d):
    from kernel.traps import sleep_ms

    if job is not None:
        await job.wait()
    await sleep_ms(d)
    if not _running(svc):
        mgr.start_job([svc.name], "fault restart")


def _siblings(mgr, tmpl):
    """(number, Service) of the running instances of template tmpl ('web@'), by number."""
    out = []
    for name, s in mgr.services.items():
        if name.startswith(tmpl) and name[len(tmpl) :].isdigit() and _running(s):
            out.append((int(name[len(tmpl) :]), s))
    out.sort(key=lambda x: x[0])
    return out


def _template(eng, svc):
    tmpl = units.template_of(svc.name)
    u = eng.mgr.templates.get(tmpl) if tmpl is not None else None
    return tmpl, u


def scale_up(eng, t, f, cause):
    tmpl, u = _template(eng, t.svc)
    if u is None:
        return False, "%s is not an instance of a template" % t.svc.name, None
    have = _siblings(eng.mgr, tmpl)
    if len(have) >= u.max_instances:
        return False, "at max_instances (%d)" % u.max_instances, None
    used = [n for n, _ in have]
    k = 1
    while k in used:
        k += 1
    new = tmpl + str(k)
    eng.mgr.start_job([new], "scale up")
    return True, "started %s (%d of max %d)" % (new, len(have) + 1, u.max_instances), new


def scale_down(eng, t, f, cause):
    tmpl, u = _template(eng, t.svc)
    if u is None:
        return False, "%s is not an instance of a template" % t.svc.name, None
    have = _siblings(eng.mgr, tmpl)
    if len(have) <= u.min_instances:
        return False, "at min_instances (%d)" % u.min_instances, None
    gone = have[-1][1]
    eng.mgr.stop_job([gone], "scale down")
    return True, "stopped %s (%d of min %d)" % (gone.name, len(have) - 1, u.min_instances), None


def failover(eng, t, f, cause):
    svc = t.svc
    mgr = eng.mgr
    name = svc.name
    sb = eng.standby_of.get(name) or svc.unit.standby
    if not sb:
        return False, "no standby", None
    inst = eng.reg.by_name.get(sb)
    if mgr.services.get(sb) is not None or units.template_of(sb) in mgr.templates:
        mgr.start_job([sb], "failover from %s" % name)
    elif inst is not None:
        eng.reg.set_status(inst, "passing", True, "promoted by failover from %s" % name)
    else:
        return False, "standby %s is no unit or instance" % sb, None
    if _running(svc):
        mgr.stop_job([svc], "failover to %s" % sb)
    mine = eng.reg.by_name.get(name)
    if mine is not None and mine.svc is None:
        eng.reg.set_status(mine, ready=False, note="demoted by failover to %s" % sb)
    eng.standby_of.pop(name, None)
    eng.standby_of[sb] = name  # a failover of the promoted one goes back
    return True, "promoted %s, demoted %s" % (sb, name), sb


def circuit_breaker_reset(eng, t, f, cause):
    inst = eng.reg.by_name.get(t.svc.name)
    b = inst.breaker if inst is not None else None
    if b is None:
        return False, "no breaker", None
    b.reset()
    return True, "breaker reset (%s)" % b.state_name(), None


def config_reload(eng, t, f, cause):
    svc = t.svc
    if svc.unit.config is None:
        return False, "no config schema", None
    from kernel import configstore

    st = configstore.store(eng.mgr)
    e = st.entry(svc.name)
    cur = e.current().number
    good = good_config(eng, svc.name)
    if good is not None and good != cur and e.find(good) is not None:
        st.rollback(svc.name, good, "%s fault" % F.DETECTOR_NAMES[f.det])
        return True, "rolled back to v%d (from v%d)" % (good, cur), svc.name
    ok, what, watch = restart(eng, t, f, cause)
    return ok, "v%d is the last good config: %s" % (cur, what), watch


def config_ready(eng, svc, ready):
    """svc's instance became ready (or not): track how long it stays ready on its config
    version. A version is good once it stayed ready params.FAULT_GOOD_CONFIG_MS; kept per
    service as [version, ready since (ms) or None, good version]."""
    c = eng.configs.get(svc.name)
    if c is None:
        c = eng.configs[svc.name] = [0, None, None]
    good_config(eng, svc.name)
    if ready:
        from kernel import configstore

        c[0] = configstore.store(eng.mgr).entry(svc.name).current().number
        c[1] = eng.mgr.now()
    else:
        c[1] = None


def good_config(eng, name):
    """The last config version `name` stayed ready on, or None."""
    c = eng.configs.get(name)
    if c is None:
        return None
    if c[1] is not None and eng.mgr.now() - c[1] >= params.FAULT_GOOD_CONFIG_MS:
        c[2] = c[0]
    return c[2]


_RUN = (
    restart,
    restart_with_delay,
    scale_up,
    scale_down,
    failover,
    circuit_breaker_reset,
    config_reload,
)  # by strategy code (faultspec.STRATEGY_NAMES)


def run(eng, t, f, strategy, cause):
    """Try one strategy -> (ok, what it did, instance to wait on or None)."""
    try:
        return _RUN[strategy](eng, t, f, cause)
    except Exception as e:  # noqa: BLE001 - a failing recovery is an outcome, not a crash
        return False, "failed: %s: %s" % (type(e).__name__, e), None


def hand_off(eng, svc, d, cause):
    """Past the last strategy: the service fails (`escalated`) to its supervisor -> text."""
    mgr = eng.mgr
    why = "%s: %s" % (F.DETECTOR_NAMES[d], cause)
    g = svc.group
    if svc.task is not None:
        svc.kill_result = (S.ESCALATED, why)
        mgr.kill(svc)
    elif _running(svc):
        mgr.disarm(svc)
        mgr.fail(svc, S.ESCALATED, why)
    elif g is not None:
        g.child_failed(svc, why)
    if g is None:
        return "%s failed, no group above it" % svc.name
    return "group %s (intensity %d per %d ms)" % (g.name, g.intensity, g.period_ms)
