# Tests for kernel/manager (with kernel/service.py and kernel/job.py): lifecycle, restart
# policies with backoff timing, start limit, stop timeouts, watchdog, notify, oneshot,
# dependencies (order, concurrency, failures), cycles, templates, hooks, reload, events.
# All on the virtual clock with no per-step cost, so times are exact ms.
from svcfakes import World

from kernel import service as S
from kernel.deps import CycleError
from kernel.units import UnitError


def test_simple_service_is_active_at_once_and_its_handle_survives_restarts():
    w = World()
    h = w.add(name="web", exec=w.body("web", [("raise", 50), ("run", 0)]), restart_sec=1)
    w.m.start_job(["web"], "test")
    assert h.state == S.ACTIVE and h.sub == S.RUNNING
    first = h.task
    w.run_for(60)
    assert h.state == S.ACTIVATING and h.sub == S.AUTO_RESTART and h.result == S.EXCEPTION
    assert h.cause == "exception: ValueError: crash 0; restart 1 in 1000 ms"
    assert isinstance(h.exc, ValueError)  # the exception itself is kept, not just its text
    w.run_for(1000)
    assert w.m.services["web"] is h and h.state == S.ACTIVE and h.restarts == 1
    assert h.task is not first and h.task.id != first.id
    assert w.times("web", "starting") == [0, 1050]


def outcome_restarts(policy, what, arg):
    w = World()
    extra = {"watchdog_sec": 0.02} if what == "nowatch" else {}
    script = [("run", 0) if what == "nowatch" else (what, arg), ("run", 0)]
    h = w.add(name="s", exec=w.body("s", script), restart=policy, restart_sec=1, **extra)
    w.m.start_job(["s"], "test")
    w.run_for(100)
    return h


def test_each_restart_policy_against_each_result():
    outcomes = (
        ("ok", 10, S.SUCCESS),
        ("exit", 3, S.EXIT_CODE),
        ("raise", 10, S.EXCEPTION),
        ("nowatch", 0, S.WATCHDOG),
    )
    table = {  # policy -> which outcomes restart (systemd's table)
        "no": (),
        "on-failure": (S.EXIT_CODE, S.EXCEPTION, S.WATCHDOG),
        "on-abnormal": (S.EXCEPTION, S.WATCHDOG),
        "on-watchdog": (S.WATCHDOG,),
        "always": (S.SUCCESS, S.EXIT_CODE, S.EXCEPTION, S.WATCHDOG),
        "permanent": (S.SUCCESS, S.EXIT_CODE, S.EXCEPTION, S.WATCHDOG),
        "transient": (S.EXIT_CODE, S.EXCEPTION, S.WATCHDOG),
        "temporary": (),
    }
    for policy, restarting in table.items():
        for what, arg, result in outcomes:
            h = outcome_restarts(policy, what, arg)
            assert h.result == result, (policy, what, h)
            if result in restarting:
                assert h.sub == S.AUTO_RESTART and h.restarts == 1, (policy, what, h)
            elif result == S.SUCCESS:
                assert h.state == S.INACTIVE and h.restarts == 0, (policy, what, h)
            else:
                assert h.state == S.FAILED and h.restarts == 0, (policy, what, h)


def test_backoff_timing_exponential_linear_and_capped():
    w = World()
    w.add(
        name="e",
        exec=w.body("e", [("raise", 0)]),
        restart_sec=0.1,
        backoff="exponential",
        backoff_max_sec=1,
        start_limit_burst=100,
    )
    w.add(
        name="l",
        exec=w.body("l", [("raise", 0)]),
        restart_sec=0.1,
        backoff="linear",
        start_limit_burst=100,
    )
    w.m.start_job(["e", "l"], "test")
    w.run_for(5000)
    # Each run crashes at once: the next start is the delay after the crash.
    assert w.times("e", "starting")[:7] == [0, 100, 300, 700, 1500, 2500, 3500]
    assert w.times("l", "starting")[:5] == [0, 100, 300, 600, 1000]
    assert w.m.services["e"].status()["next_delay_ms"] == 1000  # capped


