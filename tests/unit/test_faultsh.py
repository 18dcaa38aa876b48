# Tests for services/faultsh: `faults [NAME]`, `fault inject|clear|run|help` on the kernel's
# default scheduler with a virtual clock; every mistake is one line, never a traceback.
from shellfakes import FakeConsole, FakeHal, cmd, forever, run_for

import kernel
import services.faultsh  # noqa: F401 - registers `faults` and `fault`
from kernel.clock import VirtualClock
from services.shell import Shell


def setup():
    kernel.reset(VirtualClock(0, 0))
    kernel.create_service({"name": "web", "exec": forever, "restart_sec": 1,
                           "detectors": {"exception": {}}})  # fmt: skip
    kernel.start_service("web")
    run_for(100)
    con = FakeConsole()
    return Shell(con, kernel, FakeHal(), ns={}), con


def test_inject_then_faults_shows_the_journal():
    sh, con = setup()
    assert cmd(sh, con, "fault inject web crash") == ["fault 1: crash web"]
    run_for(10)
    out = cmd(sh, con, "faults web")
    assert out[0] == "[    0.100] web: injected crash #1", out
    assert out[1] == "[    0.100] web: detected exception: raised InjectedFault", out
    assert out[2].startswith("[    0.100] web: restart 1/5: restarted it now"), out
    assert out[-1] == (
        "faults: 1 detected, 1 recoveries (1 recovered), 0 escalated, 0 to supervisor, "
        "0 injected active"
    ), out
    assert cmd(sh, con, "faults nothing") == [out[-1]]


def test_bad_input_is_one_line_each():
    sh, con = setup()
    assert cmd(sh, con, "fault inject web melt") == [
        "fault melt: no such kind (kinds: crash, hang, slow, error, memory, flap)"
    ]
    assert cmd(sh, con, "fault inject ghost crash") == [
        "fault inject: unit ghost: no such unit (see 'svc list')"
    ]
    assert cmd(sh, con, "fault inject web flap period_ms=x") == [
        "fault inject: option 'period_ms=x': expected KEY=INT, e.g. ms=200"
    ]
    assert cmd(sh, con, "fault inject web") == ["usage: fault inject TARGET KIND [KEY=VALUE ...]"]
    assert cmd(sh, con, "fault clear 9") == ["fault 9: not active"]
    assert cmd(sh, con, "fault explode") == ["fault: unknown verb 'explode' (try 'fault help')"]
    assert cmd(sh, con, "fault run nowhere") == [
        "fault run: no scenario file or frozen scenario 'nowhere' (frozen: demo)"
    ]
    assert len(cmd(sh, con, "fault help")) == 4


def test_flap_then_clear_and_the_listing():
    sh, con = setup()
    assert cmd(sh, con, "fault inject web flap period_ms=300") == ["fault 1: flap web"]
    run_for(700)
    out = cmd(sh, con, "faults")
    assert "injected #1 flap web period_ms=300, fired 3" in out, out
    assert cmd(sh, con, "fault clear 1") == ["fault 1: cleared"]
    assert cmd(sh, con, "faults")[-1].endswith(", 0 injected active")


def test_fault_run_plays_the_frozen_demo_and_a_file():
    sh, con = setup()
    out = cmd(sh, con, "fault run demo seed=1")
    assert out[0].startswith("[    5.0") and out[0].endswith("] web@1: injected crash #1"), out
    assert out[-1].startswith("scenario: 17 entries, seed 1, ")
    assert out == cmd(sh, con, "fault run demo seed=1")  # the same seed, the same journal
    path = "/tmp/multios-scenario-test.json"
    with open(path, "w") as f:
        f.write('[{"at_sec": 1, "target": "x", "kind": "stop"}]')
    out = cmd(sh, con, "fault run " + path)
    assert out[0] == "[    1.000] x: scenario stop failed: unit x: no such unit (see 'svc list')"
    assert kernel.service_status("web")["state"] == "active"  # our kernel is untouched
