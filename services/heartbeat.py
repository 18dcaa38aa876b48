# services/heartbeat: an example service that proves the scheduler keeps running.
#
# Owns: one counter, `beats`, incremented every period_ms; every LOG_EVERY beats it writes a
# line to the kernel log (never to the console); each beat it reports its health (the ttl
# readiness probe of its unit). Boot tests read `beats` through `py` to see
# that services advance while the shell waits or runs foreground code.
# Not here: anything a real service would do; it is the smallest useful example.
from micropython import const

import kernel

LOG_EVERY = const(60)  # beats between two log lines

beats = 0  # beats since the service started


async def main(period_ms=1000):
    """Counts beats forever, one per period_ms."""
    global beats
    beats = 0
    kernel.log("heartbeat: started, period %d ms" % period_ms)
    while True:
        await kernel.sleep_ms(period_ms)
        beats += 1
        kernel.report_health("passing")  # its ttl readiness probe (services/units.py)
        if beats % LOG_EVERY == 0:
            kernel.log("heartbeat: %d beats" % beats)
