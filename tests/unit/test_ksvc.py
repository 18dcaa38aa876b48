# Tests for the C status() (_ksvc, boards/common/modksvc.c) against kernel/service.py: the
# attributes the C code reads by name are the ones service.py declares (KSVC_*), and the
# C dict equals the Python one (Service.py_status) in every state a service goes through:
# fresh, active, restarting with each backoff kind, failed, in a group, a template's
# instance, with the description unset or set.
import re

import mpunit
from svcfakes import World

from kernel import service as S
from kernel import traps
from kernel.units import UnitError

QSTR = re.compile(r"MP_QSTR_(\w+)")
ARRAYS = {
    "SVC_FIELDS": "service",
    "UNIT_FIELDS": "unit",
    "SCHED_FIELDS": "sched",
    "TASK_FIELDS": "task",
    "GROUP_FIELDS": "group",
}


def used_by_c():
    """{owner: [names]} of modksvc.c's field arrays (static const qstr X_FIELDS[] = {..}),
    in their order, and {owner: the enum's names} beside each (S_MGR, ..., S_N)."""
    with open("boards/common/modksvc.c") as f:
        src = f.read()
    out = {}
    for array, owner in ARRAYS.items():
        i = src.find("static const qstr %s[] = {" % array)
        assert i >= 0, "modksvc.c: no array %s" % array
        body = src[src.find("{", i) + 1 : src.find("}", i)]
        names = []
        for part in body.split(","):
            m = QSTR.search(part)
            if m:
                names.append(m.group(1))
        out[owner] = names
    return out, src


def test_c_reads_exactly_the_declared_fields():
    c, src = used_by_c()
    assert c["service"] == list(S.KSVC_SERVICE_FIELDS), c["service"]
    assert c["unit"] == list(S.KSVC_UNIT_FIELDS), c["unit"]
    assert c["sched"] == list(S.KSVC_SCHED_FIELDS), c["sched"]
    assert c["task"] == ["id"] and c["group"] == ["name"], c
    # the enums index those arrays: same names, same order (S_MGR for mgr, ...)
    for prefix, names in (("S_", S.KSVC_SERVICE_FIELDS), ("U_", S.KSVC_UNIT_FIELDS)):
        i = src.find("enum { %s" % prefix)
        enum = src[src.find("{", i) + 1 : src.find("}", i)]
        got = [e.strip() for e in enum.split(",") if e.strip()]
        want = [prefix + n.upper() for n in names] + [prefix + "N"]
        assert got == want, (got, want)
    assert "MP_QSTR_sched }" in src  # the manager's one field


def test_declared_fields_exist_where_the_c_code_reads_them():
    w = World()
    svc = w.add(name="a", exec=_forever)
    for name in S.KSVC_SERVICE_FIELDS:
        assert hasattr(svc, name), name
    for name in S.KSVC_UNIT_FIELDS:
        assert hasattr(svc.unit, name), name
    for name in S.KSVC_SCHED_FIELDS:
        assert name in w.sched.__dict__, "Scheduler.__init__/set_clock must set %s" % name
    assert "sched" in w.m.__dict__
    # the bound service_status (modksvc.c BOUND_MGR_FIELDS) reads these of the manager
    assert "services" in w.m.__dict__ and "MP_QSTR_sched, MP_QSTR_services }" in used_by_c()[1]


async def _forever():
    while True:
        await traps.sleep_ms(1000)


async def _crash():
    await traps.sleep_ms(10)
    raise ValueError("x")


def _same(svc):
    # C first, then Python: each reads the clock once; the virtual clock does not move
    # between the two reads here (no task steps in between, no per-read cost).
    c = S._c_status(svc, S._KSVC)
    p = svc.py_status()
    assert type(c) is dict and c == p, (c, p)
    assert sorted(c) == sorted(p) and len(c) == 20, sorted(c)
    return c


