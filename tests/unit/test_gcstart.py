# Tests of boards/common/gcstart.c on the unix port (the same C as the boards): where the
# GC's allocation scan starts after a collection, and _hal.presize() (kernel/heap.py).
import gc

import _hal

from kernel.heap import presize


def _holes(n):
    # n one-block objects kept, each after one dropped: n one-block holes after a collection.
    keep = [None] * n
    for i in range(n):
        keep[i] = (i,)
        x = (i,)  # noqa: F841 - garbage on purpose
    gc.collect()
    return keep


def test_scan_starts_above_small_holes_after_a_collection():
    # 2,000 one-block holes (well under an eighth of the free heap) below the free area at
    # the top. After the collection, new small objects go above them: first fit from the
    # lowest free block, which is what MicroPython does without gcstart.c, puts every one
    # of them into those holes (or lower ones the runner left). All of it inline: a Python
    # call here (the unix port has no pystack) would allocate its frame and free it on
    # return, and that gc_free moves the scan start back down to the frame's blocks.
    n = 2000
    k = 100
    keep = [None] * n
    got = [None] * k
    i = 0
    while i < n:
        keep[i] = (i,)
        x = (i,)  # garbage on purpose: the hole after keep[i]
        i += 1
    x = None  # noqa: F841 - the last one is garbage too
    gc.collect()
    i = 0
    while i < k:
        got[i] = (i, 1)  # one block each, as the holes
        i += 1
    start = _hal.gc_start()
    # (the start is kept per byte of the block table, four blocks: the last hole or two
    # before the chosen run may still be reached; so the bound is keep[-3], not keep[-1])
    low = id(keep[-3])
    below = 0
    for o in got:
        if id(o) < low:
            below += 1
    assert below == 0, (below, start, id(keep[0]), id(keep[-1]), id(got[0]))


def test_holes_past_the_budget_are_used_at_once():
    # More small holes than an eighth of the free heap: the scan is left at the lowest free
    # block, so they are filled first (the budget bounds what a skip leaves unused).
    free = gc.mem_free()
    n = free // 2 // 64  # holes of about a quarter of the free heap (32-byte blocks here)
    keep = _holes(n)
    y = (len(keep), 2)
    assert id(y) < id(keep[n // 2]), (n, _hal.gc_start(), id(y), id(keep[0]), id(keep[-1]))


class _Six:
    def __init__(self, n):
        presize(self, n)
        self.a = 1
        self.b = 2
        self.c = 3
        self.d = 4
        self.e = 5
        self.f = 6


def _allocated(make, n=200):
    # Bytes allocated per object made: its own blocks plus every table it outgrew (freed at
    # once, each left as a hole).
    objs = [None] * n
    a0 = _hal.alloc_bytes()
    for i in range(n):
        objs[i] = make()
    return (_hal.alloc_bytes() - a0) // n


def test_presize_makes_the_table_once():
    grown = _allocated(lambda: _Six(0))  # 0: no presize, the table grows 2, 4, 6 slots
    sized = _allocated(lambda: _Six(6))
    assert sized < grown, (grown, sized)
    o = _Six(6)
    assert (o.a, o.f) == (1, 6)
    assert presize(o, 40) is o and o.c == 3  # has attributes: left as it is


def test_kernel_objects_made_by_the_thousand_allocate_their_table_once():
    # A Task is its object, one 23-slot table (16 bytes a slot here, in 32-byte blocks) and
    # __init__'s frame (the unix port has no pystack): 480 bytes; without presize it also
    # allocated the 2, 4, ... 17-slot tables it outgrew: 1,440.
    from kernel import service as S
    from kernel import units
    from kernel.clock import VirtualClock
    from kernel.manager import Manager
    from kernel.sched import Scheduler
    from kernel.task import Task

    s = Scheduler(VirtualClock())
    m = Manager(s)
    u = units.parse({"name": "x", "exec": "m:f"})
    task = _allocated(lambda: Task(s, None, 1, "t", 200))
    svc = _allocated(lambda: S.Service(m, u))
    assert task <= 32 + 16 * 23 + 96, task
    assert svc <= 32 + 16 * 16 + 96, svc


def test_presize_gives_an_empty_dict_its_table_once():
    # kernel/names.py's Ids: a table needed late is made early. 200 keys into a dict
    # presized to 300 slots allocate nothing (the heap is locked); a dict with keys is left.
    import micropython

    d = presize({}, 300)
    micropython.heap_lock()
    try:
        for i in range(200):
            d[i] = None
    finally:
        micropython.heap_unlock()
    assert len(d) == 200
    assert presize(d, 4) is d and len(d) == 200 and d[199] is None


def test_presize_refuses_what_is_not_an_instance_or_a_dict():
    try:
        _hal.presize([], 4)
    except TypeError:
        return
    raise AssertionError("presize took a list")


def test_gc_max_free_is_the_largest_object_the_heap_gives_without_a_collection():
    keep = [None]
    gc.collect()
    gc.disable()  # a failed allocation raises at once: no collection makes room
    try:
        m = _hal.gc_max_free()
        assert 0 < m <= gc.mem_free() and m % 16 == 0, (m, gc.mem_free())
        keep[0] = bytearray(m - 64)  # fits the longest run (its header too, if need be)
        assert _hal.gc_max_free() < m, (m, _hal.gc_max_free())  # that run is taken
        keep[0] = None
        try:
            bytearray(m + 64)
            raise AssertionError("%d bytes fitted a heap whose longest run is %d" % (m + 64, m))
        except MemoryError:
            pass
    finally:
        gc.enable()
