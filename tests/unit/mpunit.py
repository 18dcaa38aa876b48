# mpunit: the unit-test runner that runs on MicroPython itself (no `unittest` there).
#
# Usage, from the repo root:
#   MICROPYPATH=.frozen:.:tests/unit micropython tests/unit/mpunit.py tests/unit/test_x.py [name..]
# Runs the named `test_*` functions of that file (all of them when no name is given), prints
# "ok"/"FAIL" per test and MicroPython's traceback for each failure, and exits 1 if any failed.
# A test is a plain `def test_*():` using `assert`, or an `async def test_*():`, which runs as a
# kernel task on a fresh scheduler with a virtual clock (seed 0) until it finishes.
# A test that needs a C module the build may lack calls `mpunit.need("_hal")`: it is then
# reported "skip NAME - reason" (conftest.py shows it as skipped, or failed on the project's
# own binary, which has them all), never silently passed.
# This file is a test tool: nothing in the firmware imports it. The CPython side (collection,
# subprocess, timeouts) lives in conftest.py.
import sys


class Skip(Exception):
    """A test that cannot run on this build (raise it through need()); shown as skipped."""


def need(*modules):
    """Import the named C modules (e.g. "_hal", "_ksched") or skip the calling test."""
    for name in modules:
        try:
            __import__(name)
        except ImportError:
            raise Skip("no %s on this build" % name) from None


def module_name(path):
    """'tests/unit/test_x.py' -> 'test_x' (importable because tests/unit is on the path)."""
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".py"):  # noqa: FURB188 - MicroPython's str has no removesuffix
        name = name[:-3]
    return name


def run_async(coro):
    """Run a coroutine to completion as a kernel task on a virtual clock; return its result."""
    from kernel.clock import VirtualClock
    from kernel.sched import Scheduler

    s = Scheduler(VirtualClock())
    t = s.spawn(coro, "test")
    s.run_until(t)
    return t.result()


def run_one(mod, name):
    """Run one test function; return True when it passed."""
    fn = getattr(mod, name, None)
    if fn is None:
        print("FAIL", name, "- no such test in", mod.__name__)
        return False
    try:
        r = fn()
        if r is not None and hasattr(r, "send"):
            run_async(r)  # an async def test: run it on the kernel
    except BaseException as e:  # noqa: BLE001 - a failing test is data: report and go on
        if type(e).__name__ == "Skip":  # by name: the test module imports its own mpunit
            print("skip", name, "-", e)
            return True
        print("FAIL", name)
        sys.print_exception(e)
        return False
    print("ok", name)
    return True


def main(argv):
    if len(argv) < 2:
        print("usage: mpunit.py tests/unit/test_x.py [test_name...]")
        return 2
    mod = __import__(module_name(argv[1]))
    names = argv[2:] or sorted(n for n in dir(mod) if n.startswith("test_"))
    failed = 0
    for name in names:
        if not run_one(mod, name):
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
