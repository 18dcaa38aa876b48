# Tests for kernel/storage and the C block device (boards/common/disk.c) on the unix port:
# littlefs formats a blank disk and only a blank one, persists across remounts (a fresh
# VfsLfs2 on the same bytes, as after a reboot), fills up with ENOSPC and still mounts; the
# C `_hal.Disk` on an image file merges partial sectors, bounds its region, keeps crash
# reports.
import os

import _hal
from storagefakes import DiskHal, RamDisk

from kernel import params, storage

MNT = "/t"


def _mount(dev, say=None):
    lines = []
    r = storage.mount_root(DiskHal(dev), say or lines.append, path=MNT)
    return r, lines


def _umount():
    os.umount(MNT)


def test_blank_disk_is_formatted_once_and_files_persist():
    dev = RamDisk()
    r, lines = _mount(dev)
    assert r.state == storage.FORMATTED
    assert lines == ["[  OK  ] storage: blank disk ramdisk formatted (littlefs v2, 256 KiB)"]
    with open(MNT + "/a.txt", "w") as f:
        f.write("kept")
    os.mkdir(MNT + "/etc")
    _umount()
    r, lines = _mount(RamDisk(data=dev.data))  # a new VM over the same bytes
    assert r.state == storage.MOUNTED and lines == []
    with open(MNT + "/a.txt") as f:
        assert f.read() == "kept"
    assert sorted(os.listdir(MNT)) == ["a.txt", "etc"]
    _umount()


def test_disk_that_does_not_mount_is_left_alone():
    dev = RamDisk()
    for i in range(0, 3 * 4096, 7):
        dev.data[i] = (i * 31) & 0xFF  # not blank, not littlefs
    before = bytes(dev.data)
    r, lines = _mount(dev)
    assert r.state == storage.FAILED and r.vfs is None
    assert len(lines) == 1
    assert lines[0].startswith("[FAILED] storage: ramdisk does not mount (")
    assert lines[0].endswith("): booting without /t, image left as it is")
    assert bytes(dev.data) == before and dev.writes == 0


def test_no_disk():
    from shellfakes import FakeHal

    r = storage.mount_root(FakeHal(), None, path=MNT)
    assert r.state == storage.NO_DISK and not storage.mounted()


def test_blank_is_all_zero_or_all_ff_only():
    dev = RamDisk()
    assert storage.is_blank(dev)
    dev.data[:] = b"\xff" * len(dev.data)
    assert storage.is_blank(dev)
    dev.data[params.FS_BLANK_CHECK_B - 1] = 0
    assert not storage.is_blank(dev)


def test_full_disk_raises_enospc_and_still_mounts():
    dev = RamDisk(blocks=16)
    _mount(dev)
    with open(MNT + "/keep", "w") as f:
        f.write("x" * 100)
    chunk = b"y" * 1024
    try:
        with open(MNT + "/big", "wb") as f:
            for _ in range(1000):
                f.write(chunk)
        raise AssertionError("no ENOSPC")
    except OSError as e:
        assert e.args[0] == storage.ENOSPC, e
    _umount()
    r, _ = _mount(RamDisk(blocks=16, data=dev.data))
    assert r.state == storage.MOUNTED
    with open(MNT + "/keep") as f:
        assert f.read() == "x" * 100
    os.remove(MNT + "/big")
    total, used, free = storage.statvfs(MNT)
    assert total == 16 * 4096 and free > total // 2
    _umount()


def _c_disk(kib=256):
    tmp = "/tmp/multios-unit-disk-%08x.img" % _hal.random_u32()
    with open(tmp, "wb") as f:
        f.write(bytes(kib * 1024))
    os.putenv("MULTIOS_DISK", tmp)  # read by board_unix.c on the first disk call
    return tmp


def test_c_disk_merges_partial_sectors_and_bounds_its_region():
    path = _c_disk()
    try:
        info = _hal.disk_info()
        assert info["sectors"] == 512 and info["fs_sectors"] == 512 - 8
        d = _hal.Disk(4096)
        assert d.ioctl(4, 0) == (512 - 8) // 8 and d.ioctl(5, 0) == 4096
        assert d.writeblocks(1, b"abc", 510) == 0  # straddles two sectors
        buf = bytearray(7)
        assert d.readblocks(1, buf, 508) == 0
        assert bytes(buf) == b"\0\0abc\0\0"
        assert _hal.disk_info()["merges"] == 2
        last = d.ioctl(4, 0) - 1
        assert d.readblocks(last, bytearray(4096), 0) == 0
        assert d.readblocks(last, bytearray(4097), 0) == -5  # past the region: EIO
        with open(path, "rb") as f:
            f.seek(4096 + 510)
            assert f.read(3) == b"abc"
    finally:
        os.remove(path)


def test_c_disk_crash_region_round_trip_and_littlefs_on_it():
    path = _c_disk()
    try:
        assert _hal.crash_read() is None
        _hal.crash_put("*** CPU fault: test ***\r\n pc=1234")
        assert _hal.crash_read() == b"*** CPU fault: test ***\r\n pc=1234"
        fs = storage.make_vfs(_hal.Disk(4096), fmt=True)
        os.mount(fs, MNT)
        with open(MNT + "/f", "w") as f:
            f.write("on the C disk")
        _umount()
        assert _hal.crash_read() is not None  # littlefs stays out of the crash region
        _hal.crash_clear()
        assert _hal.crash_read() is None
        os.mount(storage.make_vfs(_hal.Disk(4096)), MNT)
        with open(MNT + "/f") as f:
            assert f.read() == "on the C disk"
        _umount()
    finally:
        os.remove(path)
