# Boot tests of fault tolerance on every board in MULTIOS_BOARDS: `fault run demo` plays the
# scenario frozen into the firmware (services/scenarios.py) on a separate kernel on the
# virtual clock and must print the same journal, byte for byte, as the unix port does for
# the same seed; `fault inject`, `faults` and `fault clear` on the running system.
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def micropython_binary():
    """The unix port the unit tests use (tests/unit/conftest.py's choice)."""
    return os.environ.get("MICROPYTHON") or os.path.join(ROOT, "build", "unix", "micropython")


_SCRIPT = (
    "import kernel\n"
    "from kernel.clock import VirtualClock\n"
    "from services.faultsh import load\n"
    "kernel.reset(VirtualClock(0, 0))\n"
    "for line in kernel.run_scenario(load('demo'), %d):\n"
    "    print(line)\n"
)


def unix_journal(seed):
    """The demo scenario's journal on the unix port (the reference the boards must match)."""
    p = subprocess.run(
        [micropython_binary(), "-c", _SCRIPT % seed],
        cwd=ROOT,
        env=dict(os.environ, MICROPYPATH=".frozen:."),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        timeout=120,
        check=False,
    )
    out = p.stdout.decode()
    assert p.returncode == 0, out
    return out.splitlines()


def test_fault_run_of_the_frozen_demo_prints_the_unix_ports_journal(console):
    want = unix_journal(1)
    assert len(want) > 20 and want[-1].startswith("scenario: 17 entries, seed 1, "), want
    console.boot()
    got = console.cmd("fault run demo seed=1")
    assert got == want, "\n".join(
        ["board vs unix:"] + ["%s | %s" % (g, w) for g, w in zip(got, want)]
    )
    other = console.cmd("fault run demo seed=2")
    assert other != got and other[-1].startswith("scenario: 17 entries, seed 2, "), other
    assert console.poweroff() == 0


def test_fault_inject_faults_and_clear_on_the_console(console):
    console.boot()
    assert console.cmd("fault inject heartbeat crash") == ["fault 1: crash heartbeat"]
    out = console.cmd("faults heartbeat")
    assert out[0].endswith("] heartbeat: injected crash #1"), out
    assert console.cmd("fault inject heartbeat flap period_ms=500") == ["fault 2: flap heartbeat"]
    out = console.cmd("faults")
    assert any(ln.startswith("injected #2 flap heartbeat period_ms=500, fired ") for ln in out), (
        out
    )
    assert out[-1].endswith(", 1 injected active"), out
    assert console.cmd("fault clear 2") == ["fault 2: cleared"]
    assert console.cmd("fault inject nobody hang") == [
        "fault inject: unit nobody: no such unit (see 'svc list')"
    ]
    status = console.cmd("svc status heartbeat")
    assert any("InjectedFault: injected crash #1" in ln for ln in status), status
    # On the board's own clock a hang spins until the HAL's step watchdog stops it, and a
    # memory fault fills the real heap: each ends the run, the restart policy restarts it.
    for fid, kind, why in ((3, "hang", "(watchdog: "), (4, "memory", "(exception: MemoryError")):
        n = restarts(wait_active(console, "heartbeat", -1))
        assert console.cmd("fault inject heartbeat " + kind) == [
            "fault %d: %s heartbeat" % (fid, kind)
        ]
        st = wait_active(console, "heartbeat", n)
        assert any("restarting " + why in ln for ln in st), st
    assert console.cmd("echo alive") == ["alive"]
    assert console.poweroff() == 0


def restarts(status):
    for ln in status:
        if ln.strip().startswith("restarts: "):
            return int(ln.split()[1].rstrip(","))
    raise AssertionError("no restarts line in %r" % (status,))


def wait_active(console, name, after):
    """`svc status name` once it is active with more than `after` restarts."""
    import time

    for _ in range(100):
        out = console.cmd("svc status " + name)
        up = any(ln.strip().startswith("state:    active (running)") for ln in out)
        if up and restarts(out) > after:
            return out
        time.sleep(0.1)
    raise AssertionError("%s never active again\n%s" % (name, console.tail()))
