# Tests for kernel/breakers: breakers per service and per instance over discovery (set
# late or from the unit field, instances registering later get one), EV_BREAKER and a
# journal line per transition, the service breaker on the balancer's pool (a fake here),
# bad options keeping the previous config, get/reset by instance or service name, and the
# API through `kernel`. On the virtual clock with no per-step cost: exact ms.
from svcfakes import World

import kernel
from kernel import breakers, events, health
from kernel.breakers import CLOSED, FORCED_OPEN, HALF_OPEN, OPEN
from kernel.clock import VirtualClock
from kernel.units import UnitError

FAST = {"window_size": 4, "minimum_calls": 2, "wait_open_sec": 1, "half_open_calls": 2}


class FakePool:
    breaker = None


class FakeBalancer:
    """What breakers needs of kernel.balancer's Balancer: pool(service).breaker."""

    def __init__(self):
        self.pools = {}

    def pool(self, service):
        p = self.pools.get(service)
        if p is None:
            p = self.pools[service] = FakePool()
        return p


def world():
    w = World()
    health.attach(w.m)
    w.m.balancer = FakeBalancer()
    seen = []
    w.m.registry.listeners.append(lambda code, inst: seen.append((code, inst.name)))
    return w, w.m.registry, breakers.attach(w.m), seen


def forever(w, name, **extra):
    extra.setdefault("exec", w.body(name, [("run", 0)]))
    return w.add(name=name, **extra)


def fail(b, n):
    for _ in range(n):
        assert b.allow()
        b.record(False, 1)


def ev(seen):
    return [x for x in seen if x[0] == events.EV_BREAKER]


def test_set_breaker_gives_the_service_and_every_instance_one_now_and_later():
    w, reg, brk, seen = world()
    reg.register("web@1")
    sb = brk.set("web", FAST)
    assert w.m.balancer.pools["web"].breaker is sb and sb.owner is None
    a = reg.get("web@1").breaker
    assert a is not None and a.owner is reg.get("web@1") and a.state == CLOSED
    assert ev(seen) == [(events.EV_BREAKER, "web@1")]  # it gained one
    b = reg.register("web@2").breaker
    assert b is not None and b is not a and b.cfg is a.cfg and b.name == "web@2"
    assert reg.register("db@1").breaker is None  # another service: none
    assert brk.get("web@2") is b and brk.get("web") is sb and brk.get("nope") is None


def test_each_transition_is_one_ev_breaker_and_one_journal_line():
    w, reg, brk, seen = world()
    inst = reg.register("web@1")
    brk.set("web", FAST)
    del seen[:]
    i0 = inst.index
    b = inst.breaker
    fail(b, 2)
    assert b.state == OPEN and ev(seen) == [(events.EV_BREAKER, "web@1")]
    assert inst.index > i0 and reg.index == inst.index
    w.run_for(1000)
    assert b.allow() and b.state == HALF_OPEN
    b.allow()
    b.record(True, 1)
    b.record(True, 1)
    assert b.state == CLOSED and len(ev(seen)) == 3 and brk.transitions == 3
    lines = w.m.journal.lines(name="web@1")
    assert lines[0].endswith(
        "web@1: breaker open (from closed: failure rate 100.0% >= 50.0% over 2 calls; "
        "wait 1000 ms)"
    )
    assert lines[1].endswith(
        "web@1: breaker half_open (from open: wait of 1000 ms over: 2 trial calls)"
    )
    assert lines[2].endswith(
        "web@1: breaker closed (from half_open: trial passed: 2 calls, failure rate 0.0%, "
        "slow call rate 0.0%)"
    )
    assert len(lines) == 3


def test_a_watch_wakes_on_a_breaker_transition():
    w, reg, brk, seen = world()
    inst = reg.register("web@1")
    brk.set("web", FAST)
    idx = reg.index
    log = []

    async def watcher():
        i, got = await reg.watch("web@*", idx, 5000)
        log.append((w.m.now(), i, got[0].breaker.state))

    w.sched.spawn(watcher(), "wa")
    w.run_for(30)
    assert log == []
    fail(inst.breaker, 2)
    w.run_for(1)
    assert log == [(30, reg.index, OPEN)]


def test_a_service_breakers_transition_is_an_event_on_each_of_its_instances():
    w, reg, brk, seen = world()
    reg.register("web@1")
    reg.register("web@2")
    sb = brk.set("web", FAST)
    del seen[:]
    fail(sb, 2)
    assert sb.state == OPEN
    assert ev(seen) == [(events.EV_BREAKER, "web@1"), (events.EV_BREAKER, "web@2")]
    assert reg.get("web@1").breaker.state == CLOSED  # its own breaker did not move
    assert (
        w.m.journal.lines(name="web")[-1]
        .split("] ")[1]
        .startswith("web: breaker open (from closed: failure rate 100.0%")
    )


