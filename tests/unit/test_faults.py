# Tests for kernel/faults, kernel/detectors, kernel/faultspec and kernel/recovery: each
# detector, each recovery strategy, escalation order and the hand-off to the supervision
# tree, a liveness failure as probe_critical with today's restart as its default, the fault
# journal, and the unit fields' one-line errors. On the virtual clock with no per-step cost
# (exact ms), no sleeps.
from svcfakes import World

from kernel import configstore as CS
from kernel import faults, health, traps
from kernel import service as S
from kernel.clock import VirtualClock
from kernel.manager import Manager
from kernel.sched import Scheduler
from kernel.units import UnitError


def world(w=None):
    w = w or World()
    eng = faults.attach(w.m)
    return w, eng


def forever():
    async def run():
        while True:
            await traps.sleep_ms(1000)

    return run


def crashing(after_ms=100, exc=ValueError):
    async def run():
        await traps.sleep_ms(after_ms)
        raise exc("boom")

    return run


def lines(eng, name=None):
    return [ln[12:] for ln in eng.lines(name)]  # without the time stamp


def has(eng, text):
    return [ln for ln in eng.lines() if text in ln]


class Flaky:
    def __init__(self, script):
        self.script = script
        self.n = 0

    def check(self):
        r = self.script[min(self.n, len(self.script) - 1)]
        self.n += 1
        return r


def test_a_liveness_failure_is_probe_critical_and_its_default_is_todays_restart():
    w, eng = world()
    h = w.add(
        name="l",
        exec=forever(),
        liveness={"check": "custom", "object": Flaky([True, False]), "period_sec": 1},
        restart_sec=0.5,
    )
    w.m.start_job(["l"], "test")
    w.run_for(3100)  # F at 1, 2, 3 s: critical at 3 s
    assert h.restarts == 1 and h.result == S.LIVENESS
    assert w.times("l", "liveness") == [3000]
    cause = [e[3] for e in w.events if e[2] == "restarting"][0]
    assert cause.startswith("liveness: liveness probe failed 3 times"), cause
    w.run_for(1000)
    assert h.state == S.ACTIVE
    got = lines(eng)
    assert got[0] == "l: detected probe_critical: liveness probe failed 3 times: returned False"
    assert got[1] == "l: restart 1/5: ended its run (its restart policy starts it again)", got
    assert got[2] == "l: recovered by restart in 500 ms", got
    assert eng.lines()[2].startswith("[    3.500] ")
    assert health.attach(w.m).restarts == 1


def test_probe_critical_past_its_tries_goes_to_the_group_and_the_group_escalates():
    w, eng = world()
    w.m.create({"name": "x", "exec": forever()})  # so the group has another child
    from kernel.supervisor import configure

    configure(w.m, "g", "one_for_one", intensity=0)
    h = w.add(
        name="l",
        exec=forever(),
        group="g",
        liveness={
            "check": "custom",
            "object": Flaky([False]),
            "period_sec": 1,
            "failure_threshold": 1,
        },  # fmt: skip
        restart_sec=0,
        escalation_tries=2,
        escalation_window_sec=60,
        start_limit_burst=100,
    )
    w.m.start_job(["l"], "test")
    w.run_for(3500)  # critical at 1 s, 2 s (restarts), 3 s: past the chain
    assert h.state == S.FAILED and h.result == S.ESCALATED, (h, h.result_name())
    assert w.m.groups["g"].state == S.FAILED
    got = lines(eng, "l")
    assert got[-1] == "l: to supervisor: group g (intensity 0 per 5000 ms)", got
    assert "l: restart 2/2: ended its run (its restart policy starts it again)" in got
    assert h.restarts == 2


def test_failures_detector_counts_abnormal_exits_in_its_window():
    w, eng = world()
    w.add(
        name="c",
        exec=crashing(100),
        restart_sec=1,
        start_limit_burst=100,
        detectors={"failures": {"count": 3, "window_sec": 10}},
        escalation={"failures": ["restart"]},
    )
    w.m.start_job(["c"], "test")
    w.run_for(2300)  # crashes at 0.1, 1.2: two, no fault yet
    assert eng.detected == 0
    w.run_for(1000)  # the third at 2.3 s
    assert eng.detected == 1
    got = lines(eng)
    assert got[0] == "c: detected failures: 3 failures in 10000 ms (last: exception)", got
    assert got[1] == "c: restart 1/100: restarted it now", got  # its backoff timer cut short
    assert got[2] == "c: recovered by restart in 0 ms", got  # (tries: its start limit burst)


