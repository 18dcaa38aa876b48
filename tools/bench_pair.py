# tools/bench_pair.py: the switch benchmarks `make bench` runs on MultiOS AND on stock
# MicroPython (the same file, through pyboard.py's raw REPL), printed as one line of JSON.
# Plain MicroPython only: `time`, `gc`, `asyncio`; MultiOS's extras when they import.
#   asyncio_switch_per_s    100 tasks `await asyncio.sleep(0)` under asyncio.gather
#   raw_switch_per_s        `for g in gens: next(g)` over 100 plain generators
#   mpasyncio_switch_per_s  the first, on MicroPython's own asyncio (MultiOS freezes it as
#                           `mpasyncio`; on stock it is `asyncio` itself)
#   native_switch_per_s     100 kernel tasks awaiting kernel.yield_() (MultiOS only)
# On the unix port (MICROPYPATH=.frozen:.) `asyncio` is the kernel's, `mpasyncio` MicroPython's.
#   free_heap_b             gc.mem_free() after a collection
import gc
import time

try:
    import mpasyncio  # MultiOS boards: MicroPython's own asyncio, frozen under this name
except ImportError:
    import asyncio as mpasyncio  # stock and the unix port: `asyncio` is MicroPython's own

try:
    import kernel
    import kernel.asyncio as asyncio  # MultiOS's: what `import asyncio` gives on the boards
except ImportError:
    kernel = None
    import asyncio

TASKS = 100
ROUNDS = 100  # switches per task


def _rate(us):
    return TASKS * ROUNDS * 1000000 // max(us, 1)


def bench_asyncio(aio):
    async def worker(n):
        for _ in range(n):
            await aio.sleep(0)

    async def main():
        await aio.gather(*[worker(ROUNDS) for _ in range(TASKS)])

    gc.collect()
    t = time.ticks_us()
    aio.run(main())
    return _rate(time.ticks_diff(time.ticks_us(), t))


def bench_raw():
    def worker():
        while True:
            yield

    gens = [worker() for _ in range(TASKS)]
    gc.collect()
    t = time.ticks_us()
    for _ in range(ROUNDS):
        for g in gens:
            next(g)
    return _rate(time.ticks_diff(time.ticks_us(), t))


def bench_native():
    yield_ = kernel.yield_

    async def worker(n):
        for _ in range(n):
            await yield_()

    async def main():
        for t in [kernel.spawn(worker(ROUNDS), "bench", 0) for _ in range(TASKS)]:
            await t  # joins it

    gc.collect()
    t = time.ticks_us()
    asyncio.run(main())
    return _rate(time.ticks_diff(time.ticks_us(), t))


def main():
    out = {
        "asyncio_switch_per_s": bench_asyncio(asyncio),
        "raw_switch_per_s": bench_raw(),
        "mpasyncio_switch_per_s": bench_asyncio(mpasyncio),
    }
    if kernel is not None:
        out["native_switch_per_s"] = bench_native()
    gc.collect()
    out["free_heap_b"] = gc.mem_free()
    print("{" + ", ".join('"%s": %d' % (k, v) for k, v in sorted(out.items())) + "}")


main()
