# Tests of the MicroPython-side test runner (tests/unit/mpunit.py).
import mpunit


def test_module_name_strips_dir_and_suffix():
    assert mpunit.module_name("tests/unit/test_x.py") == "test_x"
    assert mpunit.module_name("test_y") == "test_y"


def test_run_one_reports_failure_as_false():
    class M:
        __name__ = "fake"

        def test_bad():
            assert 1 == 2

    M.test_bad = staticmethod(M.test_bad)
    assert mpunit.run_one(M, "test_bad") is False
    assert mpunit.run_one(M, "test_missing") is False


def test_runs_on_micropython():
    import sys

    assert sys.implementation.name == "micropython"


async def test_async_tests_run_as_kernel_tasks_on_virtual_time():
    from kernel import sched, traps

    s = sched.running()
    assert s is not None and s.cur is not None
    await traps.sleep_ms(60000)  # a virtual minute: instant
    assert s.uptime_ms() >= 60000
    assert getattr(s.clock, "simulated", False)
