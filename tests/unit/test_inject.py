# Tests for kernel/inject: each kind on the virtual clock (crash, hang, memory, flap act on
# the service; slow and error in the request path through a fake balancer's call hook),
# rates drawn from the seeded Rng (the same seed, the same calls), for_sec, clearing, the
# journal lines and the one-line errors.
from svcfakes import World

from kernel import faults, inject, traps
from kernel import service as S
from kernel.discovery import Instance


class FakeBalancer:
    """kernel.balancer's call-hook contract: set_call_hook(fn), fn awaited per call."""

    hook = None

    def set_call_hook(self, fn):
        self.hook = fn


def world(seed=0):
    w = World(seed)
    eng = faults.attach(w.m)
    inj = inject.injector(eng)
    inj.balancer = FakeBalancer()
    return w, eng, inj


def forever():
    async def run():
        while True:
            await traps.sleep_ms(1000)

    return run


def causes(w, name, event="restarting"):
    return [e[3] for e in w.events if e[1] == name and e[2] == event]


def test_crash_raises_in_the_service_and_its_policy_restarts_it():
    w, eng, inj = world()
    h = w.add(name="c", exec=forever(), restart_sec=1)
    w.m.start_job(["c"], "test")
    w.run_for(500)
    fid = inj.inject("c", "crash", {})
    w.run_for(1)
    assert causes(w, "c") == ["exception: InjectedFault: injected crash #1; restart 1 in 1000 ms"]
    assert h.result == S.EXCEPTION and fid == 1
    assert eng.lines() == ["[    0.500] c: injected crash #1"]
    w.run_for(1000)
    assert h.state == S.ACTIVE and inj.active == []


def test_hang_is_the_step_watchdogs_case():
    w, eng, inj = world()
    h = w.add(name="h", exec=forever(), restart_sec=1)
    w.m.start_job(["h"], "test")
    w.run_for(100)
    inj.inject("h", "hang", {})
    w.run_for(1)
    assert h.result == S.WATCHDOG, h.result_name()
    assert causes(w, "h")[0].startswith("watchdog: swallowed the kernel's step watchdog")
    w.run_for(1500)
    assert h.state == S.ACTIVE


def test_memory_allocates_until_memory_error_then_frees_it():
    import gc

    w, eng, inj = world()
    h = w.add(name="m", exec=forever(), restart_sec=1)
    w.m.start_job(["m"], "test")
    w.run_for(100)
    gc.collect()
    free0 = gc.mem_free()
    inj.inject("m", "memory", {"chunk_b": 8192})
    w.run_for(1)
    assert h.result == S.EXCEPTION and causes(w, "m")[0].startswith("exception: MemoryError")
    gc.collect()
    assert gc.mem_free() > free0 - 65536  # the hog is gone
    w.run_for(1500)
    assert h.state == S.ACTIVE


def test_flap_flips_the_instance_and_the_flapping_detector_sees_it():
    w, eng, inj = world()
    w.add(name="f", exec=forever(), detectors={"flapping": {"changes": 4, "window_sec": 10}},
          escalation={"flapping": ["restart"]})  # fmt: skip
    w.m.start_job(["f"], "test")
    w.run_for(10)
    fid = inj.inject("f", "flap", {"period_ms": 200})
    inst = w.m.registry.get("f")
    w.run_for(100)
    assert not inst.ready and inst.note == "injected flap"
    w.run_for(200)
    assert inst.ready
    w.run_for(400)  # flips at 10, 210, 410, 610 ms: the fourth change is a fault
    got = [ln[12:] for ln in eng.lines()]
    assert got[:3] == [
        "f: injected flap #1 period_ms=200",
        "f: detected flapping: 4 health changes in 10000 ms",
        "f: restart 1/5: ended its run (its restart policy starts it again)",
    ], got
    assert inj.clear(fid) and not inj.clear(fid)
    w.run_for(1000)
    assert inst.ready and w.m.registry.get("f").health == "passing"
    assert "f: cleared flap #1 period_ms=200" in [ln[12:] for ln in eng.lines()], eng.lines()


async def _calls(hook, inst, n):
    from kernel import sched

    s = sched.running()
    errors = 0
    t0 = s.uptime_ms()
    for _ in range(n):
        try:
            await hook(inst)
        except inject.InjectedFault:
            errors += 1
    return errors, s.uptime_ms() - t0


def _run(w, coro):
    t = w.sched.spawn(coro, "calls")
    w.sched.run_until(t)
    return t.result()


def test_slow_and_error_act_in_the_request_path_at_their_rate():
    w, eng, inj = world(7)
    bal = inj.balancer
    web1 = Instance("web@1", "web")
    api = Instance("api@1", "api")
    slow = inj.inject("web", "slow", {"ms": 50, "rate_pm": 1000})
    assert bal.hook == inj.call_hook
    assert _run(w, _calls(bal.hook, web1, 10)) == (0, 500)
    assert _run(w, _calls(bal.hook, api, 10)) == (0, 0)  # another service: untouched
    inj.clear(slow)
    assert bal.hook is None  # no slow/error fault left: no hook in the hot path
    inj.inject("web@1", "error", {"rate_pm": 300})
    errors, _ = _run(w, _calls(bal.hook, web1, 1000))
    assert 250 < errors < 350, errors
    # the same seed draws the same calls; another seed others
    w2, _, inj2 = world(7)
    inj2.inject("web@1", "error", {"rate_pm": 300})
    w3, _, inj3 = world(8)
    inj3.inject("web@1", "error", {"rate_pm": 300})
    a = _run(w2, _calls(inj2.balancer.hook, web1, 1000))[0]
    b = _run(w3, _calls(inj3.balancer.hook, web1, 1000))[0]
    assert a == errors and b != errors, (a, b, errors)


def test_for_sec_clears_a_fault_and_listing_shows_what_is_active():
    w, eng, inj = world()
    fid = inj.inject("web", "error", {"for_sec": 2})
    assert [(f["id"], f["kind"], f["until_ms"]) for f in inj.listing()] == [(fid, "error", 2000)]
    w.run_for(2100)
    assert inj.listing() == [] and inj.balancer.hook is None
    assert eng.lines()[-1] == "[    2.000] web: cleared error #1 for_sec=2"


def test_bad_injections_are_one_line_errors_and_inject_nothing():
    w, eng, inj = world()
    w.add(name="idle", exec=forever())

    def err(target, kind, **opts):
        try:
            inj.inject(target, kind, opts)
        except ValueError as e:
            return str(e)
        return None

    assert err("x", "melt") == (
        "fault melt: no such kind (kinds: crash, hang, slow, error, memory, flap)"
    )
    assert err("idle", "crash") == "fault crash: idle is not running (inactive)"
    assert err("nope", "crash").startswith("unit nope: no such unit")
    assert (
        err("web", "slow", delay=5)
        == "fault slow: no option 'delay' (options: ms, rate_pm, for_sec)"
    )
    assert err("web", "error", rate_pm=1500) == (
        "fault error: rate_pm must be 0..1000 (per mille), got 1500"
    )
    assert err("web", "slow", ms="5") == "fault slow: ms must be an int >= 0, got '5'"
    assert eng.lines() == []
    inj.balancer = None  # the kernel's own balancer: where it is missing, that is said
    msg = err("web", "slow")
    if msg is not None:
        assert msg == "fault slow: needs the balancer's request path (kernel.balancer)", msg
        assert eng.lines() == []
