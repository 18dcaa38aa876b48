# Tests for kernel/backoff: kinds, caps, jitters from a seeded RNG.
from kernel import backoff as b


def test_kinds_grow_and_cap():
    assert [b.raw_ms(b.FIXED, 100, 1000, n) for n in range(4)] == [100, 100, 100, 100]
    assert [b.raw_ms(b.LINEAR, 100, 350, n) for n in range(5)] == [100, 200, 300, 350, 350]
    assert [b.raw_ms(b.EXPONENTIAL, 100, 1000, n) for n in range(6)] == [
        100,
        200,
        400,
        800,
        1000,
        1000,
    ]
    assert b.raw_ms(b.EXPONENTIAL, 100, 1000, 10**6) == 1000  # no huge shift


def test_jitter_stays_in_range_and_is_deterministic():
    def series(jitter, seed):
        rng = b.Rng(seed)
        out = []
        prev = 0
        for n in range(50):
            prev = b.delay_ms(b.EXPONENTIAL, jitter, 100, 5000, n, prev, rng)
            out.append(prev)
        return out

    for j in (b.FULL, b.EQUAL, b.DECORRELATED):
        s = series(j, 7)
        assert s == series(j, 7)  # same seed, same delays
        assert s != series(j, 8)
        assert all(0 <= d <= 5000 for d in s)
    for n, d in enumerate(series(b.EQUAL, 3)):
        raw = b.raw_ms(b.EXPONENTIAL, 100, 5000, n)
        assert raw // 2 <= d <= raw
    assert all(100 <= d for d in series(b.DECORRELATED, 3))
    assert b.delay_ms(b.FIXED, b.NONE, 100, 5000, 9, 0, b.Rng(1)) == 100


def test_rate_is_the_recent_failure_share_per_mille():
    r = b.Rate()
    assert r.rate_pm() == 0
    for failed in (True, False, True, True):
        r.record(failed)
    assert r.rate_pm() == 187  # 3 of the window's 16 (params.BACKOFF_RATE_WINDOW)
    for _ in range(13):
        r.record(True)
    assert r.rate_pm() == 937  # the first failure left the window, the False is in it
    r.record(True)
    assert r.rate_pm() == 1000
    for _ in range(16):  # old outcomes leave the window
        r.record(False)
    assert r.rate_pm() == 0


def test_adaptive_grows_with_the_failure_rate_and_shrinks_with_success():
    assert b.KIND_NAMES[b.ADAPTIVE] == "adaptive"
    r = b.Rate()
    seen = []
    for failed in (True,) * 16 + (False,) * 16:
        seen.append(b.delay_ms(b.ADAPTIVE, b.NONE, 100, 30000, 0, 0, b.Rng(1), r.rate_pm()))
        r.record(failed)
    # base << (rate * 8 / 1000): one doubling per two failures in the window of 16
    assert seen[:16] == [100, 100, 200, 200, 400, 400, 800, 800, 1600, 1600, 3200, 3200,
                         6400, 6400, 12800, 12800], seen  # fmt: skip
    assert seen[16] == 25600 and seen[17:] == sorted(seen[17:], reverse=True), seen
    assert seen[-1] == 100
    assert b.raw_ms(b.ADAPTIVE, 100, 1000, 99, 1000) == 1000  # capped
    assert b.raw_ms(b.ADAPTIVE, 100, 1000, 99, 0) == 100  # the attempt does not matter


def test_adaptive_restarts_of_a_crash_looping_service_slow_down():
    from svcfakes import World

    w = World()
    h = w.add(name="c", exec=w.body("c", [("raise", 0)]), restart_sec=0.1, backoff="adaptive",
              backoff_max_sec=60, start_limit_burst=1000)  # fmt: skip
    w.m.start_job(["c"], "test")
    w.run_for(200000)
    starts = w.times("c", "starting")
    gaps = [starts[i + 1] - starts[i] for i in range(len(starts) - 1)]
    assert gaps[:6] == [100, 100, 200, 200, 400, 400], gaps
    assert gaps == sorted(gaps) and gaps[-1] == 25600, gaps
    assert h.rate.rate_pm() == 1000
