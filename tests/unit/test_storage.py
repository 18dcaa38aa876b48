# Tests for kernel/storage and the C block device (boards/common/disk.c) on the unix port:
# littlefs formats a blank disk and only a blank one, persists across remounts (a fresh
# VfsLfs2 on the same bytes, as after a reboot), fills up with ENOSPC and still mounts; the
# C `_hal.Disk` on an image file merges partial sectors, bounds its region, keeps crash
# reports; the allocator's free count needs no walk, metadata pairs are bounded (a commit in
# a big directory reads a quarter of what it did), storage.write() yields between pieces.
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


def test_lookahead_covers_the_whole_disk():
    assert storage.lookahead_b(16) == params.FS_LOOKAHEAD_B
    assert storage.lookahead_b(1023) == 128  # the 4 MiB disk: one bit a block
    assert storage.lookahead_b(1025) == 136  # a multiple of 8 bytes, as littlefs needs
    assert storage.lookahead_b(8191) == 1024


def test_free_blocks_is_the_allocators_count_and_reads_nothing():
    dev = RamDisk(blocks=64)
    _mount(dev)
    total, used, free = storage.statvfs(MNT)
    assert total == 64 * 4096 and storage.free_blocks() * 4096 == free
    with open(MNT + "/big", "wb") as f:
        f.write(bytes(5 * 4096))
    reads = dev.reads
    after = storage.free_blocks()
    assert dev.reads == reads  # no walk: the allocator's bitmap
    assert after <= free // 4096 - 5
    os.remove(MNT + "/big")
    assert storage.free_blocks() == after  # a lower bound: freed blocks show after a scan
    reads = dev.reads
    total, used, free = storage.statvfs(MNT)  # the scan: one walk, exact again
    assert dev.reads > reads and storage.free_blocks() * 4096 == free
    assert free // 4096 >= after + 5
    _umount()


def test_metadata_pairs_are_bounded_so_a_commit_in_a_big_directory_stays_cheap():
    def commit_cost(metadata_max):
        dev = RamDisk(blocks=128)
        _mount(dev)
        _hal.lfs_tune(storage.root.vfs, metadata_max)
        os.mkdir(MNT + "/d")
        for i in range(120):  # inline files: all in the directory's metadata
            with open(MNT + "/d/file-with-a-long-name-%d" % i, "w") as f:
                f.write("x" * 40)
        worst = 0
        for i in range(20):
            b = dev.read_b
            with open(MNT + "/d/more-%d" % i, "w") as f:
                f.write("y" * 40)
            worst = max(worst, dev.read_b - b)
        _umount()
        return worst

    bounded = commit_cost(params.FS_METADATA_MAX_B)
    unbounded = commit_cost(0)  # littlefs' default: the whole 4 KiB block
    assert params.FS_METADATA_MAX_B == 1024
    assert bounded * 4 < unbounded, (bounded, unbounded)


def test_lfs_calls_check_their_argument():
    dev = RamDisk()
    _mount(dev)
    fs = storage.root.vfs
    for bad in (100, 4097, 1000):  # below 2 progs, above the block, not whole progs
        try:
            _hal.lfs_tune(fs, bad)
            raise AssertionError(bad)
        except ValueError:
            pass
    _umount()
    try:
        _hal.lfs_free(dev)
        raise AssertionError("not a VfsLfs2")
    except TypeError:
        pass


async def test_storage_write_lets_other_tasks_step_between_pieces():
    from kernel.traps import yield_

    class File:
        def __init__(self):
            self.pieces = []

        def write(self, b):
            self.pieces.append((bytes(b), ticks[0]))
            return len(b)

    ticks = [0]

    async def other():
        while True:
            ticks[0] += 1
            await yield_()

    from kernel import sched

    o = sched.running().spawn(other(), "other")
    f = File()
    data = bytes(range(256)) * 40  # 10240 bytes: 4096 + 4096 + 2048
    assert await storage.write(f, data) == len(data)
    o.cancel()
    assert [len(p) for p, _ in f.pieces] == [4096, 4096, 2048]
    assert b"".join(p for p, _ in f.pieces) == data
    seen = [t for _, t in f.pieces]
    assert seen[0] < seen[1] < seen[2], seen  # the other task stepped between pieces


def test_a_scan_is_due_once_half_the_known_free_space_is_used():
    dev = RamDisk(blocks=64)
    _mount(dev)
    first = storage.root.scan_free
    assert first == storage.free_blocks() and not storage.scan_due()
    n = 0
    while not storage.scan_due():
        with open(MNT + "/f%d" % n, "wb") as f:
            f.write(bytes(4096))
        n += 1
    assert storage.free_blocks() * 2 < first
    assert n >= first // 2 - 4  # not before: about one block per file, plus metadata
    for i in range(n):
        os.remove(MNT + "/f%d" % i)
    assert storage.scan() >= first - 2 and not storage.scan_due()  # the freed blocks are back
    _umount()
