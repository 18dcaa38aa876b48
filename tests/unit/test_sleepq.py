# Tests for kernel/sleepq: the pairing heap of sleeping tasks.
from kernel.clock import ticks_add, ticks_diff
from kernel.sleepq import SleepQueue


class T:
    ph_key = 0
    ph_child = None
    ph_child_last = None
    ph_next = None
    ph_rightmost_parent = None
    timed = False

    def __init__(self, n):
        self.n = n


def drain(q):
    out = []
    while q.peek() is not None:
        out.append(q.pop().n)
    return out


def test_pops_in_deadline_order():
    q = SleepQueue(ticks_diff)
    keys = [50, 10, 40, 20, 30, 0, 60]
    for i, k in enumerate(keys):
        q.push(T(k), k)
    assert drain(q) == sorted(keys)


def test_order_survives_ticks_wrap():
    q = SleepQueue(ticks_diff)
    base = (1 << 30) - 20
    for d in (30, 5, 15, 25):
        q.push(T(d), ticks_add(base, d))
    assert drain(q) == [5, 15, 25, 30]


def test_remove_any_node_keeps_order():
    for victim in range(8):
        q = SleepQueue(ticks_diff)
        ts = [T(k) for k in (7, 3, 5, 1, 6, 2, 4, 0)]
        for t in ts:
            q.push(t, t.n)
        for t in ts[:3]:  # pop a few so the heap has inner structure
            pass
        first = q.pop()
        assert first.n == 0
        target = [t for t in ts if t.n == victim][0]
        if target is first:
            continue
        q.remove(target)
        assert target.timed is False
        expect = sorted(t.n for t in ts if t is not target and t is not first)
        assert drain(q) == expect


def test_timed_flag_tracks_membership():
    q = SleepQueue(ticks_diff)
    t = T(1)
    q.push(t, 1)
    assert t.timed
    q.pop()
    assert not t.timed
