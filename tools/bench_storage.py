# tools/bench_storage.py: storage figures on a running board (make bench, under QEMU -icount;
# or by hand: mpremote connect <pty> resume run tools/bench_storage.py, a board with a disk).
#
# Prints one JSON line: sequential write and read throughput (KiB/s, a 256 KiB file in 4 KiB
# writes), small-file creates per second (64 B each), journal append latency of an urgent
# line (on disk before it returns; p50/p99 in us), then, on the disk filled to 75% (16 KiB
# files in one directory), the longest step each file operation causes (each runs in one
# task step: open, 4 KiB write, close, remove, rename, listdir, statvfs, mount), in ms:
#   fs_step_ms_<op>        any caller, in the 200-entry /bench directory
#   fs_kstep_ms_<op>       what kernel tasks do (small directories): journald's flush (an
#                          urgent line) and rotation, its free-space check, the svc enable
#                          state and a config save (temporary file + rename), a 64 KiB
#                          storage.write() (its longest piece)
#   fs_alloc_scan_ms_75pct littlefs' allocator walk (inside one write per pass through the
#                          free space; at mount; statvfs is that walk)
#   fs_max_kstep_ms / fs_max_step_ms   the longest of the kernel's (scan aside) / of all
#   fs_max_gap_ms          the longest gap a task that only yields sees between its steps
#                          while another does the kernel's file work (1.5 MiB written, so
#                          littlefs' allocator scan runs) and journald runs: what any
#                          task waits at most
import json
import os
import time

import hal
from kernel import configsave, jstore, params, storage, unitfiles


def us(t0):
    return time.ticks_diff(time.ticks_us(), t0)


class Worst:
    """The longest run of each named operation, in us."""

    def __init__(self):
        self.us = {}

    def time(self, name, fn, *args):
        t1 = time.ticks_us()
        r = fn(*args)
        d = us(t1)
        if d > self.us.get(name, -1):
            self.us[name] = d
        return r


def throughput(out):
    chunk = bytes(4096)
    t0 = time.ticks_us()
    with open("/bench.bin", "wb") as f:
        for _ in range(64):
            f.write(chunk)
    out["fs_seq_write_kib_s"] = 256 * 1000000 // max(1, us(t0))
    buf = bytearray(4096)
    t0 = time.ticks_us()
    with open("/bench.bin", "rb") as f:
        while f.readinto(buf):
            pass
    out["fs_seq_read_kib_s"] = 256 * 1000000 // max(1, us(t0))
    os.remove("/bench.bin")
    os.mkdir("/bench")
    t0 = time.ticks_us()
    for i in range(50):
        with open("/bench/f%d" % i, "wb") as f:
            f.write(chunk[:64])
    out["fs_create_per_s"] = 50 * 1000000 // max(1, us(t0))


def journal(out):
    js = jstore.store
    if js is None:
        return
    lat = []
    for i in range(100):
        t1 = time.ticks_us()
        js.add("[    0.000] warn: bench line %d" % i, urgent=True)
        lat.append(us(t1))
    lat.sort()
    out["journal_append_us_p50"] = lat[50]
    out["journal_append_us_p99"] = lat[99]


def fill(w):
    """/bench/fillN (16 KiB each, 4 KiB writes) until 75% of the disk is used."""
    chunk = bytes(4096)
    total = storage.statvfs("/")[0]
    n = 0
    while storage.statvfs("/")[1] < total * 3 // 4:
        f = w.time("open", open, "/bench/fill%d" % n, "wb")
        for _ in range(4):
            w.time("write_4k", f.write, chunk)
        w.time("close", f.close)
        n += 1
    return n


def any_ops(w, n):
    """Each operation in the big directory, on the 75%-full disk."""
    for i in range(20):
        os.rename("/bench/f%d" % i, "/bench/g%d" % i)  # warm: the same path as below
        w.time("rename", os.rename, "/bench/g%d" % i, "/bench/f%d" % i)
    for _ in range(3):
        w.time("listdir", os.listdir, "/bench")
    for i in range(20):
        w.time("remove", os.remove, "/bench/f%d" % i)
    for i in range(0, n, 8):
        w.time("remove_16k", os.remove, "/bench/fill%d" % i)  # back below 75%, then refill
    k = n
    while storage.statvfs("/")[1] < storage.statvfs("/")[0] * 3 // 4:
        with open("/bench/fill%d" % k, "wb") as f:
            f.write(bytes(4096))
        k += 1
    w.time("statvfs", storage.statvfs, "/")
    w.time("free_blocks", storage.free_blocks)
    w.time("mount", storage.make_vfs, hal.Disk(params.FS_BLOCK_B))  # a second look: no writes


