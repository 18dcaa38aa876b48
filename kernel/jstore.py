# kernel/jstore: the journal on disk: kernel log lines and service events, with boot ids,
# bounded and rotated, so `log --boot -1` shows the previous boot up to its last moment.
#
# Owns: /var/log/journal (the current file), journal.1 .. journal.<JOURNAL_FILES - 1> (older
# ones; rotated by rename when the current one passes JOURNAL_FILE_B), /var/log/boot (the
# last boot id). A line on disk is "<boot id> <formatted line>\n".
# Invariants: warnings, errors and failures reach the disk before add() returns; other lines
# within JOURNAL_FLUSH_MS (the flush() of the `journald` task). Writing never raises: a disk
# error is counted, reported once in the kernel log, and the line kept in RAM only. When the
# disk is full the oldest journal file is dropped to make room. The current file stays open
# and each flush is an append of whole lines then a sync (littlefs commits the file there;
# reopening would copy its last block each time): after a power cut a file holds every line
# of every flush that returned.
# `journald` also checks the free space (every FS_FULL_CHECK_TICKS periods) and runs
# littlefs' allocator scan when it is due (storage.scan_due), in its own step.
# Not here: the RAM rings (kernel/log.py, kernel/journal.py), mounting (kernel/storage.py).
import os

from kernel import params

DIR = "/var/log"
ENOSPC = 28


def _path(d, k):
    return d + "/journal" if k == 0 else "%s/journal.%d" % (d, k)


class JStore:
    """The journal files of one directory, for one boot."""

    def __init__(self, d=DIR, files=params.JOURNAL_FILES, file_b=params.JOURNAL_FILE_B):
        self.dir = d
        self.files = files  # journal + journal.1 .. journal.<files-1>
        self.file_b = file_b  # the current file rotates past this many bytes
        self.boot = 0  # this boot's id
        self.buf = []  # lines not yet on disk
        self.size = 0  # bytes in the current file
        self.busy = False  # inside flush(): what flush logs is not re-entered
        self.errors = 0  # failed flushes
        self.lost = 0  # lines that never reached the disk
        self.error = None  # the last error, as text
        self.f = None  # the current file, open for appending, or None

    def open(self):
        """Make the directory, take the next boot id; returns it."""
        _mkdirs(self.dir)
        try:
            with open(self.dir + "/boot") as f:
                last = int(f.read().strip() or "0")
        except (OSError, ValueError):
            last = 0
        self.boot = last + 1
        tmp = self.dir + "/boot.tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % self.boot)
        os.rename(tmp, self.dir + "/boot")  # atomic on littlefs: the old id or the new one
        try:
            self.size = os.stat(_path(self.dir, 0))[6]
        except OSError:
            self.size = 0
        return self.boot

    def add(self, line, urgent=False):
        """Queue one formatted line; urgent: write it (and what is queued) now."""
        self.buf.append("%d %s\n" % (self.boot, line))
        if urgent:
            self.flush()

    def flush(self):
        """Append what is queued to the current file; returns the number of lines written."""
        if self.busy or not self.buf:
            return 0
        self.busy = True
        try:
            return self._flush()
        finally:
            self.busy = False

    def _flush(self):
        data = "".join(self.buf)
        n = len(self.buf)
        for attempt in range(2):
            try:
                if self.f is None:
                    self.f = open(_path(self.dir, 0), "a")
                self.f.write(data)
                self.f.flush()  # lfs_file_sync: on the disk from here on
                break
            except OSError as e:
                self.close()
                self.errors += 1
                self.error = "journal: cannot write %s (%s)" % (
                    _path(self.dir, 0),
                    "ENOSPC" if e.args and e.args[0] == ENOSPC else e,
                )
                if attempt == 0 and e.args and e.args[0] == ENOSPC and self._drop_oldest():
                    continue
                self.lost += n
                self.buf = []
                return 0
        self.buf = []
        self.size += len(data)
        if self.size >= self.file_b:
            self.rotate()
        return n

    def close(self):
        """Close the current file (reopened by the next flush)."""
        f, self.f = self.f, None
        if f is not None:
            try:
                f.close()
            except OSError:
                pass  # what could not be synced was counted by the flush that failed

    def rotate(self):
        """journal.<k> -> journal.<k+1> (the oldest falls off), journal -> journal.1."""
        self.close()
        last = _path(self.dir, self.files - 1)
        _remove(last)
        for k in range(self.files - 2, -1, -1):
            try:
                os.rename(_path(self.dir, k), _path(self.dir, k + 1))
            except OSError:
                pass  # a file that does not exist yet
        self.size = 0

    def _drop_oldest(self):
        for k in range(self.files - 1, 0, -1):
            if _remove(_path(self.dir, k)):
                return True
        return False

    def boot_lines(self, boot, n=None):
        """The last n lines (all when None) that boot `boot` wrote, oldest first."""
        self.flush()
        out = []
        prefix = "%d " % boot
        for k in range(self.files - 1, -1, -1):
            try:
                with open(_path(self.dir, k)) as f:
                    for line in f:
                        if line.startswith(prefix):
                            out.append(line[len(prefix) :].rstrip("\n"))
                            if n is not None and len(out) > 2 * n:
                                del out[:n]
            except OSError:
                continue
        return out if n is None else out[-n:]


