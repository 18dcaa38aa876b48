# tools/bench_breaker: the circuit breakers' figures (issue 10), run ON MicroPython:
#   MICROPYPATH=.frozen:. build/unix/micropython -X heapsize=64M tools/bench_breaker.py
#   mpremote connect <pty> run tools/bench_breaker.py      (on a board; its kernel is frozen)
# Prints one "name value unit" line per figure:
#   cost of allow() + record() per call on a closed breaker (count window of 100, and a
#   time window of 60 s), available() per call, and in the same run a plain dict lookup
#   and an empty Python method call (the floor of any breaker written in Python), each
#   minus the bare loop, best of 3 runs, real clock;
#   on the virtual clock (exact ms, the same on every port): a client calling web through
#   kernel.request every 10 ms (round robin over 3 instances; the balancer skips those not
#   ready or whose breaker is not available; injected errors through its call hook):
#   - breaker: web@2 starts failing its calls at t=1 s while staying registered and ready
#     (an error the health probes do not see) and recovers at t=4 s: ms from the first
#     failure to its breaker opening (out), and from the recovery to the breaker closing
#     (back in), and the calls that failed (and were refused: none may take the call);
#   - health: a managed web@2 crashes (restart_sec 1): ms from the crash to discovery
#     taking it out of the ready set, and to it being ready again.
# Host-side tool: nothing in the firmware imports it.
import gc
import time

import kernel
from kernel import balancer, breakers, discovery, svc, traps
from kernel.clock import VirtualClock, real_clock
from kernel.manager import Manager
from kernel.sched import Scheduler

N = 20000
OPTIONS = {"window_size": 20, "minimum_calls": 10, "wait_open_sec": 2, "half_open_calls": 3}


def out(name, value, unit):
    print("%s %s %s" % (name, value, unit))


def loop_us(body, n=N):
    """µs per iteration of body(n): the best of 3 runs (the host's load only adds time)."""
    best = None
    for _ in range(3):
        t0 = time.ticks_us()
        body(n)
        dt = time.ticks_diff(time.ticks_us(), t0)
        best = dt if best is None or dt < best else best
    return best / n


def bare(n):
    for _ in range(n):
        pass


class Nop:
    def record(self, ok, dur_ms):
        pass


def call_path():
    m = Manager(Scheduler(real_clock()))
    brk = breakers.attach(m)
    reg = brk.reg
    reg.register("web@1")
    brk.set("web", {"window_size": 100})
    b = reg.get("web@1").breaker
    brk.set("tw", {"window_type": "time", "window_size": 60})
    tb = brk.services["tw"]
    d = {"web@%d" % i: i for i in range(100)}

    def allow_record(n, b=b):
        for _ in range(n):
            b.allow()
            b.record(True, 3)

    def available(n, b=b):
        for _ in range(n):
            b.available()

    nop = Nop()

    def method(n, o=nop):
        for _ in range(n):
            o.record(True, 3)

    def lookup(n, d=d):
        for _ in range(n):
            d.get("web@42")

    gc.collect()
    base = loop_us(bare)
    count_us = loop_us(allow_record) - base
    time_us = loop_us(lambda n: allow_record(n, tb)) - base
    avail_us = loop_us(available) - base
    dict_us = loop_us(lookup) - base
    nop_us = loop_us(method) - base
    out("breaker_allow_record_count", "%.2f" % count_us, "us")
    out("breaker_allow_record_time", "%.2f" % time_us, "us")
    out("breaker_available", "%.2f" % avail_us, "us")
    out("breaker_dict_lookup", "%.2f" % dict_us, "us")
    out("breaker_empty_method", "%.2f" % nop_us, "us")
    out("breaker_allow_record_vs_dict", "%.1f" % (count_us / max(dict_us, 0.001)), "ratio")


class Sim:
    """A separate kernel on a virtual clock (its own Scheduler and Manager, as
    kernel/scenario.py plays scenarios: the kernel we run inside is left alone), instances
    of web, and a client calling through kernel.request every 10 ms; the call hook fails the
    calls of instances in `failing`."""

    def __init__(self):
        self.s = Scheduler(VirtualClock(0, 0))
        self.m = Manager(self.s)
        self.failing = set()  # instance names whose calls fail
        self.calls = self.failed = self.refused = 0
        self.log = []  # (uptime ms, breaker state name, ready) of web@2 at each change

    def seen(self, code, inst):
        if inst.name == "web@2":
            b = inst.breaker
            self.log.append((self.m.now(), b.state_name() if b else "-", inst.ready))

    async def hook(self, inst):
        await traps.sleep_ms(2)
        if inst.name in self.failing:
            raise OSError("injected")

    async def client(self, setup, ms):
        setup()  # in a task of this kernel: the API then finds its manager
        discovery.listen(self.seen)
        for _ in range(ms // 10):
            await traps.sleep_ms(10)
            self.calls += 1
            try:
                async with kernel.request("web"):
                    pass
            except OSError:
                self.failed += 1
            except kernel.CallNotPermitted:
                self.refused += 1

    async def at(self, ms, fn):
        await traps.sleep_ms(ms)
        fn()

    def run(self, setup, ms):
        saved = (svc._mgr, balancer.call_hook())
        svc._mgr = self.m
        balancer.set_call_hook(self.hook)
        try:
            self.s.run_until(self.s.spawn(self.client(setup, ms), "client")).result()
        finally:
            svc._mgr = saved[0]
            balancer.set_call_hook(saved[1])

    def first(self, since, want):
        for t, st, ready in self.log:
            if t >= since and want(st, ready):
                return t - since
        return -1


def breaker_sim():
    sim = Sim()

    def setup():
        for i in (1, 2, 3):
            kernel.register_instance("web@%d" % i)
        kernel.set_strategy("web", "round_robin")
        kernel.set_breaker("web", **OPTIONS)

    sim.s.spawn(sim.at(1000, lambda: sim.failing.add("web@2")), "fault")
    sim.s.spawn(sim.at(4000, lambda: sim.failing.discard("web@2")), "heal")
    sim.run(setup, 8000)
    out("breaker_out_after_fault", sim.first(1000, lambda st, r: st == "open"), "ms")
    out("breaker_in_after_recovery", sim.first(4000, lambda st, r: st == "closed"), "ms")
    out("breaker_failed", sim.failed, "calls")
    out("breaker_refused", sim.refused, "calls")
    out("breaker_made", sim.calls, "calls")


def health_sim():
    sim = Sim()

    async def web():
        if sim.m.now() < 1000:  # the first run crashes at t=1 s
            await traps.sleep_ms(1000 - sim.m.now())
            raise ValueError("crash")
        while True:
            await traps.sleep_ms(100000)

    def setup():
        for i in (1, 2, 3):
            kernel.create_service(
                {"name": "web@%d" % i, "exec": web if i == 2 else _forever, "restart_sec": 1}
            )
            kernel.start_service("web@%d" % i)
        kernel.set_strategy("web", "round_robin")
        kernel.set_breaker("web", **OPTIONS)

    sim.run(setup, 4000)
    out("health_out_after_crash", sim.first(1000, lambda st, r: not r), "ms")
    out("health_in_after_crash", sim.first(1000, lambda st, r: r), "ms")
    out("health_crash_failed", sim.failed, "calls")
    out("health_crash_refused", sim.refused, "calls")


async def _forever():
    while True:
        await traps.sleep_ms(100000)


def main():
    call_path()
    gc.collect()
    breaker_sim()
    gc.collect()
    health_sim()


main()
