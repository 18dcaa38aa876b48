# Tests for kernel/metprobes: the metrics' reads of the health monitor's probes, bounded per
# step of the sampler task. On the virtual clock, with the ARM board's costs charged to the
# clock where the read does its costly work (a Seen made, a probe counted in full), so a
# step past the watchdog's budget fails the sampler as it did on the board.
from svcfakes import World

from kernel import health, params, traps
from kernel import metrics as M

COUNT_US = 3000  # one probe counted in full on ARM under icount (its series made): ~3 ms
SEEN_US = 300  # one Seen made (kernel/metprobes.py _sync)


async def idle():
    while True:
        await traps.sleep_ms(100000)


def probed(n, costly=True, count_us=COUNT_US):
    # n services with a 1 s process liveness probe each, started; a Registry reading the
    # monitor (its sampler running). costly: the board's costs are charged to the clock.
    w = World()
    health.attach(w.m)
    reg = M.Registry(w.m)
    assert reg.hook_health()
    work = []  # per costly call, the sampler's step it ran in (None: outside the sampler)
    if costly:
        count, sync = reg._count, reg._sync

        def step():
            t = reg.task
            return t.steps if t is not None and w.sched.cur is t else None

        def counted(e):
            p = e.probe
            if p.runs + p.fused != e.runs:  # (else nothing to count: a cheap return)
                work.append(step())
                w.clock.burn(count_us)
            count(e)

        def synced(name, pr, r):
            n = len(reg.reads)
            made = sync(name, pr, r)
            for _ in range(len(reg.reads) - n):
                work.append(step())
                w.clock.burn(SEEN_US)
            return made

        reg._count = counted
        reg._sync = synced
    reg.start()
    w.run_for(1500)  # the sampler's first round at 1 s: nothing probed yet
    names = ["p%d" % i for i in range(n)]
    for name in names:
        w.add(name=name, exec=idle, liveness={"check": "process", "period_sec": 1})
    w.m.start_job(names, "t")
    return w, reg, names, work


def test_a_first_read_of_100_new_probers_is_cut_into_steps_and_the_sampler_lives():
    w, reg, names, work = probed(100)
    w.run_for(1000)  # the round at 2 s reads the 100 new probers' first results
    assert not reg.task.done(), reg.task.exc  # (before: one ~330 ms step, Watchdog)
    per_step = {}
    for k in work:
        if k is not None:
            per_step[k] = per_step.get(k, 0) + 1
    # 100 probes counted in full in the sampler, METRIC_PROBE_SLICE a step at most (their
    # Seens were made as their services started, by the registry's event subscriber)
    assert sum(per_step.values()) >= 100 and len(per_step) >= 100 // params.METRIC_PROBE_SLICE
    assert max(per_step.values()) <= params.METRIC_PROBE_SLICE, per_step
    for name in names:
        assert reg.value(name, "probes_passing") == 1, (name, reg.value(name, "probes_passing"))
        assert reg.rec(name).health == "passing"
    w.run_for(3000)  # steady: the next rounds count one pass each, inline
    assert not reg.task.done(), reg.task.exc
    assert [reg.value(n, "probes_passing") for n in names] == [4] * 100


def test_a_slow_count_ends_the_step_after_metric_slice_ms():
    # Counts that take 30 ms each (a GC pause in each): 8 to a step would be 240 ms, past
    # the watchdog; the step ends once params.METRIC_SLICE_MS have passed in it, after one.
    w, reg, names, work = probed(20, count_us=30000)
    w.run_for(1300)  # the round at 2 s: 20 steps of 30 ms, to 2.6 s
    assert not reg.task.done(), reg.task.exc
    counts = [k for k in work if k is not None]  # (the Seens were made at the starts)
    assert len(counts) == 20 and len(set(counts)) == 20, counts
    # (a read that spans 600 ms counts the runs of 2.5 s too, for the probes it reads late)
    assert all(reg.value(n, "probes_passing") in (1, 2) for n in names)


def test_a_sliced_read_counts_what_one_read_counts():
    # The same world read in steps of METRIC_PROBE_SLICE and in one step: the same
    # counters, histories, health and availability.
    def world(slice_n):
        keep = params.METRIC_PROBE_SLICE
        params.METRIC_PROBE_SLICE = slice_n
        try:
            w, reg, names, _ = probed(40, costly=False)
            steps0 = reg.task.steps
            w.run_for(4000)
            out = [(reg.report(n), reg.rec(n).health, reg.availability(n)) for n in names]
            return out, reg.task.steps - steps0
        finally:
            params.METRIC_PROBE_SLICE = keep

    sliced, steps = world(4)
    whole, steps1 = world(1000)
    assert sliced == whole
    assert steps >= steps1 + 40 // 4 - 1, (steps, steps1)  # the first read took 10 steps
    assert sliced[0][0]["probes_passing"]["history"][-4:] == [1, 2, 3, 4], sliced[0][0]


def test_probe_ms_holds_the_latencies_of_runs_in_a_task_only():
    # A process liveness probe every 0.1 s beside a command readiness probe (3 ms) every
    # 0.5 s: the process runs have no latency and observe nothing (they once observed 0 ms,
    # 5 of every 6 observations, and p50 read 0).
    w = World()
    health.attach(w.m)
    reg = M.Registry(w.m)
    assert reg.hook_health()
    reg.start()

    async def check():
        await traps.sleep_ms(3)
        return True

    w.add(
        name="web",
        exec=idle,
        liveness={"check": "process", "period_sec": 0.1},
        readiness={"check": "command", "exec": check, "period_sec": 0.5},
    )
    w.m.start_job(["web"], "t")
    w.run_for(2990)
    snap = reg.report("web")
    assert snap["probes_passing"]["value"] >= 30 + 6, snap["probes_passing"]
    ms = snap["probe_ms"]
    assert ms["count"] == 6 and ms["min"] == 3 and ms["p50"] == 3 and ms["p99"] == 3, ms


def test_the_c_read_counts_what_the_python_read_counts():
    # build/unix/micropython carries _kprobes: the probed world of test_metrics (process,
    # ttl and command probes, a restart, a TTL that runs out) read with it and without it:
    # the same reports, health, availability and alerts, and it did read steady probes.
    import mpunit

    mpunit.need("_kprobes")
    from test_metrics import _probed_world

    from kernel import metprobes

    c_read = metprobes._c_read
    assert c_read is not None
    skipped = []  # Seens it read itself: the index it returned moved past them

    def counting(reads, i, samples):
        j = c_read(reads, i, samples)
        skipped.append(j - i)
        return j

    metprobes._c_read = counting
    try:
        with_c = _probed_world(True)[1:]
        metprobes._c_read = None
        without = _probed_world(True)[1:]
    finally:
        metprobes._c_read = c_read
    assert with_c == without
    assert sum(skipped) >= 20, skipped
