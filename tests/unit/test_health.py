# Tests for kernel/health: each check kind, thresholds and hysteresis, startup gating,
# liveness restarts through the restart policy with result `liveness`, readiness out of and
# back into discovery's ready set (and watches seeing it), timeouts, pauses while the
# console's foreground code starves the kernel, the API and one-line unit errors.
# On the virtual clock with no per-step cost (exact ms); tcp/http use real sockets on the
# unix port against a server task in the same kernel.
from svcfakes import World

import kernel
from kernel import health, probes, traps
from kernel import service as S
from kernel.clock import VirtualClock
from kernel.units import UnitError


def world():
    w = World()
    mon = health.attach(w.m)
    return w, w.m.registry, mon


class Flaky:
    """A check whose results a test scripts: one entry per run, the last repeats."""

    def __init__(self, script):
        self.script = script
        self.n = 0

    def check(self):
        r = self.script[min(self.n, len(self.script) - 1)]
        self.n += 1
        return r


def svc_with(w, name, **probes):
    return w.add(name=name, exec=w.body(name, [("run", 0)]), **probes)


def test_process_probe_passes_while_the_task_lives():
    w, reg, mon = world()
    h = svc_with(w, "p", liveness={"check": "process", "period_sec": 1})
    w.m.start_job(["p"], "test")
    w.run_for(2500)
    r = mon.report("p")
    lv = r["probes"]["liveness"]
    assert lv["status"] == "passing" and lv["runs"] == 3 and lv["output"] == "alive"
    assert lv["history"] == ["passing"] * 3 and r["ready"] and r["health"] == "passing"
    assert h.state == S.ACTIVE


def test_liveness_failing_past_its_threshold_restarts_with_result_liveness():
    w, reg, mon = world()
    bad = Flaky([True, False, True, False, False, False, True])
    h = svc_with(
        w,
        "l",
        liveness={
            "check": "custom",
            "object": bad,
            "period_sec": 1,
            "failure_threshold": 3,
        },
        restart_sec=0.5,
    )
    w.m.start_job(["l"], "test")
    w.run_for(5100)  # runs at 0..5 s: T F T F F F -> the third failure in a row at 5 s
    assert h.restarts == 1 and h.result == S.LIVENESS and h.result_name() == "liveness"
    assert w.times("l", "liveness") == [5000]
    cause = [e[3] for e in w.events if e[2] == "restarting"][0]
    assert cause.startswith("liveness: liveness probe failed 3 times: returned False"), cause
    w.run_for(500)
    assert h.state == S.ACTIVE and w.times("l", "starting") == [0, 5500]
    # restart=no: a liveness failure leaves it failed, result liveness
    w2, reg2, mon2 = world()
    h2 = svc_with(
        w2,
        "n",
        liveness={"check": "custom", "object": Flaky([False]), "period_sec": 1},
        restart="no",
    )
    w2.m.start_job(["n"], "test")
    w2.run_for(3000)
    assert h2.state == S.FAILED and h2.result == S.LIVENESS and reg2.get("n") is None


def test_thresholds_give_hysteresis_a_flapping_check_does_not_flap_readiness():
    w, reg, mon = world()
    flap = Flaky([True, False] * 10 + [False, False, False, True, True, True])
    svc_with(
        w,
        "f",
        readiness={
            "check": "custom",
            "object": flap,
            "period_sec": 1,
            "failure_threshold": 3,
            "success_threshold": 2,
        },
    )
    w.m.start_job(["f"], "test")
    inst = reg.get("f")
    assert not inst.ready  # readiness starts failed (Kubernetes), until it passes
    w.run_for(500)
    assert not inst.ready  # one success, success_threshold 2
    flips = []
    reg.listeners.append(lambda code, i: flips.append((w.m.now(), kernel.event_name(code))))
    w.run_for(1000)  # false at 1 s
    w.run_for(1000)  # true at 2 s: two successes? no: they were not consecutive
    assert not inst.ready
    w.run_for(18000)  # alternating to 19 s: never 2 successes or 3 failures in a row
    assert not inst.ready and flips == []
    w.run_for(6000)  # F F F at 20-22 s, then T T T at 23-25 s: ready at the second
    assert inst.ready and flips[-1] == (24000, "ready"), flips
    assert inst.health == "passing"


