# Tests for kernel/circuit and kernel/breakcfg: one breaker's transitions on both window
# types, minimum_calls, the slow-call rate, half-open admission, wait growth, the forced
# states, reset, available() without side effects, one hook call per transition, the
# options' one-line errors, and no allocation on the call path. On a virtual clock with no
# per-read cost: time moves only when a test says so.
from kernel import breakcfg, circuit, params
from kernel.circuit import CLOSED, DISABLED, FORCED_OPEN, HALF_OPEN, OPEN
from kernel.clock import VirtualClock


class Sched:
    """What a Breaker needs of the scheduler: a clock."""

    def __init__(self):
        self.clock = VirtualClock(0, 0)

    def advance(self, ms):
        self.clock.now_us += ms * 1000


def make(**options):
    s = Sched()
    b = circuit.Breaker(breakcfg.parse("breaker t", options), s, "t")
    seen = []
    b.on_change = lambda br, old, why: seen.append((old, br.state, why))
    return b, s, seen


def calls(b, outcomes, dur_ms=1):
    """Run each outcome ('o' ok, 'x' failed, 's' slow ok) as a permitted call."""
    for o in outcomes:
        assert b.allow()
        b.record(o != "x", 1000000 if o == "s" else dur_ms)


def test_the_defaults_are_resilience4js():
    cfg = breakcfg.parse("breaker t", {})
    o = cfg.options()
    assert o["window_type"] == "count" and o["window_size"] == 100
    assert o["minimum_calls"] == 100 and o["failure_rate_threshold"] == 50
    assert o["slow_call_duration_ms"] == 60000 and o["slow_call_rate_threshold"] == 100
    assert o["wait_open_sec"] == 60 and o["half_open_calls"] == 10
    assert o["wait_multiplier"] == 1 and o["wait_max_sec"] == 600
    assert cfg.fail_pm == params.BREAKER_FAILURE_RATE * 10


def test_count_window_opens_at_the_failure_rate_once_minimum_calls_are_in():
    b, s, seen = make(window_size=10, minimum_calls=4, failure_rate_threshold=50)
    calls(b, "xxx")
    assert b.state == CLOSED and b.calls == 3 and b.failures == 3  # 100% but only 3 calls
    calls(b, "o")  # 4 calls, 3 failed: 75% >= 50%
    assert b.state == OPEN and b.opened == 1
    assert seen == [(CLOSED, OPEN, "failure rate 75.0% >= 50.0% over 4 calls; wait 60000 ms")]
    assert not b.allow() and not b.available() and b.not_permitted == 1


def test_count_window_forgets_the_oldest_outcome():
    b, s, seen = make(window_size=4, minimum_calls=4, failure_rate_threshold=60)
    calls(b, "xxoo")  # 50% < 60%
    assert b.state == CLOSED and (b.calls, b.failures) == (4, 2)
    calls(b, "oo")  # the two failures leave the window
    assert (b.calls, b.failures) == (4, 0)
    calls(b, "xx")
    assert b.state == CLOSED and (b.calls, b.failures) == (4, 2)
    calls(b, "x")  # 3 of the last 4
    assert b.state == OPEN and seen[0][2].startswith("failure rate 75.0% >= 60.0% over 4")


def test_minimum_calls_is_capped_at_a_count_windows_size():
    b, s, seen = make(window_size=5, minimum_calls=50)
    calls(b, "oooxx")
    assert b.state == CLOSED  # 40%
    calls(b, "x")  # window oo xxx: 60%
    assert b.state == OPEN