def test_c_status_equals_the_python_one_through_a_services_life():
    mpunit.need("_ksvc")
    w = World()
    from kernel import supervisor

    supervisor.configure(w.m, "g")
    a = w.add(name="a", exec=_forever, description="the a", group="g", tags=["x", "y"])
    b = w.add(name="b", exec=_forever, requires=["a"], after=["a"])
    kinds = ("fixed", "linear", "exponential", "adaptive")
    crashers = [
        w.add(
            name="c%d" % k,
            exec=_crash,
            restart="on-failure",
            restart_sec=0.2,
            backoff=kind,
            start_limit_burst=4,
        )
        for k, kind in enumerate(kinds)
    ]
    w.m.create({"name": "web@", "exec": _forever})
    for svc in [a, b] + crashers:
        _same(svc)  # inactive, never started
    w.m.start_job(["b"] + [c.name for c in crashers], "t")
    w.run_for(250)
    d = _same(a)
    assert d["state"] == "active" and d["group"] == "g" and d["description"] == "the a"
    assert d["uptime_ms"] == 250 and d["tags"] == ("x", "y"), d
    assert _same(b)["requires"] == ("a",)
    for c in crashers:
        _same(c)  # restarting: each backoff kind's next delay
    w.run_for(5000)
    for c in crashers:
        assert _same(c)["result"] == "start-limit-hit"
    inst = w.m.get("web@1")
    _same(inst)
    w.m.start_job(["web@1"], "t")
    w.run_for(10)
    assert _same(inst)["state"] == "active"


def test_c_status_is_a_plain_dict_callers_may_change():
    mpunit.need("_ksvc")
    w = World()
    svc = w.add(name="a", exec=_forever)
    d = svc.status()
    d["extra"] = 1  # the 21st key grows its table
    del d["cause"]
    assert d["extra"] == 1 and "cause" not in d and len(d) == 20
    assert d == dict(d) and repr(d).startswith("{")
    import json

    assert json.loads(json.dumps(d))["name"] == "a"


def test_service_status_api_uses_the_c_builder_and_finds_templates():
    import kernel

    kernel.reset()
    kernel.create_service({"name": "t@", "exec": _forever})
    d = kernel.service_status("t@3")
    assert d["name"] == "t@3" and d["state"] == "inactive", d
    try:
        kernel.service_status("nope")
    except UnitError as e:
        assert "no such unit" in str(e)
    else:
        raise AssertionError("no error for an unknown name")


def test_status_into_refills_a_dict_in_place_and_allocates_nothing():
    # Polling one service (or many, with one dict): service_status(name, into=d) refills d,
    # its table reused, so the poll allocates nothing (checked with the heap locked).
    mpunit.need("_ksvc")
    import micropython

    from kernel.svc import status_in

    w = World()
    a = w.add(name="a", exec=_forever)
    b = w.add(name="b", exec=_forever, description="the b", tags=["t"])
    d = status_in(w.m, "a")
    w.m.start_job(["a", "b"], "t")
    w.run_for(30)
    micropython.heap_lock()
    try:
        got = status_in(w.m, "a", d)
        got_b = status_in(w.m, "b", d)
    finally:
        micropython.heap_unlock()
    assert got is d and got_b is d
    assert d == b.py_status() and d["description"] == "the b" and d["state"] == "active"
    assert list(d) == list(status_in(w.m, "a")), list(d)  # the same keys, in the same order
    assert status_in(w.m, "a", d) == a.py_status() and d["uptime_ms"] == 30
    e = {"old": 1}  # any dict: its keys dropped, its table made once
    assert status_in(w.m, "a", e) is e and e == a.py_status() and "old" not in e
    try:
        status_in(w.m, "a", [])
        raise AssertionError("a list was taken")
    except TypeError as err:
        assert "into must be a dict" in str(err), err


def test_a_class_default_changed_after_a_read_is_read_anew():
    # The C reader remembers where each class default sits in its class's dict; a class
    # changed since (its dict regrown: the slots move) must be read where the value now is.
    mpunit.need("_ksvc")
    from kernel import units

    w = World()
    a = w.add(name="a", exec=_forever)
    assert _same(a)["tags"] == () and _same(a)["description"] == "a"
    for k in range(12):  # enough new class attributes to regrow the class's dict
        setattr(units.Unit, "zz%d" % k, k)
    units.Unit.tags = ("late",)
    units.Unit.description = "the default"
    d = _same(a)
    assert d["tags"] == ("late",) and d["description"] == "the default", d


