# Tests for kernel/lbcall (kernel.request): outcome and latency recording for the balancer
# and both breakers (fakes with the duck-typed contract), refused permits, the call hook
# (injected latency and errors), retries on another instance, CallNotPermitted's one line,
# timeouts and cancellation. Through the kernel API on a fresh kernel, virtual clock with
# no per-step cost: exact ms.
from lbfakes import FakeBreaker

import kernel
from kernel import balancer as B
from kernel.clock import VirtualClock


def fresh(n=3, strategy="round_robin"):
    kernel.reset(VirtualClock(0, 0))
    B.set_call_hook(None)
    for i in range(1, n + 1):
        kernel.register_instance("web@%d" % i)
    kernel.set_strategy("web", strategy)
    return B.balancer().pool("web")


def run(coro):
    return kernel.scheduler().run_until(kernel.spawn(coro, "test")).result()


def test_a_request_counts_active_and_records_success_latency_and_breakers():
    p = fresh()
    ib = FakeBreaker()
    sb = FakeBreaker()
    p.member("web@1").inst.breaker = ib
    p.breaker = sb

    async def go():
        seen = []
        for ms in (10, 30, 20):
            async with kernel.request("web") as inst:
                seen.append((inst.name, p.member(inst.name).active))
                await kernel.sleep_ms(ms)
        return seen

    assert run(go()) == [("web@1", 1), ("web@2", 1), ("web@3", 1)]
    s = kernel.lb_stats("web")["instances"]
    assert s["web@1"]["successes"] == 1 and s["web@1"]["active"] == 0
    assert s["web@1"]["latency_ms"] == 10 and s["web@2"]["p50_ms"] == 30
    assert ib.allows == 1 and ib.records == [(True, 10)]
    assert sb.allows == 3 and sb.records == [(True, 10), (True, 30), (True, 20)]


def test_the_latency_ewma_weighs_a_new_sample_by_one_eighth():
    p = fresh(1)

    async def go():
        for ms in (80, 160):
            async with kernel.request("web"):
                await kernel.sleep_ms(ms)

    run(go())
    assert p.member("web@1").ewma_ms() == 90  # 80 + (160 - 80) / 8


def test_a_body_exception_is_a_failure_and_propagates():
    p = fresh(2)
    ib = FakeBreaker()
    p.member("web@1").inst.breaker = ib

    async def go():
        try:
            async with kernel.request("web") as inst:
                await kernel.sleep_ms(5)
                raise OSError("reset by " + inst.name)
        except OSError as e:
            return str(e)

    assert run(go()) == "reset by web@1"
    assert ib.records == [(False, 5)] and p.member("web@1").failures == 1
    assert p.member("web@1").active == 0


def test_call_not_permitted_says_why_in_one_line():
    p = fresh(2)

    async def go():
        try:
            async with kernel.request("web"):
                pass
        except kernel.CallNotPermitted as e:
            return e

    p.breaker = FakeBreaker(avail=False)
    e = run(go())
    assert str(e) == "request web: service breaker open" and e.service == "web"
    p.breaker = FakeBreaker(avail=True, allow=False)  # available, then refuses its permit
    assert run(go()).why == "service breaker open"
    p.breaker = None
    p.member("web@1").inst.breaker = FakeBreaker(avail=False)
    kernel.instance("web@2").ready = False  # 1 of 2 ready: 50%, no panic
    p.dirty = True
    e = run(go())
    assert str(e) == (
        "request web: no instance may take the call (2 instances: 1 breaker open, 1 not ready)"
    ), str(e)
    assert p.denied == 3
    assert "no instances registered" in str(
        kernel.scheduler().run_until(kernel.spawn(_try(kernel.request("nothing")), "t")).result()
    )


async def _try(req):
    try:
        async with req:
            pass
    except kernel.CallNotPermitted as e:
        return e


def test_an_instance_that_refuses_its_permit_is_skipped_and_the_service_permit_carried():
    p = fresh(2)
    refusing = FakeBreaker(avail=True, allow=False)
    p.member("web@1").inst.breaker = refusing
    sb = FakeBreaker()
    p.breaker = sb

    async def go():
        async with kernel.request("web") as inst:
            return inst.name

    assert run(go()) == "web@2"
    assert refusing.allows == 1 and refusing.records == [] and sb.allows == 1
    assert sb.records == [(True, 0)]
    p.member("web@2").inst.breaker = FakeBreaker(avail=True, allow=False)
    assert isinstance(run(_try(kernel.request("web"))), kernel.CallNotPermitted)
    assert sb.releases == 1  # the service permit no call used went back


