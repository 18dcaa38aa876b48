# Tests of the HAL (hal/ over the `_hal` C module) on the unix port: the same C as the boards
# (boards/common/hal.c, modhal.c) over the unix backend.
import gc

import hal

P = hal.TICKS_PERIOD


def test_ticks_are_small_ints_below_the_period():
    for f in (hal.ticks_ms, hal.ticks_us):
        t = f()
        assert 0 <= t < P


def test_ticks_add_and_diff_are_wrap_safe():
    assert hal.ticks_add(P - 1, 2) == 1
    assert hal.ticks_add(0, -1) == P - 1
    assert hal.ticks_diff(5, P - 5) == 10
    assert hal.ticks_diff(P - 5, 5) == -10
    assert hal.ticks_diff(hal.ticks_add(123, 1000), 123) == 1000


def test_sleep_ms_advances_ticks_by_about_that_much():
    t = hal.ticks_us()
    hal.sleep_ms(20)
    d = hal.ticks_diff(hal.ticks_us(), t)
    assert 20000 <= d < 200000, d


def test_idle_returns_false_on_timeout():
    t = hal.ticks_ms()
    assert hal.idle(5) is False or hal.console_any() > 0
    assert hal.ticks_diff(hal.ticks_ms(), t) >= 5


def test_random_seed_is_deterministic_and_values_vary():
    hal.random_seed(42)
    a = [hal.random_u32() for _ in range(4)]
    hal.random_seed(42)
    b = [hal.random_u32() for _ in range(4)]
    assert a == b
    assert len(set(a)) == 4
    assert all(0 <= x < (1 << 32) for x in a)
    assert 0 <= hal.random_u64() < (1 << 64)
    hal.random_seed(7)
    assert hal.random_u32() != a[0]


def test_random_bytes_lengths():
    for n in (0, 1, 3, 4, 5, 17):
        assert len(hal.random_bytes(n)) == n
    try:
        hal.random_bytes(-1)
    except ValueError:
        pass
    else:
        assert False, "random_bytes(-1) must raise ValueError"


def test_alloc_counter_charges_at_least_what_was_allocated_across_collections():
    a = hal.alloc_bytes()
    x = bytearray(4000)
    gc.collect()  # the C counter is zeroed by collections: the HAL must carry it over
    y = bytearray(4000)
    d = (hal.alloc_bytes() - a) % P
    assert d >= 8000, d
    assert len(x) + len(y) == 8000


def _spin():
    yield 1
    while True:
        pass


def test_resume_without_budget_is_send():
    def g():
        v = yield 1
        yield v * 2

    it = g()
    assert hal.resume(it, None, 0) == 1
    assert hal.resume(it, 21, 0) == 42
    try:
        hal.resume(it, None, 0)
    except StopIteration:
        pass
    else:
        assert False, "a finished generator must raise StopIteration"


def test_resume_returns_the_value_of_return_in_stopiteration():
    def g():
        yield
        return 5

    it = g()
    hal.resume(it, None, 0)
    try:
        hal.resume(it, None, 0)
    except StopIteration as e:
        assert e.value == 5


def test_watchdog_stops_a_step_that_never_yields():
    it = _spin()
    assert hal.resume(it, None, 50) == 1
    t = hal.ticks_ms()
    try:
        hal.resume(it, None, 50)
    except hal.Watchdog:
        pass
    else:
        assert False, "the watchdog did not fire"
    took = hal.ticks_diff(hal.ticks_ms(), t)
    assert 50 <= took < 1000, took
    assert hal.wdt_hits() == 1
    assert not isinstance(hal.Watchdog(), Exception)  # `except Exception` cannot swallow it


def test_watchdog_hits_again_a_task_that_swallows_it():
    def stubborn():
        yield
        try:
            while True:
                pass
        except BaseException:
            pass
        while True:
            pass

    it = stubborn()
    hal.resume(it, None, 30)
    try:
        hal.resume(it, None, 30)
    except hal.Watchdog:
        pass
    assert hal.wdt_hits() == 2