def kernel_ops(w):
    """What kernel tasks do, each through the kernel's own code."""
    js = jstore.store
    if js is not None:
        for i in range(40):
            w.time("journal_urgent", js.add, "[    0.000] warn: kbench %d" % i, True)
        for i in range(40):
            js.add("[    0.000] info: queued %d" % i)
        w.time("journal_flush", js.flush)
        w.time("journal_rotate", js.rotate)
        w.time("journal_flush", js.add, "[    0.000] warn: after rotation", True)
    for i in range(10):
        w.time("svc_enable_state", unitfiles.save_enabled, "bench%d" % (i % 3), i % 2 == 0)
    for i in range(10):
        w.time("config_save", configsave.save, "/var/lib/bench", "bench", [])
    w.time("free_check", storage.free_blocks)
    big = bytes(65536)
    worst = [0]

    async def writer():
        from kernel.traps import yield_

        with open("/var/lib/bench/big.bin", "wb") as f:
            g = storage.write(f, big)
            try:
                while True:  # step it by hand: each send() is one task step
                    t1 = time.ticks_us()
                    g.send(None)
                    worst[0] = max(worst[0], us(t1))
            except StopIteration:
                pass
        await yield_()

    try:
        writer().send(None)
    except StopIteration:
        pass
    w.us["storage_write_64k_piece"] = worst[0]
    os.remove("/var/lib/bench/big.bin")


def gap_under_load():
    """The longest gap between two steps of a task that only yields, while another task
    does what kernel tasks do (journal lines, state and config saves, storage.write of
    64 KiB, enough to need the allocator scan) and journald runs: the longest step any of
    them caused, as the other tasks see it. In ms."""
    import asyncio  # the kernel's, on the boards

    state = {"gap": 0, "done": False}
    js = jstore.store

    async def ticker():
        last = time.ticks_us()
        while not state["done"]:
            await asyncio.sleep(0)
            now = time.ticks_us()
            state["gap"] = max(state["gap"], time.ticks_diff(now, last))
            last = now

    async def worker():
        big = bytes(65536)
        for i in range(24):
            if js is not None:
                js.add("[    0.000] warn: gap %d" % i, urgent=True)
            await asyncio.sleep(0)
            unitfiles.save_enabled("gap%d" % (i % 3), True)
            await asyncio.sleep(0)
            configsave.save("/var/lib/bench", "gap", [])
            await asyncio.sleep(0)
            with open("/var/lib/bench/gap%d.bin" % (i % 4), "wb") as f:
                await storage.write(f, big)
                await asyncio.sleep(0)
            await asyncio.sleep_ms(50)  # journald's period is 1 s: let it run in between
        state["done"] = True

    async def both():
        t = asyncio.create_task(ticker())
        await worker()
        await t

    asyncio.run(both())
    for i in range(4):
        os.remove("/var/lib/bench/gap%d.bin" % i)
    return round(state["gap"] / 1000, 1)


def main():
    out = {}
    throughput(out)
    journal(out)
    w = Worst()
    n = fill(w)
    w.us["open_create"] = w.us.pop("open")
    t1 = time.ticks_us()
    storage.make_vfs(hal.Disk(params.FS_BLOCK_B))  # a second, read-only look: mount only
    out["fs_mount_ms_75pct"] = us(t1) // 1000
    any_ops(w, n)
    k = Worst()
    kernel_ops(k)
    scan = w.us["statvfs"]  # statvfs is the allocator's walk (storage.statvfs)
    out["fs_alloc_scan_ms_75pct"] = round(scan / 1000, 1)
    for name, v in w.us.items():
        out["fs_step_ms_" + name] = round(v / 1000, 1)
    for name, v in k.us.items():
        out["fs_kstep_ms_" + name] = round(v / 1000, 1)
    out["fs_max_kstep_ms"] = round(max(k.us.values()) / 1000, 1)
    out["fs_max_gap_ms"] = gap_under_load()
    out["fs_max_step_ms"] = round(max(max(w.us.values()), max(k.us.values())) / 1000, 1)
    for name in os.listdir("/bench"):
        os.remove("/bench/" + name)
    os.rmdir("/bench")
    print(json.dumps(out))


main()
