# tools/bench_sched.py: scheduler benchmarks, run ON the target (unix port or a board).
#
# `make bench` runs this file on the firmware through the raw REPL (mpremote run, after its
# soft reset) and on the unix port; it prints the figures as one line of JSON. Everything is
# measured within one run on one build, so compare the ratios:
#   sched_switch_per_s    100 kernel tasks each awaiting yield_(), accounting on
#   asyncio_switch_per_s  100 tasks of MicroPython's own asyncio awaiting sleep(0)
#   raw_switch_per_s      `for g in gens: next(g)` over 100 plain generators
#   sched_vs_asyncio      target >= 2.0;   sched_vs_raw   target >= 0.20
#   alloc_b_per_100k_switches  heap bytes of 100,000 more switches (target 0; a few GC blocks
#                         of noise, where one byte per switch would read 100000)
#   spawn_join_us         spawn + run to end + join, per task
#   idle_task_b           heap per idle (sleeping) task (ARM target < 300)
#   virtual_10min_ms      ms of real time for 10 simulated minutes of 8 tasks sleeping
#                         seeded random 10..1009 ms on the virtual clock (unix target < 1700)
import gc
import json

import hal
from kernel import sleep_ms, yield_
from kernel.clock import VirtualClock, real_clock
from kernel.sched import Scheduler

try:
    import mpasyncio as ref_asyncio  # the firmware freezes MicroPython's asyncio so
except ImportError:
    import asyncio as ref_asyncio  # on the unix port `asyncio` is MicroPython's own

TASKS = 100
ROUNDS = 100  # switches per task


def _rate(switches, us):
    return int(switches * 1000000 // max(us, 1))


def bench_sched(rounds=ROUNDS):
    s = Scheduler(real_clock())

    done = [0]

    async def worker(n):
        for _ in range(n):
            await yield_()
        done[0] += 1
        if done[0] == TASKS:
            s.stop()

    for i in range(TASKS):
        s.spawn(worker(rounds), "w%d" % i, 0)
    gc.collect()
    a = hal.alloc_bytes()
    t = hal.ticks_us()
    s.run()
    us = hal.ticks_diff(hal.ticks_us(), t)
    alloc = (hal.alloc_bytes() - a) % hal.TICKS_PERIOD
    return _rate(TASKS * rounds, us), alloc


def bench_asyncio(rounds=ROUNDS):
    aio = ref_asyncio

    async def worker(n):
        for _ in range(n):
            await aio.sleep(0)

    async def main():
        await aio.gather(*[worker(rounds) for _ in range(TASKS)])

    gc.collect()
    t = hal.ticks_us()
    aio.run(main())
    us = hal.ticks_diff(hal.ticks_us(), t)
    return _rate(TASKS * rounds, us)


def bench_raw(rounds=ROUNDS):
    def worker():
        while True:
            yield

    gens = [worker() for _ in range(TASKS)]
    gc.collect()
    t = hal.ticks_us()
    for _ in range(rounds):
        for g in gens:
            next(g)
    us = hal.ticks_diff(hal.ticks_us(), t)
    return _rate(TASKS * rounds, us)


def bench_spawn_join(n=500):
    s = Scheduler(real_clock())

    async def noop():
        return 1

    async def parent():
        for _ in range(n):
            await s.spawn(noop(), "c", 0)  # awaiting a Task joins it

    gc.collect()
    t = hal.ticks_us()
    s.run_until(s.spawn(parent(), "p", 0))
    return hal.ticks_diff(hal.ticks_us(), t) / n


def bench_idle_task(n=200):
    s = Scheduler(real_clock())

    async def sleeper():
        await sleep_ms(1 << 27)

    gc.collect()
    before = gc.mem_free()
    tasks = [s.spawn(sleeper(), "s", 0) for _ in range(n)]
    gc.collect()
    used = before - gc.mem_free()
    del tasks
    return used / n


def bench_virtual_minutes(minutes=10):
    """Real ms to simulate `minutes` of a small busy system on the virtual clock."""
    s = Scheduler(VirtualClock(1))
    rng = [7920]

    async def worker():
        while True:
            rng[0] = (rng[0] * 1103515245 + 12345) & 0x7FFFFFFF
            await sleep_ms(10 + rng[0] % 1000)

    async def main():
        await sleep_ms(minutes * 60000)
        s.stop()

    for _ in range(8):
        s.spawn(worker())
    s.spawn(main())
    t0 = hal.ticks_us()
    s.run()
    return hal.ticks_diff(hal.ticks_us(), t0) // 1000


def bench_json():
    sched, alloc = bench_sched()
    # Spawning and ending tasks allocates; switching must not: the marginal bytes of
    # ROUNDS more switches per task are the bytes per switch.
    # The totals wobble by a few GC blocks (measured: +-256 B on x86_64 whatever the number
    # of rounds), so the figure is the bytes of 100,000 extra switches (10x ROUNDS more per
    # task): one byte allocated per switch would show as 100000.
    alloc = bench_sched(11 * ROUNDS)[1] - alloc
    aio = bench_asyncio()
    raw = bench_raw()
    return json.dumps(
        {
            "sched_switch_per_s": sched,
            "asyncio_switch_per_s": aio,
            "raw_switch_per_s": raw,
            "sched_vs_asyncio": round(sched / aio, 2),
            "sched_vs_raw": round(sched / raw, 2),
            "alloc_b_per_100k_switches": alloc,
            "spawn_join_us": int(bench_spawn_join()),
            "idle_task_b": int(bench_idle_task()),
            "virtual_10min_ms": bench_virtual_minutes(),
        }
    )


if __name__ == "__main__":
    print(bench_json())
