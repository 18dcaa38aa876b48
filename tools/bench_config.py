# tools/bench_config: config and metrics figures (issue 9), run ON MicroPython:
#   MICROPYPATH=.frozen:. build/unix/micropython -X heapsize=64M tools/bench_config.py
#   mpremote connect <pty> run tools/bench_config.py     (on a board; its kernel is frozen)
# Prints one "name value unit" line per figure:
#   heap per metric series (gc.mem_free() deltas over 200 gauges, each with its history ring
#   of params.METRIC_HISTORY samples), and per counter increment (0: no allocation);
#   one metrics sampling round over 20 services with 8 series each;
#   config update latency: validate + new version + on_config (median of 50 updates);
#   config update + restart latency: update_config until the service is active again on the
#   new version (config_reload=restart, real clock, median of 10).
# Host-side tool: nothing in the firmware imports it.
import gc
import time

import kernel
from kernel import configstore, metrics, traps
from kernel.clock import VirtualClock, real_clock
from kernel.manager import Manager
from kernel.sched import Scheduler

SCHEMA = {"port": {"type": "int", "default": 8080, "min": 1, "max": 65535}}


def out(name, value, unit):
    print("%s %s %s" % (name, value, unit))


async def idle():
    while True:
        await kernel.sleep_ms(100000)


def heap_per_series(n=200):
    reg = metrics.Registry(Manager(Scheduler(VirtualClock())))
    reg.metric("warm", "g", "gauge")
    gc.collect()
    free0 = gc.mem_free()
    ms = [reg.metric("s%d" % (i // 16), "g%d" % (i % 16), "gauge") for i in range(n)]
    gc.collect()
    per = (free0 - gc.mem_free()) // n
    c = ms[0]
    gc.collect()
    f0 = gc.mem_free()
    for _ in range(1000):
        c.inc(1)
    per_inc = max(0, f0 - gc.mem_free()) // 1000
    return per, per_inc


def sample_us(services=20, series=8, rounds=20):
    m = Manager(Scheduler(VirtualClock()))
    reg = metrics.Registry(m)
    for i in range(services):
        m.create({"name": "s%d" % i, "exec": idle})
        for k in range(series):
            reg.metric("s%d" % i, "m%d" % k, "gauge")
    best = None
    for _ in range(rounds):
        t0 = time.ticks_us()
        reg.sample()
        dt = time.ticks_diff(time.ticks_us(), t0)
        best = dt if best is None else min(best, dt)
    return best


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def update_us(n=50):
    m = Manager(Scheduler(VirtualClock()))
    st = configstore.Store(m)
    st.config_dir = "/nonexistent"
    st.cmdline = {}
    seen = []
    m.create(
        {
            "name": "w",
            "exec": idle,
            "config": SCHEMA,
            "on_config": lambda c, ch: seen.append(1),
            "rollback_sec": 0,
        }
    )
    m.start_job(["w"], "bench")
    times = []
    for i in range(n):
        t0 = time.ticks_us()
        st.update("w", {"port": 1000 + i})
        times.append(time.ticks_diff(time.ticks_us(), t0))
    assert len(seen) == n
    return median(times)


def restart_ms(n=10):
    # A manager of its own on the real clock, run nested from the console's code: the
    # booted kernel runs on unchanged (kernel.reset() is refused while it runs).
    s = Scheduler(real_clock())
    m = Manager(s)
    st = configstore.Store(m)
    st.config_dir = "/nonexistent"
    st.cmdline = {}
    m.create({"name": "r", "exec": idle, "config": SCHEMA, "rollback_sec": 0})
    times = []

    async def main():
        m.start_job(["r"], "bench")
        svc = m.get("r")
        await traps.sleep_ms(5)
        for i in range(n):
            first = svc.task
            t0 = time.ticks_us()
            st.update("r", {"port": 2000 + i})
            while svc.task is first or svc.state_name() != "active":
                await traps.sleep_ms(0)
            times.append(time.ticks_diff(time.ticks_us(), t0))

    s.run_until(s.spawn(main(), "bench"))
    return median(times) / 1000


def main():
    per, per_inc = heap_per_series()
    out("metric_series_heap", per, "b")
    out("metric_inc_alloc", per_inc, "b")
    out("metrics_sample_20x8", sample_us(), "us")
    out("config_update", update_us(), "us")
    out("config_update_restart", "%.2f" % restart_ms(), "ms")


main()
