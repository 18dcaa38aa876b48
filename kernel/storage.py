# kernel/storage: the root filesystem, littlefs v2 on the board's disk, and the mount table.
#
# Owns: mounting `/` at boot (hal.Disk -> vfs.VfsLfs2 -> os.mount), formatting a blank disk
# on first use (and only a blank one: the disk's first FS_BLOCK_CHECK_B bytes all 0x00 or all
# 0xff), the state of `/` and why (shown by `mount`), and space figures (`df`).
# Invariants: a disk that holds anything and fails to mount is never formatted: the board
# boots without `/`, says why in one line, and leaves the image for inspection. Frozen
# modules come before the filesystem on sys.path, so a file on the disk cannot shadow the
# kernel. File operations are synchronous C (littlefs over polled sector I/O): they block
# the calling task's step only, bounded by the operation's size and its directory's (a
# metadata pair's log is kept to FS_METADATA_MAX_B); write() splits a big write into pieces
# with a yield between. The free-space figure kernel tasks use (free_blocks) is littlefs'
# allocator bitmap, sized at mount to cover the disk: no walk; statvfs() and scan() walk
# once (and refill that bitmap). littlefs' allocator itself walks once per pass through the
# free space, the one inherently long step (README, Storage): journald scans first when
# half the free space known is used (scan_due), so that walk seldom lands in a write.
# Not here: the block device (boards/common/disk.c), the journal on disk (kernel/jstore.py),
# the bitmap and tuning calls (boards/common/lfsinfo.c).
import sys

from micropython import const

from kernel import params

try:
    from _hal import lfs_free, lfs_scan, lfs_tune
except ImportError:  # a port without littlefs v2: exact walks only
    lfs_free = lfs_scan = lfs_tune = None

NO_DISK = const(0)  # the board has no disk (or DISK=none)
MOUNTED = const(1)
FORMATTED = const(2)  # was blank, formatted and mounted
FAILED = const(3)  # a disk that does not mount: left alone
STATE_NAMES = ("no disk", "mounted", "formatted", "failed")


class Root:
    """What became of `/` at boot."""

    def __init__(self):
        self.state = NO_DISK
        self.reason = "no disk"  # one line: why `/` is (not) there
        self.vfs = None  # the mounted VfsLfs2, or None
        self.dev = None  # its block device
        self.info = None  # hal.disk_info() at mount time, or None
        self.path = None  # where it is mounted
        self.blocks = 0  # littlefs blocks on the disk
        self.scan_free = 0  # free blocks the last scan() found


root = Root()


