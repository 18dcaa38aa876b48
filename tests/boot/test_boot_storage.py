# Boot tests of storage on every board: a blank image is formatted at first boot, files
# survive a power-off, an image that does not mount is left untouched, the board boots
# without a disk, and mpremote's `fs` commands and `mount` work against the firmware.
import hashlib
import os
import subprocess
import sys
import time

import pexpect

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import REPO, Console, disk_args, new_image, qemu_command  # noqa: E402

MPREMOTE = os.path.join(REPO, ".venv", "bin", "mpremote")
FORMATTED = "[  OK  ] storage: blank disk "


def boot_on(board, name, disk):
    c = Console(board, name, disk=disk)
    return c, c.boot()


def test_format_once_and_files_survive_poweroff(board, request, tmp_path):
    img = new_image(str(tmp_path / "disk.img"))
    c, lines = boot_on(board, request.node.name + "-1", img)
    try:
        assert any(ln.startswith(FORMATTED) and "formatted (littlefs v2" in ln for ln in lines)
        c.cmd("py import os; f = open('/note.txt', 'w')")
        c.cmd("py f.write('written on %s' % hal.info()['board']); f.close(); os.mkdir('/etc')")
        assert c.cmd("py sorted(os.listdir('/'))") == ["['etc', 'note.txt', 'var']"]
        assert c.poweroff() == 0
    finally:
        c.close()
    c, lines = boot_on(board, request.node.name + "-2", img)
    try:
        assert not any(ln.startswith(FORMATTED) for ln in lines), lines
        assert c.cmd("py open('/note.txt').read()") == ["'written on %s'" % board]
        assert c.poweroff() == 0
    finally:
        c.close()


def test_image_that_does_not_mount_is_left_alone(board, request, tmp_path):
    img = str(tmp_path / "junk.img")
    with open(img, "wb") as f:
        f.write(bytes(range(256)) * (4 * 4096))  # 4 MiB, neither blank nor littlefs
    digest = hashlib.sha256(open(img, "rb").read()).hexdigest()
    c, lines = boot_on(board, request.node.name, img)
    try:
        failed = [ln for ln in lines if ln.startswith("[FAILED] storage: ")]
        assert len(failed) == 1, lines
        assert "does not mount" in failed[0] and "booting without /" in failed[0], failed
        assert c.cmd("echo still up") == ["still up"]
        assert c.poweroff() == 0
    finally:
        c.close()
    assert hashlib.sha256(open(img, "rb").read()).hexdigest() == digest


def test_boots_without_a_disk(board, request):
    c, lines = boot_on(board, request.node.name, None)
    try:
        assert not any("storage" in ln for ln in lines), lines
        assert c.cmd("py kernel.storage.root.reason") == [
            "'no disk on this board (DISK=none, or none attached)'"
        ]
        assert c.poweroff() == 0
    finally:
        c.close()


def mpremote(pty, *args):
    r = subprocess.run(
        [MPREMOTE, "connect", pty] + list(args),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, "mpremote %s failed (%d):\n%s\n%s" % (
        " ".join(args),
        r.returncode,
        r.stdout,
        r.stderr,
    )
    return r.stdout.replace("\r", "")


def test_mpremote_fs_and_mount(board, tmp_path):
    img = new_image(str(tmp_path / "disk.img"))
    cmd = qemu_command(board)
    cmd = cmd[: cmd.index("-chardev")] + disk_args(board, img) + ["-serial", "pty"]
    p = pexpect.spawn(cmd[0], cmd[1:], cwd=REPO, encoding="utf-8", timeout=30)
    try:
        p.expect(r"char device redirected to (/dev/pts/\d+)")
        pty = p.match.group(1)
        time.sleep(1.5)  # QEMU reads the pty only about 1 s after starting
        src = tmp_path / "hello.py"
        src.write_text("print('hello from the disk', 6 * 7)\n")
        mpremote(pty, "fs", "mkdir", ":lib")
        mpremote(pty, "fs", "cp", str(src), ":lib/hello.py")
        mpremote(pty, "fs", "cp", str(src), ":top.py")
        assert "hello.py" in mpremote(pty, "fs", "ls", ":lib")
        assert mpremote(pty, "fs", "cat", ":lib/hello.py") == src.read_text()
        assert "hello from the disk 42" in mpremote(pty, "exec", "import hello")  # from /lib
        back = tmp_path / "back.py"
        mpremote(pty, "fs", "cp", ":top.py", str(back))
        assert back.read_text() == src.read_text()
        mpremote(pty, "fs", "rm", ":top.py")
        assert "top.py" not in mpremote(pty, "fs", "ls")
        remote = tmp_path / "remote"
        remote.mkdir()
        (remote / "rmod.py").write_text("print('remote', 7 * 6)\n")
        out = mpremote(pty, "mount", str(remote), "exec", "import rmod")
        assert "remote 42" in out, out
        # A unit file dropped in /etc/units starts at the next boot (mpremote's soft reset).
        unit = tmp_path / "hello.json"
        unit.write_text('{"exec": "services.heartbeat:main", "enabled": true}')
        mpremote(pty, "fs", "mkdir", ":etc")
        mpremote(pty, "fs", "mkdir", ":etc/units")
        mpremote(pty, "fs", "cp", str(unit), ":etc/units/hello.json")
        probe = "s = kernel.svc.service('hello'); print(s.state_name(), s.unit.origin)"
        out = mpremote(pty, "exec", probe)
        assert out.split()[-1] == "/etc/units/hello.json", out
        assert out.split()[-2] in ("active", "activating"), out
    finally:
        p.terminate(force=True)
