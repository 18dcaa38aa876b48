# Tests for kernel/balancer (and kernel/lbopts): candidates from discovery (readiness,
# panic threshold, breakers, draining), slow start, configuration through set_strategy and
# a unit's `balancer` field with one-line errors that keep the previous state, lb_stats,
# and the kernel API. On the virtual clock with no per-step cost: exact ms.
from lbfakes import FakeBreaker, counts, pool, seq
from svcfakes import World

import kernel
from kernel import balancer as B
from kernel import health, lbopts
from kernel.clock import VirtualClock
from kernel.units import UnitError


def test_only_ready_instances_are_candidates_and_changes_apply_at_the_next_pick():
    w, p = pool("round_robin", members=("a", "b", "c", "d"))
    reg = w.m.registry
    assert seq(p, 4) == "abcd"
    reg.set_status(p.member("web@b").inst, "critical", False)
    assert seq(p, 3) == "acd" and not p.panic  # the cursor stays where it was
    reg.register("web@e")
    reg.deregister("web@a")
    assert seq(p, 6) == "cdecde"


def test_panic_threshold_balances_over_all_but_never_an_open_breaker():
    w, p = pool("round_robin", members=("a", "b", "c", "d"))
    reg = w.m.registry
    for n in ("b", "c"):
        reg.set_status(p.member("web@" + n).inst, "critical", False)
    assert set(seq(p, 8)) == {"a", "d"} and not p.panic  # 2 of 4 ready: 50%, not below
    reg.set_status(p.member("web@d").inst, "critical", False)
    assert set(seq(p, 8)) == {"a", "b", "c", "d"} and p.panic  # 25% < 50%
    p.member("web@c").inst.breaker = FakeBreaker(avail=False)
    assert set(seq(p, 8)) == {"a", "b", "d"}
    p.configure(*lbopts.check("b", "round_robin", {"panic_threshold": 0}))
    assert seq(p, 3) == "aaa" and not p.panic  # 0 turns panic off


def test_a_pool_whose_service_breaker_is_unavailable_picks_nothing():
    w, p = pool()
    p.breaker = FakeBreaker(avail=False)
    assert p.pick(None, -1) is None and p.none == 1
    p.breaker.avail = True
    assert p.pick(None, -1).name == "web@a"


def test_slow_start_ramps_a_returning_instance_linearly():
    w, p = pool("weighted_round_robin", members=("a", "b"), slow_start_sec=10)
    reg = w.m.registry
    b = p.member("web@b").inst
    assert seq(p, 4) == "abab"  # the first ones up take traffic at once
    reg.set_status(b, "critical", False)
    w.run_for(1000)
    reg.set_status(b, "passing", True)
    c = counts(p, 1100)  # at 0 s: 10% floor (Envoy's min_weight_percent)
    assert c["web@b"] == 100, c
    w.run_for(5000)  # half way: weight 0.5
    c = counts(p, 1500)
    assert c["web@b"] == 500, c
    w.run_for(5000)  # past slow_start_sec: full weight, no longer ramping
    assert seq(p, 4) in ("abab", "baba") and p.ramping == 0


def test_set_strategy_checks_names_and_options_and_keeps_the_previous_on_error():
    kernel.reset(VirtualClock(0, 0))
    kernel.register_instance("api@1")
    kernel.set_strategy("api", "consistent_hash", vnodes=40)
    for args, opts, msg in (
        (
            ("fastest",),
            {},
            "balancer api: unknown strategy 'fastest' (expected one of round_robin",
        ),
        (("maglev",), {"table_size": 1000}, "'table_size' must be a prime (e.g. 65537, 4093)"),
        (("maglev",), {"vnodes": 3}, "maglev takes no option 'vnodes' (expected table_size,"),
        (("consistent_hash",), {"vnodes": "x"}, "'vnodes' must be an int in 1..10000, got 'x'"),
        (("round_robin",), {"slow_start_sec": 5}, "round_robin takes no option 'slow_start_sec'"),
        (("round_robin",), {"panic_threshold": 120}, "must be a percentage in 0..100, got 120"),
        (("random",), {"drain_sec": "soon"}, "'drain_sec' must be seconds (e.g. 5, 0.5, '500ms')"),
    ):
        try:
            kernel.set_strategy("api", *args, **opts)
            raise AssertionError("accepted %r %r" % (args, opts))
        except ValueError as e:
            assert msg in str(e) and str(e).endswith("; kept consistent_hash"), str(e)
            assert "\n" not in str(e)
    s = kernel.lb_stats("api")
    assert s["strategy"] == "consistent_hash" and s["options"]["vnodes"] == 40
    kernel.set_strategy("api", "maglev", table_size="4093", panic_threshold="30%", drain_sec="2s")
    s = kernel.lb_stats("api")
    assert s["options"] == {"table_size": 4093, "panic_threshold": 30, "drain_sec": 2}
    assert kernel.select_instance("api", key="k").name == "api@1"
    assert kernel.select_instance("none") is None


