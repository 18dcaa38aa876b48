# Tests for kernel/traps: the one door, singleton awaitables.
from kernel import traps


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


def test_trap_yields_itself_once_then_completes():
    def g():
        r = yield from traps.yield_()
        return r

    it = g()
    assert it.send(None) is traps._yield
    try:
        it.send(None)
        assert False
    except StopIteration as e:
        assert e.value is None


def test_park_true_and_ready_give_values():
    def g(aw):
        return (yield from aw)

    it = g(traps.READY_TRUE)
    try:
        it.send(None)
        assert False
    except StopIteration as e:
        assert e.value is True
    it = g(traps.park_true(object()))
    assert it.send(None) is traps._park_true
    try:
        it.send(None)
    except StopIteration as e:
        assert e.value is True


def test_trap_codes_index_names():
    assert traps.TRAP_NAMES[traps.YIELD] == "yield"
    assert traps.TRAP_NAMES[traps.CONSOLE] == "console"
