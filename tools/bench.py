# tools/bench.py: `make bench`. Measures each board in MULTIOS_BOARDS (and the unix port),
# prints one table, and writes the figures as JSON to build/<board>/bench.json.
#
# Boards run under QEMU's software emulation, so absolute times move with the host's load:
# compare figures as ratios within one run. Boot time is QEMU start to the first prompt
# (median of several boots); free heap is after boot and a collection. On-target figures come
# from tools/bench_sched.py (scheduler, issue 4), tools/bench_svc.py (service manager),
# tools/bench_storage.py (littlefs on the board's disk, on a fresh image) and
# tools/bench_config.py (config and metrics), tools/bench_breaker.py (circuit breakers; also
# under icount, with bench_sched.py, bench_svc.py and bench_health.py) and tools/bench_lb.py (load
# balancer: picks/s per strategy against a dict lookup, key movement and balance of ring and
# Maglev, WRR).

# from tools/bench_sched.py (scheduler, issue 4), tools/bench_svc.py (service manager) and
# tools/bench_storage.py (littlefs on the board's disk, on a fresh image); network figures
# from tools/bench_net.py (HTTP and TCP from the host).
# Then MultiOS against stock MicroPython (tools/bench_vs.py, when `make stock` has built it):
# its own table, and under "vs_stock" in the boards' JSON.
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_net  # noqa: E402
import bench_vs  # noqa: E402
from console import REPO, Console, disk_args, new_image, qemu_command  # noqa: E402

BOOTS = 5
TARGET_BENCHES = [
    os.path.join(REPO, "tools", name)
    for name in (
        "bench_sched.py",
        "bench_breaker.py",
        "bench_svc.py",
        "bench_health.py",
        "bench_config.py",
        "bench_lb.py",
    )
]
ICOUNT_BENCHES = ("bench_sched.py", "bench_breaker.py", "bench_svc.py", "bench_health.py")
# Under icount only: the service manager at scale through the kernel's API on the booted
# kernel (100, +1,000, +10,000 services; ~1 min of QEMU a board).
SVC_API_BENCH = os.path.join(REPO, "tools", "bench_svc_api.py")
# On the unix port only: the fault-tolerance soak (10 simulated minutes; its target is a wall
# time on the unix port, and a board would take minutes under emulation).
UNIX_BENCHES = [os.path.join(REPO, "tools", "bench_faults.py")]
MPREMOTE = os.path.join(REPO, ".venv", "bin", "mpremote")


def firmware_size(board):
    path = os.path.join(REPO, "build", board, "firmware.elf")
    out = subprocess.run(["size", "-A", path], capture_output=True, text=True).stdout
    total = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in (".text", ".data", ".ARM.exidx", ".rodata"):
            total += int(parts[1])
    return total


def run_py(console, code):
    """One line of Python through the shell's `py`; returns its output lines."""
    return console.cmd("py " + code)


def bench_board(board):
    import tempfile

    boots = []
    result = {"board": board}
    tmp = tempfile.TemporaryDirectory(prefix="multios-bench-")
    img = new_image(os.path.join(tmp.name, "disk.img"))  # formatted at the first boot
    for i in range(BOOTS):
        c = Console(board, "bench-%d" % i, disk=img)
        try:
            c.boot()
            boots.append(time.monotonic() - c.started)
            if i == BOOTS - 1:
                out = run_py(c, "__import__('gc').collect() or __import__('gc').mem_free()")
                result["free_heap_b"] = int(out[-1])
            c.poweroff()
        finally:
            c.close()
    tmp.cleanup()
    result["boot_s"] = round(statistics.median(boots), 3)
    result["boot_s_all"] = [round(b, 3) for b in boots]
    result["firmware_b"] = firmware_size(board)
    result.update(target_bench(board, TARGET_BENCHES))
    # the scheduler, breaker, service manager and health/discovery figures under icount too
    icount = [s for s in TARGET_BENCHES if os.path.basename(s) in ICOUNT_BENCHES]
    result.update(target_bench(board, icount, icount=True))
    result.update(target_bench(board, [SVC_API_BENCH], icount=True))
    result.update(storage_bench(board))
    result.update(bench_net.run(board))  # HTTP and TCP through forwarded ports (network)
    return result


