# Boot tests with the real `mpremote` (PyPI) against the firmware over a QEMU pty:
# exec, eval, run (raw-paste), resume and mpremote's default soft reset.
import os
import re
import subprocess
import sys
import time

import pexpect
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import REPO, qemu_command  # noqa: E402

MPREMOTE = os.path.join(REPO, ".venv", "bin", "mpremote")
CONSOLE_ARGS = ["-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con"]


@pytest.fixture
def pty_board(board):
    """QEMU with its serial console on a pty; yields the pty path."""
    cmd = [a for a in qemu_command(board) if a not in CONSOLE_ARGS]
    cmd += ["-serial", "pty"]
    p = pexpect.spawn(cmd[0], cmd[1:], cwd=REPO, encoding="utf-8", timeout=30)
    try:
        p.expect(r"char device redirected to (/dev/pts/\d+)")
        path = p.match.group(1)
        time.sleep(1.5)  # QEMU reads the pty only about 1 s after starting
        yield path
    finally:
        p.terminate(force=True)


def mpremote(path, *args, timeout=60):
    r = subprocess.run(
        [MPREMOTE, "connect", path] + list(args),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert r.returncode == 0, "mpremote %s failed (%d):\n%s\n%s" % (
        " ".join(args),
        r.returncode,
        r.stdout,
        r.stderr,
    )
    return r.stdout.replace("\r", "")


def test_mpremote_exec_eval_run_resume_and_soft_reset(pty_board, tmp_path):
    path = pty_board
    # exec with mpremote's default soft reset: the kernel boots again, its services run.
    out = mpremote(path, "exec", "print(hal.info()['board'], 6 * 7)")
    assert re.search(r"\b42$", out.strip()), out
    assert mpremote(path, "eval", "40 + 2").strip() == "42"
    # run: raw-paste mode, a script larger than one flow-control window.
    script = tmp_path / "script.py"
    script.write_text(
        "total = 0\n"
        + "".join("total += %d\n" % i for i in range(400))
        + "print('total', total)\n"
    )
    assert "total %d" % sum(range(400)) in mpremote(path, "run", str(script))
    # resume: no soft reset, so a name set before survives.
    mpremote(path, "resume", "exec", "kept = 'still here'")
    assert "still here" in mpremote(path, "resume", "exec", "print(kept)")
    # default (soft reset): the namespace is fresh again, and the kernel is back up.
    out = mpremote(
        path,
        "exec",
        "print('kept' in globals(), [t.name for t in kernel.tasks() if t.name == 'heartbeat'])",
    )
    assert out.strip() == "False ['heartbeat']", out