def test_exception_detector_matches_the_type_or_a_base_class():
    w, eng = world()
    w.add(name="k", exec=crashing(100, KeyError), restart="no",
          detectors={"exception": {"types": ["LookupError"]}})  # fmt: skip
    w.add(name="v", exec=crashing(100, ValueError), restart="no",
          detectors={"exception": {"types": ["KeyError"]}})  # fmt: skip
    w.m.start_job(["k", "v"], "test")
    w.run_for(200)
    assert lines(eng, "k")[0] == "k: detected exception: raised KeyError"
    assert lines(eng, "v") == []


def test_flapping_detector_counts_health_changes():
    w, eng = world()
    w.add(name="f", exec=forever(), detectors={"flapping": {"changes": 4, "window_sec": 10}},
          escalation={"flapping": ["restart_with_delay"]}, restart_sec=2)  # fmt: skip
    w.m.start_job(["f"], "test")
    w.run_for(10)
    reg = w.m.registry
    inst = reg.get("f")
    for k in range(3):
        reg.set_status(inst, "critical" if k % 2 == 0 else "passing", k % 2 == 1)
        w.run_for(100)
    assert eng.detected == 0  # 3 changes (its own start's ready is no flap)
    reg.set_status(inst, "passing", True)
    w.run_for(1)
    got = lines(eng)
    assert got[0] == "f: detected flapping: 4 health changes in 10000 ms", got
    assert got[1] == "f: restart_with_delay 1/5: fixed backoff, start in 2000 ms", got
    w.run_for(3000)
    assert w.times("f", "starting") == [0, 2310], w.times("f", "starting")


def test_latency_detector_holds_then_scales_up_to_max_instances():
    w, eng = world()
    w.add(name="web@", exec=forever(), max_instances=2,
          detectors={"latency": {"p99_ms": 100, "for_sec": 3}})  # fmt: skip
    p99 = {"web@1": 50}
    eng.latency = lambda service: p99
    w.m.start_job(["web@1"], "test")
    w.run_for(5000)
    assert eng.detected == 0
    p99["web@1"] = 250
    w.run_for(4500)  # over from the tick at 6 s, held 3 s at 9 s
    got = lines(eng)
    assert got[0] == "web@1: detected latency: p99 250 ms over 100 ms for 3000 ms", got
    assert got[1] == "web@1: scale_up 1/5: started web@2 (2 of max 2)", got
    w.run_for(10)
    assert w.m.get("web@2").state == S.ACTIVE
    assert got[2] == "web@1: recovered by scale_up in 0 ms"
    w.run_for(3000)  # held again: at max
    assert lines(eng)[4] == "web@1: scale_up 2/5: at max_instances (2)", lines(eng)


def test_cpu_quota_from_the_tasks_own_accounting():
    w, eng = world()

    async def busy():
        while True:
            w.clock.burn(900)  # 0.9 ms of CPU per 1 ms
            await traps.sleep_ms(0)
            await traps.sleep_ms(1)

    w.add(name="hog", exec=busy, restart="no", detectors={"cpu_quota": {"pct": 30, "for_sec": 2}})
    w.m.start_job(["hog"], "test")
    w.run_for(4500)  # 0.9 ms CPU per 1.9 ms: ~47%, from the second tick (2 s) for 2 s
    got = lines(eng)
    assert (
        got[0].startswith("hog: detected cpu_quota: cpu ") and "% over 30% for 2000 ms" in got[0]
    )
    pct = int(got[0].split("cpu ")[1].split("%")[0])
    assert 44 <= pct <= 50, got


def test_alloc_quota_from_the_tasks_own_accounting():
    counter = [0]
    clock = VirtualClock(0, 0, alloc_bytes=lambda: counter[0] & ((1 << 30) - 1))
    w = World()
    w.clock = clock
    w.sched = Scheduler(clock)
    w.m = Manager(w.sched)
    w.m.subscribers.append(w._seen)
    w, eng = world(w)

    async def allocs():
        while True:
            counter[0] += 4096
            await traps.sleep_ms(1)

    w.add(name="a", exec=allocs, restart="no",
          detectors={"alloc_quota": {"b_per_s": 1000000, "for_sec": 1}})  # fmt: skip
    w.m.start_job(["a"], "test")
    w.run_for(3500)
    got = lines(eng)
    assert got[0].startswith("a: detected alloc_quota: alloc 40"), got
    assert got[0].endswith(" B/s over 1000000 B/s for 1000 ms"), got


