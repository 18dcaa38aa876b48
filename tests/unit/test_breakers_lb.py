# Tests for kernel/breakers with the real balancer and kernel.request (kernel/lbcall): the
# service breaker on the pool, an instance whose calls fail taken out of selection by its
# breaker and brought back by a half-open trial, a service breaker refusing every call,
# release() of an unused half-open permit, and the breakers' counts matching the calls.
# Through the kernel API on a fresh kernel, virtual clock with no per-step cost: exact ms.
import kernel
from kernel import balancer as B
from kernel import breakers
from kernel.breakers import CLOSED, HALF_OPEN, OPEN
from kernel.clock import VirtualClock

FAST = {"window_size": 4, "minimum_calls": 2, "wait_open_sec": 1, "half_open_calls": 2}


def fresh(n=3, **options):
    kernel.reset(VirtualClock(0, 0))
    B.set_call_hook(None)
    for i in range(1, n + 1):
        kernel.register_instance("web@%d" % i)
    kernel.set_strategy("web", "round_robin")
    o = dict(FAST)
    o.update(options)
    return kernel.set_breaker("web", **o)


def run(coro):
    return kernel.scheduler().run_until(kernel.spawn(coro, "test")).result()


def sleep(ms):
    async def s():
        await kernel.sleep_ms(ms)

    run(s())


failing = set()  # instance names whose calls raise in the call hook
hooked = []  # the instance each call went to, as the hook saw it


async def hook(inst):
    hooked.append(inst.name)
    await kernel.sleep_ms(2)
    if inst.name in failing:
        raise OSError("injected")


async def calls(n):
    """n requests through kernel.request -> per call the instance that served it, 'x' and
    its name when the (injected) call failed, '-' when none was permitted."""
    served = []
    for _ in range(n):
        try:
            async with kernel.request("web") as inst:
                served.append(inst.name)
        except OSError:
            served.append("x" + hooked[-1])
        except kernel.CallNotPermitted:
            served.append("-")
    return served


def test_set_breaker_puts_the_service_breaker_on_the_pool():
    sb = fresh()
    assert B.balancer().pool("web").breaker is sb
    assert kernel.get_breaker("web") is sb and kernel.get_breaker("web@1").owner.name == "web@1"


def test_a_failing_instance_is_taken_out_and_a_half_open_trial_brings_it_back():
    fresh(window_size=6, minimum_calls=3)  # 1 of 3 failing: the service's rate stays 33%
    B.set_call_hook(hook)
    failing.clear()
    failing.add("web@2")
    b2 = kernel.get_breaker("web@2")
    out = run(calls(9))
    assert out == ["web@1", "xweb@2", "web@3"] * 3
    assert b2.state == OPEN and kernel.get_breaker("web").state == CLOSED
    out = run(calls(4))
    assert out == ["web@1", "web@3", "web@1", "web@3"]  # out of selection while open
    failing.clear()
    sleep(1000)
    assert b2.available() and b2.state == OPEN
    out = run(calls(6))
    assert "web@2" in out and b2.state == CLOSED  # its two trial calls passed
    assert b2.total_failures == 3
    st = kernel.lb_stats("web")["instances"]["web@2"]
    assert st["breaker"] == "closed" and st["failures"] == 3
    B.set_call_hook(None)


def test_a_failed_trial_opens_it_again_with_a_longer_wait():
    fresh(window_size=6, minimum_calls=3, failure_rate_threshold=60, half_open_calls=1,
          wait_multiplier=2)  # fmt: skip
    B.set_call_hook(hook)
    failing.clear()
    failing.add("web@1")
    run(calls(9))
    b1 = kernel.get_breaker("web@1")
    assert b1.state == OPEN and b1.wait_ms == 1000
    sleep(1000)
    out = run(calls(3))
    assert out.count("xweb@1") == 1 and b1.state == OPEN and b1.wait_ms == 2000
    B.set_call_hook(None)


def test_an_open_service_breaker_refuses_every_call():
    sb = fresh()
    B.set_call_hook(hook)
    failing.clear()
    failing.update(("web@1", "web@2", "web@3"))
    run(calls(2))
    assert sb.state == OPEN
    assert run(calls(3)) == ["-", "-", "-"]
    try:
        run(calls_raw())
        raise AssertionError("permitted")
    except kernel.CallNotPermitted as e:
        assert str(e) == "request web: service breaker open"
    B.set_call_hook(None)


async def calls_raw():
    async with kernel.request("web"):
        pass


def test_a_cancelled_call_gives_its_half_open_permit_back():
    fresh(n=1, half_open_calls=1)
    b = kernel.get_breaker("web@1")
    for _ in range(2):
        b.allow()
        b.record(False, 1)
    sleep(1000)

    async def slow():
        async with kernel.request("web"):
            await kernel.sleep_ms(1000)

    t = kernel.spawn(slow(), "slow")
    sleep(10)
    assert b.state == HALF_OPEN and b.permits == 0 and not b.available()
    kernel.kill(t.id)
    sleep(10)
    assert b.state == HALF_OPEN and b.permits == 1 and b.total_calls == 2  # nothing recorded
    assert run(calls(1)) == ["web@1"] and b.state == CLOSED
    assert breakers.attach(kernel.svc.manager()).transitions == 3