def test_readiness_takes_the_instance_out_of_the_ready_set_and_back_and_watches_see_it():
    w, reg, mon = world()
    state = {"ok": True}

    def ok():
        return state["ok"]

    h = svc_with(
        w,
        "web@1",
        readiness={
            "check": "command",
            "exec": ok,
            "period_sec": 1,
            "failure_threshold": 2,
        },
    )
    w.m.start_job(["web@1"], "test")
    w.run_for(10)
    assert [i.name for i in reg.lookup("web@*", ready=True)] == ["web@1"]
    seen = []

    async def watcher():
        idx = reg.index
        while len(seen) < 2:
            idx, got = await reg.watch("web@*", idx)
            seen.append((w.m.now(), [(i.name, i.ready) for i in got]))

    w.sched.spawn(watcher(), "watch")
    w.run_for(990)
    state["ok"] = False  # fails at 1 s and 2 s: out at 2 s
    w.run_for(2000)
    assert reg.lookup("web@*", ready=True) == () and h.state == S.ACTIVE  # it keeps running
    assert reg.get("web@1").health == "critical"
    state["ok"] = True
    w.run_for(1000)
    assert [i.name for i in reg.lookup("web@*", ready=True)] == ["web@1"]
    assert seen == [(2000, [("web@1", False)]), (3000, [("web@1", True)])], seen


def test_startup_gates_the_other_probes_and_restarts_when_it_fails():
    w, reg, mon = world()
    boot = Flaky([False, False, True])
    live = Flaky([True])
    h = svc_with(
        w,
        "s",
        startup={
            "check": "custom",
            "object": boot,
            "period_sec": 1,
            "failure_threshold": 5,
        },
        liveness={"check": "custom", "object": live, "period_sec": 1},
    )
    w.m.start_job(["s"], "test")
    w.run_for(1500)
    assert live.n == 0 and not reg.get("s").ready  # startup has not passed: liveness waits
    assert "startup probe has not passed yet" in reg.get("s").note
    w.run_for(1000)  # startup passes at 2 s; liveness runs from then on
    assert live.n == 1 and reg.get("s").ready and boot.n == 3
    w.run_for(3000)
    assert boot.n == 3 and live.n == 4  # startup runs no more
    # a startup probe that never passes: restart after failure_threshold, result liveness
    w2, reg2, mon2 = world()
    h2 = svc_with(
        w2,
        "z",
        startup={"check": "custom", "object": Flaky([False]), "period_sec": 1},
        restart_sec=10,
    )
    w2.m.start_job(["z"], "test")
    w2.run_for(2500)
    assert h2.result == S.LIVENESS and h2.restarts == 1
    assert "startup probe failed 3 times" in h2.cause
    assert h.restarts == 0


def test_ttl_probe_and_report_health_from_the_service():
    w, reg, mon = world()

    async def body():
        kernel.health.report_health("passing", "warming")
        await traps.sleep_ms(1500)
        kernel.health.report_health("warning", "slow disk")
        await traps.sleep_ms(500)
        while True:  # stops reporting
            await traps.sleep_ms(10000)

    import kernel.svc as ksvc

    ksvc._mgr = w.m  # kernel.health's API finds this world's manager
    w.add(
        name="t",
        exec=body,
        liveness={
            "check": "ttl",
            "ttl_sec": 1,
            "period_sec": 10,
            "failure_threshold": 1,
        },
        restart="no",
    )
    w.m.start_job(["t"], "test")
    w.run_for(1)
    r = mon.report("t")["probes"]["liveness"]
    assert r["status"] == "passing" and r["output"] == "warming"
    w.run_for(1000)  # no report within ttl 1 s: critical at 1001 ms -> failed (threshold 1)
    h = w.m.get("t")
    assert h.state == S.FAILED and h.result == S.LIVENESS and "TTL expired" in h.cause, h.cause
    try:
        kernel.health.report_health("passing")
        raise AssertionError("report_health outside a service")
    except RuntimeError as e:
        assert "service's own task" in str(e)
    for bad in ("fine", 7):
        try:
            mon.report_health(h, bad, "")
            raise AssertionError("status %r accepted" % (bad,))
        except ValueError as e:
            assert "must be one of passing, warning, critical" in str(e)
    ksvc._mgr = None