def test_bad_options_keep_the_previous_config_and_say_so():
    w, reg, brk, seen = world()
    inst = reg.register("web@1")
    try:
        brk.set("web", {"window_size": "big"})
        raise AssertionError("accepted")
    except ValueError as e:
        assert str(e) == (
            "breaker web: 'window_size' must be an int in 1..10000, got 'big' (no breaker set)"
        )
    assert inst.breaker is None and brk.get("web") is None
    brk.set("web", FAST)
    b = inst.breaker
    fail(b, 1)
    try:
        brk.set("web", {"half_open_calls": 0})
        raise AssertionError("accepted")
    except ValueError as e:
        assert str(e) == (
            "breaker web: 'half_open_calls' must be an int in 1..10000, got 0 "
            "(kept previous config)"
        )
    assert inst.breaker is b and b.cfg.size == 4 and b.calls == 1  # nothing changed
    try:
        brk.set("web@1", {})
        raise AssertionError("accepted")
    except ValueError as e:
        assert str(e).startswith("set_breaker: the service is a service name ('web' for web@1)")


def test_reconfiguring_empties_the_windows_and_keeps_forced_states():
    w, reg, brk, seen = world()
    a = reg.register("web@1")
    c = reg.register("web@2")
    brk.set("web", FAST)
    ba = a.breaker
    fail(ba, 2)
    c.breaker.force_open()
    del seen[:]
    brk.set("web", {"window_type": "time", "window_size": 10})
    assert a.breaker is ba and ba.state == CLOSED and ba.calls == 0 and ba.cfg.size == 10
    assert c.breaker.state == FORCED_OPEN
    assert ev(seen) == [(events.EV_BREAKER, "web@1"), (events.EV_BREAKER, "web@2")]
    assert "breaker configured (time window of 10 s, min 100 calls" in w.m.journal.lines()[-1]


def test_get_and_reset_by_instance_or_service_name():
    w, reg, brk, seen = world()
    a = reg.register("web@1")
    c = reg.register("web@2")
    sb = brk.set("web", FAST)
    fail(a.breaker, 2)
    fail(c.breaker, 2)
    fail(sb, 2)
    assert brk.reset("web@1") == 1
    assert a.breaker.state == CLOSED and c.breaker.state == OPEN and sb.state == OPEN
    assert brk.reset("web") == 3  # the service's breaker and its instances'
    assert c.breaker.state == CLOSED and sb.state == CLOSED
    assert [b.name for b in brk.targets("web")] == ["web", "web@1", "web@2"]
    try:
        brk.reset("db")
        raise AssertionError("no error")
    except ValueError as e:
        assert str(e).startswith("breaker db: no breaker by that name (set_breaker(SERVICE")
    assert w.m.journal.lines()[-1].endswith("web@2: breaker reset (was open)")


def test_a_managed_service_keeps_its_breaker_across_a_crash_restart():
    w, reg, brk, seen = world()
    forever(w, "c", exec=w.body("c", [("raise", 10), ("run", 0)]), restart_sec=1)
    brk.set("c", FAST)
    w.m.start_job(["c"], "test")
    inst = reg.get("c")
    b = inst.breaker
    assert b is not None and brk.get("c") is b  # the instance's wins over the service's
    fail(b, 2)
    w.run_for(1100)  # crashed at 10 ms, restarted at ~1010 ms
    assert reg.get("c") is inst and inst.ready and inst.breaker is b and b.state == OPEN


def test_the_unit_field_configures_its_service_once_per_declaration():
    w, reg, brk, seen = world()
    w.m.create(
        "[Unit]\nName=web@\n[Service]\nExecStart=x:y\n"
        'Breaker={"window_size": 4, "minimum_calls": 2, "wait_open_sec": 2}\n'
    )
    for i in (1, 2):
        w.m.get("web@%d" % i).unit.exec = w.body("web", [("run", 0)])
    assert brk.get("web").cfg.wait_ms == 2000  # when the first instance's unit was made
    w.m.start_job(["web@1"], "test")
    b1 = reg.get("web@1").breaker
    fail(b1, 2)
    w.m.start_job(["web@2"], "test")  # a later instance does not reconfigure the others
    assert b1.state == OPEN and reg.get("web@2").breaker.cfg is b1.cfg
    brk.set("web", {"window_size": 8})
    w.m.get("web@3")
    assert brk.get("web").cfg.size == 8  # set_breaker outlives the unit's declaration


def test_a_bad_unit_field_is_a_one_line_unit_error():
    w, reg, brk, seen = world()
    for field, want in (
        ('{"window_type": "ring"}', "unit a: 'Breaker': 'window_type' must be 'count' or "),
        ("[1, 2]", "unit a: 'Breaker' must be a dict (JSON on an INI line), got [1, 2]"),
        ('{"wait_open_sec": 0}', "unit a: 'Breaker': 'wait_open_sec' must be seconds"),
    ):
        try:
            w.m.create("[Unit]\nName=a\n[Service]\nExecStart=x:y\nBreaker=%s\n" % field)
            raise AssertionError("accepted " + field)
        except UnitError as e:
            assert str(e).startswith(want), str(e)


def test_the_api_through_kernel():
    kernel.reset(VirtualClock(0, 0))
    kernel.register_instance("api@1")
    sb = kernel.set_breaker("api", window_size=2, minimum_calls=2)
    b = kernel.get_breaker("api@1")
    assert b is kernel.instance("api@1").breaker and kernel.get_breaker("api") is sb
    fail(b, 2)
    assert b.state_name() == "open" and b.counters()["failure_rate_pm"] == 1000
    assert kernel.reset_breaker("api@1") == 1 and b.state == CLOSED
    assert breakers.state_name(OPEN) == "open"
