# Tests for kernel/scenario: parsing with one-line errors, playing on a separate kernel on
# the virtual clock (the kernel we run in is left as it was), and replay: the same seed
# gives the same journal byte for byte, another seed another one.
import kernel
from kernel import configstore, scenario, svc
from kernel.clock import VirtualClock
from services.scenarios import DEMO


def test_parse_sorts_by_time_keeping_order_and_names_bad_entries():
    got = scenario.parse(
        '[{"at_sec": 2, "target": "a", "kind": "crash"},'
        ' {"at_sec": 0, "target": "b", "kind": "unit", "options": {"exec": "m:f"}},'
        ' {"at_sec": 0, "target": "b", "kind": "start"}, {"at_sec": 0.5, "kind": "end"}]'
    )
    assert got == [
        (0, "b", "unit", {"exec": "m:f"}),
        (0, "b", "start", {}),
        (500, "", "end", {}),
        (2000, "a", "crash", {}),
    ]

    def err(src):
        try:
            scenario.parse(src)
        except ValueError as e:
            return str(e)
        return None

    assert err("{}") == "scenario: must be a JSON list of {at_sec, target, kind, options}"
    assert err("[oops]").startswith("scenario: not valid JSON")
    assert err("[1]") == "scenario: entry 1: must be a dict, got 1"
    assert err([{"at_sec": -1, "target": "a", "kind": "crash"}]) == (
        "scenario: entry 1: 'at_sec' must be seconds >= 0, got -1"
    )
    assert err([{"target": "a", "kind": "melt"}]).startswith(
        "scenario: entry 1: 'kind' must be one of crash, hang, slow, error, memory, flap, unit"
    )
    assert err([{"kind": "crash"}]) == (
        "scenario: entry 1: 'target' must be a service or instance name, got ''"
    )
    assert err([{"kind": "end", "when": 1}]) == (
        "scenario: entry 1: unknown key 'when' (keys: at_sec, target, kind, options)"
    )


def test_the_demo_replays_byte_for_byte_and_another_seed_differs():
    kernel.reset(VirtualClock(0, 0))
    mgr = svc.manager()
    store = configstore.store(mgr)
    a = scenario.play(DEMO, 1)
    b = scenario.play(DEMO, 1)
    c = scenario.play(DEMO, 2)
    assert a == b
    assert a != c
    assert a[-1].startswith("scenario: 17 entries, seed 1, ")
    text = "\n".join(a)
    for want in (
        "web@1: injected crash #1",
        "web@1: detected failures: 2 failures in 30000 ms (last: watchdog)",  # the hang
        "db: detected exception: raised InjectedFault",
        "db: failover 1/5: promoted db-standby, demoted db",
        "web@2: detected flapping: 4 health changes in 10000 ms",
        "web@2: injected memory #5 chunk_b=16384",
        "web@1: escalated failures to scale_up after 1 tries in 60000 ms",
        "web@1: scale_up 1/1: started web@3 (3 of max 3)",
    ):
        assert want in text, (want, a)
    # the kernel we ran in is untouched: its manager, config store, no stray services
    assert svc.manager() is mgr and configstore.store() is store
    assert kernel.list_services() == []


def test_a_bad_entry_is_journaled_and_the_scenario_goes_on():
    kernel.reset(VirtualClock(0, 0))
    got = scenario.play(
        [{"at_sec": 1, "target": "ghost", "kind": "crash"}, {"at_sec": 2, "kind": "end"}], 0
    )
    assert got[0] == (
        "[    1.000] ghost: scenario crash failed: unit ghost: no such unit (see 'svc list')"
    )
    assert got[1].startswith("scenario: 2 entries, seed 0, 2") and len(got) == 2


def test_load_slow_and_error_act_through_the_balancer_and_latency_scales_up():
    kernel.reset(VirtualClock(0, 0))
    got = scenario.play(
        [
            {"at_sec": 0, "target": "web@", "kind": "unit", "options": {
                "exec": "services.faultdemo:web", "max_instances": 2,
                "detectors": {"latency": {"p99_ms": 100, "for_sec": 2}}}},
            {"at_sec": 0, "target": "web@1", "kind": "start"},
            {"at_sec": 1, "target": "web", "kind": "load", "options": {"rate": 20, "for_sec": 6}},
            {"at_sec": 2, "target": "web@1", "kind": "slow", "options": {"ms": 300}},
            {"at_sec": 6, "target": "web@1", "kind": "error", "options": {"rate_pm": 1000}},
            {"at_sec": 8, "kind": "end"},
        ],
        1,
    )  # fmt: skip
    text = [ln[12:] for ln in got[:-1]]
    assert text[0] == "web@1: injected slow #1 ms=300", got
    assert text[1].startswith("web@1: detected latency: p99 3"), got
    assert text[1].endswith(" ms over 100 ms for 2000 ms"), got
    assert text[2] == "web@1: scale_up 1/5: started web@2 (2 of max 2)", got
    assert "web@1: injected error #2 rate_pm=1000" in text, got
    load = [t for t in text if t.startswith("web: load: ")]
    assert len(load) == 1 and not load[0].endswith(" 0 failed"), got  # errors on web@1
