# Boot tests of what persists on the disk, on every board: the journal across a power-off
# and a SIGKILL (`log --boot -1`), a CPU fault's report moved into the journal at the next
# boot, `svc disable` kept, /boot.py and /main.py run (and skipped with Ctrl-C held), and
# the shell's file commands.
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import Console, new_image  # noqa: E402


def boot_on(board, name, img):
    c = Console(board, name, disk=img)
    return c, c.boot()


def test_journal_keeps_the_previous_boot_through_poweroff_and_sigkill(board, request, tmp_path):
    img = new_image(str(tmp_path / "disk.img"))
    c, _ = boot_on(board, request.node.name + "-1", img)
    try:
        c.cmd("py kernel.log('marker of boot one', 'warn')")
        assert c.poweroff() == 0
    finally:
        c.close()
    c, _ = boot_on(board, request.node.name + "-2", img)
    try:
        prev = c.cmd("log --boot -1")
        assert any(ln.endswith("warn: marker of boot one") for ln in prev), prev
        assert not any("marker" in ln for ln in c.cmd("log --boot")), "boot two has none"
        c.cmd("py kernel.log('info line just before the cut')")
        time.sleep(1.5)  # JOURNAL_FLUSH_MS: on disk within 1 s
        os.kill(c.p.pid, signal.SIGKILL)
    finally:
        c.close()
    c, _ = boot_on(board, request.node.name + "-3", img)
    try:
        prev = c.cmd("log --boot -1")
        assert any(ln.endswith("info: info line just before the cut") for ln in prev), prev
        assert c.cmd("log --boot -5") == ["log: no lines of boot -2 on disk (this boot is 3)"]
        assert c.poweroff() == 0
    finally:
        c.close()


def test_cpu_fault_report_lands_in_the_journal_at_next_boot(board, request, tmp_path):
    img = new_image(str(tmp_path / "disk.img"))
    c, _ = boot_on(board, request.node.name + "-1", img)
    try:
        c.send("py import uctypes; uctypes.bytearray_at(0x7ffff000, 4)[0]\r")
        c.expect(r"\*\*\* CPU (fault|exception)", exact=False)
        assert c.wait_exit() != 0
    finally:
        c.close()
    c, lines = boot_on(board, request.node.name + "-2", img)
    try:
        assert "[ WARN ] the previous boot crashed: 'log --boot -1' shows its report" in lines
        prev = c.cmd("log --boot -1")
        crash = [ln for ln in prev if ln.startswith("[crash] ")]
        assert crash and crash[0].startswith("[crash] *** CPU "), prev
        assert c.poweroff() == 0
    finally:
        c.close()
    c, lines = boot_on(board, request.node.name + "-3", img)  # moved once, not again
    try:
        assert not any("crashed" in ln for ln in lines), lines
        assert c.poweroff() == 0
    finally:
        c.close()


def test_disable_survives_reboot_and_boot_main_scripts_run(board, request, tmp_path):
    img = new_image(str(tmp_path / "disk.img"))
    c, lines = boot_on(board, request.node.name + "-1", img)
    try:
        assert "[  OK  ] Started heartbeat." in lines
        c.cmd("svc disable heartbeat")
        c.cmd("py f = open('/boot.py', 'w'); f.write('print(\"boot.py ran\")\\n'); f.close()")
        c.cmd("py f = open('/main.py', 'w'); f.write('print(\"main.py ran\")\\n'); f.close()")
        assert c.poweroff() == 0
    finally:
        c.close()
    c, lines = boot_on(board, request.node.name + "-2", img)
    try:
        assert "[  OK  ] Started heartbeat." not in lines, lines
        assert "boot.py ran" in lines and "main.py ran" in lines, lines
        assert lines.index("boot.py ran") < lines.index("main.py ran")
        assert "  type:     simple, restart on-failure, enabled no" in c.cmd(
            "svc status heartbeat"
        )
        assert "  origin:   frozen" in c.cmd("svc status heartbeat")
        c.send("reboot --no-scripts\r")
        lines = c.boot()
        assert "[ SKIP ] /boot.py and /main.py: reboot --no-scripts" in lines, lines
        assert "boot.py ran" not in lines and "main.py ran" not in lines, lines
        c.send("\x04")  # a plain soft reset: the scripts run again
        lines = c.boot()
        assert "boot.py ran" in lines and "main.py ran" in lines, lines
        assert c.poweroff() == 0
    finally:
        c.close()


def test_shell_file_commands(console):
    console.boot()
    assert console.cmd("mkdir /etc /etc/units") == []
    console.cmd("py f = open('/etc/motd', 'w'); f.write('line one\\nline two\\n'); f.close()")
    assert console.cmd("ls /etc") == ["        18 motd", "           units/"]
    assert console.cmd("cat /etc/motd") == ["line one", "line two"]
    assert console.cmd("cat /nope") == ["cat: /nope: ENOENT (no such file or directory)"]
    assert console.cmd("rm /etc/motd /etc/units") == []
    assert console.cmd("ls /etc") == []
    assert console.cmd("rm /etc/units") == ["rm: /etc/units: ENOENT (no such file or directory)"]
    df = console.cmd("df")
    assert df[0].split() == ["fs", "KiB", "used", "free", "use%", "on"], df
    assert df[1].split()[0] == "littlefs2" and df[1].split()[1] == "4092", df
    mount = console.cmd("mount")
    assert len(mount) == 1 and " on / type littlefs2 (4092 KiB, " in mount[0], mount
    for name in ("ls", "cat", "rm", "mkdir", "df", "mount"):
        assert console.cmd("help " + name)[0].startswith("usage: " + name), name
    # svc daemon-reload reads /etc/units again; a bad file is named with its field.
    console.cmd("mkdir /etc/units")
    unit = '{"exec": "services.heartbeat:main", "description": "Extra"}'
    console.cmd("py f = open('/etc/units/extra.json', 'w'); f.write(%r); f.close()" % unit)
    console.cmd("py f = open('/etc/units/bad.json', 'w'); f.write('{\"restart\": 7}'); f.close()")
    out = console.cmd("svc daemon-reload")
    assert out[-1] == "svc daemon-reload: 1 unit files loaded from /etc/units, 1 refused", out
    assert out[0].startswith("[FAILED] units: /etc/units/bad.json: unit bad: "), out
    assert "  origin:   /etc/units/extra.json" in console.cmd("svc status extra")
    assert console.poweroff() == 0


FILL = (
    "py exec('def fill():\\n"
    " n = 0\\n"
    " try:\\n"
    "  while True:\\n"
    '   with open("/fill", "ab") as f: f.write(bytes(16384))\\n'
    "   n += 1\\n"
    " except OSError as e:\\n"
    "  return n, e.args[0]\\n'); print('filled', fill())"
)


def test_disk_full_gives_enospc_and_a_journal_line(console):
    console.boot()
    out = [ln for ln in console.cmd(FILL) if ln.startswith("filled")]
    assert out and out[0].endswith(", 28)"), out  # OSError(ENOSPC) to the writer
    deadline = time.monotonic() + 15  # journald looks every FS_FULL_CHECK_TICKS (10 s)
    while time.monotonic() < deadline:
        if any("storage: / is full" in ln for ln in console.cmd("log -n 50")):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(console.tail())
    assert console.cmd("rm /fill") == []
    assert console.cmd("py open('/after', 'w').write('ok')") == ["2"]
    assert console.cmd("echo alive") == ["alive"]
    assert console.poweroff() == 0
