# kernel/backoff: how long to wait before the next automatic restart (or recovery).
#
# Owns: the backoff kinds (fixed, linear, exponential, adaptive), the jitters (none, full, equal,
# decorrelated, as in the AWS architecture note "Exponential Backoff and Jitter") and a small
# seedable RNG, and Rate: the recent failure rate (a ring of the last outcomes as bits).
# Adaptive grows the delay with that rate, not with the attempt: base << (rate * shift / 1000),
# so a run of failures doubles it up to params.BACKOFF_ADAPT_SHIFT times and every success
# that enters the ring brings it down again. delay_ms() is a pure function of its arguments
# and the injected rng, so tests are deterministic. Invariants: a delay is an int in
# 0..cap_ms; attempt 0 is the first restart; a rate is per-mille, an int in 0..1000.
# Not here: when to restart (kernel/service.py), the start limit.
from micropython import const

from kernel import params

FIXED = const(0)  # base every time
LINEAR = const(1)  # base * (attempt + 1)
EXPONENTIAL = const(2)  # base * 2**attempt
ADAPTIVE = const(3)  # base * 2**(failure rate * BACKOFF_ADAPT_SHIFT / 1000)
KIND_NAMES = ("fixed", "linear", "exponential", "adaptive")

NONE = const(0)  # the computed delay
FULL = const(1)  # uniform in 0..d
EQUAL = const(2)  # d/2 + uniform in 0..d/2
DECORRELATED = const(3)  # uniform in base..prev*3 (prev: the last delay)
JITTER_NAMES = ("none", "full", "equal", "decorrelated")

_SHIFT_MAX = const(20)  # 2**20 * base is past any sensible cap: stop doubling there


class Rng:
    """xorshift32: below(n) -> int in 0..n-1. Seeded, so a test sees the same delays."""

    def __init__(self, seed=1):
        self.x = (seed * 2654435761 + 0x9E3779B9) & 0xFFFFFFFF or 1

    def below(self, n):
        if n <= 1:
            return 0
        x = self.x
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        self.x = x
        return x % n


class Rate:
    """The recent failure rate: the last params.BACKOFF_RATE_WINDOW outcomes as bits (a
    window not yet full counts its missing outcomes as successes, so the rate, and an
    adaptive delay, grows one failure at a time)."""

    def __init__(self):
        self.bits = 0  # bit i: outcome i records ago failed

    def record(self, failed):
        w = params.BACKOFF_RATE_WINDOW
        self.bits = (self.bits << 1 | (1 if failed else 0)) & ((1 << w) - 1)

    def rate_pm(self):
        """Failures per mille of the window's outcomes."""
        b = self.bits
        k = 0
        while b:
            k += b & 1
            b >>= 1
        return k * 1000 // params.BACKOFF_RATE_WINDOW


def raw_ms(kind, base_ms, cap_ms, attempt, rate_pm=0):
    """The delay before jitter: base grown by kind for this attempt (adaptive: for the
    recent failure rate, per mille), capped."""
    if kind == ADAPTIVE:
        d = base_ms << (rate_pm * params.BACKOFF_ADAPT_SHIFT // 1000)
    elif kind == LINEAR:
        d = base_ms * (attempt + 1)
    elif kind == EXPONENTIAL:
        d = base_ms << min(attempt, _SHIFT_MAX)
    else:
        d = base_ms
    return min(d, cap_ms)


def delay_ms(kind, jitter, base_ms, cap_ms, attempt, prev_ms, rng, rate_pm=0):
    """The delay before restart number `attempt` (0-based); prev_ms: the previous delay;
    rate_pm: the recent failure rate (adaptive)."""
    if jitter == DECORRELATED:
        lo = base_ms
        hi = max(lo, min(cap_ms, max(prev_ms, base_ms) * 3))
        return lo + rng.below(hi - lo + 1)
    d = raw_ms(kind, base_ms, cap_ms, attempt, rate_pm)
    if jitter == FULL:
        return rng.below(d + 1)
    if jitter == EQUAL:
        return d // 2 + rng.below(d - d // 2 + 1)
    return d
