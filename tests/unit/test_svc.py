# Tests for kernel/svc (the public API through `kernel`) and services/svc (the shell's `svc`
# verbs and `log NAME`), on the kernel's default scheduler with a virtual clock.
from shellfakes import FakeConsole, FakeHal, cmd, forever, run_for

import kernel
import services.svc  # noqa: F401 - registers `svc`
from kernel.clock import VirtualClock
from kernel.units import UnitError
from services.shell import Shell


def fresh():
    kernel.reset(VirtualClock(0, 0))


async def crash():
    await kernel.sleep_ms(5)
    raise ValueError("bad config")


def shell():
    con = FakeConsole()
    sh = Shell(con, kernel, FakeHal(), ns={})
    return sh, con


def test_public_api_round_trip():
    fresh()
    h = kernel.create_service({"name": "db", "exec": forever})
    kernel.create_service({"name": "web", "exec": forever, "requires": ["db"]})
    job = kernel.start_service("web")
    assert job.done.state and kernel.service_status("db")["state"] == "active"
    assert [s.name for s in kernel.list_services()] == ["db", "web"]
    run_for(10)
    kernel.stop_service("db")
    run_for(10)
    assert kernel.service_status("web")["state"] == "inactive"  # web requires db
    kernel.restart_service("db")
    run_for(10)
    assert h.state_name() == "active" and kernel.service_status("web")["state"] == "inactive"
    kernel.enable_service("web")
    assert kernel.service_status("web")["enabled"] is True
    kernel.disable_service("web")
    assert kernel.service_status("web")["enabled"] is False
    try:
        kernel.start_service("nope")
        raise AssertionError("no error")
    except UnitError as e:
        assert str(e) == "unit nope: no such unit (see 'svc list')"


def test_discover_glob_and_regex():
    fresh()
    for n in ("web@1", "web@2", "db", "web-admin"):
        kernel.create_service({"name": n, "exec": forever})
    names = lambda ss: [s.name for s in ss]  # noqa: E731
    assert names(kernel.discover_services("web@*")) == ["web@1", "web@2"]
    assert names(kernel.discover_services("web?admin")) == ["web-admin"]
    assert names(kernel.discover_services("regex:^(db|web@2)$")) == ["db", "web@2"]
    assert names(kernel.discover_services()) == ["db", "web-admin", "web@1", "web@2"]
    kernel.create_service(
        {"name": "cam", "exec": forever, "tags": ["io", "video"], "kind": "sensor"}
    )
    assert names(kernel.discover_services("tag:vid*")) == ["cam"]
    assert names(kernel.discover_services("kind:regex:^sens")) == ["cam"]


def test_conflicts_stop_each_other():
    fresh()
    a = kernel.create_service({"name": "a", "exec": forever, "conflicts": ["b"]})
    b = kernel.create_service({"name": "b", "exec": forever})
    kernel.start_service("b")
    run_for(5)
    kernel.start_service("a")
    run_for(5)
    assert a.state_name() == "active" and b.state_name() == "inactive"
    kernel.start_service("b")  # conflicts work both ways
    run_for(5)
    assert a.state_name() == "inactive" and b.state_name() == "active"


def test_notify_ready_and_watchdog_from_the_service_task():
    fresh()
    pings = []

    async def svc():
        await kernel.sleep_ms(10)
        kernel.notify_ready()
        while True:
            await kernel.sleep_ms(100)
            kernel.notify_watchdog()
            pings.append(1)

    h = kernel.create_service({"name": "n", "type": "notify", "exec": svc, "watchdog_sec": 0.2})
    kernel.start_service("n")
    assert h.state_name() == "activating"
    run_for(1000)
    assert h.state_name() == "active" and h.restarts == 0 and len(pings) >= 9
    try:
        kernel.notify_ready()
        raise AssertionError("no error outside a service")
    except RuntimeError as e:
        assert "service's own task" in str(e)


def test_reload_and_subscribers():
    fresh()
    seen = []
    kernel.subscribe(lambda n, e, c: seen.append((n, e)))

    class App:
        reloads = 0

        async def run(self):
            while True:
                await kernel.sleep_ms(1000)

        def reload(self):
            App.reloads += 1

    kernel.create_service({"name": "app", "exec": App})
    kernel.start_service("app")
    run_for(5)
    kernel.reload_service("app")
    assert App.reloads == 1 and kernel.service_status("app")["state"] == "active"
    assert seen == [
        ("app", "starting"),
        ("app", "started"),
        ("app", "reloading"),
        ("app", "reloaded"),
    ]
    kernel.create_service({"name": "plain", "exec": forever})
    try:
        kernel.reload_service("plain")
        raise AssertionError("no error")
    except UnitError as e:
        assert "can only reload an active service" in str(e)


