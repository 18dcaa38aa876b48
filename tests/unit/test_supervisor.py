# Tests for kernel/supervisor: one_for_one, one_for_all, rest_for_one, intensity/period,
# escalation to the parent, and a failed top-level group leaving the rest of the system up.
# Services here have restart=no, so each crash ends in `failed` and counts for the group.
from svcfakes import World

from kernel import service as S
from kernel.supervisor import configure


def group_world(strategy, crash, intensity=1, period=5, names=("a", "b", "c")):
    """Group g of names; `crash` crashes once after 100 ms, then runs."""
    w = World()
    configure(w.m, "g", strategy, intensity, period)
    for n in names:
        script = [("raise", 100), ("run", 0)] if n == crash else [("run", 0)]
        w.add(
            name=n,
            exec=w.body(n, script),
            restart="transient" if n == crash else "no",
            restart_sec=0,
            start_limit_burst=1,
            group="g",
        )
    w.m.start_job(list(names), "test")
    w.run_for(10)
    return w, {n: w.m.services[n].task for n in names}


def restarted(w, first):
    return sorted(n for n, t in first.items() if w.m.services[n].task is not t)


def test_one_for_one_restarts_only_the_failed_child():
    w, first = group_world("one_for_one", "b")
    w.run_for(200)
    assert restarted(w, first) == ["b"]
    assert all(w.m.services[n].state == S.ACTIVE for n in "abc")
    g = w.m.groups["g"]
    assert g.restarts == 1 and g.budget() == 0 and g.state == S.ACTIVE
    # b's own policy acted first: a restart (restart_sec=0) hit its start limit (burst 1);
    # then the group restarted it (a fresh start budget): run 2 runs on.
    assert w.runs["b"] == 2 and w.m.services["b"].restarts == 1


def test_one_for_all_restarts_every_child():
    w, first = group_world("one_for_all", "b")
    w.run_for(200)
    assert restarted(w, first) == ["a", "b", "c"]
    assert [e[1] for e in w.events if e[2] == "stopped"] == ["c", "a"]  # newest first
    assert all(w.m.services[n].state == S.ACTIVE for n in "abc")


def test_rest_for_one_restarts_the_failed_child_and_those_after_it():
    w, first = group_world("rest_for_one", "b")
    w.run_for(200)
    assert restarted(w, first) == ["b", "c"]


def test_intensity_exceeded_escalates_and_the_top_group_fails_alone():
    w = World()
    configure(w.m, "g", "one_for_one", 1, 5)
    w.add(name="bad", exec=w.body("bad", [("raise", 100)]), restart="no", group="g")
    w.add(name="peer", exec=w.body("peer", [("run", 0)]), group="g")
    w.add(name="other", exec=w.body("other", [("run", 0)]))  # outside the group
    w.m.start_job(["bad", "peer", "other"], "test")
    w.run_for(150)
    assert w.m.groups["g"].state == S.ACTIVE  # one failure in 5 s: absorbed, restarted
    w.run_for(150)
    g = w.m.groups["g"]
    assert g.state == S.FAILED, w.events
    assert g.cause == "bad failed 2 times in 5000 ms (intensity 1)"
    assert w.m.services["peer"].state == S.INACTIVE  # stopped with its group
    assert w.m.services["other"].state == S.ACTIVE  # the rest of the system stays up


def test_failures_outside_the_period_do_not_add_up():
    w = World()
    configure(w.m, "g", "one_for_one", 1, 1)
    w.add(name="slow", exec=w.body("slow", [("raise", 1500)]), restart="no", group="g")
    w.m.start_job(["slow"], "test")
    w.run_for(6200)  # a crash every 1.5 s: never 2 inside 1 s
    assert w.m.groups["g"].state == S.ACTIVE and w.m.groups["g"].restarts == 4


def test_escalation_goes_to_the_parent_which_restarts_the_child_group():
    w = World()
    configure(w.m, "top", "one_for_one", 3, 10)
    configure(w.m, "inner", "one_for_one", 0, 5, parent="top")
    w.add(
        name="x",
        exec=w.body("x", [("raise", 100), ("run", 0)]),
        restart="transient",
        restart_sec=0,
        start_limit_burst=1,
        group="inner",
    )
    w.add(name="y", exec=w.body("y", [("run", 0)]), group="inner")
    w.m.start_job(["x", "y"], "test")
    w.run_for(10)
    y_first = w.m.services["y"].task
    w.run_for(300)
    inner, top = w.m.groups["inner"], w.m.groups["top"]
    assert [e[2] for e in w.events if e[1] == "inner"] == ["failed"]  # intensity 0
    assert top.restarts == 1 and top.state == S.ACTIVE
    assert inner.state == S.ACTIVE  # restarted by its parent
    assert w.m.services["y"].task is not y_first and w.m.services["y"].state == S.ACTIVE
    assert w.m.services["x"].state == S.ACTIVE


def test_every_strategy_escalates_past_its_intensity():
    for strategy in ("one_for_one", "one_for_all", "rest_for_one"):
        w = World()
        configure(w.m, "g", strategy, 1, 5)
        w.add(name="a", exec=w.body("a", [("run", 0)]), group="g")
        w.add(name="bad", exec=w.body("bad", [("raise", 100)]), restart="no", group="g")
        w.add(name="z", exec=w.body("z", [("run", 0)]), group="g")
        w.add(name="other", exec=w.body("other", [("run", 0)]))
        w.m.start_job(["a", "bad", "z", "other"], "test")
        w.run_for(350)
        g = w.m.groups["g"]
        assert g.state == S.FAILED and g.restarts == 1, (strategy, w.events)
        for n in ("a", "z"):
            assert w.m.services[n].state == S.INACTIVE, (strategy, n)
        assert w.m.services["other"].state == S.ACTIVE, strategy


def test_an_explicit_start_brings_a_failed_group_back():
    w = World()
    configure(w.m, "g", "one_for_one", 0, 5)
    w.add(name="bad", exec=w.body("bad", [("raise", 100), ("run", 0)]), restart="no", group="g")
    w.m.start_job(["bad"], "test")
    w.run_for(150)
    assert w.m.groups["g"].state == S.FAILED
    w.m.start_job(["bad"], "test")
    w.run_for(10)
    assert w.m.groups["g"].state == S.ACTIVE and w.m.services["bad"].state == S.ACTIVE
