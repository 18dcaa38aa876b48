# kernel/scenario: fault scenarios, played on a separate kernel on the virtual clock.
#
# Owns: parse() (a JSON list, or its text, of {at_sec, target, kind, options} -> entries
# sorted by time, one-line errors naming the entry) and play() (a fresh Scheduler on a
# VirtualClock seeded with `seed`, its own Manager, discovery, health and fault engine;
# the entries run at their times, then params.FAULT_SCENARIO_TAIL_MS more; -> the fault
# journal's lines). Kinds: the injection kinds (kernel/inject.py), plus `unit` (options: a
# unit declared in that kernel, target its name), `start` and `stop` (target), `clear`
# (options {"id": n}), `load` (a client calling kernel.request(target) `rate` times a
# second, each call `call_ms` long, with `retries`, for `for_sec`; it journals its calls and
# failures) and `end` (stop at at_sec). The seed feeds every RNG of that kernel
# (the clock's step costs, backoff jitter, injection rates), and journaled values are
# ints, so the same seed gives the same journal, byte for byte, on every port.
# Invariants: the kernel we run inside is left as it was: its service manager and config
# store (module-level singletons the played kernel borrows; its metrics registry is kept on
# its manager), and the balancer's call hook, are put back, even when the scenario raises.
# Not here: where scenarios come from (a file, or one frozen into the firmware: the shell's
# business, services/faultsh.py), what a kind does (kernel/inject.py).
from kernel import params

KINDS = ("unit", "start", "stop", "clear", "load", "end")  # besides inject.KIND_NAMES


def _bad(i, msg):
    return ValueError("scenario: entry %d: %s" % (i + 1, msg))


def parse(src):
    """A scenario (a list, or its JSON text) -> [(at_ms, target, kind, options)] by time."""
    from kernel import inject

    if isinstance(src, str):
        import json

        try:
            src = json.loads(src)
        except ValueError as e:
            raise ValueError("scenario: not valid JSON: %s" % e) from None
    if not isinstance(src, list):
        raise ValueError("scenario: must be a JSON list of {at_sec, target, kind, options}")
    if len(src) > params.FAULT_SCENARIO_MAX:
        raise ValueError(
            "scenario: %d entries, at most %d" % (len(src), params.FAULT_SCENARIO_MAX)
        )
    out = []
    for i, e in enumerate(src):
        if not isinstance(e, dict):
            raise _bad(i, "must be a dict, got %r" % (e,))
        for k in e:
            if k not in ("at_sec", "target", "kind", "options"):
                raise _bad(i, "unknown key %r (keys: at_sec, target, kind, options)" % k)
        at = e.get("at_sec", 0)
        if isinstance(at, bool) or not isinstance(at, (int, float)) or at < 0:
            raise _bad(i, "'at_sec' must be seconds >= 0, got %r" % (at,))
        kind = e.get("kind")
        if kind not in inject.KIND_NAMES and kind not in KINDS:
            kinds = ", ".join(inject.KIND_NAMES + KINDS)
            raise _bad(i, "'kind' must be one of %s, got %r" % (kinds, kind))
        target = e.get("target", "")
        if not isinstance(target, str) or (not target and kind != "end"):
            raise _bad(i, "'target' must be a service or instance name, got %r" % (target,))
        opts = e.get("options") or {}
        if not isinstance(opts, dict):
            raise _bad(i, "'options' must be a dict, got %r" % (opts,))
        out.append((int(at * 1000), i, target, kind, opts))
    out.sort()  # by time, then by place (MicroPython's sort is not stable)
    return [(e[0], e[2], e[3], e[4]) for e in out]


async def _play(m, eng, inj, entries):
    from kernel.traps import sleep_ms

    for at, target, kind, opts in entries:
        d = at - m.now()
        if d > 0:
            await sleep_ms(d)
        if kind == "end":
            return
        try:
            if kind == "unit":
                u = dict(opts)
                u["name"] = target
                m.create(u)
            elif kind == "start":
                m.start_job([target], "scenario")
            elif kind == "stop":
                m.stop_job([m.get(target)], "scenario")
            elif kind == "clear":
                inj.clear(opts.get("id"))
            elif kind == "load":
                m.sched.spawn(_load(m, eng, target, opts), "load-" + target[:19]).quiet = True
            else:
                inj.inject(target, kind, opts)
        except ValueError as e:  # a bad unit or injection: journaled, the scenario goes on
            eng.log(target, "scenario %s failed: %s" % (kind, e))
    await sleep_ms(params.FAULT_SCENARIO_TAIL_MS)


async def _load(m, eng, target, opts):
    import kernel
    from kernel.traps import sleep_ms

    request = getattr(kernel, "request", None)
    if request is None:
        eng.log(target, "scenario load failed: no kernel.request (no balancer in this build)")
        return
    period = 1000 // max(1, opts.get("rate", 10))
    call_ms = opts.get("call_ms", 5)
    retries = opts.get("retries", 0)
    end = m.now() + opts.get("for_sec", 10) * 1000

    async def call(inst):
        await sleep_ms(call_ms)

    calls = failed = 0
    while m.now() < end:
        calls += 1
        try:
            await request(target, retries=retries).call(call)
        except Exception:  # noqa: BLE001 - a failed call is what a load counts
            failed += 1
        await sleep_ms(period)
    eng.log(target, "load: %d calls, %d failed" % (calls, failed))


def _hook_of():
    try:
        from kernel import balancer
    except (ImportError, AttributeError):
        return None, None
    return balancer, balancer.call_hook()


def play(src, seed=0):
    """Play scenario `src` on a separate kernel on the virtual clock -> the fault journal's
    lines. The same seed gives the same lines."""
    from kernel import backoff, configstore, faults, inject, svc
    from kernel.clock import VirtualClock
    from kernel.manager import Manager
    from kernel.sched import Scheduler

    entries = parse(src)
    s = Scheduler(VirtualClock(seed))
    m = Manager(s, backoff.Rng(seed))
    saved = (svc._mgr, configstore._store)
    bal, hook = _hook_of()
    svc._mgr = m  # the played kernel's code asks kernel.svc for its manager
    try:
        eng = faults.attach(m)
        inj = inject.injector(eng)
        t = s.spawn(_play(m, eng, inj, entries), "scenario")
        s.run_until(t)
        t.result()
        st = eng.stats()
        return eng.lines() + [
            "scenario: %d entries, seed %d, %d ms: %d detected, %d recovered, %d escalated"
            % (len(entries), seed, m.now(), st["detected"], st["recovered"], st["escalated"])
        ]
    finally:
        svc._mgr, configstore._store = saved
        if bal is not None:
            bal.set_call_hook(hook)


def run_scenario(scenario, seed=0):
    """Play a fault scenario (a list of {at_sec, target, kind, options}, or its JSON text)
    on a separate kernel on the virtual clock -> the fault journal's lines, then a summary
    line. Raises ValueError (one line) for a bad scenario."""
    return play(scenario, seed)
