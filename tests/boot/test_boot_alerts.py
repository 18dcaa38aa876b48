# Boot test of alert lines on the console: an alert firing and resolving is one console
# line each at the prompt (the line being typed redrawn), held while foreground code owns
# the console and shown before the next prompt; on every board in MULTIOS_BOARDS.

DEPTH = "py kernel.metric('depth', 'gauge', service='q').set(%d)"
UNIT = (
    "py kernel.create_service({'name': 'q', 'exec': 'services.heartbeat:main', 'alerts':"
    " [{'name': 'queue deep', 'metric': 'depth', 'op': '>=', 'value': 10,"
    " 'severity': 'critical'}]}) and None"
)


def test_alerts_firing_and_resolving_are_console_lines(console):
    c = console
    c.boot()
    c.cmd(UNIT)
    c.cmd("svc start q")
    c.cmd(DEPTH % 12)
    c.expect("alert: critical q queue-deep firing\r")  # within a metrics sample (1 s)
    c.expect("multios> ")  # the prompt, redrawn after the line
    c.cmd(DEPTH % 0)
    c.expect("alert: critical q queue-deep resolved\r")
    c.expect("multios> ")
    # foreground code owns the console: the line waits for the prompt
    out = c.cmd(
        "py kernel.metric('depth', 'gauge', service='q').set(20)"
        " or kernel.asyncio.run(kernel.asyncio.sleep_ms(2500)) or 7"
    )
    assert out == ["7", "alert: critical q queue-deep firing (x2)"], out
    assert c.cmd("alerts")[1].split()[:5] == ["critical", "firing", "q", "queue", "deep"]
    assert c.poweroff() == 0