def test_objects_of_other_shapes_read_where_their_own_values_are():
    # The C reader remembers one table shape per call site (the keys slot by slot) and reads
    # each field at its remembered slot, own or class, while an object's table has those
    # keys. Objects whose tables differ (an attribute set on one only, a class default set
    # on the instance, one deleted) are read in any order: each gets its own values.
    mpunit.need("_ksvc")
    w = World()
    a = w.add(name="a", exec=_forever)
    b = w.add(name="b", exec=_forever, description="the b", tags=["t"], restart_sec=3)
    c = w.add(name="c", exec=_forever)
    c.restarts = 7  # a class default, set on this instance only
    c.unit.burst = 2  # and a unit's
    w.m.start_job(["a", "b"], "t")
    w.run_for(20)
    for svc in (a, b, c, a, c, b, b, a, c):
        _same(svc)
    assert _same(c)["restarts"] == 7 and _same(a)["restarts"] == 0
    assert _same(c)["budget"] == 2 and _same(a)["budget"] == 4  # a: started once
    assert _same(b)["next_delay_ms"] == 3000 and _same(a)["next_delay_ms"] == 100
    del c.restarts  # back to the class default: a deleted slot in its table
    assert _same(c)["restarts"] == 0 and _same(a)["restarts"] == 0
    c.unit.description = "late"  # a field added after the shape was learnt
    assert _same(c)["description"] == "late" and _same(a)["description"] == "a"


def test_a_class_default_deleted_and_another_added_is_not_read_at_the_old_slot():
    # A class dict slot whose key changed (a default deleted, another added into its slot)
    # must not be read as the old name: the key at the remembered slot is checked.
    mpunit.need("_ksvc")
    from kernel import units

    w = World()
    a = w.add(name="a", exec=_forever)
    assert _same(a)["tags"] == ()
    old = units.Unit.tags
    del units.Unit.tags
    units.Unit.zz_new = 1  # may take the deleted slot
    try:
        S._c_status(a, S._KSVC)
        raise AssertionError("read a deleted class default")
    except AttributeError:
        pass
    units.Unit.tags = ("back",)
    assert _same(a)["tags"] == ("back",)
    units.Unit.tags = old


def test_uptime_past_small_ints_is_big_int_arithmetic_as_in_python():
    # The C arithmetic is done in place for small ints; an uptime past them (2**30 ms on
    # 32-bit boards is 12 days) goes through the runtime, as the Python builder does.
    mpunit.need("_ksvc")
    w = World()
    a = w.add(name="a", exec=_forever)
    w.m.start_job(["a"], "t")
    w.run_for(20)
    big = 1 << 70  # past small ints on 64-bit builds too
    w.sched._up_ms += big
    a.active_ms += big
    a.limit_t0 += big
    d = _same(a)
    assert d["uptime_ms"] == 20 and d["budget"] == 4, d  # both moved: the same differences
    w.sched._up_ms += 123
    assert _same(a)["uptime_ms"] == 143


def test_a_state_out_of_range_raises_as_in_python():
    mpunit.need("_ksvc")
    w = World()
    a = w.add(name="a", exec=_forever)
    a.state = 99
    for build in (lambda: S._c_status(a, S._KSVC), a.py_status):
        try:
            build()
            raise AssertionError("no error for state 99")
        except IndexError:
            pass