def test_a_units_balancer_field_configures_its_services_pool():
    from kernel import units

    u = units.parse(
        "[Unit]\nName=web@\n[Service]\nExecStart=x:y\n"
        'Balancer={"strategy": "weighted_round_robin", "options": {"slow_start_sec": 3}}\n'
        'Meta={"weight": 2}\n'
    )
    assert u.balancer[0] == 2 and u.balancer[1]["slow_start_ms"] == 3000
    for v, msg in (
        ('{"strategy": "rr"}', "unit u: 'balancer': unknown strategy 'rr'"),
        ('{"options": {}}', "unit u: 'balancer' must be {\"strategy\": NAME"),
        ('{"strategy": "maglev", "x": 1}', "unit u: 'balancer' takes strategy and options"),
        ('{"strategy": "p2c", "options": {"seed": -1}}', "'seed' must be an int in 0.."),
        ("[1]", "unit u: 'balancer' must be a dict"),
    ):
        try:
            units.parse({"name": "u", "balancer": v})
            raise AssertionError("accepted %r" % v)
        except UnitError as e:
            assert msg in str(e), str(e)
    w = World()
    health.attach(w.m)
    bal = B.attach(w.m)
    w.m.create(
        {
            "name": "web@",
            "exec": w.body("web", [("run", 0)]),
            "balancer": {"strategy": "weighted_round_robin"},
            "meta": {"weight": 3},
        }
    )
    w.m.start_job(["web@1", "web@2"], "test")
    p = bal.pool("web")
    assert seq(p, 4) == "1212" and p.strategy() == "weighted_round_robin"
    assert p.member("web@1").weight == 3
    B.Pool.configure(p, *lbopts.check("x", "random", {}))
    p.explicit = True
    p.dirty = True
    p.pick(None, -1)
    assert p.strategy() == "random"  # set_strategy wins over the unit


def test_stopping_an_instance_drains_its_in_flight_requests_up_to_drain_sec():
    w = World()
    health.attach(w.m)
    bal = B.attach(w.m)
    w.m.create({"name": "web@", "exec": w.body("web", [("run", 0)])})
    w.m.start_job(["web@1", "web@2"], "test")
    w.run_for(10)
    p = bal.pool("web")
    p.configure(*lbopts.check("x", "round_robin", {"drain_sec": 2}))
    m1 = p.pick(None, -1)
    m1.active = 1  # a request in flight (kernel.request counts it so)
    t0 = w.m.now()
    w.m.stop_job([w.m.get("web@1")], "test")
    w.run_for(10)
    assert w.m.get("web@1").state_name() == "deactivating"
    assert seq(p, 3) == "222" and p.member("web@1").draining  # no new picks
    m1.active = 0
    bal.finished(p, m1)  # the last request ends: the stop goes on at once
    w.run_for(10)
    assert w.m.get("web@1").state_name() == "inactive"
    stopped = w.times("web@1", "stopped")[0]
    assert stopped - t0 < 100
    m2 = p.pick(None, -1)
    m2.active = 1  # this one never finishes: drain_sec bounds the wait
    w.m.stop_job([w.m.get("web@2")], "test")
    w.run_for(3000)
    assert w.times("web@2", "stopped")[0] - w.times("web@2", "stopping")[0] == 2000
    w.m.start_job(["web@1"], "test")
    w.run_for(10)
    w.m.stop_job([w.m.get("web@1")], "test")  # idle: no drain at all
    w.run_for(10)
    assert w.times("web@1", "stopped")[-1] - w.times("web@1", "stopping")[-1] == 0


def test_lb_stats_reports_every_instance():
    w, p = pool("round_robin", members=("a", "b"), weights=(4, 1))
    p.member("web@a").inst.breaker = FakeBreaker()
    seq(p, 3)
    s = p.stats()
    a = s["instances"]["web@a"]
    assert s["strategy"] == "round_robin" and s["panic"] is False and s["none"] == 0
    assert a["picks"] == 2 and a["active"] == 0 and a["weight"] == 4 and a["ready"]
    assert a["breaker"] == "closed" and s["instances"]["web@b"]["breaker"] is None
    assert a["latency_ms"] is None and a["p50_ms"] is None and a["p99_ms"] is None
    assert s["options"] == {"panic_threshold": 50, "drain_sec": 5}


def test_select_instance_through_the_kernel_allocates_nothing():
    import micropython

    kernel.reset(VirtualClock(0, 0))
    for i in range(3):
        kernel.register_instance("web@%d" % i)
    kernel.set_strategy("web", "weighted_round_robin")
    kernel.select_instance("web", "k")
    got = [None] * 6
    micropython.heap_lock()
    try:
        for i in range(6):
            got[i] = kernel.select_instance("web", "k")
    finally:
        micropython.heap_unlock()
    assert [i.name for i in got] == ["web@1", "web@2", "web@0"] * 2
