# tools/conformance.py: `make conformance`. Runs MicroPython's own tests/run-tests.py (from
# the fetched source, build/micropython/tests, never copied) over a QEMU pty against stock
# MicroPython (`make stock`) and MultiOS on each board, suite by suite, and prints one table:
# suite, passed/failed/skipped per firmware, and the tests whose result differs from stock.
#
#   python tools/conformance.py [--boards stock,arm,x86_64] [--suites basics,float,...]
#                               [--jobs N] [--test-timeout S] [--tests GLOB,...]
#
# --tests runs only the tests whose path matches one of the globs (fnmatch), e.g.
# --suites extmod --tests 'extmod/asyncio_*': the other tests of the suite keep the results
# of their last run, so the table stays whole.
#
# No run hangs: run-tests.py prints one line per test; when none comes for --test-timeout
# seconds, the run (run-tests.py and its QEMU) is killed, that test counts as failed with
# TIMEOUT, and a fresh run goes on with the tests after it. Results (and run-tests.py's
# .exp/.out files of failures) land in build/conformance/<board>/<suite>/; the table is also
# written to build/conformance/table.txt and the figures to build/conformance/results.json.
import argparse
import fnmatch
import glob
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(REPO, "build", "micropython", "tests")
OUT = os.path.join(REPO, "build", "conformance")

BOARDS = ("stock", "arm", "x86_64")
SUITES = ("basics", "float", "micropython", "misc", "extmod", "inlineasm/thumb")
THUMB_ONLY = ("inlineasm/thumb",)  # suites for a CPU: not run on x86_64
TEST_TIMEOUT_S = 120  # no line from run-tests.py for this long: the test hangs
STARTUP_TIMEOUT_S = 240  # run-tests.py's feature checks before the first test line

# Left out on every firmware alike, so the sets compare; each with its reason (the README
# lists them too).
EXCLUDED = {
    "extmod/machine1.py": "needs unittest, which Debian's source package does not ship",
    "extmod/marshal_micropython.py": "needs unittest (not in Debian's source package)",
    "extmod/ssl_noleak.py": "needs unittest (not in Debian's source package)",
    "extmod/vfs_rom.py": "needs unittest (not in Debian's source package)",
    "inlineasm/thumb/asmfpaddsub.py": "Cortex-M4 FPU instructions (stock's run skips them)",
    "inlineasm/thumb/asmfpcmp.py": "Cortex-M4 FPU instructions (stock's run skips them)",
    "inlineasm/thumb/asmfpldrstr.py": "Cortex-M4 FPU instructions (stock's run skips them)",
    "inlineasm/thumb/asmfpmuldiv.py": "Cortex-M4 FPU instructions (stock's run skips them)",
    "inlineasm/thumb/asmfpsqrt.py": "Cortex-M4 FPU instructions (stock's run skips them)",
}

SNAP_LOCK = threading.Lock()
SNAPPED = set()  # firmware copies taken by this run
LIVE = set()  # process groups of the run-tests.py runs under way


