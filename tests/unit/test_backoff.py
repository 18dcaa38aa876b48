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