def test_jittered_backoff_is_deterministic_per_seed():
    def starts(seed):
        from kernel import backoff

        w = World()
        w.m.rng = backoff.Rng(seed)
        w.add(
            name="j",
            exec=w.body("j", [("raise", 0)]),
            restart_sec=0.1,
            jitter="full",
            backoff="exponential",
            start_limit_burst=100,
        )
        w.m.start_job(["j"], "test")
        w.run_for(3000)
        return w.times("j", "starting")

    a = starts(5)
    assert a == starts(5) and a != starts(6)
    gaps = [b - a for a, b in zip(a, a[1:])]
    assert all(0 <= g <= 100 << min(k, 20) for k, g in enumerate(gaps)), gaps


def test_start_limit_then_an_explicit_start_resets_it():
    w = World()
    h = w.add(
        name="c",
        exec=w.body("c", [("raise", 0)]),
        restart_sec=0,
        start_limit_burst=3,
        start_limit_interval=10,
    )
    w.m.start_job(["c"], "test")
    w.run_for(100)
    assert h.state == S.FAILED and h.result == S.START_LIMIT and h.restarts == 3
    assert w.runs["c"] == 3 and h.budget() == 0
    assert h.cause == "started more than 3 times in 10000 ms"
    w.m.start_job(["c"], "test")  # like `systemctl reset-failed c; systemctl start c`
    w.run_for(1)
    assert w.runs["c"] == 6 and h.result == S.START_LIMIT  # three more runs, then the limit


def test_stop_cancels_and_a_service_that_ignores_it_is_killed_after_stop_timeout():
    w = World()
    polite = w.add(name="p", exec=w.body("p", [("run", 0)]))
    stubborn = w.add(name="h", exec=w.body("h", [("hang", 0)]), stop_timeout=0.5)
    w.m.start_job(["p", "h"], "test")
    w.run_for(10)
    job = w.m.stop_job([polite, stubborn], "test")
    w.run_for(10)
    assert polite.state == S.INACTIVE and polite.result == S.SUCCESS
    assert stubborn.state == S.DEACTIVATING and stubborn.sub == S.STOP
    w.run_for(500)
    assert stubborn.state == S.FAILED and stubborn.result == S.TIMEOUT
    assert stubborn.task is None and job.done.state
    assert w.times("h", "killed") == [510]  # stopped at 10 ms, stop_timeout 500 ms
    assert polite.restarts == 0 and stubborn.restarts == 0  # a stop never restarts


def test_stop_before_the_first_step_ends_it_at_once():
    w = World()
    h = w.add(name="s", exec=w.body("s", [("run", 0)]))
    w.m.start_job(["s"], "test")
    w.m.stop_job([h], "test")  # the task never ran: nothing to wait for
    assert h.state == S.INACTIVE and h.task is None
    w.run_for(1)
    assert "s" not in w.runs


def test_watchdog_restarts_a_service_that_stops_pinging():
    w = World()
    h = w.add(
        name="w", exec=w.body("w", [("ping", 100), ("run", 0)]), watchdog_sec=0.3, restart_sec=0
    )
    w.m.start_job(["w"], "test")
    w.run_for(1000)
    assert h.restarts == 0 and h.state == S.ACTIVE  # pings every 100 ms: alive
    h.unit.exec = w.body("w", [("run", 0)])  # the next runs never ping
    w.m.kill(h)  # end this run: it restarts (on-failure) and then misses its pings
    w.run_for(1000)
    starts = w.times("w", "starting")
    fires = w.times("w", "watchdog")
    assert fires[:3] == [starts[1] + 300, starts[1] + 600, starts[1] + 900], (starts, fires)
    assert h.restarts == 4  # the kill, then three watchdog restarts (restart_sec=0)


def test_watchdog_pauses_while_foreground_code_starves_the_scheduler():
    from kernel import traps

    w = World()
    h = w.add(name="w", exec=w.body("w", [("ping", 100)]), watchdog_sec=1)
    w.m.start_job(["w"], "test")

    async def foreground():
        await traps.sleep_ms(500)
        w.clock.burn(5_000_000)  # 5 s of `py` code that never yields
        await traps.sleep_ms(500)

    w.sched.run_until(w.sched.spawn(foreground(), "fg", budget_ms=0))
    assert h.state == S.ACTIVE and h.restarts == 0, w.seq("w")
    assert not w.times("w", "watchdog")