def descendants(pid):
    """Every process below pid (pyboard.py starts QEMU in a session of its own)."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def kill_group(pid):
    """Kills run-tests.py's process group and its QEMU (which pyboard.py starts in a
    session of its own)."""
    LIVE.discard(pid)
    for q in descendants(pid):
        try:
            os.killpg(q, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def on_term(signum, frame):
    for pid in list(LIVE):
        kill_group(pid)
    os._exit(128 + signum)  # now: the pool's threads would start the next runs


LINE = re.compile(r"^(pass|FAIL|skip) +(\S+\.py)")


def qemu_command(board):
    """The board's QEMU command (the Makefile's qemu-cmd) with the console on a pty and the
    firmware path absolute (run-tests.py runs in build/micropython/tests)."""
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "qemu-cmd", "BOARD=" + board],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    args = shlex.split(out.strip())
    i = args.index("-kernel") + 1
    args[i] = snapshot(board, os.path.join(REPO, args[i]))
    return " ".join(args + ["-serial", "pty"])


def snapshot(board, path):
    """A copy of the firmware taken at the first use, so that a rebuild during the run
    (make test) cannot change what is measured."""
    copy = os.path.join(OUT, board, "fw", os.path.basename(path))
    with SNAP_LOCK:
        if copy not in SNAPPED:
            os.makedirs(os.path.dirname(copy), exist_ok=True)
            shutil.copyfile(path, copy + ".%d" % os.getpid())
            os.replace(copy + ".%d" % os.getpid(), copy)  # atomic: another run may read it
            SNAPPED.add(copy)
    return copy


def suite_tests(suite):
    files = sorted(glob.glob(os.path.join(TESTS, suite, "*.py")))
    return [os.path.relpath(f, TESTS) for f in files]


class Run:
    """run-tests.py over one firmware for a list of tests, restarted past a hung test."""

    def __init__(self, board, suite, timeout_s, log):
        self.board = board
        self.suite = suite
        self.timeout_s = timeout_s
        self.log = log
        self.results = {}  # test -> "pass" | "fail" | "skip" | "timeout"

    def run(self, tests):
        pending = list(tests)
        rdir = os.path.join(OUT, self.board, self.suite.replace("/", "_"))
        os.makedirs(rdir, exist_ok=True)
        while pending:
            done = self._once(pending, rdir)
            pending = [t for t in pending if t not in self.results]
            if pending and not done and self.started:
                hung = pending.pop(0)  # the test that was running when the output stopped
                self.results[hung] = "timeout"
                self.log(
                    "%s: %s: TIMEOUT (no output for %d s)" % (self.board, hung, self.timeout_s)
                )
            elif pending and not done:
                # Wedged in run-tests.py's feature checks, before any test: nothing can run.
                self.log("%s: %s: no test started (see run.log)" % (self.board, self.suite))
                for t in pending:
                    self.results[t] = "timeout"
                pending = []
            elif pending:
                # run-tests.py ended without reporting these (it crashed): count them failed.
                for t in pending:
                    self.results[t] = "fail"
                pending = []
        return self.results

    def _once(self, tests, rdir):
        cmd = [
            sys.executable,
            "-u",  # a line per test as it ends, not a buffer full
            "run-tests.py",
            "-t",
            "execpty:" + qemu_command(self.board),
            "-j",
            "1",
            "-r",
            rdir,
        ] + tests
        p = subprocess.Popen(
            cmd,
            cwd=TESTS,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # one process group: run-tests.py and its QEMU
        )
        LIVE.add(p.pid)
        last = [time.monotonic(), False]  # time of the last test line, any seen yet

        def watchdog():
            while p.poll() is None:
                limit = self.timeout_s if last[1] else STARTUP_TIMEOUT_S
                if time.monotonic() - last[0] > limit:
                    kill_group(p.pid)
                    return
                time.sleep(0.5)

        w = threading.Thread(target=watchdog, daemon=True)
        w.start()
        with open(os.path.join(rdir, "run.log"), "a", buffering=1) as log:
            for line in p.stdout:
                log.write(line)
                m = LINE.match(line)
                if m:
                    last[0], last[1] = time.monotonic(), True
                    kind, test = m.groups()
                    self.results[test] = {"pass": "pass", "FAIL": "fail", "skip": "skip"}[kind]
        p.wait()
        w.join()
        self.started = last[1]
        killed = p.returncode == -signal.SIGKILL
        kill_group(p.pid)  # a QEMU left behind
        return not killed


def run_suite(board, suite, timeout_s, log, only=None):
    """One suite on one firmware; its results are saved at once (a later crash keeps them).
    only: globs; the tests matching none keep their results from the last run."""
    tests = [t for t in suite_tests(suite) if t not in EXCLUDED]
    res = {}
    if only:
        tests = [t for t in tests if any(fnmatch.fnmatch(t, g) for g in only)]
        res = load_board(board, [suite]).get(suite, {})
    t0 = time.monotonic()
    got = Run(board, suite, timeout_s, log).run(tests)
    res.update(got)
    log(
        "%s: %s: %d passed, %d failed, %d skipped in %.0f s%s"
        % ((board, suite) + counts(got) + (time.monotonic() - t0, " (--tests)" if only else ""))
    )
    with open(os.path.join(OUT, board, suite.replace("/", "_"), "results.json"), "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    return res


def load_board(board, suites):
    out = {}
    for suite in suites:
        path = os.path.join(OUT, board, suite.replace("/", "_"), "results.json")
        if os.path.exists(path):
            with open(path) as f:
                out[suite] = json.load(f)
    return out


def counts(res):
    v = list(res.values())
    return v.count("pass"), v.count("fail") + v.count("timeout"), v.count("skip")


def table(all_results, boards, suites):
    ref = "stock" if "stock" in boards else boards[0]
    others = [b for b in boards if b != ref]
    head = ["suite"] + ["%s p/f/s" % b for b in boards] + ["differs from %s" % ref]
    rows = []
    for suite in suites:
        cells = [suite]
        diffs = []
        base = all_results.get(ref, {}).get(suite, {})
        for b in boards:
            res = all_results.get(b, {}).get(suite)
            if res is None:
                cells.append("-")
                continue
            cells.append("%d/%d/%d" % counts(res))
            if b == ref:
                continue
            for t in sorted(set(base) | set(res)):
                if base.get(t) == "pass" and res.get(t) != "pass":
                    diffs.append("%s %s: %s" % (b, os.path.basename(t), res.get(t, "absent")))
                elif res.get(t) == "pass" and base.get(t) != "pass":
                    diffs.append(
                        "%s %s: pass (%s %s)"
                        % (b, os.path.basename(t), ref, base.get(t, "absent"))
                    )
        cells.append("; ".join(diffs) if diffs else "none")
        rows.append(cells)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append("excluded on every firmware: " + ", ".join(sorted(EXCLUDED)))
    del others
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--boards", default=",".join(BOARDS))
    ap.add_argument("--suites", default=",".join(SUITES))
    ap.add_argument("--jobs", type=int, default=len(BOARDS), help="suites run at once")
    ap.add_argument("--test-timeout", type=int, default=TEST_TIMEOUT_S)
    ap.add_argument("--tests", default="", help="only the tests matching these globs (comma list)")
    ap.add_argument(
        "--table-only", action="store_true", help="print the table of the last runs, run nothing"
    )
    args = ap.parse_args()
    boards = args.boards.split(",")
    only = [g for g in args.tests.split(",") if g]
    suites = args.suites.split(",")
    os.makedirs(OUT, exist_ok=True)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    lock = threading.Lock()

    def log(msg):
        with lock:
            print("conformance: " + msg, flush=True)

    if not args.table_only:
        # Every (firmware, suite) pair is one job; the longest suites first.
        jobs = [
            (b, s)
            for s in sorted(suites, key=lambda s: -len(suite_tests(s)))
            for b in boards
            if not (b == "x86_64" and s in THUMB_ONLY)
        ]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_suite, b, s, args.test_timeout, log, only) for b, s in jobs]
            while not all(f.done() for f in futures):
                time.sleep(0.5)  # the main thread stays free for SIGTERM/SIGINT (on_term)
            for f in futures:
                f.result()  # re-raise a crash of the tool itself
    all_results = {b: load_board(b, suites) for b in boards}
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(all_results, f, indent=1, sort_keys=True)
    text = table(all_results, boards, suites)
    with open(os.path.join(OUT, "table.txt"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