def test_ttl_warning_counts_as_success_and_sets_warning_health():
    w, reg, mon = world()

    async def body():
        while True:
            kernel.health.report_health("warning", "degraded")
            await traps.sleep_ms(300)

    import kernel.svc as ksvc

    ksvc._mgr = w.m
    w.add(name="t", exec=body, readiness={"check": "ttl", "ttl_sec": 1})
    w.m.start_job(["t"], "test")
    w.run_for(2000)
    i = reg.get("t")
    assert i.ready and i.health == "warning" and i.note == "degraded"
    ksvc._mgr = None


def test_command_kinds_sync_async_raising_and_timeout():
    w, reg, mon = world()

    async def slow():
        await traps.sleep_ms(5000)
        return True

    async def fine():
        await traps.sleep_ms(10)
        return ("warning", "half full")

    def boom():
        raise OSError("no route")

    cases = {
        "a": ({"exec": fine}, "warning", "half full"),
        "b": ({"exec": boom}, "critical", "OSError: no route"),
        "c": ({"exec": slow, "timeout_sec": 0.2}, "critical", "timed out after 200 ms"),
        "d": ({"exec": lambda: 2}, "critical", "returned 2"),
        "e": ({"exec": "kernel.probes:network"}, "passing", ""),
    }
    for name, (extra, _, _) in cases.items():
        spec = {"check": "command", "period_sec": 1, "failure_threshold": 1}
        spec.update(extra)
        svc_with(w, name, readiness=spec, restart="no")
    w.m.start_job(list(cases), "test")
    w.run_for(600)
    for name, (_, status, out) in cases.items():
        p = mon.report(name)["probes"]["readiness"]
        assert (p["last"], p["output"]) == (status, out), (name, p)
    assert mon.stats()["timeouts"] == 1 and w.m.get("c").state == S.ACTIVE


def test_file_probe_exists_and_age(tmp="/tmp/multios-health-probe"):
    import os

    w, reg, mon = world()
    try:
        os.remove(tmp)
    except OSError:
        pass
    svc_with(w, "f", readiness={"check": "file", "path": tmp, "period_sec": 1})
    svc_with(w, "g", readiness={"check": "file", "path": "/", "max_age_sec": 0.001})
    w.m.start_job(["f", "g"], "test")
    w.run_for(10)
    assert mon.report("f")["probes"]["readiness"]["output"] == tmp + ": no such file"
    with open(tmp, "w") as f:
        f.write("x")
    w.run_for(1000)
    assert reg.get("f").ready and mon.report("f")["probes"]["readiness"]["output"].endswith(
        "present"
    )
    assert "modified" in mon.report("g")["probes"]["readiness"]["output"]
    os.remove(tmp)


def _server(sock, reply):
    async def serve():
        import select

        p = select.poll()
        p.register(sock, select.POLLIN)
        while True:
            if p.poll(0):
                c, _ = sock.accept()
                c.recv(512)
                if reply is not None:
                    c.send(reply)
                c.close()
            await traps.sleep_ms(2)

    return serve()


def _bound(port_from=47311):
    import socket

    for port in range(port_from, port_from + 200):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
        except OSError:
            s.close()
            continue
        s.listen(4)
        s.setblocking(False)
        return s, port
    raise OSError("no free port")