def is_blank(dev, size=params.FS_BLANK_CHECK_B):
    """True when the device's first `size` bytes are all 0x00 or all 0xff: never written."""
    buf = bytearray(params.FS_BLOCK_B)
    dev.readblocks(0, buf, 0)
    if buf[0] not in (0, 0xFF):
        return False
    same = bytes((buf[0],)) * len(buf)
    for block in range(size // params.FS_BLOCK_B):
        if block:
            dev.readblocks(block, buf, 0)
        if buf != same:
            return False
    return True


def lookahead_b(blocks):
    """Bytes of allocator bitmap that cover `blocks` (a multiple of 8, FS_LOOKAHEAD_B at least)."""
    return max(params.FS_LOOKAHEAD_B, (blocks + 63) // 64 * 8)


def make_vfs(dev, fmt=False):
    """A VfsLfs2 on dev with the kernel's parameters; fmt: format it first."""
    import vfs

    kw = {
        "readsize": params.FS_READ_B,
        "progsize": params.FS_PROG_B,
        "lookahead": lookahead_b(dev.ioctl(4, 0)),
    }
    if fmt:
        vfs.VfsLfs2.mkfs(dev, **kw)
    fs = vfs.VfsLfs2(dev, **kw)
    if lfs_tune is not None:
        lfs_tune(fs, params.FS_METADATA_MAX_B)
    return fs


def mount_root(hal, say=None, path="/"):
    """Mount the board's disk at `path` (formatting it only when blank); returns root.
    say(text) gets one line when something noteworthy happened (formatted, failed)."""
    import os

    root.__init__()
    disk_info = getattr(hal, "disk_info", None)  # fakes in unit tests may have no disk
    info = disk_info() if disk_info is not None else None
    if info is None:
        root.reason = "no disk on this board (DISK=none, or none attached)"
        return root
    root.info = info
    size_kb = info["fs_sectors"] * info["sector_b"] // 1024
    try:
        dev = hal.Disk(params.FS_BLOCK_B)
        blank = is_blank(dev)
        fs = make_vfs(dev, fmt=blank)
        os.mount(fs, path)
    except Exception as e:  # noqa: BLE001 - whatever it is, the board boots without `/`
        root.state = FAILED
        root.reason = "%s does not mount (%s): booting without %s, image left as it is" % (
            info["name"],
            errno_name(e),
            path,
        )
        if say is not None:
            say("[FAILED] storage: " + root.reason)
        return root
    root.dev = dev
    root.vfs = fs
    root.path = path
    root.blocks = dev.ioctl(4, 0)
    try:
        scan()  # the allocator's first walk, here at boot rather than in a write
    except OSError:
        pass  # the first write walks instead
    if blank:
        root.state = FORMATTED
        root.reason = "blank disk %s formatted (littlefs v2, %d KiB)" % (info["name"], size_kb)
        if say is not None:
            say("[  OK  ] storage: " + root.reason)
    else:
        root.state = MOUNTED
        root.reason = "littlefs v2 on %s, %d KiB" % (info["name"], size_kb)
    if path == "/":  # frozen code first: a file on the disk never shadows the kernel
        sys.path[:] = [".frozen", "", "/lib"]
    return root


def mounted():
    return root.vfs is not None


def free_blocks():
    """Free blocks on `/` as littlefs' allocator knows them (no walk), or None (nothing
    mounted, or no bitmap yet). A lower bound: what was freed since the allocator's last
    scan counts after its next one (or after statvfs())."""
    if root.vfs is None or lfs_free is None:
        return None
    n = lfs_free(root.vfs)
    return n if n >= 0 else None


def scan():
    """littlefs' allocator scan of `/` now (one walk of every file): its bitmap then maps
    every free block, exactly. Returns the free blocks, or None (nothing to scan)."""
    if root.vfs is None or lfs_scan is None:
        return None
    lfs_scan(root.vfs)
    root.scan_free = lfs_free(root.vfs)
    return root.scan_free


def scan_due():
    """True when half the free blocks the last scan found have been handed out: a scan by
    the caller (journald) then spares some later write the allocator's own, and brings the
    count of blocks freed since up to date."""
    n = free_blocks()
    return n is not None and n * 2 < root.scan_free


def statvfs(path="/"):
    """(total_b, used_b, free_b) of the filesystem at path, exact: one walk of it (for the
    mounted disk, littlefs' allocator scan, which also refills its bitmap)."""
    import os

    if root.vfs is not None and path == root.path and lfs_scan is not None:
        total = root.blocks * params.FS_BLOCK_B
        free = scan() * params.FS_BLOCK_B
        return total, total - free, free
    st = os.statvfs(path)
    total = st[0] * st[2]
    free = st[0] * st[3] if st[3] <= st[2] else 0  # littlefs can count more used than there is
    return total, total - free, free


async def write(f, data, chunk=params.FS_WRITE_CHUNK_B):
    """Write data to the open file f in pieces of `chunk` bytes with a yield between, so a
    big write blocks no task step for longer than one piece does; returns the bytes written.
    For kernel tasks and services (`await storage.write(f, data)`); f.flush() or close()
    commits, as ever."""
    from kernel.traps import yield_

    mv = memoryview(data)
    n = 0
    while n < len(mv):
        n += f.write(mv[n : n + chunk])
        if n < len(mv):
            await yield_()
    return n


# MicroPython's errno numbers (py/mperrno.h); its `errno` module lacks some (ENOSPC).
EPERM = const(1)
ENOENT = const(2)
EIO = const(5)
EEXIST = const(17)
ENODEV = const(19)
ENOTDIR = const(20)
EISDIR = const(21)
EINVAL = const(22)
ENOSPC = const(28)
ENOTEMPTY = const(39)
ECORRUPT = const(84)  # littlefs' LFS_ERR_CORRUPT, passed through as an errno
_ERRNO_NAMES = {
    EPERM: "EPERM",
    ENOENT: "ENOENT",
    EIO: "EIO",
    EEXIST: "EEXIST",
    ENODEV: "ENODEV",
    ENOTDIR: "ENOTDIR",
    EISDIR: "EISDIR",
    EINVAL: "EINVAL",
    ENOSPC: "ENOSPC",
    ENOTEMPTY: "ENOTEMPTY",
    ECORRUPT: "corrupt filesystem",
}


def errno_name(e):
    """'ENOSPC' for OSError(28); another exception as its type and text."""
    if isinstance(e, OSError) and e.args and isinstance(e.args[0], int):
        return _ERRNO_NAMES.get(e.args[0], "errno %d" % e.args[0])
    return "%s: %s" % (type(e).__name__, e)
