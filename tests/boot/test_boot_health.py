# Boot tests of health and discovery: the real firmware in QEMU, driven over its serial
# console with `health`, `discover` and `svc status`, on every board in MULTIOS_BOARDS.
# The frozen units carry probes (heartbeat: process liveness and a ttl readiness it feeds;
# pair-store: a command readiness); a tcp probe declared at run time must say the board has
# no network and report critical, never pass.
import time


def wait_for(console, line, want, tries=60):
    """Poll `line` until want(rows) holds; rows are the output lines split into words."""
    rows = []
    for _ in range(tries):
        rows = [r.split() for r in console.cmd(line)]
        if want(rows):
            return rows
        time.sleep(0.1)
    raise AssertionError("%s: never as wanted: %r\n%s" % (line, rows, console.tail()))


def row(rows, name):
    for r in rows:
        if r and r[0] == name:
            return r
    return None


def test_health_discover_and_svc_status_on_the_console(console):
    console.boot()
    rows = wait_for(
        console,
        "health",
        lambda rows: (
            (row(rows, "heartbeat") or [None] * 3)[1:3] == ["passing", "yes"]
            and (row(rows, "pair-store") or [None] * 3)[1:3] == ["passing", "yes"]
        ),
    )
    assert rows[0] == ["NAME", "HEALTH", "READY", "PROBES", "/", "NOTE"], rows
    assert row(rows, "heartbeat")[3:] == ["liveness:passing", "readiness:passing"], rows
    assert row(rows, "pair-ticker")[1:3] == ["passing", "yes"], rows
    assert rows[-1][:2] == ["probes:", "3"], rows

    out = console.cmd("health heartbeat")
    assert out[0].startswith("heartbeat: passing, ready"), out
    assert out[1].split()[:3] == ["liveness", "process", "passing"], out
    assert any(ln.split()[:3] == ["readiness", "ttl", "passing"] for ln in out), out

    out = console.cmd("discover pair-*")
    assert out[0].split() == ["NAME", "SERVICE", "HEALTH", "READY", "ENDPOINT", "TAGS"], out
    assert [ln.split()[:4] for ln in out[1:3]] == [
        ["pair-store", "pair-store", "passing", "yes"],
        ["pair-ticker", "pair-ticker", "passing", "yes"],
    ], out
    assert out[3].startswith("2 instances, index "), out
    assert console.cmd("discover health:sick")[0].startswith("discovery: 'health:' takes"), out

    status = console.cmd("svc status pair-store")
    assert "  health:   passing, ready" in status, status
    assert any(ln.startswith("  probes:   readiness command passing") for ln in status), status

    # The boards have a network now: a tcp probe of a port nothing listens on really
    # connects, is refused, and reports critical (never a pass).
    console.cmd('py exec("async def idle():\\n while True:\\n  await kernel.sleep_ms(1000)")')
    out = console.cmd(
        'py kernel.create_service({"name": "net", "exec": idle, '
        '"readiness": {"check": "tcp", "host": "127.0.0.1", "port": 9, "period_sec": 1}}) '
        "and None"
    )
    assert out == ["None"] or out == [], out
    console.cmd("svc start net")
    rows = wait_for(
        console, "health net", lambda rows: rows and rows[0][:2] == ["net:", "critical,"]
    )
    assert rows[0][:3] == ["net:", "critical,", "not"], rows
    assert console.cmd("discover net")[1].split()[:4] == ["net", "net", "critical", "no"]
    assert console.poweroff() == 0