def test_the_call_hook_adds_latency_and_its_errors_are_retried_on_another_instance():
    p = fresh(3)
    breakers = {}
    for i in (1, 2, 3):
        breakers[i] = p.member("web@%d" % i).inst.breaker = FakeBreaker()

    async def hook(inst):
        await kernel.sleep_ms(7)
        if inst.name != "web@3":
            raise OSError("injected")

    B.set_call_hook(hook)
    assert B.call_hook() is hook

    async def go(retries):
        async with kernel.request("web", retries=retries) as inst:
            await kernel.sleep_ms(3)
            return inst.name

    assert run(go(2)) == "web@3"
    assert breakers[1].records == [(False, 7)] and breakers[2].records == [(False, 7)]
    assert breakers[3].records == [(True, 10)]  # the hook's 7 ms count in the call
    try:
        run(go(0))
        raise AssertionError("no error")
    except OSError as e:
        assert str(e) == "injected"
    B.set_call_hook(None)
    assert p.member("web@1").failures + p.member("web@2").failures == 3


def test_call_retries_the_function_on_another_instance():
    p = fresh(3)

    async def fetch(inst):
        await kernel.sleep_ms(2)
        if inst.name != "web@3":
            raise OSError("down")
        return "ok from " + inst.name

    async def go():
        return await kernel.request("web", retries=2).call(fetch)

    assert run(go()) == "ok from web@3"
    assert [p.member("web@%d" % i).failures for i in (1, 2, 3)] == [1, 1, 0]

    async def never():
        try:
            return await kernel.request("web", retries=1).call(fetch)
        except OSError as e:
            return "gave up: %s" % e

    kernel.set_strategy("web", "round_robin")
    assert run(never()) == "gave up: down"


def test_timeout_ms_cuts_call_and_fails_a_late_body():
    p = fresh(1)

    async def slow(inst):
        await kernel.sleep_ms(500)

    async def go():
        out = []
        try:
            await kernel.request("web", timeout_ms=100).call(slow)
        except kernel.TimeoutError:
            out.append(kernel.uptime_ms())
        try:
            async with kernel.request("web", timeout_ms=50):
                await kernel.sleep_ms(60)
        except kernel.TimeoutError as e:
            out.append(str(e))
        return out

    t, msg = run(go())
    assert t == 100 and msg == "request web: took over timeout_ms 50"
    assert p.member("web@1").failures == 2


def test_a_cancelled_call_is_released_not_recorded():
    p = fresh(1)
    ib = FakeBreaker()
    p.member("web@1").inst.breaker = ib

    async def go():
        async with kernel.request("web"):
            await kernel.sleep_ms(1000)

    s = kernel.scheduler()
    t = kernel.spawn(go(), "client")

    async def killer():
        await kernel.sleep_ms(10)
        t.cancel()
        await kernel.sleep_ms(10)

    s.run_until(kernel.spawn(killer(), "k"))
    assert ib.records == [] and ib.releases == 1
    assert p.member("web@1").cancelled == 1 and p.member("web@1").active == 0


def test_retries_must_be_a_count():
    fresh(1)
    try:
        kernel.request("web", retries=-1)
        raise AssertionError("accepted")
    except ValueError as e:
        assert str(e) == "request web: 'retries' must be an int >= 0, got -1"


def test_stopping_a_service_waits_for_its_request_in_flight():
    kernel.reset(VirtualClock(0, 0))
    B.set_call_hook(None)

    async def forever():
        while True:
            await kernel.sleep_ms(1000)

    kernel.create_service({"name": "api@", "exec": forever, "balancer": {"strategy": "p2c"}})
    kernel.start_service("api@1")
    s = kernel.scheduler()
    events = []

    async def client():
        async with kernel.request("api") as inst:
            events.append(("in", inst.name, kernel.uptime_ms()))
            await kernel.sleep_ms(300)
            events.append(("out", kernel.service_status("api@1")["state"], kernel.uptime_ms()))

    async def main():
        await kernel.sleep_ms(10)
        kernel.spawn(client(), "client")
        await kernel.sleep_ms(10)
        job = kernel.stop_service("api@1")
        await job.wait()
        events.append(("stopped", kernel.service_status("api@1")["state"], kernel.uptime_ms()))

    s.run_until(kernel.spawn(main(), "main"))
    assert events == [
        ("in", "api@1", 10),
        ("out", "deactivating", 310),  # the instance still ran while its request finished
        ("stopped", "inactive", 310),
    ], events
    assert kernel.lb_stats("api")["strategy"] == "p2c"
    assert "nothing" not in B.balancer().pools
    kernel.lb_stats("nothing")
    assert "nothing" not in B.balancer().pools  # reading stats keeps no pool


def test_more_retries_than_instances_end_with_the_last_error():
    p = fresh(2)

    async def down(inst):
        raise OSError("down: " + inst.name)

    async def go():
        try:
            await kernel.request("web", retries=5).call(down)
        except OSError as e:
            return str(e)

    assert run(go()) == "down: web@2"  # both tried once, then the last error (not "no instance")
    assert p.member("web@1").failures == 1 and p.member("web@2").failures == 1 and p.denied == 0