class FakeBreaker:
    state = 1  # OPEN

    def reset(self):
        self.state = 0

    def state_name(self):
        return ("closed", "open")[self.state]


def test_breaker_open_too_long_resets_the_breaker():
    w, eng = world()
    w.add(name="b", exec=forever(), detectors={"breaker_open": {"open_sec": 2}})
    w.m.start_job(["b"], "test")
    w.run_for(10)
    w.m.registry.get("b").breaker = br = FakeBreaker()
    w.run_for(3000)
    got = lines(eng)
    assert got[0] == "b: detected breaker_open: breaker open for 2000 ms", got
    assert got[1] == "b: circuit_breaker_reset 1/5: breaker reset (closed)", got
    assert br.state == 0


def test_escalation_order_restart_then_failover_then_supervisor():
    w, eng = world()
    w.add(name="db2", exec=forever())
    h = w.add(
        name="db",
        exec=crashing(100),
        restart_sec=5,
        start_limit_burst=100,
        standby="db2",
        detectors={"failures": {"count": 1}},
        escalation={"failures": ["restart", "failover"]},
        escalation_tries=2,
        escalation_window_sec=60,
    )
    w.m.start_job(["db"], "test")
    w.run_for(450)  # crashes at 0.1, 0.2, 0.3 (each restarted at once): the third escalates
    got = lines(eng)
    assert got[:6] == [
        "db: detected failures: 1 failures in 60000 ms (last: exception)",
        "db: restart 1/2: restarted it now",
        "db: recovered by restart in 0 ms",
        "db: detected failures: 1 failures in 60000 ms (last: exception)",
        "db: restart 2/2: restarted it now",
        "db: recovered by restart in 0 ms",
    ], got
    assert got[7] == "db: escalated failures to failover after 2 tries in 60000 ms", got
    assert got[8] == "db: failover 1/2: promoted db2, demoted db", got
    assert w.m.get("db2").state == S.ACTIVE and h.state != S.ACTIVE
    assert got[9] == "db: recovered by failover in 0 ms", got
    assert eng.standby_of == {"db2": "db"}
    # the failover used its last strategy's first try; two more faults go past the chain
    t = eng.target(h)
    eng.detect(t, 0, "by hand")
    eng.detect(t, 0, "by hand")
    assert lines(eng)[-1] == "db: to supervisor: db failed, no group above it", lines(eng)


def test_restart_with_delay_adaptive_grows_with_failures():
    w, eng = world()
    w.add(name="r", exec=crashing(100), restart="no", restart_sec=0.1, backoff="adaptive",
          backoff_max_sec=60, start_limit_burst=100, escalation_tries=100,
          detectors={"failures": {"count": 1}},
          escalation={"failures": ["restart_with_delay"]})  # fmt: skip
    w.m.start_job(["r"], "test")
    w.run_for(30000)
    delays = [
        int(ln.split("start in ")[1].split(" ")[0]) for ln in eng.lines() if "start in" in ln
    ]
    # each start came back (a success), then crashed (a failure): the window of 16 fills
    # to half failures, one doubling per two: 100 .. 100 << 4
    assert delays[:9] == [100, 100, 200, 200, 400, 400, 800, 800, 1600], delays
    assert delays[9:] == [1600] * (len(delays) - 9) and len(delays) > 12, delays


def test_scale_down_stops_the_newest_instance_down_to_min():
    w, eng = world()
    w.add(name="api@", exec=forever(), min_instances=2, max_instances=4,
          escalation={"cpu_quota": ["scale_down"]}, escalation_tries=9)  # fmt: skip
    w.m.start_job(["api@1", "api@2", "api@3"], "test")
    w.run_for(10)
    t = eng.target(w.m.get("api@1"))
    eng.detect(t, 5, "by hand")
    w.run_for(10)
    assert w.m.get("api@3").state == S.INACTIVE
    eng.detect(t, 5, "by hand")
    got = lines(eng)
    assert got[1] == "api@1: scale_down 1/9: stopped api@3 (2 of min 2)", got
    assert got[3] == "api@1: scale_down 2/9: at min_instances (2)", got


