# tools/bench_vs.py: MultiOS against stock MicroPython, in the same run (make bench).
#
# The same on-target script (tools/bench_pair.py) runs on both firmwares through MicroPython's
# own pyboard.py over a pty, and MicroPython's tests/perf_bench suite through its
# run-perfbench.py. Stock is `make stock` (ports/qemu MPS2_AN385), so it exists for the ARM
# board only; other boards get their own column without a reference.
# Two kinds of figure per firmware:
#   icount  QEMU `-icount shift=3,sleep=off`: guest time is a function of the instructions
#           executed, so figures and ratios repeat exactly whatever the host's load;
#   wall    wall clock, the median of WALL_PAIRS runs, alternating the two firmwares (pairs),
#           with the median of the pairs' ratios (noisy: QEMU on a shared host varies ~2x).
# perf_bench runs under icount only (its ratio is time MultiOS / time stock: < 1 is faster).
import math
import os
import statistics
import subprocess
import sys
import time

from console import REPO, Console, qemu_command

MPY = os.path.join(REPO, "build", "micropython")
sys.path.insert(0, os.path.join(MPY, "tools"))
import pyboard  # noqa: E402 - MicroPython's own client, from the fetched source

ICOUNT = ["-icount", "shift=3,sleep=off"]
WALL_PAIRS = 5
PAIR = os.path.join(REPO, "tools", "bench_pair.py")
PERF_N, PERF_M = 100, 100  # run-perfbench.py's N (MHz) and M (KiB of heap): stock has 140 KiB
RATES = ("asyncio_switch_per_s", "mpasyncio_switch_per_s", "native_switch_per_s")
RATES += ("raw_switch_per_s",)


def progress(msg):
    print("bench: " + msg, flush=True)


