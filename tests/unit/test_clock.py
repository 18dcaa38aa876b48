# Tests for kernel/clock: ticks arithmetic, the virtual clock, the real clocks.
import mpunit

from kernel import clock
from kernel.clock import VirtualClock, ticks_add, ticks_diff

PERIOD = 1 << 30


def test_ticks_wrap_around_the_period():
    assert ticks_add(PERIOD - 1, 2) == 1
    assert ticks_diff(1, PERIOD - 1) == 2
    assert ticks_diff(PERIOD - 1, 1) == -2
    assert ticks_diff(ticks_add(5, -10), 5) == -10


def test_ticks_diff_range_is_half_period():
    assert ticks_diff(PERIOD // 2 - 1, 0) == PERIOD // 2 - 1
    assert ticks_diff(PERIOD // 2, 0) == -(PERIOD // 2)


def test_virtual_clock_same_seed_same_costs():
    a = VirtualClock(seed=7)
    b = VirtualClock(seed=7)
    c = VirtualClock(seed=8)
    ra = [a.ticks_us() for _ in range(50)]
    rb = [b.ticks_us() for _ in range(50)]
    rc = [c.ticks_us() for _ in range(50)]
    assert ra == rb
    assert ra != rc


def test_virtual_clock_costs_stay_in_range():
    c = VirtualClock(seed=3, step_us=(10, 20))
    prev = c.ticks_us()
    for _ in range(200):
        now = c.ticks_us()
        assert 10 <= ticks_diff(now, prev) <= 20
        prev = now


def test_virtual_clock_fixed_cost_and_ms_read_does_not_advance():
    c = VirtualClock(step_us=0)
    assert c.ticks_us() == 0
    c.burn(2500)
    assert c.ticks_ms() == 2
    assert c.ticks_ms() == 2
    assert c.ticks_us() == 2500


def test_virtual_idle_skips_time_at_once():
    c = VirtualClock(step_us=0)
    assert c.idle(60000) is False
    assert c.ticks_ms() == 60000
    assert c.idle_us == 60000 * 1000
    assert c.idles == 1


def test_virtual_idle_returns_early_on_console_input():
    c = VirtualClock(step_us=0)
    c.type(b"ab")
    assert c.idle(1000) is True
    assert c.ticks_ms() == 0
    assert c.console_any() == 2
    assert c.console_read(1) == b"a"
    assert c.console_any() == 1


def test_real_clock_reads_time():
    c = clock.real_clock()
    a = c.ticks_us()
    b = c.ticks_us()
    assert 0 <= c.ticks_diff(b, a) < 1000000
    assert hasattr(c, "idle")


def test_hal_clock_has_hooks_when_hal_exists():
    mpunit.need("_hal")  # stock MicroPython: TimeClock is used instead (skipped there)
    import _hal

    c = clock.HalClock()
    assert c.resume is _hal.resume
    assert c.alloc_bytes is _hal.alloc_bytes
    assert c.console_any is _hal.console_any
    assert c.wdt_hits is _hal.wdt_hits
    assert c.native is True
    assert clock.real_clock().ticks_us is _hal.ticks_us