def test_tcp_and_http_probes_on_real_sockets():
    w, reg, mon = world()
    ok, ok_port = _bound()
    w.sched.spawn(_server(ok, b"HTTP/1.0 200 OK\r\n\r\nall good"), "srv-ok")
    bad, bad_port = _bound(ok_port + 1)
    w.sched.spawn(_server(bad, b"HTTP/1.0 503 Busy\r\n\r\nno"), "srv-bad")
    closed_port = bad_port + 1  # nobody listens here
    probes = {
        "t1": ({"check": "tcp"}, "127.0.0.1:%d" % ok_port),
        "t2": ({"check": "tcp", "port": closed_port}, None),
        "h1": (
            {"check": "http", "path": "/health", "body": "good"},
            "127.0.0.1:%d" % ok_port,
        ),
        "h2": ({"check": "http", "port": bad_port}, None),
        "h3": ({"check": "http", "port": ok_port, "body": "missing"}, None),
        "h4": ({"check": "http", "port": bad_port, "status": "500-599"}, None),
    }
    for name, (spec, ep) in probes.items():
        spec.update(period_sec=1, timeout_sec=1, failure_threshold=1)
        extra = {"endpoint": ep} if ep else {}
        svc_with(w, name, readiness=spec, restart="no", **extra)
    w.m.start_job(list(probes), "test")
    w.run_for(500)
    out = {n: mon.report(n)["probes"]["readiness"] for n in probes}
    assert out["t1"]["last"] == "passing" and reg.get("t1").ready, out["t1"]
    assert out["t2"]["last"] == "critical", out["t2"]
    assert (out["h1"]["last"], out["h1"]["output"]) == ("passing", "HTTP 200"), out["h1"]
    assert out["h2"]["output"] == "HTTP 503, expected 200-399", out["h2"]
    assert out["h3"]["output"] == "HTTP 200, body lacks 'missing'", out["h3"]
    assert out["h4"]["last"] == "passing", out["h4"]
    ok.close()
    bad.close()


def test_without_a_network_tcp_and_http_report_critical_with_the_reason_never_a_pass():
    w, reg, mon = world()
    real = probes.network
    probes.network = lambda: False
    try:
        svc_with(w, "n", readiness={"check": "tcp", "port": 80, "period_sec": 1})
        w.m.start_job(["n"], "test")
        w.run_for(10)
        p = mon.report("n")["probes"]["readiness"]
        assert p["last"] == "critical" and "no network on" in p["output"], p
        assert not reg.get("n").ready
        assert any("is a tcp probe; no network on" in line for line in kernel.log_lines())
    finally:
        probes.network = real


def test_probe_deadlines_pause_while_foreground_code_starves_the_kernel():
    w, reg, mon = world()

    async def slowish():
        await traps.sleep_ms(300)
        return True

    live = Flaky([True])
    svc_with(
        w,
        "p",
        liveness={"check": "custom", "object": live, "period_sec": 1},
        readiness={
            "check": "command",
            "exec": slowish,
            "period_sec": 1,
            "timeout_sec": 0.5,
        },
    )
    w.m.start_job(["p"], "test")

    async def foreground():
        await traps.sleep_ms(1100)  # the readiness run started at 1000 ms is in flight
        w.clock.burn(10_000_000)  # 10 s of `py` that never yields
        await traps.sleep_ms(2000)

    w.sched.run_until(w.sched.spawn(foreground(), "fg", budget_ms=0))
    assert mon.stats()["timeouts"] == 0  # the in-flight run got its time back
    assert mon.stats()["paused_ms"] >= 9000
    assert live.n == 4, live.n  # 0, 1, 2, 3 s of kernel time: not 13 runs
    assert reg.get("p").ready


def test_result_hooks_check_health_report_and_stats():
    w, reg, mon = world()
    got = []
    mon.hooks.append(lambda *a: got.append(a[:4]))
    flap = Flaky([True, "warning", False])
    svc_with(w, "h", liveness={"check": "custom", "object": flap, "period_sec": 10})
    w.m.start_job(["h"], "test")
    w.run_for(1)

    async def check():
        return await mon.check_now("h")

    r = w.sched.run_until(w.sched.spawn(check(), "c")).result()
    assert r["health"] == "warning" and r["probes"]["liveness"]["history"] == [
        "passing",
        "warning",
    ]
    assert got == [("h", "liveness", "passing", ""), ("h", "liveness", "warning", "")]
    s = mon.stats()
    assert s["services"] == 1 and s["probes"] == 1 and s["active"] == 1 and s["runs"] == 2
    assert s["task_runs"] == 2 and s["restarts"] == 0


