# Tests for kernel/journal: bounded ring, per-name rate limit, filtering and format.
from kernel import params
from kernel.journal import Journal


def test_ring_is_bounded_and_filters_by_name():
    now = [0]
    j = Journal(lambda: now[0], size=4)
    for i in range(6):
        now[0] += params.JOURNAL_RATE_INTERVAL_MS  # no rate limit in play
        j.add("a" if i % 2 else "b", "e%d" % i)
    assert [e[2] for e in j.entries()] == ["e2", "e3", "e4", "e5"]
    assert [e[2] for e in j.entries(name="a")] == ["e3", "e5"]
    assert [e[2] for e in j.entries(1)] == ["e5"]
    assert j.lines(1)[0] == "[    6.000] a: e5"


def test_rate_limit_per_name_then_says_how_many_were_dropped():
    now = [1000]
    j = Journal(lambda: now[0])
    for i in range(params.JOURNAL_RATE_BURST + 5):
        j.add("noisy", "crash", "c%d" % i)
    assert j.add("calm", "started")  # other names are not limited
    assert len(j.entries(name="noisy")) == params.JOURNAL_RATE_BURST
    now[0] += params.JOURNAL_RATE_INTERVAL_MS
    j.add("noisy", "crash")
    last = j.entries(2, "noisy")
    assert last[0][2:] == ("suppressed", "5 events") and last[1][2] == "crash"
