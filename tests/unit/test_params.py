# Tests for kernel/params: one source for every tunable. The few copies a hot path keeps
# inline (const() in kernel/*.py, #define in boards/common/*.c) name their source in a
# comment ("# params.NAME", "// params.NAME - 1"); these tests read the sources and fail when
# a copy differs from params, or when a copy of a params value has no such comment.
import os
import re

from kernel import params

PY_CONST = re.compile(r"^(\w+) = const\((.+)\)(?:\s+#\s*(.*))?$")
C_DEFINE = re.compile(r"^#define (\w+) (\(.+\)|\S+)(?:\s+//\s*(.*))?$")
MARK = re.compile(r"params\.\w+(?: *(?:-|\+|//|\*) *\d+)?")
# The kernel files known to keep copies, and how many (a deleted comment must fail too).
EXPECTED = {
    "kernel/sched.py": 3,
    "kernel/lifecycle.py": 3,
    "kernel/clock.py": 2,
    "boards/common/modksched.c": 2,
    "kernel/asyncio.py": 1,
    "boards/common/modkasync.c": 1,
}


def ev(expr, env):
    return eval(expr, env)


def table():
    """{value: name} of every params value big enough not to match by chance."""
    out = {}
    for name in dir(params):
        v = getattr(params, name)
        if name.isupper() and isinstance(v, int) and v >= 1 << 16:
            out[v] = name
    return out


def marks(comment):
    """The params expressions a copy's comment names, at its start ('a, b: text')."""
    out = []
    if comment:
        for part in comment.split(":")[0].split(","):
            m = MARK.match(part.strip())
            if m:
                out.append(m.group(0))
    return out


def copies(path, pattern, env):
    """(name, value, [params expressions]) for each constant defined in the file."""
    out = []
    with open(path) as f:
        for line in f:
            m = pattern.match(line.rstrip("\n"))
            if m is None:
                continue
            try:
                value = ev(m.group(2).replace("1u <<", "1 <<"), env)
            except Exception:  # noqa: BLE001 - built from other names: not a copy
                continue
            if isinstance(value, int):
                out.append((m.group(1), value, marks(m.group(3))))
    return out


def check(path, pattern, env, big):
    found = 0
    for name, value, exprs in copies(path, pattern, env):
        for e in exprs:
            want = ev(e, {"params": params})
            assert value == want, "%s: %s = %d, but %s = %d" % (path, name, value, e, want)
            found += 1
        if not exprs and value in big:
            raise AssertionError(
                "%s: %s = %d copies params.%s without saying so ('# params.%s')"
                % (path, name, value, big[value], big[value])
            )
    return found


def hal_h_env():
    env = {}
    for name, value, _ in copies("boards/common/hal.h", C_DEFINE, {}):
        env[name] = value
    return env


def test_every_inline_copy_matches_params():
    big = table()
    found = {}
    for fn in sorted(os.listdir("kernel")):
        if fn.endswith(".py") and fn != "params.py":
            path = "kernel/" + fn
            found[path] = check(path, PY_CONST, {}, big)
    env = hal_h_env()
    for fn in sorted(os.listdir("boards/common")):
        if fn.endswith(".c"):  # hal.h is the HAL's own truth: test_hal_ticks_period...
            path = "boards/common/" + fn
            found[path] = check(path, C_DEFINE, env, big)
    for path, n in EXPECTED.items():
        assert found.get(path, 0) >= n, "%s: %d marked copies, expected %d" % (
            path,
            found.get(path, 0),
            n,
        )


def test_hal_ticks_period_is_the_kernels():
    assert hal_h_env()["HAL_TICKS_PERIOD"] == params.TICKS_PERIOD
    import hal

    assert hal.TICKS_PERIOD == params.TICKS_PERIOD


def test_a_wrong_or_unmarked_copy_is_caught():
    # The checker itself: a drifted copy and a silent copy both fail.
    with open("/tmp/multios_params_probe.py", "w") as f:
        f.write("_A = const(1 << 27)  # params.CPU_CARRY_US\n")
    try:
        check("/tmp/multios_params_probe.py", PY_CONST, {}, table())
        raise AssertionError("a drifted copy passed")
    except AssertionError as e:
        assert "but params.CPU_CARRY_US" in str(e), e
    with open("/tmp/multios_params_probe.py", "w") as f:
        f.write("_B = const(1 << 28)  # the carry\n")
    try:
        check("/tmp/multios_params_probe.py", PY_CONST, {}, table())
        raise AssertionError("a silent copy passed")
    except AssertionError as e:
        assert "without saying so" in str(e), e
    os.remove("/tmp/multios_params_probe.py")