def test_probe_specs_are_checked_with_one_line_errors():
    from kernel import units

    bad = (
        ({"check": "ping"}, "'liveness' 'check' must be one of process, ttl"),
        ({"check": "ttl"}, "check ttl needs 'ttl_sec'"),
        ({"check": "tcp", "port": 70000}, "'port' must be an int in 1..65535"),
        (
            {"check": "http", "port": 80, "status": "abc"},
            "'status' must be a code or a range",
        ),
        ({"check": "file"}, "check file needs 'path'"),
        ({"check": "command"}, "check command needs 'exec'"),
        ({"check": "custom", "object": 5}, "'object' must have a check() method"),
        ({"period_sec": "soon"}, "'liveness.period_sec' must be seconds"),
        ({"failure_threshold": 0}, "'failure_threshold' must be an int in 1..1000"),
        ({"check": "process", "path": "/x"}, "has unknown key 'path'"),
        ("[1]", "'liveness' must be a dict"),
    )
    for spec, msg in bad:
        try:
            units.parse({"name": "u", "liveness": spec})
            raise AssertionError("accepted %r" % (spec,))
        except UnitError as e:
            assert msg in str(e) and "\n" not in str(e), (msg, str(e))
    u = units.parse(
        "[Unit]\nName=u\n[Service]\nExecStart=a:b\n"
        'Liveness={"check": "http", "path": "/health", "port": 8080, "period_sec": "500ms"}\n'
    )
    sp = u.liveness
    assert sp.kind_name() == "http" and sp.path == "/health" and sp.port == 8080
    assert sp.period_ms == 500 and sp.timeout_ms == 1000 and sp.fail == 3 and sp.succ == 1
    assert sp.delay_ms == 0 and (sp.status_lo, sp.status_hi) == (200, 399)


def test_kernel_api_through_the_default_scheduler():
    kernel.reset(VirtualClock(0, 0))

    async def forever():
        while True:
            await kernel.sleep_ms(1000)

    kernel.create_service(
        {
            "name": "k",
            "exec": forever,
            "liveness": {"check": "process", "period_sec": 1},
        }
    )
    kernel.start_service("k")

    async def go():
        await kernel.sleep_ms(1500)
        return await kernel.check_health("k")

    r = kernel.scheduler().run_until(kernel.spawn(go(), "go")).result()
    assert r["probes"]["liveness"]["runs"] == 3 and r["ready"]
    assert kernel.health_report("k")["health"] == "passing"
    assert kernel.monitor_stats()["probes"] == 1


def test_inline_probe_runs_allocate_nothing():
    import micropython

    w, reg, mon = world()
    for i in range(20):
        svc_with(w, "p%d" % i, liveness={"check": "process", "period_sec": 0.1})
    w.m.start_job(["p%d" % i for i in range(20)], "test")
    w.run_for(1000)  # every lane and probe exists; each probe has run
    seen = [None]

    async def locked():
        await traps.sleep_ms(1)  # its first sleep makes its own sleep fields
        runs = mon.runs
        micropython.heap_lock()
        try:
            for _ in range(2):
                await traps.sleep_ms(1000)
        finally:
            seen[0] = mon.runs - runs  # a small int: no allocation
            micropython.heap_unlock()

    w.sched.run_until(w.sched.spawn(locked(), "locked"))
    assert seen == [400]  # 20 probes x 10 Hz x 2 s, with the heap locked


