# services/heartbeat: an example service that proves the scheduler keeps running.
#
# Owns: one counter, `beats`, incremented every period; every LOG_EVERY beats it writes a
# line to the kernel log (never to the console); at its start and each beat it reports its
# health (the ttl readiness probe of its unit). Boot tests read `beats` through `py` to see
# that services advance while the shell waits or runs foreground code. Its unit declares a
# config key `period_ms` (services/units.py); on_config() applies a new period at once,
# without a restart (`config set heartbeat period_ms 500`).
# Not here: anything a real service would do; it is the smallest useful example.
from micropython import const

import kernel

LOG_EVERY = const(60)  # beats between two log lines

beats = 0  # beats since the service started
period = 1000  # ms between beats, from the config


async def main(period_ms=None):
    """Counts beats forever, one per period (period_ms, else the config's period_ms)."""
    global beats, period
    beats = 0
    period = period_ms or kernel.service_config().get("period_ms", 1000)
    kernel.log("heartbeat: started, period %d ms" % period)
    kernel.report_health("passing", "started")  # ready from the start, not one period in
    while True:
        await kernel.sleep_ms(period)
        beats += 1
        kernel.report_health("passing")  # its ttl readiness probe (services/units.py)
        if beats % LOG_EVERY == 0:
            kernel.log("heartbeat: %d beats" % beats)


def on_config(config, changed):
    """A new config version: the next beat waits the new period_ms."""
    global period
    period = config["period_ms"]