def test_config_reload_rolls_back_to_the_last_good_version():
    w, eng = world()
    st = CS._store = CS.Store(w.m)
    st.config_dir = "/nonexistent"
    st.cmdline = {}

    async def run():
        while True:
            await traps.sleep_ms(100)
            if st.entry("cfg").current().values["mode"] == "bad":
                raise ValueError("bad mode")

    w.add(name="cfg", exec=run, config={"mode": {"type": "str", "default": "ok"}},
          rollback_sec=0, restart_sec=0.2, start_limit_burst=100,
          detectors={"exception": {}}, escalation={"exception": ["config_reload"]})  # fmt: skip
    w.m.start_job(["cfg"], "test")
    w.run_for(10500)  # ready on v1 for 10 s: v1 is good
    st.update("cfg", {"mode": "bad"})
    w.run_for(1000)
    got = lines(eng)
    assert got[0] == "cfg: detected exception: raised ValueError", got
    assert got[1] == "cfg: config_reload 1/100: rolled back to v1 (from v2)", got
    assert st.entry("cfg").current().values["mode"] == "ok"
    assert "cfg: recovered by config_reload in " in got[2], got


def test_unit_fields_are_checked_with_one_line_errors():
    w = World()

    def err(**fields):
        try:
            w.add(name="u", exec=forever(), **fields)
        except UnitError as e:
            return str(e)
        return None

    assert err(escalation={"latency": ["reboot"]}) == (
        "unit u: 'escalation' strategy 'reboot' is not one of restart, restart_with_delay, "
        "scale_up, scale_down, failover, circuit_breaker_reset, config_reload"
    )
    assert err(escalation='{"slow": ["restart"]}').startswith(
        "unit u: 'escalation' detector 'slow' is not one of failures, exception, latency"
    )
    assert err(detectors={"latency": {"p99": 5}}) == (
        "unit u: 'detectors' latency has no option 'p99' (options: for_sec, p99_ms)"
    )
    assert (
        err(escalation_tries=0) == "unit u: 'escalation_tries' must be an int in 1..1000000, got 0"
    )
    assert err(min_instances=3, max_instances=2) == (
        "unit u: 'min_instances' (3) must not be above 'max_instances' (2)"
    )
    u = w.add(name="ok", exec=forever(), escalation='{"failures": "restart"}',
              detectors='{"failures": {"window_sec": "2s"}}')  # fmt: skip
    assert u.unit.escalation == {0: (0,)} and u.unit.detectors == {0: {"window_sec": 2000}}


def test_breaker_open_with_a_real_breaker_then_reset_closes_it():
    from kernel import breakers

    w, eng = world()
    brk = breakers.attach(w.m)
    w.add(name="r", exec=forever(), detectors={"breaker_open": {"open_sec": 3}})
    brk.set("r", {"window_size": 4, "minimum_calls": 2, "wait_open_sec": 60})
    w.m.start_job(["r"], "test")
    w.run_for(10)
    b = w.m.registry.get("r").breaker
    for _ in range(2):
        assert b.allow()
        b.record(False, 1)
    assert b.state == breakers.OPEN
    w.run_for(4000)
    got = lines(eng)
    assert got[0].startswith("r: detected breaker_open: breaker open for 3"), got
    assert got[1] == "r: circuit_breaker_reset 1/5: breaker reset (closed)", got
    assert b.state == breakers.CLOSED


def test_a_forced_open_breaker_is_not_a_fault():
    from kernel import breakers

    w, eng = world()
    brk = breakers.attach(w.m)
    w.add(name="f", exec=forever(), detectors={"breaker_open": {"open_sec": 1}})
    brk.set("f", {"window_size": 4, "minimum_calls": 2})
    w.m.start_job(["f"], "test")
    w.run_for(10)
    b = w.m.registry.get("f").breaker
    b.force_open()
    assert b.state == breakers.FORCED_OPEN
    w.run_for(3000)
    assert lines(eng) == []  # the operator holds it open: no detection, no recovery
    assert b.state == breakers.FORCED_OPEN
