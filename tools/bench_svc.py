# tools/bench_svc: the service manager's figures (issue 5), run ON MicroPython:
#   MICROPYPATH=.frozen:. build/unix/micropython -X heapsize=64M tools/bench_svc.py
#   mpremote connect <pty> run tools/bench_svc.py        (on a board; its kernel is frozen)
# Prints one "name value unit" line per figure:
#   heap per registered idle service (gc.mem_free() deltas over 200 services);
#   dependency resolution of 1,000 units / 3,000 edges and 10,000 / 30,000, and the ratio;
#   starting a chain of 100 notify services in dependency order, virtual vs real clock;
#   restart latency after a crash with restart_sec=0 (real clock), median of 20;
#   per service at 100, 1,000 and 10,000 idle units: start one by one (start_service's path,
#   each new task stepped into its sleep), heap per running service, and service_status by
#   name (1,000 lookups; then the same refilling one dict, service_status(name, into=d)),
#   real clock (issue 8: a start must cost the same at any N); then
#   the same with the kernel's subscribers (discovery, health, faults, metrics): svc_stack_*.
# Host-side tool: nothing in the firmware imports it.
import gc
import time

import kernel
from kernel import deps, traps
from kernel.clock import VirtualClock, real_clock
from kernel.manager import Manager
from kernel.sched import Scheduler
from kernel.svc import status_in


def out(name, value, unit):
    print("%s %s %s" % (name, value, unit))


class U:
    requires = wants = before = ()

    def __init__(self, name, after):
        self.name = name
        self.after = after


def graph(n):
    names = ["u%d" % i for i in range(n)]
    us = {}
    for i in range(n):
        us[names[i]] = U(names[i], tuple(names[i - k] for k in (1, 2, 3) if i >= k))
    return us, names


def resolve_us(n, runs=3):
    us, names = graph(n)
    best = None
    for _ in range(runs):
        gc.collect()
        t0 = time.ticks_us()
        deps.resolve(us.get, None, names)
        dt = time.ticks_diff(time.ticks_us(), t0)
        best = dt if best is None else min(best, dt)
    return best


async def idle():
    while True:
        await kernel.sleep_ms(100000)


def heap_per_service(n=200):
    m = Manager(Scheduler(VirtualClock()))
    m.create({"name": "warm", "exec": idle})
    names = ["svc%d" % i for i in range(n)]
    gc.collect()
    before = gc.mem_free()
    for name in names:
        m.create({"name": name, "exec": idle})
    gc.collect()
    return (before - gc.mem_free()) // n


def chain_start_us(clock, n=100):
    s = Scheduler(clock)
    m = Manager(s)

    async def ready():
        m.by_task[s.cur.id].notify_ready()
        await traps.sleep_ms(100000)

    for i in range(n):
        after = ["c%d" % (i - 1)] if i else []
        m.create({"name": "c%d" % i, "type": "notify", "exec": ready, "requires": after})
    t0 = time.ticks_us()
    job = m.start_job(["c%d" % (n - 1)], "bench")

    async def waiter():
        await job.wait()

    s.run_until(s.spawn(waiter(), "waiter"))
    return time.ticks_diff(time.ticks_us(), t0)


def restart_latency_us(samples=20):
    s = Scheduler(real_clock())
    m = Manager(s)
    marks = []
    lat = []

    async def crash():
        if marks:
            lat.append(time.ticks_diff(time.ticks_us(), marks.pop()))
        if len(lat) >= samples:
            await traps.sleep_ms(100000)
        raise ValueError("crash")

    def seen(name, event, cause):
        if event == "restarting":
            marks.append(time.ticks_us())

    m.subscribers.append(seen)
    m.create({"name": "crash", "exec": crash, "restart_sec": 0, "start_limit_burst": 1000})
    m.start_job(["crash"], "bench")

    async def until():
        while len(lat) < samples:
            await traps.sleep_ms(1)

    s.run_until(s.spawn(until(), "until"))
    lat.sort()
    return lat[len(lat) // 2]


def start_and_lookup(n, lookups=1000, stack=False):
    """Per service: start of n idle units one by one (start_service's path, each task
    stepped once into its sleep), heap per running service, and a service_status by name
    (1,000 lookups spread over the n names; then 1,000 more refilling one dict). Real
    clock. stack: the manager as the kernel makes it (kernel/svc.py manager(): discovery,
    health and the fault engine hear its events) plus the metrics registry, whose sampler
    task is not started here."""
    gc.collect()
    s = Scheduler(real_clock())
    m = Manager(s)
    if stack:
        from kernel import faults, metrics

        faults.attach(m)
        metrics.registry(m)
    names = ["idle%d" % i for i in range(n)]
    for name in names:
        m.create({"name": name, "exec": idle})
    gc.collect()
    free0 = gc.mem_free()
    t0 = time.ticks_us()
    for name in names:
        m.get(name)  # kernel.start_service(name), on this manager
        m.start_job([name], "start " + name)
        s._run_ready(None, 1)
    start_us = time.ticks_diff(time.ticks_us(), t0)
    gc.collect()
    heap_b = (free0 - gc.mem_free()) // n
    t0 = time.ticks_us()
    for i in range(lookups):
        status_in(m, names[(i * 7919) % n])  # kernel.service_status(name), on this manager
    status_us = time.ticks_diff(time.ticks_us(), t0)
    d = status_in(m, names[0])
    t0 = time.ticks_us()
    for i in range(lookups):
        status_in(m, names[(i * 7919) % n], d)  # service_status(name, into=d): no allocation
    into_us = time.ticks_diff(time.ticks_us(), t0)
    return start_us / n, heap_b, status_us / lookups, into_us / lookups


def main():
    out("svc_heap_per_idle_service", heap_per_service(), "B")
    a = resolve_us(1000)
    out("svc_resolve_1k_units_3k_edges", a, "us")
    try:
        b = resolve_us(10000)
        out("svc_resolve_10k_units_30k_edges", b, "us")
        out("svc_resolve_ratio_10k_1k", "%.1f" % (b / a), "x")
    except MemoryError:
        out("svc_resolve_10k_units_30k_edges", "n/a (heap too small)", "")
    out("svc_start_100_chain_virtual", chain_start_us(VirtualClock()), "us")
    out("svc_start_100_chain_real", chain_start_us(real_clock()), "us")
    out("svc_restart_latency_median", restart_latency_us(), "us")
    for stack, pre in ((False, "svc_"), (True, "svc_stack_")):
        for n, tag in ((100, "100"), (1000, "1k"), (10000, "10k")):
            try:
                start_us, heap_b, status_us, into_us = start_and_lookup(n, stack=stack)
            except MemoryError:
                out(pre + "start_per_service_" + tag, "n/a", "(MemoryError)")
                continue
            out(pre + "start_per_service_" + tag, "%.1f" % start_us, "us")
            out(pre + "status_lookup_" + tag, "%.1f" % status_us, "us")
            out(pre + "status_into_" + tag, "%.1f" % into_us, "us")
            out(pre + "heap_per_running_service_" + tag, heap_b, "B")


main()