def test_notify_is_activating_until_ready_and_start_timeout_fails_it():
    from kernel import traps

    w = World()

    async def ready_late():
        await traps.sleep_ms(30)
        w.m.ready(w.m.by_task[w.sched.cur.id])
        await traps.sleep_ms(10000)

    a = w.add(name="a", type="notify", exec=ready_late)
    b = w.add(
        name="b", type="notify", exec=w.body("b", [("run", 0)]), start_timeout=0.1, restart="no"
    )
    w.m.start_job(["a", "b"], "test")
    assert a.state == S.ACTIVATING and a.sub == S.START
    w.run_for(50)
    assert a.state == S.ACTIVE and w.times("a", "started") == [30]
    w.run_for(100)
    assert b.state == S.FAILED and b.result == S.TIMEOUT
    assert b.cause == "not ready within 100 ms"


def test_oneshot_orders_its_dependents_and_independents_start_concurrently():
    w = World()
    w.add(name="init", type="oneshot", exec=w.body("init", [("ok", 20)]))
    w.add(name="x", type="oneshot", exec=w.body("x", [("ok", 20)]))
    w.add(name="app", exec=w.body("app", [("run", 0)]), requires=["init"], after=["x"])
    job = w.m.start_job(["app", "x"], "test")
    assert w.times("init", "starting") == [0] and w.times("x", "starting") == [0]
    w.run_for(30)
    assert w.times("init", "finished") == [20] and w.times("app", "started") == [20]
    assert job.done.state and not job.failed
    assert w.m.services["init"].state == S.INACTIVE  # a oneshot is done, not active


def test_failed_requirement_fails_dependents_wanted_one_does_not():
    w = World()
    w.add(name="db", type="oneshot", exec=w.body("db", [("raise", 5)]), restart="no")
    w.add(name="cache", type="oneshot", exec=w.body("cache", [("raise", 5)]), restart="no")
    w.add(name="web", exec=w.body("web", [("run", 0)]), requires=["db"])
    w.add(name="api", exec=w.body("api", [("run", 0)]), requires=["web"])
    w.add(name="app", exec=w.body("app", [("run", 0)]), wants=["cache"], after=["cache"])
    w.m.start_job(["api", "app"], "test")
    w.run_for(20)
    web, api, app = (w.m.services[n] for n in ("web", "api", "app"))
    assert web.state == S.FAILED and web.result == S.DEPENDENCY
    assert web.cause == "requires db, which failed"
    assert api.result == S.DEPENDENCY and api.cause == "requires web, which failed"
    assert app.state == S.ACTIVE  # wants + after: waits for cache, starts anyway
    assert "web" not in w.runs and "api" not in w.runs


def test_cycle_is_refused_before_anything_starts():
    w = World()
    w.add(name="a", exec=w.body("a", [("run", 0)]), requires=["b"])
    w.add(name="b", exec=w.body("b", [("run", 0)]), requires=["c"])
    w.add(name="c", exec=w.body("c", [("run", 0)]), requires=["a"])
    try:
        w.m.start_job(["a"], "test")
        raise AssertionError("no cycle error")
    except CycleError as e:
        assert str(e) == "cycle: a -> b -> c -> a", str(e)
    assert w.events == [] and not w.runs


def test_stop_takes_dependents_down_first_in_reverse_order():
    w = World()
    w.add(name="db", exec=w.body("db", [("run", 0)]))
    w.add(name="web", exec=w.body("web", [("run", 0)]), requires=["db"])
    w.add(name="api", exec=w.body("api", [("run", 0)]), requires=["web"])
    w.m.start_job(["api"], "test")
    w.run_for(10)
    w.m.stop_job([w.m.services[n] for n in w.m.dependents("db")], "test")
    w.run_for(10)
    stops = [e[1] for e in w.events if e[2] == "stopped"]
    assert stops == ["api", "web", "db"], w.events
    assert [e[1] for e in w.events if e[2] == "started"] == ["db", "web", "api"]


