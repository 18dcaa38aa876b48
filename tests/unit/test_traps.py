# Tests for kernel/traps: the one door, singleton awaitables (the Python PyTrap and, when the
# build has it, the C twin _ktrap.Trap: both must behave the same).
from kernel import traps


def kinds():
    out = [traps.PyTrap]
    if traps.NATIVE:
        out.append(traps.Trap)
    return out


def drive(aw):
    # Await aw in a coroutine; return (what it yielded to the scheduler, the await's value).
    async def f():
        return await aw

    c = f()
    try:
        y = c.send(None)
    except StopIteration as e:
        return None, e.value
    try:
        c.send(None)
    except StopIteration as e:
        return y, e.value
    raise AssertionError("awaited twice")


def test_hot_traps_are_singletons():
    assert traps.yield_() is traps.yield_()
    assert traps.sleep_ms(5) is traps.sleep_ms(7)
    assert traps.wait_console() is traps.wait_console()


def test_trap_carries_code_and_args():
    t = traps.sleep_ms(12)
    assert t.code == traps.SLEEP and t.arg == 12
    assert traps.sleep_us(1001).arg == 2
    assert traps.sleep_us(0).arg == 0
    assert traps.sleep(1.5).arg == 1500
    q = object()
    p = traps.park(q, 30)
    assert p.code == traps.PARK and p.arg is q and p.arg2 == 30
    assert traps.park(q).arg2 == -1


def test_called_trap_yields_itself_once_then_completes_with_value():
    for Trap in kinds():
        t = Trap(traps.PARK, "v")
        assert drive(t("a", 3)) == (t, "v")
        assert t.arg == "a" and t.arg2 == 3 and not t.armed
        assert drive(t()) == (t, "v")  # a bare call arms it and keeps the arguments
        assert t.arg == "a"


def test_uncalled_trap_completes_at_once():
    for Trap in kinds():
        assert drive(Trap(traps.READY, True)) == (None, True)
    assert drive(traps.READY_TRUE) == (None, True)
    assert drive(traps.READY_NONE) == (None, None)


def test_await_allocates_nothing():
    import gc

    for Trap in kinds():
        t = Trap(traps.YIELD)

        async def w(t=t):
            while True:
                await t()

        cs = [w() for _ in range(10)]
        for c in cs:
            c.send(None)
        gc.collect()
        gc.disable()
        try:
            a0 = gc.mem_alloc()
            for _ in range(100):
                for c in cs:
                    c.send(None)
            grown = gc.mem_alloc() - a0
        finally:
            gc.enable()
        assert grown < 64, "%s: %d bytes for 1000 awaits" % (Trap, grown)


def test_trap_refuses_bad_calls():
    for Trap in kinds():
        t = Trap(traps.SLEEP)
        try:
            t(1, 2, 3)
            assert False, "3 arguments accepted"
        except TypeError:
            pass


def test_trap_codes_index_names():
    assert traps.TRAP_NAMES[traps.YIELD] == "yield"
    assert traps.TRAP_NAMES[traps.CONSOLE] == "console"