def _mkdirs(path):
    p = ""
    for part in path.strip("/").split("/"):
        p += "/" + part
        try:
            os.mkdir(p)
        except OSError:
            pass  # it exists (or the parent is missing: open() will say)


def _remove(path):
    try:
        os.remove(path)
        return True
    except OSError:
        return False


# ---- this boot's journal: wired to the kernel log and the service journal ----

store = None  # the JStore of this boot, or None (no `/`)


def attach(kernel, js):
    """Send every kernel log line and service event of this boot to js; start `journald`,
    the task that flushes at least every JOURNAL_FLUSH_MS."""
    global store
    from kernel import svc
    from kernel.journal import format_entry
    from kernel.log import WARN, format_line

    store = js
    log = kernel.scheduler().log
    prev = log.subscriber

    def on_log(e):
        js.add(format_line(e), e[1] >= WARN)
        if prev is not None:
            prev(e)

    def on_event(e):
        event = str(e[2])
        js.add(format_entry(e), "fail" in event or "limit" in event)

    log.subscribe(on_log)
    svc.manager().journal.sink = on_event
    return kernel.spawn(
        _journald(kernel, js), name="journald", budget_ms=params.JOURNAL_STEP_BUDGET_MS
    )


def detach():
    """Flush what is queued and forget this boot's store (shutdown, tests)."""
    global store
    if store is not None:
        store.flush()
        store.close()
    store = None


async def _journald(kernel, js):
    from kernel import storage

    reported = 0  # js.errors when we last said something
    full = False
    tick = 0
    while True:
        await kernel.sleep_ms(params.JOURNAL_FLUSH_MS)
        js.flush()
        if storage.scan_due():
            try:
                storage.scan()  # the allocator's walk here (own budget), not in a service's write
            except OSError:
                pass  # the allocator scans in the next write instead
        if js.errors != reported:
            if reported == 0:
                kernel.log(js.error + "; lines are kept in RAM only", "error")
            reported = js.errors
        tick += 1
        if tick % params.FS_FULL_CHECK_TICKS == 0:
            free = storage.free_blocks()  # the allocator's bitmap: no walk of the disk
            if free is None:
                continue
            if not full and free <= params.FS_FULL_BLOCKS:
                full = True
                kernel.log(
                    "storage: / is full (%d KiB free): writers get OSError(ENOSPC)"
                    % (free * params.FS_BLOCK_B // 1024),
                    "warn",
                )
            elif full and free > 4 * params.FS_FULL_BLOCKS:
                full = False
                kernel.log("storage: / has room again (%d blocks free)" % free)


def take_crash(hal, js):
    """Move the crash region's report (a CPU fault of the previous boot) into the journal,
    as lines of that boot; clear the region once they are on disk. Returns the line count."""
    read = getattr(hal, "crash_read", None)
    text = read() if read is not None else None
    if not text:
        return 0
    prev = js.boot - 1
    n = 0
    for line in text.decode("utf-8", "replace").replace("\r", "").split("\n"):
        if line.strip():
            js.buf.append("%d [crash] %s\n" % (prev, line.strip()))
            n += 1
    if js.flush() == 0:
        return 0
    hal.crash_clear()
    return n


def panic(e):
    """Write a kernel panic's traceback through the filesystem, before the firmware's C
    loop reports it on the console."""
    import io
    import sys

    if store is None:
        return
    buf = io.StringIO()
    sys.print_exception(e, buf)
    for line in buf.getvalue().split("\n"):
        if line.strip():
            store.add("[panic] " + line.strip())
    store.flush()
