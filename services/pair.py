# services/pair: a small example pair: `pair-store` (type notify: ready once it has set up)
# and `pair-ticker` (requires the store; pings its liveness watchdog every tick), supervised
# together as group `pair` (one_for_all: if one fails for good, both restart).
#
# Owns: `value`, the store's counter, which the ticker increments every period_ms. Boot tests
# read it with `py` and stop/start the pair with `svc`. Not here: the units (services/units.py).
import kernel

value = None  # the store's counter; None while the store is down


async def store(setup_ms=10):
    """The store: sets up for setup_ms, says it is ready, then holds the value."""
    global value
    await kernel.sleep_ms(setup_ms)
    value = 0
    kernel.notify_ready()
    try:
        while True:
            await kernel.sleep_ms(60000)
    finally:
        value = None


def stored():
    """The store's readiness probe: it holds a value."""
    return value is not None


async def ticker(period_ms=500):
    """Adds one to the store's value each period and tells the watchdog it is alive."""
    global value
    while True:
        await kernel.sleep_ms(period_ms)
        if value is None:
            raise RuntimeError("pair-store is not there")
        value += 1
        kernel.notify_watchdog()