def test_the_monitor_yields_between_batches_of_due_probes():
    from kernel import params

    w, reg, mon = world()
    mon.hooks.append(lambda *a: None)  # every run takes the full path
    n = params.HEALTH_BATCH * 3
    for i in range(n):
        svc_with(w, "b%d" % i, liveness={"check": "process", "period_sec": 1})
    w.m.start_job(["b%d" % i for i in range(n)], "test")
    w.run_for(10)
    steps = mon.task.steps
    w.run_for(1000)  # all n are due at 1000 ms: three batches, one step each
    assert mon.runs == 2 * n and mon.task.steps - steps == 3, (mon.runs, mon.task.steps - steps)
    # fused runs (no hooks) come params.HEALTH_FUSED_BATCH to a step
    w, reg, mon = world()
    n = params.HEALTH_FUSED_BATCH * 2
    for i in range(n):
        svc_with(w, "f%d" % i, liveness={"check": "process", "period_sec": 1})
    w.m.start_job(["f%d" % i for i in range(n)], "test")
    w.run_for(10)
    steps = mon.task.steps
    fused = mon.fused
    w.run_for(1000)
    assert mon.fused - fused == n and mon.task.steps - steps == 2, (mon.fused, mon.task.steps)


def _play(hook):
    # process and ttl probes, a restarting service, reports that stop: (monitor, reports at
    # 1 s and 2 s, discovery indexes); hook: a result hook, so every run takes the full path
    w, reg, mon = world()
    if hook:
        mon.hooks.append(lambda *a: None)
    for i in range(4):
        svc_with(
            w,
            "f%d" % i,
            liveness={"check": "process", "period_sec": 0.1},
            readiness={"check": "process", "period_sec": 0.25, "success_threshold": 2},
        )
    w.add(
        name="r",
        exec=w.body("r", [("ok", 700)]),
        restart="always",
        restart_sec=0.2,
        liveness={"check": "process", "period_sec": 0.1},
    )

    async def beat():  # passing reports with a new note each, silent from 1.2 s
        for k in range(5):
            mon.report_health(w.m.services["t"], "passing", "beat %d" % k)
            await traps.sleep_ms(300)
        while True:
            await traps.sleep_ms(1000)

    w.add(
        name="t",
        exec=beat,
        readiness={"check": "ttl", "ttl_sec": 0.5, "period_sec": 0.1},
        liveness={"check": "ttl", "ttl_sec": 0.5, "period_sec": 0.1, "failure_threshold": 9},
    )
    names = ["f%d" % i for i in range(4)] + ["r", "t"]
    w.m.start_job(names, "test")
    w.run_for(1000)
    mid = [mon.report(n) for n in names]  # the ttl probes fused, passing
    w.run_for(1000)
    return mon, mid + [mon.report(n) for n in names], [reg.get(n).index for n in names]


def test_the_fused_run_of_a_passing_probe_reports_as_the_full_run():
    # Without result hooks the monitor fuses the common run (a process or ttl probe passing while
    # passing); with a hook every run takes the full path. Both worlds must report the same
    # counters, history, times and transitions, restarts included.
    fused_mon, fused, fused_index = _play(False)
    full_mon, full, full_index = _play(True)
    assert fused == full and fused_index == full_index
    assert fused_mon.runs == full_mon.runs > 100
    assert full_mon.fused == 0 and fused_mon.fused > fused_mon.runs // 2, fused_mon.stats()
    t = fused[5]["probes"]["readiness"]  # at 1 s: passing, the last report's note
    assert t["output"] == "beat 3" and t["runs"] == 12 and t["status"] == "passing", t
    t = fused[11]["probes"]["readiness"]  # at 2 s: the TTL ran out at 1.7 s
    assert t["status"] == "critical" and t["output"].startswith("TTL expired"), t
    assert fused[11]["probes"]["liveness"]["status"] == "passing", fused[11]  # 3 of 9 failures
    lv = fused[6]["probes"]["liveness"]  # f0 at 2 s
    assert lv["runs"] == 21 and lv["successes"] == 21 and lv["history"] == ["passing"] * 10
    r = fused[10]["probes"]["liveness"]
    assert r["successes"] < r["runs"] < 21  # r's probe began again at each start


