# Tests for the metrics sampler's bounded rounds (kernel/metrics.py Registry.rounds): only
# services with activity are sampled (hot Recs), idle ones go cold and are caught up lazily
# with the same series and availability as if sampled every round, a woken task's service
# is sampled again, alert rules run over the sampled ones, and a round is cut into slices of
# params.METRIC_SLICE per step of the sampler task. On the virtual clock (exact times).
from svcfakes import World

from kernel import alerting as A
from kernel import metrics as M
from kernel import params, traps


def sleeper(ms):
    async def run():
        while True:
            await traps.sleep_ms(ms)

    return run


def started(n, ms=100000, prefix="idle", step_us=0):
    w = World(step_us=step_us)
    reg = M.Registry(w.m)
    names = ["%s%d" % (prefix, i) for i in range(n)]
    for name in names:
        w.add(name=name, exec=sleeper(ms))
    w.m.start_job(names, "t")
    w.run_for(10)
    return w, reg, names


def count_sampled(reg):
    seen = []
    reg.hooks.append(lambda r: seen.extend(x.name for x in r.sampled))
    return seen


def test_idle_services_go_cold_and_rounds_sample_only_the_active():
    w, reg, names = started(50)
    w.add(name="ticker", exec=sleeper(300))  # wakes every 300 ms: active every round
    w.m.start_job(["ticker"], "t")
    seen = count_sampled(reg)
    reg.start()
    w.run_for(2500)  # rounds at 1 s and 2 s: every service (their start), then they idle
    del seen[:]
    w.run_for(3000)  # three rounds: only the ticker is sampled
    assert seen == ["ticker"] * 3, seen
    assert all(not reg.recs[n].hot for n in names)


def test_a_cold_service_reads_as_if_sampled_every_round():
    # Idle for 150 s (cold after its second round) beside one sampled every round: the
    # same availability, the same history of its series.
    w, reg, names = started(1)
    w.add(name="ticker", exec=sleeper(500))
    w.m.start_job(["ticker"], "t")
    reg.start()
    w.run_for(150500)
    idle = names[0]
    assert reg.availability(idle) == reg.availability("ticker") == (100, 100, 100)
    r = reg.recs[idle]
    assert r.avail.n == reg.recs["ticker"].avail.n == 150 and r.avail.up == 150
    for k in (M.K_STARTS, M.K_CPU_PCT, M.K_ALLOC_B):
        h = reg.get(idle, k).history()
        assert len(h) == params.METRIC_HISTORY, (k, len(h))
        assert h == [h[-1]] * params.METRIC_HISTORY, (k, h)  # idle: one value repeated
    assert reg.get(idle, M.K_STARTS).history()[-1] == 1
    assert reg.get(idle, M.K_CPU_PCT).history()[-1] == 0


def test_a_cold_service_stopped_counts_down_from_the_round_after():
    w, reg, names = started(1)
    reg.start()
    w.run_for(30500)  # 30 rounds up (cold since the second)
    w.m.stop(w.m.services[names[0]], "t")
    w.run_for(30000)  # 30 rounds down: the stop's event made it hot again
    m1, h1, boot = reg.availability(names[0])
    assert m1 == 50 and boot == 50, (m1, h1, boot)


def test_a_woken_task_makes_its_service_sampled_again():
    w, reg, names = started(1, ms=4000)  # wakes every 4 s, burns CPU each time
    name = names[0]

    async def body():
        while True:
            await traps.sleep_ms(4000)
            w.clock.burn(20000)  # 2% of a second

    w.add(name="burst", exec=body)
    w.m.start_job(["burst"], "t")
    reg.start()
    w.run_for(12500)
    h = reg.get("burst", M.K_CPU_PCT).history()
    # Its task woke at 4, 8 and 12 s (the rounds just after: 5, 9, 13 s... rounds at whole
    # seconds count the CPU of the second before them): 2% in exactly those rounds.
    assert [i + 1 for i, v in enumerate(h) if v] == [4, 8, 12], h
    assert max(h) == 2.0, h
    assert reg.get(name, M.K_CPU_PCT).history() == [0] * 12


