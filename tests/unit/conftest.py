# conftest: the CPython pytest side of the unit tests, which run ONLY on MicroPython.
#
# Every tests/unit/test_*.py becomes one pytest module holding one item per top-level
# `def test_*` / `async def test_*` (found by a regex over the source: CPython never imports
# these files). Each item runs `micropython tests/unit/mpunit.py <file> <test>` in a subprocess
# from the repo root with MICROPYPATH=.frozen:.:tests/unit (MICROPYPATH replaces the whole
# search path, and `.frozen` keeps the frozen modules). The binary is $MICROPYTHON if set, else
# build/unix/micropython. A failure shows MicroPython's own output and traceback. A test that
# says "skip NAME - reason" (mpunit.need) is skipped on another binary, failed on ours.
import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = "tests/unit/mpunit.py"
MICROPYPATH = ".frozen:.:tests/unit"
TIMEOUT_S = 60  # per test item, wall clock
TEST_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+(test_\w+)[ \t]*\(", re.MULTILINE)


def micropython_binary():
    """The MicroPython unix binary that runs the tests."""
    return os.environ.get("MICROPYTHON") or os.path.join(ROOT, "build", "unix", "micropython")


class MicroPythonFailure(Exception):
    """A test failed (or could not run) on MicroPython; the message is its output."""


class MicroPythonModule(pytest.File):
    """A test_*.py file, collected by reading it, never by importing it."""

    def collect(self):
        with open(self.path) as f:
            source = f.read()
        seen = set()
        for name in TEST_DEF.findall(source):
            if name not in seen:
                seen.add(name)
                yield MicroPythonItem.from_parent(self, name=name)


class MicroPythonItem(pytest.Item):
    """One test function, run in its own MicroPython process."""

    def runtest(self):
        binary = micropython_binary()
        if not os.path.exists(binary):
            raise MicroPythonFailure(
                "no MicroPython binary at %s: build it (make) or set MICROPYTHON=/path" % binary
            )
        rel = os.path.relpath(str(self.path), ROOT)
        env = dict(os.environ, MICROPYPATH=MICROPYPATH)
        try:
            p = subprocess.run(
                [binary, RUNNER, rel, self.name],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode("utf-8", "replace")
            raise MicroPythonFailure("timed out after %d s\n%s" % (TIMEOUT_S, out)) from None
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise MicroPythonFailure("exit status %d\n%s" % (p.returncode, out))
        mark = "skip %s - " % self.name
        for line in out.splitlines():
            if line.startswith(mark):
                reason = line[len(mark) :]
                if not os.environ.get("MICROPYTHON"):
                    # build/unix/micropython carries _hal, _ktrap and _ksched: a skip there
                    # means the build lost one, which must not pass quietly.
                    raise MicroPythonFailure("skipped on the project's own binary: " + reason)
                pytest.skip(reason)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, MicroPythonFailure):
            return "%s::%s failed on MicroPython:\n%s" % (self.path.name, self.name, excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, "%s::%s" % (self.path.name, self.name)


def pytest_pycollect_makemodule(module_path, parent):
    """Replace pytest's import-based collection of test_*.py here with our reader."""
    if module_path.name.startswith("test_"):
        return MicroPythonModule.from_parent(parent, path=module_path)
    return None