def test_time_window_counts_the_last_window_size_seconds():
    b, s, seen = make(
        window_type="time", window_size=10, minimum_calls=4, failure_rate_threshold=60
    )
    calls(b, "xx")
    s.advance(3000)
    calls(b, "oo")
    assert b.state == CLOSED and (b.calls, b.failures) == (4, 2) and seen == []
    s.advance(7500)  # the two failures' bucket (t=0) is now 10.5 s old: out
    calls(b, "o")
    assert (b.calls, b.failures) == (3, 0) and b.state == CLOSED
    calls(b, "xxxx")  # 7 calls, 4 failed: 57%
    assert b.state == CLOSED
    calls(b, "x")
    assert b.state == OPEN and seen[0][2].startswith("failure rate 62.5% >= 60.0% over 8")


def test_time_window_after_an_idle_spell_longer_than_the_window_starts_empty():
    b, s, seen = make(window_type="time", window_size=5, minimum_calls=3)
    calls(b, "xx")
    s.advance(60000)
    calls(b, "oo")
    assert (b.calls, b.failures) == (2, 0)
    s.advance(4000)  # still inside the window
    c = b.counters()
    assert c["calls"] == 2 and c["failure_rate_pm"] == -1  # below minimum_calls
    s.advance(1000)  # now 5 s: out
    c = b.counters()
    assert c["calls"] == 0 and c["state"] == "closed" and c["state_ms"] == 65000


def test_slow_call_rate_opens_it_even_when_every_call_succeeds():
    b, s, seen = make(
        window_size=10, minimum_calls=4, slow_call_duration_ms=200, slow_call_rate_threshold=50
    )
    calls(b, "oo", dur_ms=199)
    calls(b, "o", dur_ms=200)
    assert b.state == CLOSED and b.slow_calls == 1
    calls(b, "o", dur_ms=900)
    assert b.state == OPEN and b.failures == 0
    assert seen[0][2].startswith("slow call rate 50.0% >= 50.0% over 4 calls (>= 200 ms)")


def test_half_open_admits_exactly_half_open_calls_then_closes_on_success():
    b, s, seen = make(window_size=4, minimum_calls=2, wait_open_sec=5, half_open_calls=3)
    calls(b, "xx")
    assert b.state == OPEN
    s.advance(4999)
    assert not b.available() and not b.allow()
    s.advance(1)
    assert b.available() and b.state == OPEN  # a look changes nothing
    assert b.allow() and b.state == HALF_OPEN and b.permits == 2
    assert b.allow() and b.allow()
    assert not b.allow() and not b.available()  # exactly 3 admitted
    b.record(True, 1)
    b.record(True, 1)
    assert b.state == HALF_OPEN
    b.record(True, 1)
    assert b.state == CLOSED and b.calls == 0 and b.permits == 0
    assert [(o, n) for o, n, w in seen] == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]
    assert seen[1][2] == "wait of 5000 ms over: 3 trial calls"
    assert seen[2][2] == "trial passed: 3 calls, failure rate 0.0%, slow call rate 0.0%"


def test_half_open_reopens_when_the_trial_fails():
    b, s, seen = make(window_size=4, minimum_calls=2, wait_open_sec=1, half_open_calls=4)
    calls(b, "xx")
    s.advance(1000)
    calls(b, "oox")
    assert b.state == HALF_OPEN
    calls(b, "x")  # 2 of 4 failed: 50%
    assert b.state == OPEN and b.opened == 2
    assert seen[-1][:2] == (HALF_OPEN, OPEN)
    assert seen[-1][2].startswith("failure rate 50.0% >= 50.0% over 4 calls")


def test_the_wait_grows_by_the_multiplier_up_to_wait_max_and_resets_on_close():
    b, s, seen = make(
        window_size=2, minimum_calls=2, wait_open_sec=1, half_open_calls=1,
        wait_multiplier=2, wait_max_sec=5,
    )  # fmt: skip
    calls(b, "xx")
    waits = []
    for _ in range(5):
        waits.append(b.wait_ms)
        s.advance(b.wait_ms - 1)
        assert not b.allow()
        s.advance(1)
        calls(b, "x")  # the one trial call fails: open again, longer
    assert waits == [1000, 2000, 4000, 5000, 5000]
    s.advance(5000)
    calls(b, "o")
    assert b.state == CLOSED
    calls(b, "xx")
    assert b.state == OPEN and b.wait_ms == 1000


