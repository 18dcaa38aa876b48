# kernel/mkept: an idle service's metrics samples kept as values (its Rec.first), not series.
#
# Owns: the layout of Rec.first, a sample added to it (keep), the value a kernel series would
# hold after its samples (value), one sample recorded into the four kernel series (record),
# and those series and the Avail made from the samples (made): exactly what the samples
# would have left had each been recorded in its round (Registry.keep_first = False, the
# eager way; tests/unit/test_msample.py runs both side by side).
# Why: four 60-value series and an Avail are ~1.2 KB a service on ARM, and an idle service's
# samples are a few values: 10,000 idle services that wake every 100 s (two or three samples
# a wake-up) did not fit once each had woken.
# Layout: a head when needed (_head: cpu_us and alloc_b of the samples folded into it, the
# round its availability began), then per sample (round, cpu_us, alloc_b, period_ms, up or
# None: no availability yet). A sample older than the history (params.METRIC_HISTORY
# rounds) is folded into the head, but the newest of them (the values the rounds after it
# repeat).
# Not here: which services are sampled and when (kernel/metrics.py), the series and the
# Avail themselves (kernel/mseries.py).
from micropython import const

from kernel import params
from kernel.mseries import Avail

# The kernel's sampled series, in the order of a Rec's kseries (re-exported by metrics).
K_CPU_US = "cpu_us"
K_ALLOC_B = "alloc_b"
K_CPU_PCT = "cpu_pct"  # % of the sample period the service's task ran
K_ALLOC_RATE = "alloc_b_per_s"
KSAMPLED = (K_CPU_US, K_ALLOC_B, K_CPU_PCT, K_ALLOC_RATE)

_FIRST = const(5)  # values of one sample: round, cpu, alloc, period, up
_HEAD = const(3)  # the head: cpu_us and alloc_b folded, the round its availability began
_KEEP = const(6)  # samples kept beside the newest one older than the history, at most (one
#                   more: its series and Avail are made)


def _head(f):
    # -> (cpu_us, alloc_b folded, the round its availability began, where the samples
    # begin). Without a head (nothing folded, the availability from its first sample or
    # not begun: most idle services): 0, 0, that round or None, 0.
    if len(f) % _FIRST:
        return f[0], f[1], f[2], _HEAD
    return 0, 0, f[0] if f[4] is not None else None, 0


def keep(f, rnd, cpu, alloc, period_ms, up):
    """f (one or more samples) with the sample of round rnd -> the new tuple, or None: its
    series and Avail are to be made (more than _KEEP samples within the history, or its
    availability changed: the head keeps only the round it began, so every sample since
    is `up`)."""
    if f[-1] is not None and up != f[-1]:
        return None
    lo = rnd - params.METRIC_HISTORY  # a sample at or before this is out of the history
    n = len(f)
    if (
        n % _FIRST == 0  # no head, and none needed: nothing to fold, its Avail as before
        and (n == _FIRST or f[_FIRST] > lo)
        and (f[4] is not None or up is None)
        and n // _FIRST <= _KEEP
    ):
        return f + (rnd, cpu, alloc, period_ms, up)
    c0, a0, r0, i = _head(f)
    while i + _FIRST < n and f[i + _FIRST] <= lo:
        c0 += f[i + 1]  # f[i:i + 5] is folded: the sample after it is out of the history
        a0 += f[i + 2]
        i += _FIRST
    if (n - i) // _FIRST > _KEEP:
        return None
    if r0 is None and up is not None:
        r0 = rnd
    f = f[i:] + (rnd, cpu, alloc, period_ms, up)
    if c0 or a0 or r0 != (f[0] if f[4] is not None else None):
        f = (c0, a0, r0) + f
    return f


def value(f, name):
    """The value series `name` (of KSAMPLED) would hold after the samples f."""
    if name == K_CPU_PCT:
        return f[-4] / (f[-2] * 10)
    if name == K_ALLOC_RATE:
        return f[-3] * 1000 // f[-2]
    c0, a0, r0, i = _head(f)
    v = c0 if name == K_CPU_US else a0  # (what was folded into the head)
    for j in range(i + (1 if name == K_CPU_US else 2), len(f), _FIRST):
        v += f[j]
    return v


def record(k, cpu, alloc, period_ms, rnd):
    """One sample of round rnd into the four kernel series k (a Rec's kseries)."""
    k[0].record(k[0].value + cpu, rnd)
    k[1].record(k[1].value + alloc, rnd)
    k[2].record(cpu / (period_ms * 10), rnd)
    k[3].record(alloc * 1000 // period_ms, rnd)


def made(f, k):
    """The samples f into the four kernel series k, made for them and empty: each holds the
    first kept sample (the values folded before it included) from its round on, the rest
    recorded (the rounds between caught up lazily, as for any series) -> the Avail, up in
    every round since it began, or None (not begun)."""
    c0, a0, r0, i = _head(f)
    rnd, cpu, alloc, period_ms, up = f[i : i + _FIRST]
    for m, v in (
        (k[0], c0 + cpu),
        (k[1], a0 + alloc),
        (k[2], cpu / (period_ms * 10)),
        (k[3], alloc * 1000 // period_ms),
    ):
        m.at = rnd
        m.value = v
        m.ring.add(v)
    for j in range(i + _FIRST, len(f), _FIRST):
        record(k, f[j + 1], f[j + 2], f[j + 3], f[j])
    if r0 is None:
        return None
    last = f[-_FIRST]
    up = f[-1]
    a = Avail(r0 - 1)
    a.add_n(up, last - r0 + 1)
    a.last_up = up
    a.synced = last
    return a