def test_template_instances_with_percent_i():
    w = World()
    got = []

    async def serve(port):
        got.append(port)

    w.m.create({"name": "db@", "exec": serve, "args": ["db%i"], "type": "oneshot"})
    w.m.create(
        {
            "name": "web@",
            "exec": serve,
            "args": ["%i"],
            "requires": ["db@%i"],
            "description": "Web %i",
            "type": "oneshot",
        }
    )
    w.m.start_job(["web@8080"], "test")
    w.run_for(10)
    assert got == ["db8080", "8080"]
    assert w.m.services["web@8080"].unit.description == "Web 8080"
    try:
        w.m.get("nope@1")
        raise AssertionError("no error")
    except UnitError as e:
        assert str(e) == "unit nope@1: no such unit (see 'svc list')"


def test_hooks_run_in_order_and_a_failing_pre_start_fails_the_start():
    w = World()
    seen = []
    hook = {
        k: (lambda k: lambda svc: seen.append((k, svc.name)))(k)  # noqa: B023 - k is bound by the outer lambda
        for k in ("pre_start", "post_start", "pre_stop", "post_stop")
    }
    h = w.add(name="h", exec=w.body("h", [("run", 0)]), **hook)
    w.m.start_job(["h"], "test")
    w.run_for(5)
    w.m.stop_job([h], "test")
    w.run_for(5)
    assert [k for k, n in seen] == ["pre_start", "post_start", "pre_stop", "post_stop"]

    def boom(svc):
        raise OSError("no disk")

    b = w.add(name="b", exec=w.body("b", [("run", 0)]), pre_start=boom)
    w.m.start_job(["b"], "test")
    assert b.state == S.FAILED and b.cause == "pre_start: OSError: no disk"


def test_replacing_a_running_unit_is_refused_and_nothing_else_changes():
    w = World()
    h = w.add(name="r", exec=w.body("r", [("run", 0)]))
    w.m.start_job(["r"], "test")
    try:
        w.add(name="r", exec="m:f")
        raise AssertionError("replaced a running unit")
    except UnitError as e:
        assert str(e) == "unit r: is active; stop it before replacing it"
    assert h.state == S.ACTIVE and h.unit.exec != "m:f"


def test_the_kernel_step_watchdog_counts_as_result_watchdog():
    from kernel import traps

    w = World()
    runs = []

    async def spin():
        runs.append(1)
        await traps.sleep_ms(10)
        if len(runs) == 1:
            w.clock.burn(300_000)  # one step of 300 ms: past the kernel's 200 ms budget
        await traps.sleep_ms(10000)

    h = w.add(name="spin", exec=spin, restart_sec=0.5)
    w.m.start_job(["spin"], "test")
    w.run_for(20)
    assert h.sub == S.AUTO_RESTART and h.result == S.WATCHDOG, (h, w.events)
    w.run_for(1000)
    assert h.state == S.ACTIVE and h.restarts == 1 and len(runs) == 2


def test_a_busy_service_that_swallows_cancel_is_still_killed():
    from kernel import traps
    from kernel.errors import CancelledError

    w = World(step_us=50)  # each step costs 50 µs: a busy loop lets time pass
    ended = []

    async def busy():
        try:
            while True:
                try:
                    await traps.yield_()  # always on the run queue
                except CancelledError:
                    pass
        finally:
            ended.append(1)

    h = w.add(name="busy", exec=busy, stop_timeout=0.05)
    w.add(name="idle", exec=w.body("idle", [("run", 0)]))
    w.m.start_job(["busy", "idle"], "test")
    w.run_for(10)
    w.m.stop_job([h], "test")
    w.run_for(100)
    assert h.state == S.FAILED and h.result == S.TIMEOUT and ended == [1], h
    killed = w.times("busy", "killed")[0] - w.times("busy", "stopping")[0]
    assert 50 <= killed <= 51, killed  # closed at stop_timeout, though always runnable


