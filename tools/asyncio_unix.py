# tools/asyncio_unix.py: MicroPython's own tests/extmod/asyncio_*.py on the unix port, run
# twice by the same binary (build/unix/micropython): with MicroPython's asyncio (frozen into
# it) and with the kernel's (kernel.asyncio installed as `asyncio`), and the outputs compared.
# The unix port has no QEMU and no pty, so this is the fast check of the kernel's asyncio
# against MicroPython's own semantics (make conformance runs the same tests on the boards,
# against stock's .exp). Real time: the tests sleep (~20 s in all); the timing-based ones
# (asyncio_fair.py) can differ on a heavily loaded host.
#
#   .venv/bin/python tools/asyncio_unix.py [-v] [TEST.py ...]
import difflib
import glob
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(REPO, "build", "unix", "micropython")
TESTS = os.path.join(REPO, "build", "micropython", "tests", "extmod")
TIMEOUT_S = 60
KERNEL = "import kernel.asyncio as _a; _a.install(); exec(open(%r).read())"


def run(args):
    env = dict(os.environ, MICROPYPATH=".frozen:.")
    try:
        p = subprocess.run(
            args, cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
        )
        return p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return "TIMEOUT"


def main():
    verbose = "-v" in sys.argv[1:]
    tests = [a for a in sys.argv[1:] if a != "-v"]
    tests = tests or sorted(glob.glob(os.path.join(TESTS, "asyncio_*.py")))
    differ = []
    for f in tests:
        mp = run([BINARY, f])
        ours = run([BINARY, "-c", KERNEL % f])
        name = os.path.basename(f)
        if mp != ours:
            differ.append(name)
            print("differs: %s" % name)
            if verbose:
                d = difflib.unified_diff(mp.splitlines(1), ours.splitlines(1), "mp", "kernel")
                sys.stdout.writelines(d)
    print(
        "asyncio_unix: %d of %d the same as MicroPython's asyncio%s"
        % (len(tests) - len(differ), len(tests), "" if not differ else ": " + " ".join(differ))
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
