# Boot tests: the console cannot be taken down by user code, and a soft reset is a fresh VM.
#
# Driven the way MicroPython's own tools drive a board: tools/pyboard.py from the fetched
# MicroPython source (build/micropython/tools, read at test time) over a QEMU pty, raw REPL
# and Ctrl-D soft resets. Each scenario leaves some state behind (overridden builtins, a
# broken sys.modules, a locked or full heap, a task that never ends, a service that never
# stops), checks that the raw REPL and the shell still answer, then soft-resets and checks a
# fresh VM. MicroPython's basics/builtin_override.py is read from build/micropython/tests.
# One QEMU per board serves the module (a fresh one after a failure); one deadline per test;
# a failure shows the last console lines (the whole console is in build/<board>/boot-logs/).
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import CONSOLE_ARGS, REPO, ConsoleError, qemu_command  # noqa: E402

MPY = os.path.join(REPO, "build", "micropython")
sys.path.insert(0, os.path.join(MPY, "tools"))
import pyboard  # noqa: E402

BUDGET_S = 60.0  # one deadline per test
BANNER = b"raw REPL; CTRL-B to exit\r\n"
# A fresh VM: pristine builtins, imports work, the kernel and its services are back, and
# nothing of the last session is left in the namespace.
FRESH = (
    "import sys\n"
    "print(abs(-1), __import__('sys') is sys, sys.modules['kernel'] is kernel,"
    " 'left' in globals(), 'heartbeat' in [t.name for t in kernel.tasks()])\n"
)
FRESH_OUT = b"1 True True False True\r\n"


class Tee:
    """pyboard's serial, with every byte read also logged (and kept for failure reports)."""

    def __init__(self, serial, log):
        self._s = serial
        self._log = log
        self.seen = bytearray()

    def read(self, n=1):
        data = self._s.read(n)
        self._log.write(data)
        self.seen += data
        return data

    def __getattr__(self, name):
        return getattr(self._s, name)


class Board:
    """One QEMU with its console on a pty, driven through pyboard.Pyboard."""

    def __init__(self, board):
        self.board = board
        cmd = [a for a in qemu_command(board) if a not in CONSOLE_ARGS] + ["-serial", "pty"]
        self.p = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        line = self.p.stdout.readline()
        m = re.search(r"(/dev/pts/\d+)", line)
        if m is None:
            self.p.kill()
            raise ConsoleError("no pty from QEMU: %r" % line)
        time.sleep(1.5)  # QEMU reads the pty only about 1 s after starting
        self.pyb = pyboard.Pyboard(m.group(1))
        self.pyb.serial.timeout = 10  # pyboard's reads block forever otherwise
        log_dir = os.path.join(REPO, "build", board, "boot-logs")
        os.makedirs(log_dir, exist_ok=True)
        self.log_path = os.path.join(log_dir, "console_safe.log")
        self.log = open(self.log_path, "ab", buffering=0)
        self.tee = Tee(self.pyb.serial, self.log)
        self.pyb.serial = self.tee
        self.deadline = 0.0
        self.failed = False  # a wait failed: the next test gets a fresh QEMU

    def start_test(self, name):
        self.deadline = time.monotonic() + BUDGET_S
        self.log.write(("\n==== %s ====\n" % name).encode())

    def remaining(self):
        return max(0.5, self.deadline - time.monotonic())

    def fail(self, what):
        self.failed = True
        self.log.flush()
        tail = bytes(self.tee.seen[-1500:]).decode("utf-8", "replace").replace("\r", "")
        raise ConsoleError(
            "%s on %s; last console bytes (full log %s):\n%s"
            % (what, self.board, self.log_path, "\n".join(tail.split("\n")[-25:]))
        )

    def run(self, src, reset=True, timeout=10):
        """Executes src in the raw REPL (after a soft reset unless reset=False) -> (out, err)."""
        try:
            if reset:
                self.pyb.enter_raw_repl()
            return self.pyb.exec_raw(src, timeout=min(timeout, self.remaining()))
        except pyboard.PyboardError as e:
            self.fail("raw REPL: %s, running %r" % (e, src[:60]))

    def read_until(self, ending, timeout=10):
        data = self.pyb.read_until(1, ending, timeout=min(timeout, self.remaining()))
        if not data.endswith(ending):
            self.fail("timed out waiting for %r" % ending)
        return data

    def expect_fresh(self):
        """A soft reset, then a fresh VM in the raw REPL."""
        out, err = self.run(FRESH)
        if (out, err) != (FRESH_OUT, b""):
            self.fail("not a fresh VM after the soft reset: %r %r" % (out, err))

    def shell(self, line):
        """Leaves the raw REPL for the shell, runs one command, comes back -> its output."""
        self.pyb.exit_raw_repl()
        self.read_until(b"multios> ")
        self.pyb.serial.write(line.encode() + b"\r")
        out = self.read_until(b"multios> ")
        self.pyb.serial.write(b"\x01")  # back to the raw REPL, no reset
        self.read_until(BANNER)  # its ">" is left for pyboard's next exec
        return out.decode("utf-8", "replace").replace("\r", "")

    def close(self):
        try:
            self.pyb.close()
        finally:
            self.p.kill()
            self.p.wait()
            self.log.close()


@pytest.fixture(scope="module")
def boards():
    running = {}
    yield running
    for b in running.values():
        b.close()


@pytest.fixture
def rb(board, boards, request):
    """The board's QEMU (started on first use, restarted after a test that failed on it)."""
    b = boards.get(board)
    if b is None:
        b = boards[board] = Board(board)
    b.start_test(request.node.name)
    yield b
    if b.failed:
        boards.pop(board).close()