class Qemu:
    """One firmware in QEMU with its console on a pty (no disk)."""

    def __init__(self, board, icount):
        cmd = qemu_command(board)
        cmd = cmd[: cmd.index("-chardev")] + ["-serial", "pty"] + (ICOUNT if icount else [])
        self.p = subprocess.Popen(
            cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        line = self.p.stdout.readline()  # "char device redirected to /dev/pts/N (label ...)"
        self.pts = line.split("redirected to ")[1].split()[0]
        time.sleep(1.5)  # QEMU reads the pty only about 1 s after starting

    def run(self, path, timeout=300):
        """Run a script through pyboard.py's raw REPL (after a soft reset): its output."""
        with open(path, "rb") as f:
            script = f.read()
        pyb = pyboard.Pyboard(self.pts)
        try:
            pyb.enter_raw_repl()
            out, err = pyb.exec_raw(script, timeout=timeout)
            pyb.exit_raw_repl()
        finally:
            pyb.close()
        if err:
            raise RuntimeError("%s: %s" % (os.path.basename(path), err.decode()[-300:]))
        return out.decode()

    def close(self):
        self.p.kill()
        self.p.wait()


def pair_figures(q, tries=3):
    """bench_pair.py's figures. Without icount the guest's clock is the host's, so a loaded
    host can stretch one step of the benchmark's asyncio.run() past the kernel's watchdog
    (200 ms): such a run is repeated (up to `tries` runs), never counted."""
    import json

    for i in range(tries):
        try:
            return json.loads(q.run(PAIR).strip().splitlines()[-1])
        except RuntimeError as e:
            if "Watchdog" not in str(e) or i == tries - 1:
                raise
            progress("  (a step overran the watchdog on a loaded host: run again)")


def perf_bench(q):
    """{benchmark: µs} from run-perfbench.py (one run each: under icount they repeat)."""
    out = subprocess.run(
        [sys.executable, "run-perfbench.py", "-p", "-d", q.pts, "-a", "1"]
        + [str(PERF_N), str(PERF_M)],
        cwd=os.path.join(MPY, "tests"),
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    times = {}
    for line in out.splitlines():
        name, _, rest = line.partition(": ")
        parts = rest.split()
        if name.startswith("perf_bench/") and len(parts) == 4:
            times[name[len("perf_bench/") : -3]] = float(parts[0])
    return times


def boot_s(board, n=5):
    """QEMU start to the first prompt (stock: `>>> `), median of n boots."""
    prompt = "multios> " if board != "stock" else ">>> "
    times = []
    for i in range(n):
        c = Console(board, "bench-vs-boot-%d" % i, disk=None if board == "stock" else "fresh")
        try:
            c.expect(prompt)
            times.append(time.monotonic() - c.started)
        finally:
            c.close()
    return round(statistics.median(times), 3)


def icount_figures(board):
    progress("%s: switch benchmarks under -icount" % board)
    q = Qemu(board, True)
    try:
        r = pair_figures(q)
        if board in ("arm", "stock"):
            progress("%s: perf_bench under -icount (about a minute)" % board)
            r["perf_bench"] = perf_bench(q)
    finally:
        q.close()
    return r


def wall_figures(boards):
    """WALL_PAIRS runs of bench_pair on each board, alternating: {board: [figures]}."""
    qs = {b: Qemu(b, False) for b in boards}
    runs = {b: [] for b in boards}
    try:
        for i in range(WALL_PAIRS):
            progress("wall clock: pair %d of %d (%s)" % (i + 1, WALL_PAIRS, ", ".join(boards)))
            try:
                pair = {b: pair_figures(qs[b]) for b in boards}
            except RuntimeError as e:  # a host too loaded for wall-clock figures: no pair
                progress("  pair %d dropped: %s" % (i + 1, str(e).splitlines()[-1]))
                continue
            for b in boards:
                runs[b].append(pair[b])
    finally:
        for q in qs.values():
            q.close()
    return runs


def share(r):
    return round(r["asyncio_switch_per_s"] / r["raw_switch_per_s"], 3)


def compare(boards, boots=None):
    """Figures for each board in `boards` and for stock (when arm is among them); boots:
    {board: boot_s} already measured (the rest are measured here)."""
    boots = boots or {}
    with_stock = "arm" in boards and os.path.exists(os.path.join(REPO, "build/stock/firmware.elf"))
    fws = list(boards) + (["stock"] if with_stock else [])
    res = {b: {"icount": icount_figures(b)} for b in fws}
    runs = wall_figures(fws)
    for b in fws:
        w = {k: int(statistics.median(r[k] for r in runs[b])) for k in (runs[b] or [{}])[0]}
        w["pairs"] = len(runs[b])
        res[b]["wall"] = w
        if b not in boots:
            progress("%s: boot time, 5 boots" % b)
        res[b]["boot_s"] = boots[b] if b in boots else boot_s(b)
        for kind in ("icount", "wall"):
            if "raw_switch_per_s" in res[b][kind]:
                res[b][kind]["asyncio_share_of_raw"] = share(res[b][kind])
    if with_stock:
        a, s = res["arm"], res["stock"]
        a["vs_stock_icount"] = {k: round(a["icount"][k] / s["icount"][k], 2) for k in RATES[:1]}
        a["vs_stock_icount"]["raw_switch_per_s"] = round(
            a["icount"]["raw_switch_per_s"] / s["icount"]["raw_switch_per_s"], 3
        )
        a["vs_stock_wall"] = {}
        for k in ("asyncio_switch_per_s", "raw_switch_per_s"):
            ratios = [x[k] / y[k] for x, y in zip(runs["arm"], runs["stock"])]
            a["vs_stock_wall"][k] = round(statistics.median(ratios), 3) if ratios else 0.0
        pa, ps = a["icount"]["perf_bench"], s["icount"]["perf_bench"]
        ratios = {n: pa[n] / ps[n] for n in pa if n in ps}
        a["perf_ratio"] = {n: round(v, 3) for n, v in sorted(ratios.items())}
        if ratios:
            a["perf_geomean"] = round(
                math.exp(sum(map(math.log, ratios.values())) / len(ratios)), 3
            )
            worst = max(ratios, key=ratios.get)
            a["perf_worst"] = "%s %.3f" % (worst, ratios[worst])
            a["perf_only_stock"] = sorted(n for n in ps if n not in pa)
    return res


def table(res):
    """One table: a row per figure; per board icount, wall, and the ratio to stock."""
    cols = []
    for b in res:
        if b == "stock":
            continue
        cols += [(b, "icount"), ("stock", "icount")] if "vs_stock_icount" in res[b] else []
        cols += [(b, "wall"), ("stock", "wall")] if "vs_stock_icount" in res[b] else []
        if "vs_stock_icount" not in res[b]:
            cols += [(b, "icount"), (b, "wall")]
    head = "%-26s" % "MultiOS vs stock" + "".join("%15s" % ("%s %s" % c) for c in cols)
    lines = [head]
    for k in RATES + ("asyncio_share_of_raw", "free_heap_b", "pairs"):
        cells = [res[b][kind].get(k, "-") for b, kind in cols]
        lines.append("%-26s" % k + "".join("%15s" % c for c in cells))
    lines.append("%-26s" % "boot_s" + "".join("%15s" % res[b]["boot_s"] for b, _ in cols))
    for b in res:
        r = res[b]
        if "vs_stock_icount" not in r:
            continue
        ic, wl = r["vs_stock_icount"], r["vs_stock_wall"]
        lines.append(
            "%s/stock: asyncio %.2fx (icount), %.2fx (wall); raw generators %.3fx, %.3fx"
            % (
                b,
                ic["asyncio_switch_per_s"],
                wl["asyncio_switch_per_s"],
                ic["raw_switch_per_s"],
                wl["raw_switch_per_s"],
            )
        )
        if "perf_geomean" in r:
            lines.append(
                "%s/stock perf_bench time (icount, < 1 faster): geometric mean %.3f, worst %s"
                % (b, r["perf_geomean"], r["perf_worst"])
            )
            lines.append("  " + ", ".join("%s %.2f" % kv for kv in r["perf_ratio"].items()))
            if r["perf_only_stock"]:
                lines.append("  run on stock only: " + ", ".join(r["perf_only_stock"]))
    return "\n".join(lines)