def test_watchdog_never_fires_after_the_step():
    def quick():
        while True:
            yield

    it = quick()
    for _ in range(100):
        hal.resume(it, None, 5)
    hal.sleep_ms(20)  # past the budget, outside any step: nothing may be raised here
    assert hal.wdt_hits() == 0


def test_a_collection_does_not_count_against_the_step_budget():
    live = [(i, i) for i in range(20000)]  # a heap a collection takes a while to mark
    budget = 20

    def collector():
        yield
        n0, us0, _ = hal.gc_stats()
        for _ in range(5000):  # collections only, 5x the budget of them: no Watchdog
            gc.collect()
            if hal.gc_stats()[1] - us0 >= 5000 * budget:
                break
        n, us, longest = hal.gc_stats()
        yield (n - n0, us - us0, longest)

    it = collector()
    hal.resume(it, None, budget)
    n, us, longest = hal.resume(it, None, budget)
    assert us >= 5000 * budget, (n, us)  # the step really spent 5 budgets collecting
    assert n >= 1 and 0 < longest <= us, (n, us, longest)
    assert hal.wdt_hits() == 0
    assert len(live) == 20000


def test_the_watchdog_still_stops_a_step_that_allocates_and_collects():
    def churn():
        yield
        while True:  # bytecode between the collections still counts
            gc.collect()
            for _ in range(200):
                junk = [0] * 8  # noqa: F841 - garbage for the next collection

    it = churn()
    hal.resume(it, None, 30)
    try:
        hal.resume(it, None, 30)
    except hal.Watchdog:
        pass
    else:
        assert False, "the watchdog did not fire"
    assert hal.wdt_hits() == 1


def test_exceptions_from_the_task_propagate():
    def bad():
        yield
        raise KeyError("k")

    it = bad()
    hal.resume(it, None, 100)
    try:
        hal.resume(it, None, 100)
    except KeyError:
        pass
    else:
        assert False


def test_irq_handler_validates_source_and_callable():
    for bad in (("nope", None), ("timer", 5)):
        try:
            hal.irq_handler(*bad)
        except (ValueError, TypeError):
            pass
        else:
            assert False, bad
    hal.irq_handler("uart", None)
    counts = hal.irq_counts()
    assert set(counts) == {"timer", "uart"}


def test_console_read_never_blocks():
    assert hal.console_read(0) == b""
    assert isinstance(hal.console_read(16), bytes)


def test_boot_mode_round_trips():
    m = hal.boot_mode()
    hal.set_boot_mode(1)
    assert hal.boot_mode() == 1
    hal.set_boot_mode(m)


def test_info_names_the_board_and_its_sources():
    i = hal.info()
    for key in ("board", "cpu", "clock", "entropy", "rtc", "heap", "timer_hz"):
        assert key in i, key
    assert i["board"] == "unix"
    assert i["heap"] > 0


def test_time_is_the_1970_epoch():
    t = hal.time()
    assert 1700000000 < t < 4000000000


def test_watch_fd_wakes_the_idle_wait_and_schedules_the_handler():
    # The unix port's socket wake-up (kernel/netwait.py): a watched socket with data waiting
    # ends hal.idle() at once (True) and its handler runs; one-shot, so the next idle with
    # nothing watched sleeps to its timeout (False).
    import socket

    port = 47500 + hal.ticks_ms() % 400
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(socket.getaddrinfo("127.0.0.1", port)[0][-1])
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got = []
    hal.fd_handler(got.append)
    try:
        assert hal.watch_fd(rx.fileno(), False)
        tx.sendto(b"x", socket.getaddrinfo("127.0.0.1", port)[0][-1])
        t0 = hal.ticks_ms()
        woke = hal.idle(2000)
        dt = hal.ticks_diff(hal.ticks_ms(), t0)
        for _ in range(3):
            if got:
                break
            hal.idle(0)  # let the scheduled handler run
        assert woke and got == [None], (woke, got)
        assert dt < 1000, dt  # not the timeout
        assert not hal.idle(5)  # dropped after it fired: nothing to wake this wait
        assert got == [None], got
    finally:
        hal.fd_handler(None)
        rx.close()
        tx.close()