def cpython_output(path):
    """What CPython prints for a MicroPython test file (as run-tests.py compares it)."""
    r = subprocess.run([sys.executable, path], capture_output=True, check=True)
    return r.stdout.replace(b"\n", b"\r\n")


def test_builtin_override_then_a_fresh_vm(rb):
    # MicroPython's own test replaces builtins.__import__ (and abs, __build_class__) and
    # leaves it so: our raw REPL and the soft reset must not go through it.
    path = os.path.join(MPY, "tests", "basics", "builtin_override.py")
    with open(path) as f:
        src = f.read()
    out, err = rb.run(src)
    assert (out, err) == (cpython_output(path), b""), (out, err)
    out, err = rb.run("print(abs(1), A)\nimport nothing_real", reset=False)  # still theirs
    assert out.startswith(b"2 ('class', 'A')\r\nimport nothing_real None 0"), (out, err)
    assert "up 00:" in rb.shell("uptime")
    rb.expect_fresh()


@pytest.mark.parametrize(
    "src",
    [
        "import sys\nsys.modules['kernel'] = None\nleft = 1",
        "import sys\ndel sys.modules['kernel']\ndel sys.modules['services.shell']\nleft = 1",
        "import builtins\nbuiltins.__import__ = None\nleft = 1",
        "import builtins\nfor n in ('len', 'isinstance', 'print', 'repr', 'range', 'type'):\n"
        "    setattr(builtins, n, None)\nleft = 1",
    ],
    ids=["modules-kernel-none", "modules-deleted", "import-none", "builtins-none"],
)
def test_broken_imports_or_builtins_then_a_fresh_vm(rb, src):
    assert rb.run(src) == (b"", b"")
    out, err = rb.run("print('still', 6 * 7)", reset=False)
    assert out == b"still 42\r\n" or err, (out, err)  # answered (their print may be None)
    assert "up 00:" in rb.shell("uptime")
    assert "heartbeat" in rb.shell("ps")
    rb.expect_fresh()


def test_heap_left_locked(rb):
    assert rb.run("import micropython\nleft = 1\nmicropython.heap_lock()") == (b"", b"")
    # The heap is unlocked after user code, as after a line in MicroPython's REPL.
    assert rb.run("print([n for n in range(3)])", reset=False) == (b"[0, 1, 2]\r\n", b"")
    assert "free" in rb.shell("help free")
    rb.expect_fresh()


def test_heap_filled_by_a_global_list(rb):
    fill = (
        "left = []\n"
        "n = 1 << 20\n"
        "while n >= 16:\n"
        "    try:\n"
        "        left.append(bytearray(n))\n"
        "    except MemoryError:\n"
        "        n //= 2\n"
        "print('full')\n"
    )
    out, err = rb.run(fill, timeout=30)
    assert out.startswith(b"full") or b"MemoryError" in err, (out, err)
    out, err = rb.run("print(len(left) > 0)", reset=False)  # answered: a result or an error
    assert out == b"True\r\n" or b"MemoryError" in err or b"heap full" in err, (out, err)
    rb.expect_fresh()
    assert "heap:" in rb.shell("free")


def test_task_that_never_ends(rb):
    src = (
        "async def forever():\n"
        "    while True:\n"
        "        await kernel.sleep_ms(5)\n"
        "left = kernel.spawn(forever(), 'forever')\n"
    )
    assert rb.run(src) == (b"", b"")
    assert "forever" in rb.shell("ps")  # it runs, and the shell answers
    out = rb.run("print(left.state_name() in ('sleeping', 'ready'))", reset=False)
    assert out == (b"True\r\n", b""), out
    rb.expect_fresh()
    assert rb.run("print([t.name for t in kernel.tasks() if t.name == 'forever'])", False) == (
        b"[]\r\n",
        b"",
    )


def test_ctrl_c_interrupts_a_busy_loop(rb):
    rb.pyb.enter_raw_repl()
    rb.pyb.exec_raw_no_follow("left = 0\nwhile True:\n    left += 1\n")
    time.sleep(0.5)
    rb.pyb.serial.write(b"\x03")
    out, err = rb.pyb.follow(timeout=rb.remaining())
    assert b"KeyboardInterrupt" in err, (out, err)
    assert rb.run("print(left > 0)", reset=False) == (b"True\r\n", b"")
    assert "up 00:" in rb.shell("uptime")
    rb.expect_fresh()


def test_service_that_never_stops_is_torn_down_after_2_s(rb):
    # Cancelled at the soft reset, it swallows that and every watchdog hit in a loop that
    # never yields: no Python code runs again. The C HAL tears the VM down at 2 s.
    src = (
        "async def stuck():\n"
        "    try:\n"
        "        await kernel.sleep_ms(100000)\n"
        "    finally:\n"
        "        while True:\n"
        "            try:\n"
        "                while True:\n"
        "                    pass\n"
        "            except BaseException:\n"
        "                pass\n"
        "kernel.create_service({'name': 'stuck', 'exec': stuck})\n"
        "kernel.start_service('stuck')\n"
    )
    assert rb.run(src) == (b"", b"")
    assert "stuck" in rb.shell("svc list")
    start = time.monotonic()
    rb.pyb.serial.write(b"\x04")  # Ctrl-D at the raw REPL's prompt: soft reset
    rb.read_until(b"soft reboot\r\n")
    text = rb.read_until(BANNER)
    took = time.monotonic() - start
    assert b"soft reset: the services did not stop in time, VM torn down\r\n" in text, text
    assert 2.0 <= took < 30.0, took  # 2 s, then a boot (slow when the machine is busy)
    out, err = rb.run(FRESH, reset=False)
    assert (out, err) == (FRESH_OUT, b""), (out, err)
