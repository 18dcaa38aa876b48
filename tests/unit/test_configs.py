# Tests for kernel/configs and kernel/configstore: schema errors, validation messages,
# precedence of the sources, versions and history, reload through on_config and restart,
# automatic rollback on the virtual clock, and secrets never shown.
from svcfakes import World

from kernel import configs as C
from kernel import configstore as CS
from kernel import metrics, traps, vault
from kernel import service as S
from kernel.units import UnitError

SCHEMA = {
    "port": {"type": "int", "default": 8080, "min": 1, "max": 65535},
    "host": {"type": "str", "default": "0.0.0.0", "regex": "[a-z0-9.]+$"},
    "mode": {"type": "str", "default": "fast", "enum": ["fast", "safe"]},
    "ratio": {"type": "float", "default": 0.5},
    "debug": {"type": "bool", "default": False},
    "peers": {"type": "list", "default": [], "max": 3},
    "limits": {"type": "dict", "default": {}},
    "token": {"type": "str", "secret": True, "default": "hunter2"},
    "even": {"type": "int", "default": 2, "validate": lambda v: v % 2 == 0},
}


def forever():
    async def run():
        while True:
            await traps.sleep_ms(1000)

    return run


def world(**unit):
    w = World()
    st = CS.Store(w.m)
    st.config_dir = "/nonexistent"
    st.cmdline = {}
    u = {"name": "web", "exec": forever(), "config": SCHEMA}
    u.update(unit)
    h = w.add(**u)
    return w, st, h


def test_validation_errors_are_one_line_naming_key_and_expectation():
    w, st, h = world()
    errs = st.validate(
        "web",
        {
            "port": "abc",
            "host": "Bad Host!",
            "mode": "slow",
            "ratio": True,
            "peers": [1, 2, 3, 4],
            "even": 3,
            "prot": 1,
            "token": 5,
        },
    )
    assert "config web: 'port' must be an int in 1..65535, got 'abc'" in errs, errs
    assert "config web: 'host' must be a str matching '[a-z0-9.]+$', got 'Bad Host!'" in errs
    assert "config web: 'mode' must be a str in ('fast', 'safe'), got 'slow'" in errs
    assert "config web: 'ratio' must be a float, got True" in errs
    assert "config web: 'peers' must be a list of length <= 3, got [1, 2, 3, 4]" in errs
    assert "config web: 'even' failed its check, got 3" in errs
    assert "config web: 'token' must be a str, got '***'" in errs  # a secret is never shown
    assert any(e.startswith("config web: unknown key 'prot' (keys: debug, even,") for e in errs)
    assert len(errs) == 8 and all("\n" not in e for e in errs)
    assert st.validate("web", {"port": 1, "ratio": 2}) == []


def test_bad_schemas_are_refused_as_unit_errors():
    w = World()
    for schema, text in (
        ({"p": {"type": "long"}}, "type must be one of int, float"),
        ({"p": {"type": "int", "minimum": 1}}, "unknown spec field 'minimum'"),
        ({"p": {"type": "int", "default": "x"}}, "default: 'p' must be an int"),
        ({"p": 5}, "spec must be a dict or a type name"),
    ):
        try:
            w.add(name="bad", exec=forever(), config=schema)
        except UnitError as e:
            assert str(e).startswith("unit bad: 'config' key 'p'") and text in str(e), e
        else:
            raise AssertionError("accepted %r" % (schema,))
    h = w.add(name="ini", exec=forever(), config='{"port": "int", "n": {"type": "int"}}')
    assert sorted(h.unit.config) == ["n", "port"]


def test_update_raises_config_error_and_applies_nothing():
    w, st, h = world()
    try:
        st.update("web", {"port": 99999, "mode": "fast", "debug": "yes"})
    except C.ConfigError as e:
        assert isinstance(e, ValueError) and len(e.errors) == 2
        assert str(e) == (
            "config web: 'debug' must be a bool, got 'yes'; "
            "config web: 'port' must be an int in 1..65535, got 99999 (kept previous config)"
        )
    else:
        raise AssertionError("bad update applied")
    assert st.entry("web").current().number == 1
    assert st.entry("web").current().values["port"] == 8080