def test_forced_states_hold_until_closed_or_reset():
    b, s, seen = make(window_size=2, minimum_calls=2)
    b.force_open()
    assert b.state == FORCED_OPEN and b.state_name() == "forced_open"
    s.advance(10000000)
    assert not b.available() and not b.allow()
    b.disable()
    calls(b, "xxxxx")
    assert b.state == DISABLED and b.calls == 0 and b.total_failures == 5
    b.close()
    assert b.state == CLOSED
    calls(b, "xx")
    assert b.state == OPEN
    b.close()
    b.close()  # already closed: no event
    assert [n for o, n, w in seen] == [FORCED_OPEN, DISABLED, CLOSED, OPEN, CLOSED]
    assert seen[0][2] == "forced open by hand" and seen[4][2] == "closed by hand"


def test_reset_clears_the_window_the_counters_and_the_wait_growth():
    b, s, seen = make(window_size=2, minimum_calls=2, wait_open_sec=1, half_open_calls=1,
                      wait_multiplier=3)  # fmt: skip
    calls(b, "xx")
    s.advance(1000)
    calls(b, "x")
    assert b.wait_ms == 3000 and b.not_permitted == 0
    b.allow()
    b.reset()
    assert b.state == CLOSED and b.calls == 0 and b.wait_ms == 1000
    assert b.total_calls == 0 and b.not_permitted == 0 and b.opened == 0
    assert seen[-1] == (OPEN, CLOSED, "reset")
    b.reset()  # closed already: still one event (resilience4j's RESET)
    assert seen[-1] == (CLOSED, CLOSED, "reset") and len(seen) == 5


def test_available_has_no_side_effects_in_any_state():
    b, s, seen = make(window_size=2, minimum_calls=2, wait_open_sec=1, half_open_calls=2)
    calls(b, "xx")
    s.advance(1000)
    before = (b.state, b.permits, b.not_permitted, len(seen))
    for _ in range(5):
        assert b.available()
    assert (b.state, b.permits, b.not_permitted, len(seen)) == before
    assert b.allow() and b.state == HALF_OPEN
    for _ in range(5):
        assert b.available()
    assert b.permits == 1


def test_release_gives_a_half_open_permit_back_and_nothing_else():
    b, s, seen = make(window_size=2, minimum_calls=2, wait_open_sec=1, half_open_calls=2)
    calls(b, "xx")
    b.release()  # open: nothing to give back
    s.advance(1000)
    assert b.allow() and b.allow() and not b.allow()
    b.release()
    assert b.permits == 1 and b.calls == 0 and b.state == HALF_OPEN
    b.release()
    b.release()  # never more than half_open_calls
    assert b.permits == 2
    b.close()
    b.release()
    assert b.permits == 0


def test_one_hook_call_per_transition_and_none_without_one():
    b, s, seen = make(window_size=3, minimum_calls=3, wait_open_sec=1, half_open_calls=1)
    calls(b, "ooo" * 10)
    assert seen == []
    calls(b, "xx")  # 2 of 3
    assert len(seen) == 1
    for _ in range(3):
        assert not b.allow()
        b.record(False, 1)  # a late outcome while open: no transition
    assert len(seen) == 1 and b.total_failures == 5
    s.advance(1000)
    calls(b, "o")
    assert [n for o, n, w in seen] == [OPEN, HALF_OPEN, CLOSED]


def test_reconfigure_keeps_a_forced_state_and_empties_the_window():
    b, s, seen = make(window_size=4, minimum_calls=4)
    calls(b, "xo")
    b.configure(breakcfg.parse("breaker t", {"window_type": "time", "window_size": 30}))
    assert b.state == CLOSED and b.calls == 0 and b.ring is None and len(b.b_calls) == 30
    b.force_open()
    b.configure(breakcfg.parse("breaker t", {}))
    assert b.state == FORCED_OPEN and len(b.ring) == 100


