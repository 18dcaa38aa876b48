# tools/bench_svc_api: the service manager at scale through the kernel's API, on the booted
# board, as issue 8 tried it from the raw REPL (run ON the board, by make bench, under icount):
#   mpremote connect <pty> run tools/bench_svc_api.py
# For N = 100, then 1,000 more, then 10,000 more (so the last step runs beside 11,100
# services): kernel.create_service of N idle units, kernel.start_service of each one by
# one (each job awaited: every start settles while the kernel's own services, its health
# monitor, metrics sampler and fault engine run), then 1,000 kernel.service_status(name)
# spread over all the names, and 1,000 more refilling one dict (into=d). Prints one
# "name value unit" line per figure: per start and per lookup (the loop over a prepared
# list of names included; svc_api_status_loop_* is that loop calling len(name) instead,
# bound to a local as the lookup is),
# heap per service (unit and running task, gc.mem_free deltas), the free heap left and
# its longest free block, how long one full gc.collect() takes beside them, and per start
# the kernel's busy time from the first start until the metrics sampler has taken the
# samples those starts owe it (at 100 services all of that work comes after the last
# start, beside 1,100 most of it before). Then, every service woken twice from its 100 s
# sleep, the heap per service they all hold, and whether the sampler still runs. A
# MemoryError ends the run with a line saying at which service.
# Host-side tool: nothing in the firmware imports it.
import asyncio
import gc
import time

import _hal

import kernel
from kernel import metrics


def out(name, value, unit):
    print("%s %s %s" % (name, value, unit))


async def idle():
    while True:
        await kernel.sleep_ms(100000)


started = [0]  # services started by start_all so far (what a failed run reports)


async def start_all(names):
    for name in names:
        await kernel.start_service(name).wait()
        started[0] += 1  # (done at once for an idle simple unit)
        await kernel.sleep_ms(0)  # a step each: its task steps into its sleep, and ours
        # stays under the step watchdog


def hot_of(reg, prefix):
    n = 0
    r = reg.hot
    while r is not None:
        n += r.name.startswith(prefix)
        r = r.hnext
    return n


async def settle():
    # Until the metrics sampler took the samples these starts owe it (a started service
    # is sampled until it is found idle, kernel/metrics.py): work a start causes, done
    # after start_all returns (at 100 services all of it, at 1,100 little).
    reg = metrics.registry()
    for _ in range(100):
        await kernel.sleep_ms(200)
        if not reg.busy and hot_of(reg, "api") == 0:
            return


def step(first, n, tag):
    names = ["api%d" % i for i in range(first, first + n)]
    # The lookups' names, made before the heap holds the step's services (beside 11,100
    # of them no 4 KB block may be left: see svc_api_largest_free_*).
    every = ["api%d" % ((i * 7919) % (first + n)) for i in range(1000)]
    gc.collect()
    free0 = gc.mem_free()
    gc0 = _hal.gc_stats()
    done = 0
    try:
        for name in names:
            kernel.create_service({"name": name, "exec": idle})
            done += 1
        t0 = time.ticks_ms()
        up0 = kernel.uptime_ms() - kernel.idle_ms()
        asyncio.run(start_all(names))
        start_ms = time.ticks_diff(time.ticks_ms(), t0)
        asyncio.run(settle())
        busy_ms = kernel.uptime_ms() - kernel.idle_ms() - up0
    except BaseException as e:  # MemoryError; Watchdog: a start's step past its budget
        if isinstance(e, KeyboardInterrupt):
            raise
        gcn, gcus, gcmax = _hal.gc_stats()
        why = "%s: %d units made, %d started, %d collections, longest %d ms, free %d B" % (
            type(e).__name__,
            first + done,
            started[0],
            gcn - gc0[0],
            gcmax // 1000,
            gc.mem_free(),
        )
        out("svc_api_start_per_service_" + tag, "n/a", "(%s)" % why)
        out("svc_api_started_all_" + tag, 0, "bool")
        return None
    gcn, gcus, gcmax = _hal.gc_stats()
    t0 = time.ticks_us()
    gc.collect()
    collect_us = time.ticks_diff(time.ticks_us(), t0)
    free1 = gc.mem_free()
    max1 = _hal.gc_max_free()  # the longest free block, right after that collection
    for name in names[::997]:
        st = kernel.service_status(name)["state"]
        if st != "active":
            raise RuntimeError("%s is %s after its start" % (name, st))
    status = kernel.service_status
    f = len  # the loop alone, calling a builtin as the lookups below do: what each includes
    t0 = time.ticks_us()
    for name in every:
        f(name)
    loop_us = time.ticks_diff(time.ticks_us(), t0)
    t0 = time.ticks_us()
    for name in every:
        status(name)
    new_us = time.ticks_diff(time.ticks_us(), t0)
    d = status(every[0])
    t0 = time.ticks_us()
    for name in every:
        status(name, d)
    into_us = time.ticks_diff(time.ticks_us(), t0)
    out("svc_api_start_per_service_" + tag, "%.1f" % (start_ms * 1000 / n), "us")
    out("svc_api_start_busy_per_service_" + tag, "%.1f" % (busy_ms * 1000 / n), "us")
    out("svc_api_heap_per_service_" + tag, (free0 - free1) // n, "B")
    out("svc_api_status_lookup_" + tag, "%.1f" % (new_us / 1000), "us")
    out("svc_api_status_into_" + tag, "%.1f" % (into_us / 1000), "us")
    out("svc_api_status_loop_" + tag, "%.1f" % (loop_us / 1000), "us")
    out("svc_api_started_all_" + tag, 1, "bool")
    out("svc_api_services_" + tag, first + n, "units")
    out("svc_api_gc_during_start_" + tag, gcn - gc0[0], "collections")
    out("svc_api_gc_per_start_" + tag, "%.1f" % ((gcus - gc0[1]) / n / 1000), "ms")
    out("svc_api_gc_longest_" + tag, gcmax // 1000, "ms")
    out("svc_api_gc_collect_" + tag, collect_us // 1000, "ms")
    out("svc_api_heap_free_" + tag, free1, "B")
    out("svc_api_largest_free_" + tag, max1, "B")
    return first + n


def woken(free0, n):
    # Every service woken from its 100 s sleep twice (each wake-up is two or three samples
    # of its metrics): the heap they hold then, per service, against the free heap before
    # the first step (their series were ~1.2 KB more per service once made).
    asyncio.run(kernel.sleep_ms(201000))
    asyncio.run(settle())
    gc.collect()
    out("svc_api_heap_per_service_woken_10k", (free0 - gc.mem_free()) // n, "B")
    out("svc_api_largest_free_woken_10k", _hal.gc_max_free(), "B")
    reg = metrics.registry()  # the sampler still running, and its failed samples
    out("svc_api_sampler_alive_10k", 0 if reg.task is None or reg.task.done() else 1, "bool")
    out("svc_api_sampler_errors_10k", reg.errors, "samples")


def main():
    gc.collect()
    free0 = gc.mem_free()
    first = 0
    for n, tag in ((100, "100"), (1000, "1k"), (10000, "10k")):
        first = step(first, n, tag)
        if first is None:
            break
    if first is not None:
        woken(free0, first)


main()