def test_a_service_that_stops_itself_ends_cleanly():
    from kernel import traps

    w = World()

    async def quitter():
        w.m.stop(w.m.services["q"], "self")  # in its own first step
        await traps.sleep_ms(10)

    h = w.add(name="q", exec=quitter)
    w.m.start_job(["q"], "test")
    w.run_for(20)
    assert h.state == S.INACTIVE and h.result == S.SUCCESS and h.task is None, w.events


def test_a_restart_storm_ends_the_journal_with_its_start_limit_line():
    # 6 runs in 60 ms: 3 events each, past the journal's burst; the last line must survive.
    w = World()
    w.add(name="storm", exec=w.body("storm", [("raise", 0)]), restart_sec=0.01)
    w.m.start_job(["storm"], "test")
    w.run_for(1000)
    last = w.m.journal.entries(2, "storm")
    assert last[-1][2] == "failed", last
    assert last[-1][3] == "start-limit-hit: started more than 5 times in 10000 ms", last
    assert last[0][2].endswith("events suppressed"), last  # the repeats were dropped


def jitter_delays(m, n=6):
    from kernel import backoff

    rng = m.jitter_rng()
    return [backoff.delay_ms(backoff.FIXED, backoff.FULL, 1000, 1000, 0, 0, rng) for _ in range(n)]


def test_jitter_is_seeded_by_the_clock_virtual_seed_or_hal_entropy():
    from kernel import backoff
    from kernel.manager import Manager
    from kernel.sched import Scheduler

    assert jitter_delays(World(seed=3).m) == jitter_delays(World(seed=3).m)  # deterministic
    assert jitter_delays(World(seed=3).m) != jitter_delays(World(seed=4).m)
    import hal
    from kernel.clock import HalClock

    def on_hal(seed):
        hal.random_seed(seed)  # stands for the entropy each boot seeds the HAL's generator with
        return jitter_delays(Manager(Scheduler(HalClock())))

    assert on_hal(11) == on_hal(11)  # the seed does come from the HAL
    assert on_hal(11) != on_hal(12)
    constant = jitter_delays(Manager(Scheduler(HalClock()), rng=backoff.Rng(1)))
    assert on_hal(11) != constant and on_hal(12) != constant


def test_reverse_indexes_follow_units_replaced():
    w = World()
    w.add(name="db", exec=w.body("db", [("run", 0)]))
    w.add(name="web", exec=w.body("web", [("run", 0)]), requires=["db"], conflicts=["old"])
    assert w.m.dependents("db") == ["db", "web"]
    assert w.m.conflicted.get("old") == ["web"]
    w.add(name="web", exec=w.body("web", [("run", 0)]))  # replaced: no requires, no conflicts
    assert w.m.dependents("db") == ["db"]
    assert w.m.conflicted.get("old") == []


def test_a_start_adds_no_attribute_to_the_service():
    # A start that grew the Service's attribute table (allocated at create time) left a
    # freed hole behind every later object, and MicroPython's first-fit scan then walked
    # the heap on each allocation: starts grew with the number of services.
    w = World()
    h = w.add(name="web", exec=w.body("web", [("run", 0)]), restart_sec=0)
    before = sorted(h.__dict__)
    w.m.start_job(["web"], "test")
    w.run_for(10)
    assert h.state == S.ACTIVE
    assert sorted(h.__dict__) == before, [k for k in h.__dict__ if k not in before]


def test_start_and_stop_never_walk_every_service():
    # O(services) per start made starting N services one by one quadratic (the conflict
    # scan; dependents() built the whole reverse map per stop). A start or a stop of one
    # service must not iterate the registry at all.
    from kernel.names import Names

    class Watched(Names):
        walks = 0

        def __iter__(self):
            Watched.walks += 1
            return Names.__iter__(self)

        def keys(self):
            Watched.walks += 1
            return Names.keys(self)

        def values(self):
            Watched.walks += 1
            return Names.values(self)

        def items(self):
            Watched.walks += 1
            return Names.items(self)

    w = World()
    reg = Watched()
    for name in w.m.services:
        reg[name] = w.m.services[name]
    w.m.services = reg
    for i in range(20):
        w.add(name="s%d" % i, exec=w.body("s%d" % i, [("run", 0)]), conflicts=["x"])
    w.add(name="x", exec=w.body("x", [("run", 0)]), requires=["s1"])
    Watched.walks = 0
    w.m.start_job(["x"], "test")  # pulls s1 in; stops what conflicts with x
    w.run_for(10)
    w.m.stop_job([w.m.services[n] for n in w.m.dependents("s1")], "test")
    w.run_for(10)
    assert Watched.walks == 0, Watched.walks
    assert w.m.services["x"].state == S.INACTIVE and w.m.services["s1"].state == S.INACTIVE