def test_a_series_changed_on_a_cold_service_records_the_rounds_before_it():
    w, reg, names = started(1)
    g = reg.metric(names[0], "queue", "gauge")
    reg.start()
    w.run_for(5500)
    g.set(7)  # changed after round 5: rounds 1..5 had 0
    w.run_for(3000)
    assert g.history() == [0] * 5 + [7] * 3, g.history()


def test_alert_rules_run_for_the_sampled_services_only():
    # 20 idle services and one with its own rule (its series may change from anywhere: it
    # is sampled every round); a probe result on an idle one makes it sampled and its
    # rules evaluated in the next round.
    w, reg, names = started(20)
    al = A.Alerts(reg)
    rule = [{"name": "deep", "metric": "queue", "op": ">=", "value": 10, "for_sec": 3}]
    w.add(name="q", exec=sleeper(100000), alerts=rule)
    w.m.start_job(["q"], "t")
    reg.start()
    w.run_for(5500)
    seen = count_sampled(reg)
    w.run_for(2000)
    assert seen == ["q", "q"], seen
    reg.metric("q", "queue", "gauge").set(12)
    w.run_for(4000)  # held from the round at 8.01 s (rounds run at x.010 s) for 3 s
    (a,) = al.listing()
    assert a.rule.name == "deep" and a.state == A.FIRING and a.since_ms == 11010, a.since_ms
    del seen[:]
    reg.on_probe(names[3], "liveness", "critical", 1)
    w.run_for(1000)
    assert sorted(seen) == sorted(["q", names[3]]), seen
    assert sorted(x.service for x in al.listing()) == sorted(["q", names[3]])


def test_a_round_is_cut_into_slices_and_the_sampler_yields_between():
    w, reg, names = started(3 * params.METRIC_SLICE + 5, ms=700)  # all active every round
    sizes = []
    reg.hooks.append(lambda r: sizes.append(len(r.sampled)))
    steps0 = []
    reg.start()
    w.run_for(1500)
    steps0.append(reg.task.steps)
    w.run_for(1000)
    assert sizes[-4:] == [params.METRIC_SLICE] * 3 + [5], sizes
    # one round: its four slices ran in four steps of the sampler task (the last one
    # goes back to sleep)
    assert reg.task.steps - steps0[0] == 4, reg.task.steps - steps0[0]


def test_add_n_is_the_same_as_adding_one_by_one():
    for k in (0, 1, 7, 59, 60, 61, 119, 3600, 3661, 7300):
        for start in (0, 1, 59, 61, 3599):
            for up in (True, False):
                a = M.Avail()
                b = M.Avail()
                for i in range(start):
                    a.add(i % 3 != 0)
                    b.add(i % 3 != 0)
                a.add_n(up, k)
                for _ in range(k):
                    b.add(up)
                assert (a.n, a.up, a.cur) == (b.n, b.up, b.cur), (k, start, up)
                assert a.secs == b.secs and a.mins == b.mins, (k, start, up)
    for seq in (
        ((1, 3), (1, 2), (2, 1), (3, 9), (3, 0), (4, 2)),
        ((5, 1), (0, 70)),
        ((5, 1), (0, 2), (6, 1)),
        ((5, 2), (0, 1)),
    ):
        r = M.Ring(4)
        q = _OneByOne(4)
        for v, k in seq:
            r.add_n(v, k)
            for _ in range(k):
                q.add(v)
            assert r.values() == q.values(), (seq, v, k, r.values(), q.values())


class _OneByOne:
    # The reference ring: a plain list of every value.
    def __init__(self, size):
        self.size = size
        self.all = []

    def add(self, v):
        self.all.append(v)

    def values(self):
        return self.all[-self.size :] if self.all else []


def test_a_series_that_ran_once_then_idles_keeps_no_list():
    # cpu_pct of an idle service: its start's step, then 0 for ever: first + same.
    r = M.Ring(params.METRIC_HISTORY)
    r.add(3.5)
    r.add_n(0, 200)
    assert r.buf is None and r.values() == [0] * params.METRIC_HISTORY
    r = M.Ring(4)
    r.add(3.5)
    r.add_n(0, 2)
    assert r.buf is None and r.values() == [3.5, 0, 0]
    r.set_last(1)  # the newest replaced: now a list
    assert r.values() == [3.5, 0, 1]