def test_service_status_is_one_c_call_and_goes_the_long_way_for_the_rest():
    # kernel.service_status is bound to its C twin where built: the kernel's manager, its
    # scheduler running, a registered name -> the dict; a template's instance not made yet,
    # an unknown name, another scheduler running: kernel/svc.py's Python decides.
    mpunit.need("_ksvc")
    import kernel
    from kernel import sched as _sched
    from kernel import svc

    assert type(svc.service_status).__name__ == "service_status", type(svc.service_status)
    kernel.reset()
    a = kernel.create_service({"name": "a", "exec": _forever, "description": "the a"})
    kernel.create_service({"name": "t@", "exec": _forever})
    m = svc.manager()
    prev = _sched._running
    _sched._running = m.sched  # as inside the kernel's run()
    try:
        d = kernel.service_status("a")
        assert d == a.py_status() and d["description"] == "the a", d
        e = {"x": 1}
        assert kernel.service_status("a", e) is e and e == d  # positional into
        assert kernel.service_status("a", into=e) is e and e == d  # keyword into
        assert kernel.service_status("t@2")["name"] == "t@2"  # made on first use
        try:
            kernel.service_status("nope", into=e)
            raise AssertionError("no error for an unknown name")
        except UnitError as err:
            assert "no such unit" in str(err), err
        try:
            kernel.service_status("a", into=[])
            raise AssertionError("a list was taken")
        except TypeError as err:
            assert "into must be a dict" in str(err), err
        try:
            kernel.service_status("a", bad=1)
            raise AssertionError("an unknown keyword was taken")
        except TypeError:
            pass
        # another scheduler running: the kernel's manager is not the one asked about
        from kernel.clock import VirtualClock
        from kernel.sched import Scheduler

        _sched._running = Scheduler(VirtualClock())
        try:
            kernel.service_status("a")
            raise AssertionError("the old manager answered for another scheduler")
        except UnitError:
            pass
    finally:
        _sched._running = prev


def test_fresh_status_tables_are_next_fit_and_leave_the_gcs_own_start_alone():
    # A fresh status's 20-entry table is allocated next fit (gcstart.c hal_gc_alloc_run):
    # its scan starts where the last one ended, not from the lowest free block (beside
    # 11,100 services on ARM first fit cost 5.5 ms a lookup, past every small hole). The
    # GC's own start (the lowest free block, which one-block allocations rely on) is put
    # back, and a collection sends the next table to first fit again.
    mpunit.need("_ksvc")
    import gc

    import _hal

    w = World()
    a = w.add(name="a", exec=_forever)
    status, names = S._c_status, S._KSVC  # the C call itself: a Python frame on the unix
    d1, d2, d3 = {}, {}, {}  # port's heap, freed on return, would move the GC's start
    gc.collect()
    assert _hal.gc_run_start() == 0
    # into={}: a dict with no table, so each call allocates the table only (no one-block
    # dict object, which would move the GC's start itself)
    status(a, names, d1)  # first fit: the first since the collection
    n1 = _hal.gc_run_start()
    g1 = _hal.gc_start()
    status(a, names, d2)  # next fit: scanned from n1, the GC's start put back
    n2 = _hal.gc_run_start()
    g2 = _hal.gc_start()
    status(a, names, d3)
    n3 = _hal.gc_run_start()
    g3 = _hal.gc_start()
    assert n1 > 0 and g1 == g2 == g3, (n1, g1, g2, g3)
    # each table follows the last: 10 blocks on, give or take the 4-block rounding
    assert n1 < n2 <= n1 + 12 and n2 < n3 <= n2 + 12, (n1, n2, n3)
    assert d1 == d2 == d3 and len(d3) == 20
    gc.collect()
    assert _hal.gc_run_start() == 0


def test_a_fresh_status_keeps_the_collector_as_it_was_when_the_heap_refuses():
    # The next-fit scan holds collections off while it runs; whatever happens (here the
    # heap is locked: MemoryError), gc.isenabled() is what it was before.
    mpunit.need("_ksvc")
    import gc

    import micropython

    from kernel.svc import status_in

    w = World()
    w.add(name="a", exec=_forever)
    status_in(w.m, "a", {})  # a next-fit start above the lowest free block
    for enabled in (True, False):
        if enabled:
            gc.enable()
        else:
            gc.disable()
        try:
            micropython.heap_lock()
            try:
                status_in(w.m, "a", {})
                raise AssertionError("a table was made with the heap locked")
            except MemoryError:
                pass
            finally:
                micropython.heap_unlock()
            assert gc.isenabled() == enabled
            status_in(w.m, "a", {})
            assert gc.isenabled() == enabled
        finally:
            gc.enable()
