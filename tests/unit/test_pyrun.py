# Tests for services/pyrun and the HAL's run_user (boards/common/modhal.c, hal.c): user code's
# builtins overrides live only while it runs (never in the shell, the kernel or a service
# step), the heap is unlocked after it, and the console's runner keeps its framing whatever
# the code overrode. Runs on the unix port, which has the same C as the boards.
import builtins

import micropython
from shellfakes import FakeConsole, FakeHal, FakeKernel

import hal
from services.pyrun import Output, PyRunner, console_namespace, run_user


def make():
    con = FakeConsole()
    out = Output(con.write)
    ns = console_namespace(out, FakeKernel(), FakeHal(), None, {})
    return PyRunner(ns, out), con, ns


def test_overrides_are_seen_by_user_code_only():
    ns = {}
    run_user(exec, "import builtins\nbuiltins.abs = lambda x: 'theirs'", ns)
    assert abs(-1) == 1  # ours: pristine
    assert run_user(eval, "abs(-1)", ns) == "theirs"  # theirs, for the whole session
    assert abs(-2) == 2


def test_a_replaced_import_never_reaches_our_imports():
    ns = {}
    run_user(exec, "import builtins\nbuiltins.__import__ = None", ns)
    import kernel.params  # noqa: F401 - through MicroPython's own import, not None

    try:
        run_user(exec, "import kernel", ns)
    except TypeError:
        pass  # theirs: None is not callable
    else:
        raise AssertionError("user code did not see its own __import__")


def test_build_class_override_stays_with_user_code():
    ns = {}
    run_user(exec, "import builtins\nbuiltins.__build_class__ = lambda f, n: ('class', n)", ns)

    class Ours:
        pass

    assert isinstance(Ours, type)
    assert run_user(eval, "exec('class A: pass') or A", {"exec": exec}) == ("class", "A")


def test_overrides_made_by_raising_code_stay_with_it_and_the_heap_is_unlocked():
    ns = {}
    try:
        run_user(
            exec,
            "import builtins, micropython\nbuiltins.len = None\nmicropython.heap_lock()\n"
            "raise ValueError('boom')",
            ns,
        )
    except ValueError:
        pass
    assert len("ab") == 2
    micropython.heap_lock()
    assert micropython.heap_unlock() == 0  # the depth user code left was 0
    assert [n for n in range(3)] == [0, 1, 2]  # allocates: the heap is unlocked


def test_a_service_step_never_sees_user_overrides():
    def step():
        yield abs(-1)  # `abs` is looked up when the step runs

    ns = {"hal": hal, "step": step}
    run_user(exec, "import builtins\nbuiltins.abs = lambda x: 'theirs'", ns)
    # From user code (asyncio.run at the console steps other tasks): a quiet (service) step
    # gets the system's builtins, a console task's step the user's.
    assert run_user(eval, "hal.resume(step(), None, 0, True)", ns) == 1
    assert run_user(eval, "hal.resume(step(), None, 0, False)", ns) == "theirs"
    assert run_user(eval, "abs(-1)", ns) == "theirs"  # and back to theirs after the step


def test_raw_runner_frames_survive_overridden_builtins():
    runner, con, ns = make()
    src = (
        b"import builtins\n"
        b"for n in ('print', 'len', 'isinstance', 'repr', 'bytes', 'type', '__import__'):\n"
        b"    setattr(builtins, n, None)\n"
    )
    assert runner.run_raw(src) is False
    assert con.take() == b"\x04\x04"
    assert runner.run_raw(b"x = 1\nraise KeyError(x)") is False
    assert con.take() == (
        b'\x04Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\n'
        b"KeyError: 1\r\n\x04"
    )
    runner.run_line("40 + 2")
    assert con.take() == b"42\r\n"
    assert builtins.len("abc") == 3


def test_run_raw_takes_a_bytearray():
    runner, con, ns = make()
    assert runner.run_raw(bytearray(b"y = 6 * 7")) is False
    assert ns["y"] == 42
