# Boot tests of config and metrics: the real firmware in QEMU with a boot command line
# (QEMU -append: multiboot on x86_64, semihosting on ARM), driven with `config` and
# `metrics` over the serial console, on every board in MULTIOS_BOARDS.
import time

import pytest
from console import Console

BEATS = "py __import__('services.heartbeat').heartbeat.beats"


@pytest.fixture
def booted(board, request):
    c = Console(
        board,
        request.node.name.replace("/", "_"),
        extra_args=["-append", "quiet heartbeat.period_ms=50 ghost.x=1"],
    )
    yield c
    c.close()


def test_boot_command_line_config_set_and_metrics(booted):
    c = booted
    c.boot()
    assert c.cmd("py hal.cmdline()")[-1].endswith("quiet heartbeat.period_ms=50 ghost.x=1'")
    assert c.cmd("config get heartbeat") == [
        "heartbeat: config v1",
        "  period_ms        = 50  (cmdline)",
    ]
    before = int(c.cmd(BEATS)[-1])
    time.sleep(0.5)
    assert int(c.cmd(BEATS)[-1]) >= before + 4  # 50 ms beats from the command line
    assert c.cmd("config set heartbeat period_ms abc") == [
        "config set: config heartbeat: 'period_ms' must be an int in 10..60000, got 'abc'"
        " (kept previous config)"
    ]
    assert c.cmd("config set heartbeat period_ms 2000") == [
        "heartbeat: config v2: period_ms 50 -> 2000"
    ]
    time.sleep(0.2)  # the beat in flight ends; on_config applied the new period, no restart
    n = int(c.cmd(BEATS)[-1])
    time.sleep(0.5)
    assert int(c.cmd(BEATS)[-1]) == n
    assert c.cmd("config history heartbeat")[1].endswith("v2: update: period_ms 50 -> 2000")
    assert c.cmd("config rollback heartbeat 1") == ["heartbeat: config v3 (= v1)"]
    assert c.cmd("config get heartbeat period_ms") == ["50"]
    time.sleep(1.2)  # at least one metrics sample
    out = c.cmd("metrics heartbeat")
    assert out[0].split() == ["SERIES", "KIND", "VALUE", "P50", "P90", "P99"], out
    rows = {line.split()[0]: line.split()[1:] for line in out[1:-1]}
    assert rows["starts"][:2] == ["counter", "1"], out
    assert rows["cpu_pct"][0] == "gauge" and int(rows["alloc_b"][1]) > 0, out
    assert out[-1].startswith("availability: 100.0% 1 min, 100.0% 1 h, 100.0% since enabled"), out
    assert c.cmd("alerts") == ["alerts: none firing ('alerts -a': resolved too)"]
    assert c.poweroff() == 0


def test_config_file_on_the_disk_survives_a_reboot(board, tmp_path):
    from console import new_image

    disk = new_image(str(tmp_path / "disk.img"))
    c = Console(board, "config-file-" + board, disk=disk)
    try:
        c.boot()
        c.cmd("py import os")
        c.cmd("py [os.mkdir(d) for d in ('/etc', '/etc/config')]")
        c.cmd("py f = open('/etc/config/heartbeat.json', 'w')")
        c.cmd("py f.write('{\"period_ms\": 250}'); f.close()")  # on disk at close()
        c.send("reboot\r")
        c.expect("[  OK  ] Started heartbeat.")
        c.expect("multios> ")
        assert c.cmd("config get heartbeat") == [
            "heartbeat: config v1",
            "  period_ms        = 250  (file)",
        ]
        assert c.poweroff() == 0
    finally:
        c.close()