def test_a_services_task_is_named_by_its_own_string_cut_only_when_too_long():
    # 10,000 running services: a slice per start was a new 32 B string each.
    from kernel import params

    w = World()
    short = w.add(name="web", exec=w.body("web", [("run", 0)]))
    long_name = "l" * (params.TASK_NAME_MAX + 5)
    longer = w.add(name=long_name, exec=w.body(long_name, [("run", 0)]))
    w.m.start_job(["web", long_name], "test")
    assert short.task.name is short.name
    assert longer.task.name == long_name[: params.TASK_NAME_MAX]


def test_a_one_service_job_builds_no_graph_but_a_unit_after_itself_is_a_cycle():
    # start_service(name) of a unit that pulls nothing in: the shared one-member graph
    # (building it was ~1.3 KB of garbage per start on ARM), not deps' index and sort.
    from kernel import job as J

    w = World()
    w.add(name="a", exec=w.body("a", [("run", 0)]))
    w.add(name="me", exec=w.body("me", [("run", 0)]), after=["me"])
    job = w.m.start_job(["a"], "test")
    assert (job.succ, job.pend, job.order) == J._ONE and job.order is J._ONE[2]
    assert w.m.services["a"].state == S.ACTIVE and job.done.state
    stop = w.m.stop_job([w.m.services["a"]], "test")
    w.run_for(10)
    assert stop.order is J._ONE[2] and w.m.services["a"].state == S.INACTIVE
    try:
        w.m.start_job(["me"], "test")
        raise AssertionError("no cycle error")
    except CycleError as e:
        assert str(e) == "cycle: me -> me", str(e)
    assert w.m.services["me"].state == S.INACTIVE


class _Stop(BaseException):
    """What a step's watchdog or a Ctrl-C is to the kernel code it lands in."""


def test_a_start_interrupted_before_its_task_fails_the_service_not_activating_forever():
    # Seen on ARM: the step watchdog hit a task inside kernel.start_service, in a subscriber
    # of the 'starting' event; the service stayed 'activating' with no task, for good.
    w = World()
    h = w.add(name="web", exec=w.body("web", [("run", 0)]))
    hits = []

    def stop_once(name, event, cause):
        if event == "starting" and not hits:
            hits.append(name)
            raise _Stop()

    w.m.subscribers.append(stop_once)
    try:
        w.m.start_job(["web"], "test")
    except _Stop:
        pass
    else:
        raise AssertionError("the interruption did not reach the caller")
    assert h.task is None and h.state == S.FAILED and h.result == S.EXCEPTION, h.state
    assert h.cause == "start interrupted: _Stop", h.cause
    w.m.start_job(["web"], "test")  # and it starts again as usual
    assert h.state == S.ACTIVE and h.task is not None


def test_a_subscriber_out_of_memory_with_no_heap_left_for_its_log_line_stops_nothing():
    # A subscriber's MemoryError is logged; when the heap cannot give that line either, the
    # log's MemoryError must not escape event() half-way through a start.
    w = World()
    h = w.add(name="web", exec=w.body("web", [("run", 0)]))
    heard = []

    def hog(name, event, cause):
        raise MemoryError

    def no_heap(line, level=None):
        raise MemoryError

    w.m.subscribers.insert(0, hog)
    w.m.subscribers.append(lambda name, event, cause: heard.append(event))
    w.m.sched.log.log = no_heap
    w.m.start_job(["web"], "test")
    assert h.state == S.ACTIVE and h.task is not None, h.state
    assert heard == ["starting", "started"], heard  # the subscribers after it heard both
    assert w.m.subscriber_errors == 2