def test_a_config_that_is_no_dict_is_one_error_line_not_a_crash():
    w, st, h = world(kind="http")
    want = "config web: expected a dict of key -> value, got int 5"
    assert st.validate("web", 5) == [want]
    assert C.check("web", st.entry("web").schema, [("port", 1)]) == [
        "config web: expected a dict of key -> value, got list [('port', 1)]"
    ]
    for bad in (5, "port=1", None):
        try:
            st.update("web", bad)
        except C.ConfigError as e:
            assert len(e.errors) == 1 and "expected a dict of key -> value" in e.errors[0]
        else:
            raise AssertionError("update took %r" % (bad,))
    try:
        st.set_kind("http", ["port"])
    except C.ConfigError as e:
        assert e.errors == ["config kind http: expected a dict of key -> value, got list ['port']"]
    else:
        raise AssertionError("set_kind took a list")
    assert st.entry("web").current().number == 1  # nothing applied


def test_required_key_without_a_value():
    w = World()
    st = CS.Store(w.m)
    st.config_dir = "/nonexistent"
    st.cmdline = {}
    w.add(name="db", exec=forever(), config={"dsn": {"type": "str", "required": True}})
    assert st.validate("db", {}) == ["config db: 'dsn' is required (it has no default)"]
    assert st.validate("db", {"dsn": "x"}) == []
    assert w.seq("db")[-1] == ("db", "config error")


def test_precedence_default_kind_file_cmdline_runtime():
    import os

    d = "/tmp/multios-config-test-%d" % os.getpid() if hasattr(os, "getpid") else "/tmp/mcfg"
    try:
        os.mkdir(d)
    except OSError:
        pass
    with open(d + "/web.json", "w") as f:
        f.write('{"port": 3, "host": "file", "mode": "safe"}')
    w, st, h = world(kind="http")
    st.config_dir = d
    st.cmdline = CS.parse_cmdline("quiet web.port=4 web.mode=bad other.x=1 web.ratio=0.25")
    st.kinds["http"] = {"port": 2, "host": "kind", "debug": True, "foreign": 1}
    e = st.entry("web")
    v = e.current().values
    assert v["debug"] is True  # kind over default
    assert v["host"] == "file"  # file over kind
    assert v["port"] == 4 and v["ratio"] == 0.25  # command line over file (parsed by type)
    assert v["mode"] == "safe"  # a bad command-line value is ignored and journaled
    assert (
        "web",
        "config error",
        "config web: 'mode' must be a str in ('fast', 'safe'), got 'bad' (cmdline value ignored)",
    ) in [(x[1], x[2], x[3]) for x in w.events]
    assert st.source_of(e, "port") == "cmdline" and st.source_of(e, "host") == "file"
    assert st.source_of(e, "debug") == "kind" and st.source_of(e, "even") == "default"
    st.update("web", {"port": 5})
    assert e.current().values["port"] == 5 and st.source_of(e, "port") == "runtime"
    os.remove(d + "/web.json")


def test_command_line_tokens():
    assert CS.parse_cmdline("a.b=1 x nokey= a.c=2 my.svc.k=v .k=1 n.=2") == {
        "a": {"b": "1", "c": "2"},
        "my.svc": {"k": "v"},
    }


def test_versions_history_diff_and_manual_rollback():
    w, st, h = world(config_reload="none")
    assert st.update("web", {"port": 81}) == 2
    assert st.update("web", {"port": 81}) == 2  # no change, no version
    assert st.update("web", {"mode": "safe", "token": "s3cret"}) == 3
    hist = [
        {"version": v.number, "reason": v.reason, "diff": v.diff} for v in st.entry("web").versions
    ]
    assert hist == [
        {"version": 1, "reason": "boot", "diff": []},
        {"version": 2, "reason": "update", "diff": [("port", 8080, 81)]},
        {
            "version": 3,
            "reason": "update",
            "diff": [("mode", "fast", "safe"), ("token", "***", "***")],
        },
    ]
    assert st.rollback("web", 1) == 4
    v = st.entry("web").current()
    assert v.values["port"] == 8080 and isinstance(v.values["token"], vault.Sealed)
    assert vault.unseal(v.values["token"]) == "hunter2"  # the dict holds it sealed
    assert v.reason == "rollback to v1"
    try:
        st.rollback("web", 99)
    except C.ConfigError as e:
        assert str(e) == "config web: no version 99 (kept: 1..4)"
    else:
        raise AssertionError("rolled back to a version never made")


