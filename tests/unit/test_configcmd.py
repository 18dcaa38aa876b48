# Tests for services/configcmd and services/metricscmd: the shell's `config` verbs (get, set
# parsed by type, diff, history, rollback, help, errors as one line, secrets as ***),
# `metrics NAME` and `top`, on the kernel's default scheduler with a virtual clock.
from shellfakes import FakeConsole, FakeHal, cmd, forever, run_for

import kernel
import services.configcmd  # noqa: F401 - registers `config`
import services.metricscmd  # noqa: F401 - registers `metrics`, `top`
from kernel import configstore as CS
from kernel import metrics
from kernel.clock import VirtualClock
from services.shell import Shell

SCHEMA = {
    "port": {"type": "int", "default": 8080, "min": 1, "max": 65535},
    "peers": {"type": "list", "default": []},
    "debug": {"type": "bool", "default": False},
    "token": {"type": "str", "default": "hunter2", "secret": True},
}


def setup(**unit):
    kernel.reset(VirtualClock(0, 0))
    st = CS.store()
    st.config_dir = "/nonexistent"
    st.cmdline = {}
    u = {"name": "web", "exec": forever, "config": SCHEMA, "config_reload": "none"}
    u.update(unit)
    kernel.create_service(u)
    con = FakeConsole()
    return Shell(con, kernel, FakeHal(), ns={}), con


def test_config_get_shows_values_sources_and_masks_secrets():
    sh, con = setup()
    assert cmd(sh, con, "config get web") == [
        "web: config v1",
        "  debug            = false  (default)",
        "  peers            = []  (default)",
        "  port             = 8080  (default)",
        "  token            = ***  (default)",
    ]
    assert cmd(sh, con, "config get web port") == ["8080"]
    assert cmd(sh, con, "config get web token") == ["***"]
    assert cmd(sh, con, "config get web nope") == [
        "config get: no key 'nope' in web's config (keys: debug, peers, port, token)"
    ]
    assert cmd(sh, con, "config get ghost") == [
        "config get: unit ghost: no such unit (see 'svc list')"
    ]


def test_config_set_parses_by_type_and_refuses_bad_values_in_one_line():
    sh, con = setup()
    assert cmd(sh, con, "config set web port 8081") == ["web: config v2: port 8080 -> 8081"]
    assert cmd(sh, con, "config set web debug true") == ["web: config v3: debug False -> True"]
    assert cmd(sh, con, 'config set web peers ["a", "b"]') == [
        "web: config v4: peers [] -> ['a', 'b']"
    ]
    assert cmd(sh, con, "config set web port 8081") == ["web: config v4, unchanged"]
    assert cmd(sh, con, "config set web port abc") == [
        "config set: config web: 'port' must be an int in 1..65535, got 'abc'"
        " (kept previous config)"
    ]
    assert cmd(sh, con, "config set web token swordfish") == [
        "web: config v5: token '***' -> '***'"
    ]
    assert cmd(sh, con, "config set web port") == ["config set: usage: config set NAME KEY VALUE"]
    assert kernel.load_config("web")["port"] == 8081


def test_config_set_of_a_secret_leaves_stars_in_the_line_history():
    sh, con = setup()
    for c in b"config set web token swordfish\r":
        sh._feed_line(c)
    assert "web: config v2: token '***' -> '***'\r\n" in con.take().decode()
    assert sh.editor.history == ["config set web token ***"]
    assert "swordfish" not in sh.editor.line
    for c in b"config set web port 81\r":  # other keys stay as typed
        sh._feed_line(c)
    assert sh.editor.history[-1] == "config set web port 81"


def test_config_diff_history_and_rollback():
    sh, con = setup()
    assert cmd(sh, con, "config diff web") == ["web: config v1 is the unit's defaults"]
    run_for(1500)
    cmd(sh, con, "config set web port 9")
    cmd(sh, con, "config set web token x")
    assert cmd(sh, con, "config diff web") == [
        "  port             8080 -> 9  (runtime)",
        "  token            *** -> ***  (runtime)",
    ]
    assert cmd(sh, con, "config history web") == [
        "[    0.000] v1: boot",
        "[    1.500] v2: update: port 8080 -> 9",
        "[    1.500] v3: update: token '***' -> '***'",
    ]
    assert cmd(sh, con, "config rollback web 1") == ["web: config v4 (= v1)"]
    assert kernel.load_config("web")["port"] == 8080
    assert cmd(sh, con, "config rollback web x") == [
        "config rollback: VERSION must be a number (see 'config history web'), got 'x'"
    ]
    assert cmd(sh, con, "config rollback web 77") == [
        "config rollback: config web: no version 77 (kept: 1..4)"
    ]


def test_config_help_and_unknown_verbs():
    sh, con = setup()
    out = cmd(sh, con, "config help")
    assert len(out) == 6 and out[0].startswith("  config get NAME [KEY]")
    assert cmd(sh, con, "config frob") == ["config: unknown verb 'frob' (try 'config help')"]
    assert cmd(sh, con, "help config") == [
        "usage: config VERB NAME ... (config help: list the verbs)",
        "  services' config",
    ]
    assert sh.complete("config ro") == ["config rollback"]
    assert sh.complete("config get w") == ["config get web"]


def test_metrics_shows_series_and_availability():
    sh, con = setup()
    metrics.registry().start()
    kernel.start_service("web")
    run_for(3500)
    out = cmd(sh, con, "metrics web")
    assert out[0].split() == ["SERIES", "KIND", "VALUE", "P50", "P90", "P99"]
    rows = {line.split()[0]: line.split()[1:] for line in out[1:-1]}
    assert rows["starts"] == ["counter", "1", "-", "-", "-"]
    assert rows["cpu_pct"][0] == "gauge" and "alloc_b_per_s" in rows
    assert out[-1].startswith("availability: 100.0% 1 min, 100.0% 1 h, 100.0% since enabled")
    assert cmd(sh, con, "metrics ghost") == ["metrics: unit ghost: no such unit (see 'svc list')"]
    assert cmd(sh, con, "metrics") == ["metrics: usage: metrics NAME (see 'svc list')"]


def test_metrics_says_when_the_sampler_failed_samples():
    sh, con = setup()
    reg = metrics.registry()
    reg.start()
    kernel.start_service("web")
    run_for(1500)
    assert not cmd(sh, con, "metrics web")[-1].startswith("sampler:")
    reg._failed(None, MemoryError("memory allocation failed"))
    out = cmd(sh, con, "metrics web")
    assert out[-1] == "sampler: 1 samples or rounds failed, the last: " + repr(
        MemoryError("memory allocation failed")
    ), out[-1]


def test_top_draws_every_service_and_ends_on_a_key():
    sh, con = setup()
    metrics.registry().start()
    kernel.start_service("web")
    run_for(2500)
    con.send(b"q")  # the key is already waiting: one frame, then top ends
    out = cmd(sh, con, "top")
    assert out[0].startswith("\x1b[H\x1b[2JNAME")
    assert out[1].split()[:2] == ["web", "active"]
    assert out[-1].startswith("cpu: ") and out[-1].endswith("any key ends 'top'")
    assert con.any() == 0  # the key was taken, not left as a command


def test_svc_status_shows_the_config_version_with_secrets_masked():
    import services.svc  # noqa: F401 - registers `svc`

    sh, con = setup()
    kernel.update_config("web", {"port": 81, "token": "swordfish"})
    out = cmd(sh, con, "svc status web")
    assert "  config:   v2 debug=False peers=[] port=81 token=***" in out, out
    assert "swordfish" not in "\n".join(out)
