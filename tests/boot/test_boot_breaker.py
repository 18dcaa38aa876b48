# Boot tests of the circuit breakers: the real firmware in QEMU, driven over its serial
# console with `breaker` and its verbs, on every board in MULTIOS_BOARDS. A service's
# breakers are set at run time (external instances web@1, web@2) and from a unit's
# `breaker` field; failures recorded on an instance open it, the wait runs out on the
# board's real clock, one good trial call closes it, and the journal has each transition.


def row(out, name):
    for line in out:
        r = line.split()
        if r and r[0] == name:
            return r
    return None


def test_breaker_verbs_and_transitions_on_the_console(console):
    console.boot()
    assert console.cmd("help breaker")[0] == "usage: breaker [NAME [open|close|reset|disable]]"
    assert console.cmd("breaker")[0].startswith("breaker: none set"), console.tail()
    console.cmd('py kernel.register_instance("web@1") and None')
    console.cmd('py kernel.register_instance("web@2") and None')
    out = console.cmd(
        'py kernel.set_breaker("web", window_size=4, minimum_calls=2, wait_open_sec=1, '
        "half_open_calls=1).state_name()"
    )
    assert out == ["'closed'"], out
    out = console.cmd("breaker")
    assert out[0].split()[:3] == ["NAME", "STATE", "CALLS"], out
    assert [line.split()[:2] for line in out[1:]] == [
        ["web", "closed"],
        ["web@1", "closed"],
        ["web@2", "closed"],
    ], out

    # Two failed calls open web@1; its wait (1 s) runs out; one good trial call closes it.
    out = console.cmd(
        'py [(b.allow(), b.record(False, 3)) for b in [kernel.get_breaker("web@1")] * 2] '
        'and kernel.get_breaker("web@1").state_name()'
    )
    assert out == ["'open'"], out
    out = console.cmd("breaker web@1")
    assert row(out, "web@1")[1:7] == ["open", "2", "2", "0", "100.0%", "0.0%"], out
    assert out[-1].startswith("config web: count window of 4 calls, min 2 calls"), out
    console.cmd_until("breaker web@1", lambda out: "may try again" in out[1])
    out = console.cmd(
        'py [(b.allow(), b.record(True, 5)) for b in [kernel.get_breaker("web@1")]] '
        'and kernel.get_breaker("web@1").state_name()'
    )
    assert out == ["'closed'"], out
    out = [ln for ln in console.cmd("log -n 40") if "web@1: breaker" in ln]
    assert out[0].endswith(
        "web@1: breaker open (from closed: failure rate 100.0% >= 50.0% over 2 calls; "
        "wait 1000 ms)"
    ), out
    assert out[1].endswith(
        "web@1: breaker half_open (from open: wait of 1000 ms over: 1 trial calls)"
    ), out
    assert "web@1: breaker closed (from half_open: trial passed: 1 calls" in out[2], out

    # The verbs, on an instance and on a service (its breaker and its instances').
    assert console.cmd("breaker web@2 open") == ["web@2: closed -> forced_open"]
    assert console.cmd('py kernel.get_breaker("web@2").available()') == ["False"]
    assert console.cmd("breaker web disable") == [
        "web: closed -> disabled",
        "web@1: closed -> disabled",
        "web@2: forced_open -> disabled",
    ]
    assert console.cmd("breaker web@1 close") == ["web@1: disabled -> closed"]
    assert console.cmd("breaker web reset") == [
        "web: reset, closed (was disabled)",
        "web@1: reset, closed (was closed)",
        "web@2: reset, closed (was disabled)",
    ]
    assert console.cmd("breaker db")[0].startswith("breaker db: no breaker by that name")
    assert console.cmd("breaker web bend")[0].startswith("breaker: usage: breaker [NAME")

    # A unit's breaker field configures its service when it is created.
    console.cmd('py exec("async def idle():\\n while True:\\n  await kernel.sleep_ms(1000)")')
    out = console.cmd(
        'py kernel.create_service({"name": "api", "exec": idle, '
        '"breaker": {"window_type": "time", "window_size": 10}}) and None'
    )
    assert out in ([], ["None"]), out
    console.cmd("svc start api")
    out = console.cmd_until("breaker api", lambda out: [ln[:4] for ln in out].count("api ") == 2)
    assert out[-1].startswith("config api: time window of 10 s, min 100 calls"), out
    out = console.cmd('py kernel.create_service({"name": "bad", "breaker": {"window_size": 0}})')
    assert any(
        "unit bad: 'breaker': 'window_size' must be an int in 1..10000, got 0" in line
        for line in out
    ), out
    assert console.poweroff() == 0
