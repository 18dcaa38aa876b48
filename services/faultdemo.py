# services/faultdemo: the services the frozen fault scenarios run (services/scenarios.py).
#
# Owns: small service bodies that do nothing but live: what a scenario's faults act on.
# They run only inside `fault run`'s separate kernel. Not here: the scenarios themselves.
import kernel


async def web():
    """A service that sleeps in short steps until it is stopped (or a fault ends it)."""
    while True:
        await kernel.sleep_ms(100)
