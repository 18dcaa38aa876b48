# Boot tests of the load balancer: the real firmware in QEMU, driven over its serial
# console with `lb list`, `lb strategy` and `lb stats`, on every board in MULTIOS_BOARDS.
# Three external instances are registered with `py`, picked through select_instance and
# kernel.request (asyncio.run from the console), and their counters read back.


def test_lb_verbs_on_the_console(console):
    console.boot()
    for i, w in ((1, 5), (2, 1), (3, 1)):
        out = console.cmd(
            'py kernel.register_instance("web@%d", meta={"weight": %d}) and 0' % (i, w)
        )
        assert out == ["0"], out
    out = console.cmd("lb strategy web weighted_round_robin")
    assert out == ["web: weighted_round_robin (slow_start_sec=0, panic_threshold=50, drain_sec=5)"]
    out = console.cmd('py "".join(kernel.select_instance("web").name[4] for _ in range(7))')
    assert out == ["'1121311'"], out  # NGINX's smooth WRR: a a b a c a a

    console.cmd(
        'py exec("async def call():\\n async with kernel.request(\\"web\\") as i:\\n'
        '  await kernel.sleep_ms(20)\\n  return i.name")'
    )
    out = console.cmd("py asyncio.run(call())")
    assert out == ["'web@1'"], out

    rows = [r.split() for r in console.cmd("lb list")]
    assert rows[0] == ["SERVICE", "STRATEGY", "INST", "READY", "PANIC", "PICKS"], rows
    web = [r for r in rows if r and r[0] == "web"]
    assert web == [["web", "weighted_round_robin", "3", "3", "no", "8"]], rows

    out = console.cmd("lb stats web")
    assert out[0].startswith("web: weighted_round_robin ("), out
    row = [r.split() for r in out if r.startswith("web@1")][0]
    assert row[1:4] == ["6", "0", "1"], out  # 6 picks, none active, 1 ok
    assert float(row[5]) >= 20, out  # the call's latency EWMA, ms

    out = console.cmd("lb strategy web maglev table_size=9")
    assert out == [
        "lb strategy: balancer web: 'table_size' must be a prime (e.g. 65537, 4093), got '9';"
        " kept weighted_round_robin"
    ], out
    out = console.cmd("help lb")
    assert out[0] == "usage: lb VERB ... (lb help: list the verbs)", out
    assert console.poweroff() == 0