def test_bad_options_say_what_was_wrong_and_what_was_expected():
    def err(**o):
        try:
            breakcfg.parse("breaker web", o)
        except ValueError as e:
            return str(e)
        raise AssertionError("accepted %r" % o)

    assert err(window_type="sliding") == (
        "breaker web: 'window_type' must be 'count' or 'time', got 'sliding'"
    )
    assert err(window_size=0) == "breaker web: 'window_size' must be an int in 1..10000, got 0"
    assert err(window_type="time", window_size=7200) == (
        "breaker web: 'window_size' of a time window must be 1..3600 seconds, got 7200"
    )
    assert err(failure_rate_threshold=0) == (
        "breaker web: 'failure_rate_threshold' must be a percentage in (0, 100], got 0"
    )
    assert err(slow_call_rate_threshold="lots").startswith(
        "breaker web: 'slow_call_rate_threshold' must be a percentage"
    )
    assert err(wait_open_sec=-1).startswith(
        "breaker web: 'wait_open_sec' must be seconds (e.g. 5, 0.5, '500ms', '2s'), 1 ms.."
    )
    assert err(slow_call_duration_ms="soon").startswith(
        "breaker web: 'slow_call_duration_ms' must be ms (e.g. 250, '500ms', '2s')"
    )
    assert err(minimum_calls=True).startswith("breaker web: 'minimum_calls' must be an int")
    assert err(wait_multiplier=0.5) == (
        "breaker web: 'wait_multiplier' must be a number in 1..100 (1: no growth), got 0.5"
    )
    assert err(wait_open_sec=10, wait_max_sec=5) == (
        "breaker web: 'wait_max_sec' must be at least 'wait_open_sec' (10 s), got 5 s"
    )
    assert err(failure_rate=5).startswith(
        "breaker web: unknown option 'failure_rate' (expected failure_rate_threshold, "
    )


def test_options_accept_text_as_an_ini_or_shell_line_gives_it():
    cfg = breakcfg.parse(
        "breaker t",
        {"wait_open_sec": "500ms", "slow_call_duration_ms": "2s", "window_size": "20",
         "failure_rate_threshold": "12.5", "wait_max_sec": "1min"},
    )  # fmt: skip
    assert cfg.wait_ms == 500 and cfg.slow_ms == 2000 and cfg.size == 20
    assert cfg.fail_pm == 125 and cfg.wait_max_ms == 60000
    o = cfg.options()
    assert o["wait_open_sec"] == 0.5 and o["failure_rate_threshold"] == 12.5


def test_the_call_path_allocates_nothing_without_a_transition():
    import micropython

    for window in ("count", "time"):
        b, s, seen = make(window_type=window, window_size=50, minimum_calls=10)
        calls(b, "o" * 60)
        micropython.heap_lock()
        try:
            for i in range(300):
                b.available()
                b.allow()
                b.record(i % 4 != 0, i)  # 25% failed
                if i % 50 == 0:
                    s.clock.now_us += 1700000  # the time window rolls buckets
        finally:
            micropython.heap_unlock()
        assert b.state == CLOSED and b.total_calls == 360 and seen == []
    b, s, seen = make(window_size=4, minimum_calls=2, wait_open_sec=1, half_open_calls=100)
    calls(b, "xx")
    micropython.heap_lock()
    try:
        for _ in range(50):
            b.available()
            b.allow()  # open: refused
    finally:
        micropython.heap_unlock()
    s.advance(1000)
    b.allow()  # to half_open (a transition may allocate)
    micropython.heap_lock()
    try:
        for _ in range(50):
            b.available()
            b.allow()
            b.record(True, 1)
    finally:
        micropython.heap_unlock()
    assert b.state == HALF_OPEN and b.not_permitted == 50 and b.calls == 50
