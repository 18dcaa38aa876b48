# tools/bench_faults: fault tolerance's figures (issue 10), run ON MicroPython:
#   MICROPYPATH=.frozen:. build/unix/micropython -X heapsize=64M tools/bench_faults.py [SEED]
# Prints one "name value unit" line per figure:
#   a seeded soak on a separate kernel on the virtual clock: SERVICES services of INSTANCES
#   template instances each, 10 simulated minutes, CRASH_PM per mille of the instances
#   crashing per minute (injected, at seeded times), one client per service calling through
#   kernel.request at RATE calls/s (each call CALL_MS long, failing when its instance died
#   meanwhile; retried once on another instance): availability (% of calls that succeeded,
#   target >= 99.9), the calls made, and the host's wall time for the whole soak (target on
#   the unix port < 5 s);
#   time from a crash to discovery taking the instance out of the balancer's candidates
#   and back in after its restart (median and worst, simulated ms);
#   time from an instance starting to fail every call (an injected error) to its breaker
#   taking it out (open), and, once the fault is cleared, back in (closed again).
# Host-side tool: nothing in the firmware imports it.
import sys
import time

import kernel
from kernel import backoff, balancer, breakers, faults, inject, svc, traps
from kernel.clock import VirtualClock
from kernel.events import EV_BREAKER, EV_NOT_READY, EV_READY
from kernel.manager import Manager
from kernel.sched import Scheduler

SERVICES = 10
INSTANCES = 3
MINUTES = 10
CRASH_PM = 100  # per mille of the instances crashing per minute (10%)
RATE = 1  # calls per second per service (10 a second in all)
CALL_MS = 5  # how long a call takes


def out(name, value, unit):
    print("%s %s %s" % (name, value, unit))


async def serve():
    while True:
        await traps.sleep_ms(60000)


class Soak:
    def __init__(self, seed):
        self.clock = VirtualClock(seed)
        self.s = Scheduler(self.clock)
        self.m = Manager(self.s, backoff.Rng(seed))
        svc._mgr = self.m  # kernel.request and the balancer find this kernel's manager
        self.eng = faults.attach(self.m)
        self.inj = inject.injector(self.eng)
        balancer.attach(self.m)
        self.rng = backoff.Rng(seed + 1)
        self.calls = 0
        self.failed = 0
        self.crashed = {}  # instance -> ms of its crash, until it is back
        self.out_ms = []  # crash -> not ready
        self.in_ms = []  # crash -> ready again
        self.m.registry.listeners.append(self.on_change)

    def on_change(self, code, inst):
        t0 = self.crashed.get(inst.name)
        if t0 is None:
            return
        now = self.m.now()
        if code == EV_NOT_READY:
            self.out_ms.append(now - t0)
        elif code == EV_READY:
            self.in_ms.append(now - t0)
            self.crashed.pop(inst.name)

    async def call(self, inst):
        await traps.sleep_ms(CALL_MS)
        if inst.svc is None or inst.svc.task is None or not inst.ready:
            raise OSError("instance %s went away during the call" % inst.name)

    async def client(self, service):
        period = 1000 // RATE
        req = kernel.request
        while True:
            await traps.sleep_ms(period)
            self.calls += 1
            try:
                await req(service, retries=1).call(self.call)
            except Exception:  # noqa: BLE001 - a failed call is what we count
                self.failed += 1

    async def crasher(self):
        names = ["s%d@%d" % (k, i) for k in range(SERVICES) for i in range(1, INSTANCES + 1)]
        per_min = len(names) * CRASH_PM // 1000
        for _ in range(MINUTES):
            t0 = self.m.now()
            times = sorted(self.rng.below(60000) for _ in range(per_min))
            for at in times:
                await traps.sleep_ms(max(0, t0 + at - self.m.now()))
                name = names[self.rng.below(len(names))]
                if self.m.get(name).task is not None and name not in self.crashed:
                    self.crashed[name] = self.m.now()
                    self.inj.inject(name, "crash", {})
            await traps.sleep_ms(max(0, t0 + 60000 - self.m.now()))

    def run(self):
        for k in range(SERVICES):
            self.m.create({"name": "s%d@" % k, "exec": serve, "restart_sec": 0.1})
            for i in range(1, INSTANCES + 1):
                self.m.start_job(["s%d@%d" % (k, i)], "soak")
        for k in range(SERVICES):
            self.s.spawn(self.client("s%d" % k), "client-%d" % k)
        t = self.s.spawn(self.crasher(), "crasher")
        self.s.run_until(t)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else -1


