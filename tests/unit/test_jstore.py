# Tests for kernel/jstore: the journal on disk (littlefs on a RAM disk at /t): boot ids,
# lines per boot, rotation within its bound, urgent lines on disk at once, a full disk that
# drops the oldest file, a write error that never raises, crash reports moved in once.
import os

from storagefakes import DiskHal, RamDisk

from kernel import jstore, storage

MNT = "/t"
D = MNT + "/var/log"


def _mount(blocks=64, data=None):
    storage.mount_root(DiskHal(RamDisk(blocks=blocks, data=data)), None, path=MNT)


def _on_disk(js, boot):
    return jstore.JStore(D, js.files, js.file_b).boot_lines(boot)


def test_boot_ids_count_up_and_lines_stay_with_their_boot():
    _mount()
    try:
        a = jstore.JStore(D)
        assert a.open() == 1
        a.add("[    0.001] info: first boot")
        a.flush()
        b = jstore.JStore(D)
        assert b.open() == 2
        b.add("[    0.002] info: second boot")
        b.flush()
        assert b.boot_lines(1) == ["[    0.001] info: first boot"]
        assert b.boot_lines(2) == ["[    0.002] info: second boot"]
    finally:
        os.umount(MNT)


def test_urgent_lines_reach_the_disk_before_add_returns():
    _mount()
    try:
        js = jstore.JStore(D)
        js.open()
        js.add("[    0.001] info: queued")
        assert _on_disk(js, 1) == []
        js.add("[    0.002] error: now", urgent=True)
        assert _on_disk(js, 1) == ["[    0.001] info: queued", "[    0.002] error: now"]
    finally:
        os.umount(MNT)


def test_rotation_keeps_the_bound_and_the_newest_lines():
    _mount()
    try:
        js = jstore.JStore(D, files=3, file_b=1024)
        js.open()
        for i in range(400):
            js.add("[    0.000] info: line %03d" % i)
            if i % 10 == 9:
                js.flush()
        js.flush()
        names = sorted(os.listdir(D))
        assert names[0] == "boot" and names[-2:] == ["journal.1", "journal.2"], names
        total = sum(os.stat(D + "/" + n)[6] for n in names if n.startswith("journal"))
        assert total < 3 * 1024 + 400, total
        lines = js.boot_lines(1)
        assert lines[-1] == "[    0.000] info: line 399"
        nums = [int(ln[-3:]) for ln in lines]
        assert nums == list(range(nums[0], 400))  # contiguous up to the newest
        assert js.boot_lines(1, 5) == lines[-5:]
    finally:
        os.umount(MNT)


def test_full_disk_drops_the_oldest_file_and_never_raises():
    _mount(blocks=24)
    try:
        js = jstore.JStore(D, files=4, file_b=16384)
        js.open()
        js.add("[    0.000] info: before", urgent=True)
        try:  # fill the disk with another file, committed block by block, until ENOSPC
            while True:
                with open(MNT + "/fill", "ab") as f:
                    f.write(b"x" * 4096)
        except OSError as e:
            assert e.args[0] == storage.ENOSPC
        for i in range(50):
            js.add("[    0.000] info: line %d " % i + "y" * 100, urgent=True)
        assert js.errors > 0 and "ENOSPC" in js.error
        os.remove(MNT + "/fill")
        js.add("[    0.000] info: after", urgent=True)
        assert js.boot_lines(1)[-1] == "[    0.000] info: after"
    finally:
        os.umount(MNT)


class CrashHal:
    def __init__(self, text):
        self.text = text

    def crash_read(self):
        return self.text

    def crash_clear(self):
        self.text = None


def test_crash_report_moves_into_the_previous_boot_once():
    _mount()
    try:
        jstore.JStore(D).open()  # boot 1 crashed
        js = jstore.JStore(D)
        js.open()
        hal = CrashHal(b"\r\n*** CPU fault: BusFault ***\r\n pc=00013632 lr=0000a745\r\n")
        assert jstore.take_crash(hal, js) == 2
        assert hal.text is None
        assert js.boot_lines(1) == [
            "[crash] *** CPU fault: BusFault ***",
            "[crash] pc=00013632 lr=0000a745",
        ]
        assert jstore.take_crash(hal, js) == 0
    finally:
        os.umount(MNT)