def test_history_is_bounded():
    from kernel import params

    w, st, h = world(config_reload="none")
    for k in range(params.CONFIG_HISTORY + 4):
        st.update("web", {"port": 100 + k})
    vs = st.entry("web").versions
    assert len(vs) == params.CONFIG_HISTORY and vs[-1].number == params.CONFIG_HISTORY + 5


def test_on_config_gets_the_masked_config_and_changed_keys():
    seen = []
    w, st, h = world(
        on_config=lambda cfg, changed: seen.append((cfg["port"], cfg["token"], changed))
    )
    w.m.start_job(["web"], "t")
    first = h.task
    st.update("web", {"port": 90, "token": "new"})
    assert seen == [(90, "***", ["port", "token"])]
    w.run_for(20000)
    assert h.task is first and h.state == S.ACTIVE  # no restart, no rollback


def test_on_config_of_an_exec_class():
    seen = []

    class Web:
        async def run(self):
            while True:
                await traps.sleep_ms(1000)

        def on_config(self, cfg, changed):
            seen.append(changed)

    w, st, h = world(exec=Web)
    w.m.start_job(["web"], "t")
    w.run_for(10)
    st.update("web", {"debug": True})
    assert seen == [["debug"]]


def test_config_reload_restart_and_none():
    w, st, h = world()
    w.m.start_job(["web"], "t")
    w.run_for(10)
    first = h.task
    st.update("web", {"port": 1234})
    w.run_for(100)
    assert h.task is not first and h.state == S.ACTIVE
    assert ("web", "stopping") in w.seq("web") and w.seq("web")[-1] == ("web", "started")
    w2, st2, h2 = world(config_reload="none")
    w2.m.start_job(["web"], "t")
    w2.run_for(10)
    first = h2.task
    st2.update("web", {"port": 1234})
    w2.run_for(100)
    assert h2.task is first


def test_automatic_rollback_when_the_new_config_crashes_the_service():
    w = World()
    st = CS.Store(w.m)
    st.config_dir = "/nonexistent"
    st.cmdline = {}

    async def run():
        cfg = st.entry("web").current().values
        await traps.sleep_ms(50)
        if cfg["port"] == 666:
            raise ValueError("cannot bind %d" % cfg["port"])
        while True:
            await traps.sleep_ms(1000)

    h = w.add(name="web", exec=run, config=SCHEMA, rollback_sec=5, restart_sec=0.1)
    w.m.start_job(["web"], "t")
    w.run_for(100)
    assert st.update("web", {"port": 666}) == 2
    w.run_for(300)
    e = st.entry("web")
    assert e.current().number == 3 and e.current().values["port"] == 8080
    assert e.current().reason.startswith(
        "automatic rollback to v1: restarting (exception: ValueError: cannot bind 666"
    ), e.current().reason
    w.run_for(6000)
    assert h.state == S.ACTIVE and e.current().number == 3  # back on v1's values, kept
    cfg_events = [x[3] for x in w.events if x[2] == "config"]
    assert cfg_events[0] == "v2, update: port 8080 -> 666"
    assert cfg_events[1].startswith("v3, automatic rollback to v1:")


def test_automatic_rollback_when_health_turns_critical_and_not_after_the_window():
    w, st, h = world(config_reload="none", rollback_sec=2)
    w.m.start_job(["web"], "t")
    reg = metrics.registry(w.m)
    w.run_for(10)
    st.update("web", {"port": 2})
    w.run_for(500)
    reg.on_probe("web", "liveness", "critical", 1)
    w.run_for(200)
    e = st.entry("web")
    assert e.current().reason == "automatic rollback to v1: health critical"
    reg.on_probe("web", "liveness", "passing", 1)
    st.update("web", {"port": 3})
    w.run_for(2500)  # the window passed: a later failure is not the config's
    reg.on_probe("web", "liveness", "critical", 1)
    w.run_for(500)
    assert e.current().values["port"] == 3


def test_rollback_when_it_turns_not_ready():
    w, st, h = world(config_reload="none", rollback_sec=2)
    w.m.start_job(["web"], "t")
    reg = metrics.registry(w.m)
    w.run_for(10)
    st.update("web", {"port": 2})
    w.run_for(300)
    reg.on_probe("web", "readiness", "passing", 1, ready=False)
    w.run_for(200)
    assert st.entry("web").current().reason == "automatic rollback to v1: not ready"