def test_an_idle_services_rec_sets_only_the_fields_that_differ():
    # Thousands of idle services: each field a Rec sets is a table slot (8 B on ARM), and a
    # table outgrown is a hole. Started and sampled twice (cold since): these fields only.
    w, reg, names = started(3)
    r = reg.recs[names[0]]
    assert sorted(r.__dict__) == ["hnext", "hot", "name", "reg", "runs", "start1"], r.__dict__
    assert len(r.runs) == 5 and r.runs[0] is w.m.services[names[0]].task
    reg.start()
    w.run_for(2500)
    # its first sample kept as values (Rec.first): no series, no Avail, no series dict
    want = ["first", "hnext", "hot", "name", "reg", "runs", "start1"]
    assert not r.hot and sorted(r.__dict__) == want, sorted(r.__dict__)
    assert names[0] not in reg.series and r.kseries is None and r.avail is None
    assert reg.availability(names[0]) == (100, 100, 100)  # read: made from that sample
    want = ["avail", "hnext", "hot", "kseries", "name", "reg", "runs", "start1"]  # 8 slots
    assert sorted(r.__dict__) == want and r.first is None, sorted(r.__dict__)


def test_a_slow_slice_ends_after_metric_slice_ms():
    # Each sample costs 15 ms here (a slow board, a GC pause): a slice ends at the first
    # sample that reaches params.METRIC_SLICE_MS (20 ms), 2 Recs, not METRIC_SLICE (16 x 15 ms
    # = 240 ms, past the 200 ms step watchdog); the round still samples every service.
    w, reg, names = started(9, ms=700)  # all active every round
    one = reg._sample_one

    def slow(r, period_ms):
        w.clock.burn(15000)
        one(r, period_ms)

    reg._sample_one = slow
    sizes = []
    reg.hooks.append(lambda r: sizes.append(len(r.sampled)))
    reg.start()
    w.run_for(1500)
    assert sizes == [2, 2, 2, 2, 1], sizes
    assert not reg.task.done() and reg.recs[names[-1]].first[0] == 1  # its first sample


def test_a_service_that_started_once_owes_its_starts_series_until_read():
    # No series dict for a service that started once and idles (thousands of them): its
    # first start is counted on its Rec, and the series is made on the first read, with the
    # history it would have had. A second start makes it at once.
    w, reg, names = started(2)
    a, b = names
    assert a not in reg.series and b not in reg.series
    for _ in range(3):
        reg.samples += 1  # three rounds pass (no sampler: nothing else is made)
    m = reg.get(a, M.K_STARTS)
    assert a in reg.series and m.value == 1 and m.history() == [1, 1, 1], m.history()
    assert reg.report(a)["starts"]["history"] == [1, 1, 1]
    w.m.stop(w.m.services[b], "t")
    w.run_for(10)
    w.m.start_job([b], "t")
    w.run_for(10)
    assert b in reg.series and reg.value(b, M.K_STARTS) == 2
    reg.samples += 1
    assert reg.get(b, M.K_STARTS).history() == [1, 1, 1, 2], reg.get(b, M.K_STARTS).history()


def test_the_recs_table_is_sized_for_every_service_at_the_first_rec():
    # Grown one by one, it needed tens of KB in one piece at thousands of services, when
    # the heap had been cut into small holes by them.
    w = World()
    reg = M.Registry(w.m)
    for i in range(300):
        w.add(name="s%d" % i, exec=sleeper(1000))
    w.m.start_job(["s0"], "t")
    size = reg.recs.slots()
    assert size >= 2 * 300, size
    w.m.start_job(["s%d" % i for i in range(1, 300)], "t")
    w.run_for(10)
    assert reg.recs.slots() == size and len(reg.recs) == 300


def _seen(w, reg, names):
    out = []
    for name in names:
        rep = reg.report(name)
        out.append(
            (
                name,
                reg.availability(name),
                sorted((k, v["value"], v["history"]) for k, v in rep.items()),
            )
        )
    return out