def storage_bench(board):
    """tools/bench_storage.py on a fresh 4 MiB image (formatted at boot), under icount: the
    step figures are targets (README, Storage), and exact only there."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="multios-bench-") as d:
        img = new_image(os.path.join(d, "disk.img"))
        script = os.path.join(REPO, "tools", "bench_storage.py")
        return target_bench(board, [script], icount=True, disk=img)


# A guard against a hung script, not a budget: bench_svc's 10,000 services under icount take
# ~4 min of an idle host and passed 15 min with two cores loaded.
SCRIPT_TIMEOUT_S = 2400


def target_bench(board, scripts, icount=False, disk=None):
    """On-target benchmarks on the running firmware, through mpremote over a pty.
    icount: QEMU's guest time becomes a function of the instructions executed, so figures
    and ratios repeat exactly whatever the host's load (absolute times are then those of a
    modelled CPU, not of this machine): figures get an `_icount` suffix."""
    import pexpect

    cmd = qemu_command(board)
    cmd = cmd[: cmd.index("-chardev")] + ["-serial", "pty"]
    if disk is not None:
        cmd += disk_args(board, disk)
    if icount:
        cmd += ["-icount", "shift=4,sleep=off"]
    p = pexpect.spawn(cmd[0], cmd[1:], cwd=REPO, encoding="utf-8", timeout=30)
    result = {}
    try:
        p.expect(r"char device redirected to (/dev/pts/\d+)")
        time.sleep(1.5)  # QEMU reads the pty only about 1 s after starting
        for script in scripts:
            # mpremote's soft reset first (no `resume`): each script gets a fresh VM and a
            # freshly booted kernel, whatever the one before left behind and in whichever
            # order they run.
            out = subprocess.run(
                [MPREMOTE, "connect", p.match.group(1), "run", script],
                capture_output=True,
                text=True,
                timeout=SCRIPT_TIMEOUT_S,
            )
            result.update(parse(out, script))
    finally:
        p.terminate(force=True)
    if icount:
        result = {k + "_icount": v for k, v in result.items()}
    return result


def parse(out, script):
    """A script's figures: one JSON line, or "name value unit" lines."""
    figures = {}
    for line in out.stdout.strip().splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                figures.update(json.loads(line))
            except ValueError:
                pass
            continue
        parts = line.split()
        if len(parts) == 3:
            try:
                figures["%s_%s" % (parts[0], parts[2])] = (
                    float(parts[1]) if "." in parts[1] else int(parts[1])
                )
            except ValueError:
                pass
    if not figures:
        name = os.path.basename(script)
        figures[name + "_error"] = (out.stdout + out.stderr).strip()[-200:]
    return figures


def bench_unix():
    binary = os.path.join(REPO, "build", "unix", "micropython")
    env = dict(os.environ, MICROPYPATH=".frozen:.")
    result = {"board": "unix"}
    for script in TARGET_BENCHES + UNIX_BENCHES:
        out = subprocess.run(
            [binary, "-X", "heapsize=64M", script],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        result.update(parse(out, script))
    bench_vs.progress("unix: the HTTP service, the ceiling of the boards' figures")
    result.update(bench_net.run_unix())
    return result


def unix_pair(n=5):
    """bench_pair.py on the unix port n times: the kernel's asyncio against MicroPython's,
    medians (of the figures, and of each run's ratio)."""
    binary = os.path.join(REPO, "build", "unix", "micropython")
    env = dict(os.environ, MICROPYTHONPATH="", MICROPYPATH=".frozen:.")
    runs = []
    for i in range(n):
        bench_vs.progress("unix: asyncio against MicroPython's, run %d of %d" % (i + 1, n))
        out = subprocess.run(
            [binary, os.path.join(REPO, "tools", "bench_pair.py")],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    r = {k: int(statistics.median(x[k] for x in runs)) for k in runs[0]}
    ratios = [x["asyncio_switch_per_s"] / x["mpasyncio_switch_per_s"] for x in runs]
    r["asyncio_vs_mpasyncio"] = round(statistics.median(ratios), 2)
    return r


def main():
    boards = os.environ.get("MULTIOS_BOARDS", "arm").split()
    results = [bench_unix()]
    for b in boards:
        bench_vs.progress("%s: boots, free heap, scheduler and service benchmarks" % b)
        results.append(bench_board(b))
    vs = bench_vs.compare(boards, {r["board"]: r["boot_s"] for r in results[1:]})
    up = unix_pair()
    results[0]["vs_mpasyncio"] = up
    for r in results[1:]:
        r["vs_stock"] = vs[r["board"]]
    keys = []
    for r in results:
        keys += [k for k in r if k not in keys and k != "board" and not k.endswith("_all")]
    keys.sort()
    width = max(len(k) for k in keys)
    print("%-*s" % (width, "figure") + "".join("%14s" % r["board"] for r in results))
    for k in keys:
        print("%-*s" % (width, k) + "".join("%14s" % str(r.get(k, "-"))[:13] for r in results))
    for r in results:
        out_dir = os.path.join(REPO, "build", r["board"])
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "bench.json"), "w") as f:
            json.dump(r, f, indent=1, sort_keys=True)
    if "stock" in vs:
        os.makedirs(os.path.join(REPO, "build", "stock"), exist_ok=True)
        with open(os.path.join(REPO, "build", "stock", "bench.json"), "w") as f:
            json.dump(vs["stock"], f, indent=1, sort_keys=True)
    print()
    print(bench_vs.table(vs))
    print(
        "unix: the kernel's asyncio %d switches/s, MicroPython's %d: %.2fx (median of 5)"
        % (up["asyncio_switch_per_s"], up["mpasyncio_switch_per_s"], up["asyncio_vs_mpasyncio"])
    )
    names = [r["board"] for r in results] + (["stock"] if "stock" in vs else [])
    print("JSON: " + ", ".join("build/%s/bench.json" % n for n in names))


if __name__ == "__main__":
    main()