def soak(seed):
    saved = svc._mgr
    t0 = time.ticks_ms()
    try:
        sk = Soak(seed)
        sk.run()
    finally:
        svc._mgr = saved
    wall = time.ticks_diff(time.ticks_ms(), t0)
    ok = sk.calls - sk.failed
    out("soak_availability", "%.3f" % (ok * 100 / max(1, sk.calls)), "pct")
    out("soak_calls", sk.calls, "n")
    out("soak_failed_calls", sk.failed, "n")
    out("soak_crashes", len(sk.out_ms), "n")
    out("soak_wall_s", "%.2f" % (wall / 1000), "s")
    out("crash_to_out_median", median(sk.out_ms), "ms")
    out("crash_to_out_max", max(sk.out_ms or [-1]), "ms")
    out("crash_to_in_median", median(sk.in_ms), "ms")
    out("crash_to_in_max", max(sk.in_ms or [-1]), "ms")


async def _breaker_case(m, inj, marks):
    b = breakers.set_breaker("web", window_size=10, minimum_calls=5, wait_open_sec=2,
                             half_open_calls=2)  # fmt: skip
    await traps.sleep_ms(100)
    t_err = m.now()
    fid = inj.inject("web@1", "error", {})
    for _ in range(4000):
        if marks.get("open") is None and marks.get("open_at") is not None:
            marks["open"] = marks["open_at"] - t_err
            inj.clear(fid)
            marks["t_clear"] = m.now()
        if marks.get("closed_at") is not None and marks.get("t_clear") is not None:
            break
        try:
            await kernel.request("web", retries=1).call(_quick)
        except Exception:  # noqa: BLE001 - failures are the point here
            pass
        await traps.sleep_ms(10)
    return b


async def _quick(inst):
    await traps.sleep_ms(1)


def breaker_times(seed):
    """An instance failing every call: ms until its breaker opens, and after the fault is
    cleared until it closes again (the balancer's picks include it again)."""
    saved = svc._mgr
    try:
        m = Manager(Scheduler(VirtualClock(seed)), backoff.Rng(seed))
        svc._mgr = m
        eng = faults.attach(m)
        inj = inject.injector(eng)
        balancer.attach(m)
        m.create({"name": "web@", "exec": serve})
        for i in (1, 2, 3):
            m.start_job(["web@%d" % i], "bench")
        marks = {}

        def seen(code, inst):
            if code == EV_BREAKER and inst.name == "web@1" and inst.breaker is not None:
                st = inst.breaker.state
                if st == breakers.OPEN and "open_at" not in marks:
                    marks["open_at"] = m.now()
                elif st == breakers.CLOSED and "t_clear" in marks and "closed_at" not in marks:
                    marks["closed_at"] = m.now()

        m.registry.listeners.append(seen)
        t = m.sched.spawn(_breaker_case(m, inj, marks), "breaker-case")
        m.sched.run_until(t)
    finally:
        svc._mgr = saved
    out("breaker_error_to_open", marks.get("open", -1), "ms")
    out("breaker_clear_to_closed", marks.get("closed_at", 0) - marks.get("t_clear", 0), "ms")


def main(argv):
    seed = int(argv[1]) if len(argv) > 1 else 1
    soak(seed)
    breaker_times(seed)


main(sys.argv)
