# Tests for kernel/traps on the Python trap alone (PyTrap, as on a build without _ktrap and
# _ksched): the C modules are hidden before the kernel is imported, so the scheduler's
# singletons are PyTraps and every step takes the Python path. The same cases as
# test_traps.py's stale-arm tests, which run the C twin (and the C step).
import sys

sys.modules["_ktrap"] = None  # `from _ktrap import ...` now raises ImportError
sys.modules["_ksched"] = None

import test_traps  # noqa: E402 - after the C modules are hidden

from kernel import sched, traps  # noqa: E402
from kernel.clock import VirtualClock  # noqa: E402


def test_the_kernel_runs_on_pytrap_here():
    assert not traps.NATIVE and traps.Trap is traps.PyTrap
    assert traps.armed is traps.py_armed and sched._c_step is None
    assert type(traps.sleep_ms) is traps.PyTrap


def test_stale_arm_is_harmless_on_pytrap():
    test_traps.stale_arm_case(VirtualClock(), c_step=False)


def test_stale_arm_is_harmless_on_pytrap_real_clock():
    test_traps.test_stale_arm_is_harmless_python_path_real_clock()


def test_stale_arm_of_a_plain_task_on_pytrap():
    test_traps.test_stale_arm_of_a_plain_task_is_logged_and_dropped()


def test_a_task_that_ends_armed_on_pytrap():
    test_traps.test_a_task_that_ends_with_a_trap_armed_harms_no_one()


def test_asyncio_wrappers_on_pytrap():
    test_traps.test_asyncio_wrappers_take_a_traps_arguments_and_leave_it_unarmed()


def test_stale_arm_under_heap_lock_on_pytrap():
    test_traps.test_stale_arm_under_heap_lock()