def test_a_failing_on_config_rolls_back_at_once():
    def on_config(cfg, changed):
        if cfg["port"] == 13:
            raise ValueError("unlucky")

    w, st, h = world(on_config=on_config)
    w.m.start_job(["web"], "t")
    st.update("web", {"port": 13})
    e = st.entry("web")
    assert e.current().number == 3 and e.current().values["port"] == 8080
    assert e.current().reason == "automatic rollback to v1: on_config raised ValueError: unlucky"


def test_kind_template_changes_the_services_of_that_kind():
    w, st, h = world(kind="http", config_reload="none")
    st.entry("web")
    st.set_kind("http", {"port": 7000, "other": 1})
    assert st.entry("web").current().values["port"] == 7000
    assert st.entry("web").current().reason == "kind http template"
    try:
        st.set_kind("http", {"port": -1})
    except C.ConfigError as e:
        assert "'port' must be an int in 1..65535, got -1" in str(e)
    else:
        raise AssertionError("bad kind template applied")


def test_secrets_are_masked_everywhere_but_secret():
    import kernel

    kernel.reset()
    got = []

    async def body():
        got.append(kernel.service_config())
        got.append(kernel.secret("token"))
        while True:
            await traps.sleep_ms(1000)

    kernel.create_service({"name": "s", "exec": body, "config": SCHEMA, "config_reload": "none"})
    kernel.start_service("s")
    from kernel import svc

    sched = svc.manager().sched
    sched.run_until(sched.spawn(_sleep(10), "t"))
    assert got[0]["token"] == "***" and got[1] == "hunter2"
    kernel.update_config("s", {"token": "topsecret"})
    assert kernel.load_config("s")["token"] == "***"
    text = repr(kernel.config_history("s")) + "\n".join(kernel.journal_lines())
    try:
        kernel.update_config("s", {"token": 12})
    except kernel.ConfigError as e:
        text += str(e)
    assert "hunter2" not in text and "topsecret" not in text and "***" in text, text

    def leaky(v):
        raise ValueError("bad token %s" % v)

    from kernel import configs

    spec = configs.parse_schema("s", {"t": {"type": "str", "secret": True, "validate": leaky}})[
        "t"
    ]
    assert configs.check_value("s", "t", spec, "hunter3") == (
        "config s: 't' failed its check (ValueError), got '***'"
    )
    assert kernel.validate_config("s", {"port": 0}) == [
        "config s: 'port' must be an int in 1..65535, got 0"
    ]


async def _sleep(ms):
    await traps.sleep_ms(ms)


def test_a_replaced_unit_gets_its_new_schema():
    w, st, h = world(config_reload="none")
    st.update("web", {"port": 81})
    w.add(name="web", exec=forever(), config={"port": {"type": "int", "default": 1}, "x": "str"})
    e = st.entry("web")
    assert sorted(e.schema) == ["port", "x"] and e.current().values == {"port": 1}
    assert e.current().number == 3 and e.current().reason == "unit replaced"


def test_config_changes_are_ev_config_on_the_event_bus_and_wake_watches():
    import kernel
    from kernel import discovery, events

    w, st, h = world(config_reload="none")
    reg = discovery.attach(w.m)
    codes = []
    w.m.subscribers.append(lambda n, e, c: codes.append((n, events.event_code(e), e)))
    heard = []
    reg.listeners.append(lambda code, inst: heard.append((code, inst.name)))
    w.m.start_job(["web"], "t")
    w.run_for(100)
    woke = []

    async def watcher():
        idx = reg.index
        while True:
            idx, got = await reg.watch("web", idx)
            woke.append((w.m.now(), [i.name for i in got]))

    w.sched.spawn(watcher(), "watch")
    w.run_for(100)
    del codes[:], heard[:]
    assert st.update("web", {"port": 81}) == 2
    w.run_for(100)
    assert st.rollback("web", 1) == 3
    w.run_for(100)
    assert [c for c in codes if c[0] == "web"] == [
        ("web", kernel.EV_CONFIG, "config"),
        ("web", kernel.EV_CONFIG, "config"),
    ]
    assert heard == [(kernel.EV_CONFIG, "web"), (kernel.EV_CONFIG, "web")]
    assert woke == [(200, ["web"]), (300, ["web"])]
    assert kernel.event_name(kernel.EV_CONFIG) == "config"
