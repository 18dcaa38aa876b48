# Boot tests of the service manager: the real firmware in QEMU, driven over its serial
# console with the `svc` verbs, on every board in MULTIOS_BOARDS.
import re
import time


def wait_states(console, want, tries=50):
    """Poll `svc list` until every name in `want` shows its wanted state; returns rows."""
    rows = {}
    for _ in range(tries):
        rows = {r.split()[0]: r.split() for r in console.cmd("svc list")[1:]}
        if all(rows.get(n, [None, None])[1] == s for n, s in want.items()):
            return rows
        time.sleep(0.05)
    raise AssertionError("states %r not reached: %r" % (want, rows))


def test_boot_starts_units_in_dependency_order_and_lists_them(console):
    lines = console.boot()
    started = [ln for ln in lines if ln.startswith("[  OK  ] Started ")]
    assert "[  OK  ] Started heartbeat." in started, lines
    assert started.index("[  OK  ] Started Pair store.") < started.index(
        "[  OK  ] Started Pair ticker."
    ), lines  # the ticker requires the store
    assert not [ln for ln in lines if ln.startswith("[FAILED]")], lines
    rows = console.cmd("svc list")
    assert rows[0].split() == ["NAME", "STATE", "SUB", "RESTARTS", "UPTIME"], rows
    names = {r.split()[0]: r.split() for r in rows[1:]}
    for n in ("heartbeat", "pair-store", "pair-ticker"):
        assert names[n][1:4] == ["active", "running", "0"], rows
        assert re.fullmatch(r"\d\d:\d\d:\d\d", names[n][4]), rows
    out = console.poweroff()
    assert out == 0


def test_svc_verbs_over_the_console(console):
    console.boot()
    status = console.cmd("svc status pair-ticker")
    assert status[0] == "pair-ticker - Pair ticker", status
    assert "active (running)" in status[1], status
    assert any(ln.split()[:2] == ["requires:", "pair-store"] for ln in status), status
    assert any("group:" in ln and "one_for_all" in ln for ln in status), status
    assert console.cmd("svc deps pair-ticker") == [
        "pair-ticker  active (running)  (needs)",
        "`- pair-store (requires)  active (running)",
    ]
    assert console.cmd("svc deps pair-store -r")[1].startswith("`- pair-ticker (requires)")
    tree = console.cmd("svc tree")
    assert tree[0] == "root" and any("group pair" in ln for ln in tree), tree
    assert any("heartbeat" in ln for ln in tree), tree

    # Stopping the store takes the ticker (which requires it) down first.
    assert console.cmd("svc stop pair-store")[0].startswith("pair-store: ")
    wait_states(console, {"pair-store": "inactive", "pair-ticker": "inactive"})
    console.cmd("py import services.pair as pair")
    assert console.cmd("py pair.value is None") == ["True"]  # the store cleaned up
    # Starting the ticker pulls the store in again, in order.
    console.cmd("svc start pair-ticker")
    wait_states(console, {"pair-store": "active", "pair-ticker": "active"})
    log = console.cmd("log -n 4 pair-ticker")
    assert len(log) == 4 and all("pair-ticker: " in ln for ln in log), log
    assert console.cmd("svc why heartbeat")[0].startswith("heartbeat is active (running)")
    assert console.cmd("svc restart heartbeat")[0].startswith("heartbeat: ")
    wait_states(console, {"heartbeat": "active"})
    help_text = console.cmd("svc help")
    for verb in (
        "list",
        "tree",
        "status",
        "start",
        "stop",
        "restart",
        "reload",
        "enable",
        "disable",
        "deps",
        "why",
    ):
        assert any(ln.split()[1] == verb for ln in help_text), (verb, help_text)
    assert console.cmd("help svc")[0].startswith("usage: svc")
    console.send("poweroff\r")
    console.expect("[  OK  ] Stopped Pair ticker.")
    console.expect("[  OK  ] Stopped Pair store.")
    assert console.wait_exit() == 0


def test_a_crashing_unit_hits_its_start_limit_and_says_why(console):
    console.boot()
    console.cmd("py async def crash(): raise ValueError('no config')")
    console.cmd(
        "py kernel.create_service({'name': 'crasher', 'exec': crash, "
        "'restart_sec': 0.05, 'start_limit_burst': 3})"
    )
    console.cmd("svc start crasher")
    wait_states(console, {"crasher": "failed"})
    why = console.cmd("svc why crasher")
    assert why == [
        "crasher is failed (dead), result start-limit-hit: started more than 3 times in 10000 ms"
    ], why
    assert console.cmd("py kernel.service_status('crasher')['restarts']") == ["3"]
    bad = console.cmd("py kernel.create_service({'name': 'web', 'restart': 'sometimes'})")
    assert any("unit web: 'restart' must be one of no, on-failure" in ln for ln in bad), bad
    assert console.poweroff() == 0


def test_foreground_code_pauses_service_watchdogs(console):
    console.boot()
    # 4 s of foreground Python that never yields: longer than the ticker's 3 s watchdog.
    console.cmd(
        'py exec("import time\\nt = time.ticks_ms()\\n'
        'while time.ticks_diff(time.ticks_ms(), t) < 4000: pass")'
    )
    time.sleep(0.3)
    rows = wait_states(console, {"pair-ticker": "active"})
    assert rows["pair-ticker"][3] == "0", rows  # no restart storm after the long `py`
    assert console.poweroff() == 0


def test_what_a_service_prints_goes_to_the_log_not_the_console(console):
    console.boot()
    console.cmd(
        'py exec(\'async def chatty():\\n    print("chatty says hi")\\n'
        "    await kernel.sleep_ms(100000)')"
    )
    console.cmd("py kernel.create_service({'name': 'chatty', 'exec': chatty})")
    out = console.cmd("svc start chatty")
    time.sleep(0.3)
    out += console.cmd("echo next")
    assert not any("chatty says hi" in ln for ln in out), out
    assert any(ln.endswith("stdout: chatty says hi") for ln in console.cmd("log")), console.cmd(
        "log"
    )
    # Code typed at the console still prints, and so do tasks it starts.
    assert console.cmd("py print('typed')") == ["typed"]
    assert console.cmd("py asyncio.run(asyncio.sleep_ms(1)) or print('after')") == ["after"]
    assert console.poweroff() == 0