def _values(w, reg, names):
    # What the alert rules read of each service (Registry.value), series made or not.
    ks = (M.K_CPU_US, M.K_ALLOC_B, M.K_CPU_PCT, M.K_ALLOC_RATE, M.K_STARTS, M.K_RESTARTS)
    return [(name, [reg.value(name, k) for k in ks]) for name in names]


def test_a_first_sample_kept_as_values_reads_as_the_series_it_would_have_made():
    # Two identical worlds: one makes each first sample's series and Avail in its round
    # (as before), the other keeps it as values until read. Read after idle rounds, after
    # a second run, after a restart: the same values, histories and availability.
    worlds = []
    for eager in (False, True):
        w, reg, names = started(4, ms=2500, step_us=40)  # wakes every 2.5 s: cold rounds
        # between; each step charged 40 us: a start's first sample has cpu_us
        w.add(name="late", exec=sleeper(100000))  # enabled later: its first sample later
        reg.keep_first = not eager  # eager: series and Avail made in the first sample
        A.Alerts(reg)  # its rules read every sampled service's `restarts` each round
        reg.start()
        worlds.append((w, reg, names + ["late"]))
    for w, reg, names in worlds:
        w.run_for(1500)  # one round: every first sample
    lazy, eager = worlds
    assert lazy[1].recs["idle0"].first is not None and eager[1].recs["idle0"].first is None
    for w, reg, names in worlds:
        w.m.start_job(["late"], "t")
        w.run_for(2100)  # its first sample (its start ran), then a second finding it idle
    r = lazy[1].recs["late"]
    assert r.first is not None and len(r.first) == 10 and r.kseries is None, r.first
    assert "late" not in lazy[1].series and r.avail is None
    assert eager[1].recs["late"].first is None
    assert _values(*lazy) == _values(*eager), (_values(*lazy), _values(*eager))
    assert lazy[1].recs["late"].first is not None  # (values read without making series)
    for w, reg, names in worlds:
        w.run_for(2100)  # idle rounds, wake-ups (a second or third sample)
    assert _values(*lazy) == _values(*eager), (_values(*lazy), _values(*eager))
    assert _seen(*lazy) == _seen(*eager), (_seen(*lazy), _seen(*eager))
    for w, reg, names in worlds:
        w.m.stop_job([w.m.services["idle1"]], "t")
        w.run_for(1100)
        w.m.start_job(["idle1"], "t")  # a second start: its starts series made at once
        w.run_for(2100)
    a, b = _seen(*lazy), _seen(*eager)
    assert a == b, (a, b)
    assert [x[1] for x in a][0] == (100.0, 100.0, 100.0), a


def test_services_that_wake_now_and_then_keep_values_not_series_for_ever():
    # 10,000 idle services that wake every 100 s did not fit on ARM once each had woken:
    # every wake-up is two or three samples, and the fourth made the four kernel series and
    # an Avail (~1.2 KB a service). Now the samples stay values while at most a few fall
    # within the history (older ones folded into a head), and read exactly as the series
    # made at once would: two worlds, one eager, over 400 s of wake-ups, a stop (its
    # availability changes) and a restart.
    worlds = []
    for eager in (False, True):
        w = World(step_us=40)  # each step charged 40 us: cpu_us and alloc move per wake
        reg = M.Registry(w.m)
        reg.keep_first = not eager
        names = ["w100", "w45", "w3", "stopped"]
        for name, ms in (("w100", 100000), ("w45", 45000), ("w3", 3000), ("stopped", 30000)):
            w.add(name=name, exec=sleeper(ms))
        w.m.start_job(names, "t")
        A.Alerts(reg)
        reg.start()
        worlds.append((w, reg, names))
    lazy, eager = worlds
    for t in range(8):
        for w, reg, names in worlds:
            w.run_for(50000)
            if t == 3:
                w.m.stop_job([w.m.services["stopped"]], "t")
            if t == 5:
                w.m.start_job(["stopped"], "t")
        assert _values(*lazy) == _values(*eager), (t, _values(*lazy), _values(*eager))
    recs = lazy[1].recs
    for name in ("w100", "w45"):  # still values after 400 s: no series, no Avail
        f = recs[name].first
        assert f is not None and recs[name].kseries is None and recs[name].avail is None, name
        assert len(f) <= 3 + 5 * 7, (name, len(f))  # a head, the newest folded, 6 in the history
        # (its `starts` series only, which _values reads)
        assert set(lazy[1].series.get(name, ())) <= {M.K_STARTS}, lazy[1].series[name]
    assert len(recs["w100"].first) % 5 == 3  # folded: its first samples are out of the history
    assert recs["w3"].kseries is not None  # sampled too often: its series made
    assert recs["stopped"].kseries is not None  # it went down: its Avail made
    a, b = _seen(*lazy), _seen(*eager)
    assert a == b, (a, b)
    assert recs["w100"].first is None  # (read: made)


