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


def test_rate_limit_drops_only_repeats_and_counts_them_on_one_line():
    now = [1000]
    j = Journal(lambda: now[0])
    for i in range(params.JOURNAL_RATE_BURST):
        assert j.add("noisy", "crash", "c%d" % i, 2)
    for i in range(5):
        assert not j.add("noisy", "crash", "again %d" % i, 2)  # a repeat past the burst
    assert j.add("calm", "started")  # other names are not limited
    kept = j.entries(name="noisy")
    assert len(kept) == params.JOURNAL_RATE_BURST + 1
    assert kept[-1][2:] == ("5 events suppressed", "last: crash")  # one line, counted in place
    assert j.lines(1, "noisy")[0] == "[    1.000] noisy: 5 events suppressed (last: crash)"
    now[0] += params.JOURNAL_RATE_INTERVAL_MS  # a new window: kept again
    assert j.add("noisy", "crash", "later", 2)
    assert j.entries(1, "noisy")[0][3] == "later"


def test_a_change_of_state_or_result_past_the_burst_is_kept():
    # A restart storm: starting / started / restarting over and over, then the start limit.
    now = [0]
    j = Journal(lambda: now[0])
    for _ in range(6):
        j.add("web", "starting", "restart", 0)
        j.add("web", "started", None, 0)
        j.add("web", "restarting", "exception: boom", 2)
        now[0] += 10
    assert j.add("web", "failed", "exception: other", 2)  # new event: kept
    assert j.add("web", "failed", "start-limit-hit: started more than 5 times", 5)  # new result
    last = j.entries(3, "web")
    assert last[0][2] == "8 events suppressed", last  # 18 events, 10 kept before the drops
    assert last[1][2:] == ("failed", "exception: other")
    assert last[2][2:] == ("failed", "start-limit-hit: started more than 5 times")
    assert not j.add("web", "failed", "start-limit-hit: again", 5)  # now it is a repeat
    assert j.entries(1, "web")[0][2:] == ("1 event suppressed", "last: failed")


def test_suppressed_line_is_renewed_once_the_ring_wrapped_past_it():
    now = [0]
    j = Journal(lambda: now[0], size=4)
    for i in range(params.JOURNAL_RATE_BURST + 1):
        j.add("a", "crash", None, 2)
    for i in range(4):
        j.add("b%d" % i, "started")  # push the "suppressed" line out of the ring
    j.add("a", "crash", None, 2)
    assert j.entries(1, "a")[0][2] == "1 event suppressed"


def test_rate_state_of_quiet_names_is_swept():
    now = [0]
    j = Journal(lambda: now[0])
    for i in range(3 * params.JOURNAL_RATE_NAMES):
        j.add("svc%d" % i, "started")
        now[0] += params.JOURNAL_RATE_INTERVAL_MS // params.JOURNAL_RATE_NAMES + 1
    # Names heard from more than a window ago were dropped; recent ones are kept.
    assert len(j.rate) < 2 * params.JOURNAL_RATE_NAMES, len(j.rate)
    assert "svc%d" % (3 * params.JOURNAL_RATE_NAMES - 1) in j.rate
    assert "svc0" not in j.rate
    assert len(j.entries()) == min(3 * params.JOURNAL_RATE_NAMES, params.JOURNAL_EVENTS)


def test_rate_state_is_five_small_ints_and_keys_past_the_bits_are_never_dropped():
    # The state of every name heard from in the window is live at once (10,000 services
    # started in a burst): five ints each, the repeat keys as bits, no per-name lists.
    from kernel import journal

    now = [0]
    j = Journal(lambda: now[0])
    j.add("a", "starting", "boot", 0)
    j.add("a", "started", None, 0)
    r = j.rate.get("a")
    assert len(r) == 5 and all(isinstance(v, int) for v in r), r
    assert r[journal._N] == 2
    bit = journal._key_bit("started", 0)
    assert r[journal._KEYS] >> bit & 1 and journal._key_bit("started", 0) == bit
    saved = journal._nbits[0]
    journal._nbits[0] = journal._BITS  # every bit handed out: a new key has none
    try:
        for i in range(params.JOURNAL_RATE_BURST + 3):
            assert j.add("b", "odd event %d" % saved, None, 9)  # kept: it cannot be told apart
    finally:
        journal._nbits[0] = saved


def test_a_result_back_to_an_earlier_one_is_a_change_not_a_repeat():
    # As the console's fault test saw it: restarting after an exception, after a watchdog,
    # then after an exception again, all in one window past the burst. The third differs
    # from the last `restarting` kept: it is kept; the same result twice in a row is not.
    now = [0]
    j = Journal(lambda: now[0])
    for i in range(params.JOURNAL_RATE_BURST):
        j.add("hb", "probe", "passing %d" % i, 0)
    assert not j.add("hb", "probe", "passing again", 0)  # a repeat past the burst
    assert j.add("hb", "restarting", "exception: InjectedFault", 2)
    assert j.add("hb", "restarting", "watchdog: step ran past", 4)
    assert j.add("hb", "restarting", "exception: MemoryError", 2)
    assert not j.add("hb", "restarting", "exception: MemoryError again", 2)
    causes = [e[3] for e in j.entries(3, "hb")]
    assert causes == ["watchdog: step ran past", "exception: MemoryError", "last: restarting"]
