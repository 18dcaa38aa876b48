# tools/bench_storage.py: storage figures on a running board (make bench; or by hand:
# mpremote connect <pty> resume run tools/bench_storage.py against a board with a disk).
#
# Prints one JSON line: sequential write and read throughput (KiB/s, a 256 KiB file in 4 KiB
# writes), small-file creates per second (64 B each), journal append latency of an urgent
# line (on disk before it returns; p50/p99 in us), the mount time of the disk once 75% full,
# and the longest single file operation seen (each runs in one task step, so this is the
# longest scheduler step file access causes): 4 KiB appends, the urgent journal append, and
# statvfs (littlefs walks the filesystem for it) on the 75%-full disk.
import json
import os
import time

import hal
from kernel import jstore, params, storage


def us(t0):
    return time.ticks_diff(time.ticks_us(), t0)


def main():
    out = {}
    chunk = bytes(4096)
    worst = 0
    t0 = time.ticks_us()
    with open("/bench.bin", "wb") as f:
        for _ in range(64):
            t1 = time.ticks_us()
            f.write(chunk)
            worst = max(worst, us(t1))
    dt = us(t0)
    out["fs_seq_write_kib_s"] = 256 * 1000000 // max(1, dt)
    buf = bytearray(4096)
    t0 = time.ticks_us()
    with open("/bench.bin", "rb") as f:
        while f.readinto(buf):
            pass
    out["fs_seq_read_kib_s"] = 256 * 1000000 // max(1, us(t0))
    os.mkdir("/bench")
    t0 = time.ticks_us()
    for i in range(50):
        with open("/bench/f%d" % i, "wb") as f:
            f.write(chunk[:64])
    out["fs_create_per_s"] = 50 * 1000000 // max(1, us(t0))
    js = jstore.store
    lat = []
    if js is not None:
        for i in range(100):
            t1 = time.ticks_us()
            js.add("[    0.000] warn: bench line %d" % i, urgent=True)
            lat.append(us(t1))
        lat.sort()
        out["journal_append_us_p50"] = lat[50]
        out["journal_append_us_p99"] = lat[99]
    # Fill to 75% with 16 KiB appends (committed each), timing every one.
    total = storage.statvfs("/")[0]
    n = 0
    while storage.statvfs("/")[1] < total * 3 // 4:
        for _ in range(16):
            t1 = time.ticks_us()
            with open("/bench/fill%d" % (n // 16), "ab") as f:
                f.write(chunk)
            worst = max(worst, us(t1))
            n += 1
    t1 = time.ticks_us()
    storage.statvfs("/")
    statvfs_us = us(t1)
    t1 = time.ticks_us()
    storage.make_vfs(hal.Disk(params.FS_BLOCK_B))  # a second, read-only look: mount only
    out["fs_mount_ms_75pct"] = us(t1) // 1000
    out["fs_max_write_step_ms"] = worst // 1000
    out["fs_statvfs_ms_75pct"] = statvfs_us // 1000
    if lat:
        out["fs_max_step_ms"] = max(worst, statvfs_us, lat[-1]) // 1000
    for name in os.listdir("/bench"):
        os.remove("/bench/" + name)
    os.rmdir("/bench")
    os.remove("/bench.bin")
    print(json.dumps(out))


main()