def test_the_c_fused_run_is_the_python_fused_run():
    # build/unix/micropython carries _kprobes.fuse: the same world fused by it and by the
    # Python loop alone reports the same, and it did fuse most runs.
    import mpunit

    mpunit.need("_kprobes")
    from kernel import health

    c_fuse = health._c_fuse
    assert c_fuse is not None
    n = [0]

    def counting(*a):
        k = c_fuse(*a)
        n[0] += k
        return k

    health._c_fuse = counting
    try:
        c_mon, with_c, c_index = _play(False)
        health._c_fuse = None
        py_mon, python, py_index = _play(False)
    finally:
        health._c_fuse = c_fuse
    assert with_c == python and c_index == py_index
    assert c_mon.stats() == py_mon.stats()
    assert n[0] > c_mon.fused * 3 // 4, (n[0], c_mon.fused)


def test_probes_due_close_together_come_to_share_one_wake():
    # b starts 30 ms after a: its runs move up to 1/8 of its period early (at most
    # params.HEALTH_SLACK_MS) to run in a's wake, so 1 Hz of both is one monitor step a second.
    w, reg, mon = world()
    svc_with(w, "a", liveness={"check": "process", "period_sec": 1})
    svc_with(w, "b", liveness={"check": "process", "period_sec": 1})
    w.m.start_job(["a"], "test")
    w.run_for(30)
    w.m.start_job(["b"], "test")
    w.run_for(2000)
    steps = mon.task.steps
    w.run_for(3000)
    a, b = (mon.report(n)["probes"]["liveness"] for n in "ab")
    assert a["last_ms"] == b["last_ms"] and mon.task.steps - steps == 3, (a, b, mon.task.steps)
    assert a["runs"] == b["runs"] == 6  # b: at 30 ms, then 30 ms early with a at 1, 2 .. 5 s


def test_a_ttl_probe_that_stays_passing_takes_the_fused_path():
    w, reg, mon = world()

    async def beat():
        k = 0
        while True:
            mon.report_health(w.m.services["t"], "passing", "beat %d" % k)
            k += 1
            await traps.sleep_ms(250)

    w.add(name="t", exec=beat, liveness={"check": "ttl", "ttl_sec": 1, "period_sec": 0.1})
    w.m.start_job(["t"], "test")
    w.run_for(2000)
    assert mon.fused >= 20 and mon.runs - mon.fused <= 2, mon.stats()  # the first one in full
    lv = mon.report("t")["probes"]["liveness"]
    assert lv["output"] == "beat 7" and lv["runs"] == 24 and lv["status"] == "passing", lv
    full = mon.runs - mon.fused
    mon.report_health(w.m.services["t"], "warning", "slow")  # not passing: the full run
    w.run_for(1)
    lv = mon.report("t")["probes"]["liveness"]
    assert lv["last"] == "warning" and lv["output"] == "slow", lv
    assert mon.runs - mon.fused == full + 1, mon.stats()


def test_probes_of_services_started_apart_align_to_share_a_wake_or_two():
    # 8 services started 90 ms apart (more than the 50 ms slack): each liveness probe's
    # first period after its start is cut (by up to half) to come due with the probe before
    # it, so the 8 share 2 wakes a second, not 8; a startup probe's period is never cut.
    w, reg, mon = world()
    for i in range(8):
        svc_with(w, "a%d" % i, liveness={"check": "process", "period_sec": 1})
    svc_with(w, "s", startup={"check": "custom", "object": Flaky([False]), "period_sec": 1,
                              "failure_threshold": 99})  # fmt: skip
    for i in range(8):
        w.m.start_job(["a%d" % i], "test")
        w.run_for(90)
    w.m.start_job(["s"], "test")  # at 720 ms
    w.run_for(2000)
    steps = mon.task.steps
    runs = mon.report("a7")["probes"]["liveness"]["runs"]
    w.run_for(3000)
    assert mon.task.steps - steps == 9, mon.task.steps - steps  # 2 a second, s's 1 a second
    dues = sorted(set(p.due for n in ("a%d" % i for i in range(8)) for p in mon.probers[n].probes
                      if p is not None))  # fmt: skip
    assert len(dues) == 2 and dues[1] - dues[0] > 400, dues
    assert mon.report("a7")["probes"]["liveness"]["runs"] - runs == 3  # still 1 Hz
    st = mon.report("s")["probes"]["startup"]
    assert st["last_ms"] == 4720 and st["runs"] == 5, st  # at 720, 1720 .. 4720 ms