def test_svc_verbs_on_the_shell():
    fresh()
    kernel.create_group("g", "one_for_all", 1, 5)
    kernel.create_service({"name": "db", "exec": forever, "group": "g"})
    kernel.create_service(
        {
            "name": "web",
            "exec": crash,
            "requires": ["db"],
            "restart": "no",
            "group": "g",
            "description": "Web",
        }
    )
    kernel.create_service({"name": "idle", "exec": forever})
    sh, con = shell()
    assert cmd(sh, con, "svc start db") == ["db: active (running)"]
    run_for(2000)
    rows = cmd(sh, con, "svc list")
    assert rows[0].split() == ["NAME", "STATE", "SUB", "RESTARTS", "UPTIME"]
    assert rows[1].split() == ["db", "active", "running", "0", "00:00:02"]
    assert rows[2].split()[:3] == ["idle", "inactive", "dead"]
    tree = cmd(sh, con, "svc tree")
    assert tree[0] == "root" and "group g" in tree[1] and "one_for_all" in tree[1], tree
    assert "db" in tree[2] and tree[-1].startswith("`- idle"), tree
    status = cmd(sh, con, "svc status db")
    assert status[0] == "db - db" and "active (running)" in status[1], status
    assert any("db: started" in ln for ln in status), status
    assert cmd(sh, con, "svc deps web") == [
        "web  inactive (dead)  (needs)",
        "`- db (requires)  active (running)",
    ]
    assert cmd(sh, con, "svc deps db -r") == [
        "db  active (running)  (needed by)",
        "`- web (requires)  inactive (dead)",
    ]
    why = cmd(sh, con, "svc why idle")
    assert why == ["idle is inactive (dead), result success: not enabled, never started"]
    cmd(sh, con, "svc start web")
    run_for(10)  # web crashes; the group (one_for_all) restarts db and web
    assert kernel.service_status("web")["restarts"] == 0
    log = cmd(sh, con, "log 50")
    assert any("] g: restarting (web failed" in ln for ln in log), log
    assert log.index("[    2.000] web: starting (start web)") < log.index(
        "[    2.000] web: started"
    )  # journal order kept in the merge with the kernel log
    assert cmd(sh, con, "svc enable idle") == ["idle: enabled (starts at boot)"]
    assert cmd(sh, con, "svc stop nope") == ["svc stop: unit nope: no such unit (see 'svc list')"]
    assert cmd(sh, con, "svc start") == ["svc start: expected a service name: svc start NAME"]
    assert cmd(sh, con, "svc frob") == ["svc: unknown verb 'frob' (try 'svc help')"]
    helps = cmd(sh, con, "svc help")
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
        assert any(ln.split()[1] == verb for ln in helps), (verb, helps)
    assert cmd(sh, con, "help svc")[0].startswith("usage: svc VERB")
    log = cmd(sh, con, "log -n 3 web")
    assert len(log) == 3 and all(" web: " in ln for ln in log), log


def test_svc_why_follows_a_failed_dependency():
    fresh()
    kernel.create_service({"name": "db", "exec": crash, "type": "oneshot", "restart": "no"})
    kernel.create_service({"name": "web", "exec": forever, "requires": ["db"]})
    kernel.start_service("web")
    run_for(10)
    sh, con = shell()
    assert cmd(sh, con, "svc why web") == [
        "web is failed (dead), result dependency: requires db, which failed",
        "db is failed (dead), result exception: ValueError: bad config",
    ]


def test_heap_per_idle_service():
    import gc

    fresh()
    kernel.create_service({"name": "warm", "exec": "services.heartbeat:main"})
    n = 200
    names = ["svc%d" % i for i in range(n)]
    gc.collect()
    before = gc.mem_free()
    for name in names:
        kernel.create_service({"name": name, "exec": "services.heartbeat:main"})
    gc.collect()
    per = (before - gc.mem_free()) // n
    print("heap per idle service (unix, 64-bit): %d bytes" % per)
    assert per < 1024, per  # the ARM board's pointers are half as wide


def test_tab_completes_svc_verbs_and_names():
    fresh()
    kernel.create_service({"name": "heartbeat", "exec": forever})
    kernel.create_service({"name": "pair-store", "exec": forever})
    sh, con = shell()
    assert sorted(sh.complete("svc st")) == ["svc start", "svc status", "svc stop"]
    assert sh.complete("svc start pa") == ["svc start pair-store"]
    assert sh.complete("svc list x") == []
