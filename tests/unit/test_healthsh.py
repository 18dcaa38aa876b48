# Tests for services/healthsh (the shell's `health` and `discover`) and the probe lines of
# `svc status`, on the kernel's default scheduler with a virtual clock.
from shellfakes import FakeConsole, FakeHal, cmd, forever, run_for

import kernel
import services.healthsh  # noqa: F401 - registers `health` and `discover`
import services.svc  # noqa: F401 - registers `svc`
from kernel.clock import VirtualClock
from services.shell import Shell


def setup():
    kernel.reset(VirtualClock(0, 0))
    state = {"ok": True}
    kernel.create_service(
        {
            "name": "web@",
            "exec": forever,
            "tags": ["http"],
            "endpoint": "127.0.0.1:80%i",
            "liveness": {"check": "process", "period_sec": 1},
            "readiness": {"check": "command", "exec": lambda: state["ok"], "period_sec": 1},
        }
    )
    kernel.create_service({"name": "plain", "exec": forever})
    for n in ("web@1", "web@2", "plain"):
        kernel.start_service(n)
    kernel.register_instance("far@1", endpoint={"host": "10.0.0.9", "port": 5}, tags=["x"])
    con = FakeConsole()
    return Shell(con, kernel, FakeHal(), ns={}), con, state


def test_discover_lists_matching_instances_and_says_what_is_wrong_with_a_pattern():
    sh, con, state = setup()
    run_for(1500)
    out = cmd(sh, con, "discover web@*")
    assert out[0].split() == ["NAME", "SERVICE", "HEALTH", "READY", "ENDPOINT", "TAGS"]
    assert out[1].split() == ["web@1", "web", "passing", "yes", "127.0.0.1:801", "http"]
    assert out[2].split() == ["web@2", "web", "passing", "yes", "127.0.0.1:802", "http"]
    assert out[3].startswith("2 instances, index ")
    out = cmd(sh, con, "discover tag:x")
    assert out[1].split() == ["far@1", "far", "passing", "yes", "10.0.0.9:5", "x"]
    assert cmd(sh, con, "discover health:bad") == [
        "discovery: 'health:' takes one of passing, warning, critical, got 'bad'"
    ]
    assert len(cmd(sh, con, "discover")) == 6  # header, 4 instances, count


def test_health_lists_instances_and_one_service_s_probes():
    sh, con, state = setup()
    run_for(1500)
    state["ok"] = False
    run_for(3000)
    out = cmd(sh, con, "health")
    assert out[0].split()[:3] == ["NAME", "HEALTH", "READY"]
    rows = {line.split()[0]: line.split() for line in out[1:-1]}
    assert rows["web@1"][:3] == ["web@1", "critical", "no"]
    assert rows["web@1"][3:] == ["liveness:passing", "readiness:critical"]
    assert rows["plain"][:3] == ["plain", "passing", "yes"]
    assert out[-1].startswith("probes: 4 (4 in effect), ")
    out = cmd(sh, con, "health web@1")
    assert out[0] == "web@1: critical, not ready (readiness: returned False)"
    assert out[1].split()[:3] == ["liveness", "process", "passing"]
    assert out[2].split() == ["alive", "[P", "P", "P", "P", "P]"]
    assert out[3].split()[:3] == ["readiness", "command", "critical"]
    assert "0 ok / 3 failed in a row" in out[3]
    assert out[4].split() == ["returned", "False", "[P", "P", "C", "C", "C]"]
    assert cmd(sh, con, "health plain")[1] == "  no probes (ready while active)"
    assert cmd(sh, con, "health nope") == ["health: unit nope: no such unit (see 'svc list')"]
    assert sh.complete("health we") == ["health web@1", "health web@2"]


def test_svc_status_shows_readiness_and_probes():
    sh, con, state = setup()
    run_for(1500)
    out = cmd(sh, con, "svc status web@1")
    i = [k for k, line in enumerate(out) if line.startswith("  health:")][0]
    assert out[i] == "  health:   passing, ready (alive)"
    assert out[i + 1].startswith("  probes:   liveness  process passing ")
    assert out[i + 3].startswith("            readiness command passing ")
    out = cmd(sh, con, "svc status plain")
    assert "  health:   passing, ready (active)" in out
    assert cmd(sh, con, "help health") == [
        "usage: health [NAME]",
        "  health and readiness of every instance, or NAME's probes",
    ]
