# tools/console.py: drive MultiOS in QEMU over its serial console (boot tests, benchmarks).
#
# One Console per test, one deadline per test (every wait spends from it), exact lines.
# Every failure raises with the last console lines; the whole console log is saved under
# build/<board>/boot-logs/<test>.log.
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time

import pexpect

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = "multios> "
CONSOLE_ARGS = ["-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con"]
DISK_MB = 4  # size of a fresh test image (the Makefile's DISK_MB default)
FRESH = "fresh"  # Console(disk=FRESH): a new blank image in a temp dir, removed at close
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def qemu_command(board):
    """The board's QEMU command line, from its board.mk, through the Makefile."""
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "qemu-cmd", "BOARD=" + board],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return shlex.split(out.strip()) + CONSOLE_ARGS


def nic_model(board):
    """The board's QEMU NIC model (board.mk QEMU_NIC), "" for a board without a driver."""
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "qemu-nic", "BOARD=" + board],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def disk_args(board, path):
    """QEMU's arguments that attach the image at `path` on `board` (board.mk's QEMU_DISK)."""
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "qemu-disk", "BOARD=" + board, "DISK=" + path],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return shlex.split(out.strip())


def one_append(cmd):
    """QEMU keeps only the last -append: join every -append's text into one (the ARM disk's
    `disk=PATH` and a test's config tokens share the kernel command line)."""
    texts = [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "-append"]
    if len(texts) < 2:
        return cmd
    out = []
    skip = False
    for i, a in enumerate(cmd):
        if skip:
            skip = False
        elif a == "-append" and i + 1 < len(cmd):
            skip = True
        else:
            out.append(a)
    return out + ["-append", " ".join(texts)]


def new_image(path, size_mb=DISK_MB):
    """A blank (all zero, sparse) raw image, as `make run` creates."""
    with open(path, "wb") as f:
        f.truncate(size_mb << 20)
    return path


class ConsoleError(AssertionError):
    pass


class Console:
    def __init__(self, board, name, budget_s=60.0, extra_args=(), disk=FRESH):
        """disk: FRESH (a new blank image of this test's own), a path (kept), or None."""
        self.board = board
        self.tmp = None
        if disk == FRESH:
            self.tmp = tempfile.mkdtemp(prefix="multios-disk-")
            disk = new_image(os.path.join(self.tmp, "disk.img"))
        self.disk = disk
        self.deadline = time.monotonic() + budget_s
        log_dir = os.path.join(REPO, "build", board, "boot-logs")
        os.makedirs(log_dir, exist_ok=True)
        self.log_path = os.path.join(log_dir, name + ".log")
        self.log = open(self.log_path, "w", encoding="utf-8", errors="replace")
        cmd = one_append(
            qemu_command(board) + (disk_args(board, disk) if disk else []) + list(extra_args)
        )
        self.started = time.monotonic()
        self.p = pexpect.spawn(
            cmd[0], cmd[1:], cwd=REPO, encoding="utf-8", codec_errors="replace", timeout=None
        )
        self.p.delaybeforesend = None
        self.p.logfile_read = self.log
        self.seen = ""  # everything read so far, for error reports

    # ---- waiting ----

    def remaining(self):
        return max(0.0, self.deadline - time.monotonic())

    def tail(self, n=25):
        self.log.flush()
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            lines = f.read().replace("\r", "").split("\n")
        return "\n".join(lines[-n:])

    def fail(self, what):
        raise ConsoleError(
            "%s on %s; last console lines (full log %s):\n%s"
            % (what, self.board, self.log_path, self.tail())
        )

    def expect(self, pattern, exact=True):
        """Wait for `pattern` (exact text by default); returns the text before it."""
        try:
            if exact:
                self.p.expect_exact(pattern, timeout=self.remaining())
            else:
                self.p.expect(pattern, timeout=self.remaining())
        except pexpect.TIMEOUT:
            self.fail("timed out waiting for %r" % pattern)
        except pexpect.EOF:
            self.fail("QEMU exited while waiting for %r" % pattern)
        return self.p.before

    def expect_line(self, line):
        """Wait for a whole console line equal to `line`."""
        self.expect("\n" + line + "\r")

    # ---- the shell ----

    def boot(self):
        """Wait for the prompt after boot; returns the boot text as clean lines."""
        text = self.expect(PROMPT)
        return clean(text)

    def send(self, data):
        self.p.send(data)

    def cmd(self, line):
        """Run a shell command; returns its output lines (without echo and prompt)."""
        self.p.send(line + "\r")
        self.expect(line)  # the echo
        out = self.expect(PROMPT)
        return clean(out)

    def cmd_until(self, line, want, pause_s=0.1):
        """Run `line` until want(output lines) holds, within the one deadline; returns the
        lines. On failure the last output and the console's last lines are shown."""
        while True:
            out = self.cmd(line)
            if want(out):
                return out
            if self.remaining() <= pause_s:
                self.fail("%r never gave what was wanted; last output %r" % (line, out))
            time.sleep(pause_s)

    def poweroff(self, command="poweroff"):
        """Power off through the shell and return QEMU's exit status."""
        self.p.send(command + "\r")
        return self.wait_exit()

    def wait_exit(self):
        try:
            self.p.expect(pexpect.EOF, timeout=self.remaining())
        except pexpect.TIMEOUT:
            self.fail("QEMU did not exit")
        self.p.close()
        return self.p.exitstatus

    def close(self):
        if self.p.isalive():
            self.p.terminate(force=True)
        self.log.close()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def clean(text):
    """Console text to lines: no CR, no ANSI sequences, no trailing blanks."""
    text = ANSI.sub("", text.replace("\r", ""))
    return [ln.rstrip() for ln in text.split("\n") if ln.strip()]
