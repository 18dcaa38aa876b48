# services/metricscmd: the shell's `metrics NAME`, `alerts` and `top`.
#
# Owns: how a service's series, the alerts and the live per-service view look on the
# console. `top` redraws every params.TOP_REFRESH_MS (CPU %, allocation rate, health,
# restarts, availability) until a key is pressed, running as the console's foreground code
# (a nested kernel loop, as `py asyncio.run(...)` does), so every service keeps running.
# Registered with the shell through services/commands.register(); imported by services/init.
# Not here: the series and rules themselves (kernel/metrics.py, kernel/alerting.py).
import kernel
from kernel import metrics as M
from kernel import params
from kernel.units import UnitError
from services.commands import COMMANDS, register

METRICS_FORMAT = "  %-16s %-9s %12s %10s %10s %10s"
TOP_FORMAT = "%-16s %-12s %6s %10s %-9s %8s %7s %7s"


@register("metrics", "metrics NAME", "NAME's series: counters, gauges, histograms (p50/p90/p99)")
def cmd_metrics(sh, arg):
    name = arg.strip()
    if not name:
        sh.println("metrics: usage: metrics NAME (see 'svc list')")
        return
    rep = kernel.service_metrics(name)
    if not rep:
        try:
            kernel.service_status(name)
        except UnitError as e:
            sh.println("metrics: %s" % e)
            return
        sh.println(
            "metrics: no series for '%s' yet (sampled every %d ms)"
            % (name, params.METRIC_SAMPLE_MS)
        )
        return
    sh.println(METRICS_FORMAT % ("SERIES", "KIND", "VALUE", "P50", "P90", "P99"))
    for k in sorted(rep):
        d = rep[k]
        row = (
            k,
            d["kind"],
            _num(d["value"]),
            _num(d.get("p50")),
            _num(d.get("p90")),
            _num(d.get("p99")),
        )
        sh.println(METRICS_FORMAT % row)
    m1, h1, boot = kernel.availability(name)
    sh.println(
        "availability: %s 1 min, %s 1 h, %s since enabled; history: %d samples kept per series"
        % (_pct(m1), _pct(h1), _pct(boot), min(M.registry().samples, params.METRIC_HISTORY))
    )
    reg = M.registry()
    if reg.errors:
        sh.println("sampler: %d samples or rounds failed, the last: %r" % (reg.errors, reg.error))


def complete(arg):
    return [s.name for s in kernel.list_services() if s.name.startswith(arg)]


COMMANDS["metrics"].complete = complete


def _num(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.1f" % v
    return str(v)


def _pct(v):
    return "-" if v is None else "%.1f%%" % v


# ---- alerts ----

ALERTS_FORMAT = "%-9s %-8s %-16s %-18s %5s %11s  %s"


@register("alerts", "alerts [-a]", "firing alerts, most severe first (-a: resolved ones too)")
def cmd_alerts(sh, arg):
    everything = arg.strip() == "-a"
    if arg.strip() and not everything:
        sh.println("alerts: usage: alerts [-a], got '%s'" % arg.strip())
        return
    rows = kernel.alerts(everything)
    if not rows:
        sh.println("alerts: none firing" + ("" if everything else " ('alerts -a': resolved too)"))
        return
    sh.println(
        ALERTS_FORMAT % ("SEVERITY", "STATE", "SERVICE", "ALERT", "COUNT", "SINCE", "VALUE")
    )
    for a in rows:
        ms = a["since_ms"]
        sh.println(
            ALERTS_FORMAT
            % (
                a["severity"],
                a["state"],
                a["service"][:16],
                a["name"][:18],
                a["count"],
                "%d.%03d" % (ms // 1000, ms % 1000),
                _num(a["value"]),
            )
        )


# ---- top ----


@register("top", "top", "live per-service CPU %, allocation rate, health, restarts (any key ends)")
def cmd_top(sh, arg):
    sh._foreground(True)
    try:
        kernel.asyncio.run(_top(sh))
    finally:
        sh._foreground(False)


def top_lines():
    """The rows `top` draws, header first."""
    reg = M.registry()
    out = [
        TOP_FORMAT % ("NAME", "STATE", "CPU%", "ALLOC_B/S", "HEALTH", "RESTARTS", "AV_1M", "AV_1H")
    ]
    for s in kernel.list_services():
        reg.read_probes(s.name)
        r = reg.recs.get(s.name)
        m1, h1, _ = reg.availability(s.name)
        out.append(
            TOP_FORMAT
            % (
                s.name[:16],
                s.state_name(),
                _num(reg.value(s.name, M.K_CPU_PCT)),
                _num(reg.value(s.name, M.K_ALLOC_RATE)),
                (r.health if r is not None and r.health else "-"),
                s.restarts,
                _pct(m1),
                _pct(h1),
            )
        )
    up = kernel.uptime_ms()
    busy = max(0, up - kernel.idle_ms())
    out.append("cpu: %.1f%% busy since boot; any key ends 'top'" % (busy * 100 / up if up else 0))
    return out


async def _top(sh):
    while True:
        sh.write(b"\x1b[H\x1b[2J")  # home, clear screen
        for line in top_lines():
            sh.println(line)
        waited = 0
        while waited < params.TOP_REFRESH_MS:
            if sh.console.any():
                sh.console.read(sh.console.any())  # the key that ends it is not a command
                return
            await kernel.sleep_ms(params.TOP_POLL_MS)
            waited += params.TOP_POLL_MS
