# Tests for a service run stepped directly (kernel/service.py direct(), ended(); the
# manager's end hook): when exec is a module-level async def, its task steps the service's
# own coroutine, with no runner coroutine around it (112 B per running service on ARM),
# and every way a run ends reaches the manager as the runner would have said it. Each
# behaviour is checked against the same script run under the runner (a closure's exec).
# On the virtual clock with no per-step cost: exact ms.
from svcfakes import World

from kernel import service as S
from kernel import traps
from kernel.errors import CancelledError

SCRIPT = []  # what the next run of `body` does: ('return', v), ('raise', ms), ('run', 0), ...
STEPS = []  # (run, what) as runs begin


async def body():
    what, arg = SCRIPT[min(len(STEPS), len(SCRIPT) - 1)]
    STEPS.append(what)
    if what == "return":
        await traps.sleep_ms(10)
        return arg
    if what == "raise":
        await traps.sleep_ms(arg)
        raise ValueError("crash %d" % len(STEPS))
    if what == "burn":  # one step past the 200 ms step budget
        await traps.sleep_ms(10)
        SCRIPT.append(("run", 0))
        WORLD[0].clock.burn(300_000)
        await traps.sleep_ms(10)
    while True:
        try:
            await traps.sleep_ms(1000)
        except CancelledError:
            raise


WORLD = []


def run_both(script, unit, act):
    """The events of one scenario, run directly (exec=body) and under the runner (a
    closure around body): (direct's, runner's)."""
    out = []
    for direct in (True, False):
        del SCRIPT[:]
        SCRIPT.extend(script)
        del STEPS[:]
        w = World()
        del WORLD[:]
        WORLD.append(w)

        def wrapped():
            return body()

        told = []
        w.sched.on_failure = told.append
        h = w.add(name="s", exec=body if direct else wrapped, **unit)
        w.m.start_job(["s"], "test")
        act(w, h)
        out.append(([e[1:] for e in w.events], h.state, h.result, told, h.direct))
    assert out[0][4] and not out[1][4]  # stepped directly, then under the runner
    return out


def _same(script, unit, act):
    d, r = run_both(script, unit, act)
    assert d[:3] == r[:3], (d, r)
    assert [t.reason for t in d[3]] == [t.reason for t in r[3]], (d[3], r[3])  # supervisor
    return d


def test_a_module_async_def_runs_as_its_own_task_with_no_runner():
    del SCRIPT[:]
    SCRIPT.append(("run", 0))
    del STEPS[:]
    w = World()
    h = w.add(name="s", exec=body)
    w.m.start_job(["s"], "test")
    w.run_for(10)
    assert h.direct and h.task.coro.__class__.__name__ == "generator"
    assert h.task.coro is not None and w.m.by_task[h.task.id] is h
    g = w.add(name="g", exec=lambda: body())  # not a generator function: the runner
    w.m.start_job(["g"], "test")
    assert not g.direct


def test_exits_with_a_value_or_zero_as_the_runner_says():
    def act(w, h):
        w.run_for(50)

    d = _same([("return", 0)], {}, act)
    assert d[0][-1] == ("s", "exited", None) and d[1] == S.INACTIVE
    d = _same([("return", 3), ("run", 0)], {"restart": "on-failure", "restart_sec": 0}, act)
    assert ("s", "restarting", "exit-code: returned 3; restart 1 in 0 ms") in d[0], d[0]


def test_an_exception_restarts_it_and_is_kept():
    def act(w, h):
        w.run_for(100)
        assert isinstance(h.exc, ValueError)

    d = _same([("raise", 20), ("run", 0)], {"restart_sec": 0.05}, act)
    assert ("s", "restarting", "exception: ValueError: crash 1; restart 1 in 50 ms") in d[0]
    assert d[1] == S.ACTIVE


def test_a_step_past_the_budget_is_a_watchdog_result():
    def act(w, h):
        w.run_for(30)
        assert h.result == S.WATCHDOG, h.result_name()
        w.run_for(1000)

    d = _same([("burn", 0)], {"restart_sec": 0.5}, act)
    assert d[1] == S.ACTIVE and [t.reason for t in d[3]] == ["watchdog"]  # as under runner


def test_stop_kill_and_a_stop_before_the_first_step():
    def stop(w, h):
        w.run_for(10)
        w.m.stop(h, "test")
        w.run_for(10)

    d = _same([("run", 0)], {}, stop)
    assert d[0][-1] == ("s", "stopped", None) and d[1] == S.INACTIVE

    def kill(w, h):
        w.run_for(10)
        w.m.kill(h)
        w.run_for(10)

    d = _same([("run", 0)], {"restart_sec": 0}, kill)
    assert ("s", "restarting", "exception: killed; restart 1 in 0 ms") in d[0], d[0]

    def early(w, h):
        w.m.stop(h, "test")  # its task has not stepped yet
        w.run_for(10)

    d = _same([("run", 0)], {}, early)
    assert d[1] == S.INACTIVE and STEPS == [], STEPS