def test_a_failed_sample_or_round_does_not_stop_the_sampler():
    # Beside 11,100 services on ARM the sampler task died of a MemoryError (a 3 KB table it
    # grew in a heap of small holes) and no service was sampled again. Now a sample that
    # raises is counted and taken again next round; the others of its round are sampled;
    # a hook that raises is counted and the round goes on.
    w, reg, names = started(3, ms=700)  # all active every round
    one = reg._sample_one
    fail = {"idle1": 1}

    def flaky(r, period_ms):
        if fail.get(r.name, 0) > 0:
            fail[r.name] -= 1
            r.hot = False  # (as _sample_one does first)
            raise MemoryError("memory allocation failed")
        one(r, period_ms)

    reg._sample_one = flaky
    seen = count_sampled(reg)
    reg.start()
    w.run_for(1500)  # round 1: idle1's sample fails
    assert reg.errors == 1 and isinstance(reg.error, MemoryError)
    assert sorted(seen) == ["idle0", "idle2"], seen
    del seen[:]
    w.run_for(1000)  # round 2: idle1 sampled again
    assert sorted(seen) == names, seen

    def broken(r):
        raise ValueError("a broken hook")

    reg.slice = 2  # two slices a round: the hook runs after each
    reg.hooks.append(broken)
    del seen[:]
    w.run_for(1000)  # round 3: the hook raises after each slice, the round goes on
    assert reg.errors == 3 and isinstance(reg.error, ValueError) and not reg.busy
    assert sorted(seen) == names, seen
    reg.hooks.remove(broken)
    n = reg.samples
    del seen[:]
    w.run_for(1000)
    assert not reg.task.done() and reg.samples == n + 1 and sorted(seen) == names, seen


def test_a_sampler_ended_is_spawned_again_at_the_next_start():
    # What the sampler cannot catch (the step watchdog, a cancel) ends its task; the next
    # start of a service spawns it again.
    w, reg, names = started(2, ms=700)
    reg.start()
    w.run_for(1500)
    first = reg.task
    first.cancel()
    w.run_for(10)
    assert first.done()
    n = reg.samples
    w.run_for(3000)
    w.m.stop_job([w.m.services[names[1]]], "t")
    w.run_for(1000)
    assert reg.samples == n and reg.task is first  # no start yet: nothing samples
    w.m.start_job([names[1]], "t")
    w.run_for(2500)
    assert reg.task is not first and not reg.task.done() and reg.samples > n


def test_a_round_that_raises_is_counted_and_the_next_one_runs():
    # The probes' reading (before a round's samples) raising: the round is lost, counted,
    # and the sampler task sleeps into the next one, which samples as usual.
    w, reg, names = started(2, ms=700)
    reading = reg.reading
    fail = [1]

    def flaky():
        if fail[0]:
            fail[0] = 0
            raise MemoryError("memory allocation failed")
        yield from reading()

    reg.reading = flaky
    seen = count_sampled(reg)
    reg.start()
    w.run_for(1500)
    assert reg.errors == 1 and isinstance(reg.error, MemoryError) and not reg.busy
    assert seen == [] and not reg.task.done()
    w.run_for(1000)
    assert sorted(seen) == names and reg.errors == 1, seen
