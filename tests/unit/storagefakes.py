# storagefakes: block devices and a HAL with a disk, for the storage unit tests.
#
# Owns: RamDisk (MicroPython's extended block protocol over a bytearray, with read and write
# counters and an optional write budget that simulates the machine dying mid-operation) and
# DiskHal (FakeHal plus disk_info() and Disk(), as hal has on the boards).
from shellfakes import FakeHal


class PowerCut(Exception):
    """The simulated machine died: the write that raised did not happen."""


class RamDisk:
    def __init__(self, blocks=64, block_b=4096, data=None):
        self.block_b = block_b
        self.blocks = blocks
        self.data = bytearray(blocks * block_b) if data is None else data
        self.writes = 0
        self.reads = 0
        self.read_b = 0  # bytes read since creation (what littlefs fetched)
        self.budget = None  # writes allowed before PowerCut (None: unlimited)

    def readblocks(self, block, buf, off=0):
        self.reads += 1
        self.read_b += len(buf)
        start = block * self.block_b + off
        buf[:] = self.data[start : start + len(buf)]
        return 0

    def writeblocks(self, block, buf, off=None):
        if self.budget is not None:
            if self.budget == 0:
                raise PowerCut()
            self.budget -= 1
        start = block * self.block_b + (off or 0)
        self.data[start : start + len(buf)] = buf
        self.writes += 1
        return 0

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return self.block_b
        return 0


class DiskHal(FakeHal):
    """A FakeHal whose disk is `dev` (a RamDisk), as hal.disk_info()/hal.Disk() see it."""

    def __init__(self, dev, name="ramdisk"):
        super().__init__()
        self.dev = dev
        self.name = name

    def disk_info(self):
        n = self.dev.blocks * self.dev.block_b // 512
        return {"name": self.name, "sectors": n + 8, "sector_b": 512, "fs_sectors": n}

    def Disk(self, block_b):  # noqa: N802 - hal's name for the block device type
        assert block_b == self.dev.block_b
        return self.dev
