# Tests for kernel/names: the name map (dict API subset), deletion, growth, O(1) lookups.
from kernel import names
from kernel.names import Names


def test_get_set_contains_pop_like_a_dict():
    m = Names()
    assert m.get("a") is None and m.get("a", 5) == 5 and "a" not in m and len(m) == 0
    m["a"] = 1
    m["b"] = 2
    m["a"] = 3
    assert m["a"] == 3 and m.get("b") == 2 and "b" in m and len(m) == 2
    try:
        m["zz"]
        raise AssertionError("no KeyError")
    except KeyError:
        pass
    assert m.pop("a") == 3 and m.pop("a", "gone") == "gone" and len(m) == 1
    assert sorted(m) == ["b"] and m.keys() == ["b"] and m.values() == [2]
    assert m.items() == [("b", 2)]


def test_matches_a_dict_through_growth_and_deletes():
    # Clustered names (their 16-bit hashes are neighbours) and deletes in the middle of
    # runs: every key stays reachable after the backward shifts.
    m = Names()
    d = {}
    for i in range(3000):
        k = "svc%d" % i
        m[k] = i
        d[k] = i
    for i in range(0, 3000, 3):
        k = "svc%d" % i
        assert m.pop(k) == d.pop(k)
    assert len(m) == len(d)
    for k in d:
        assert m.get(k) == d[k], k
    for i in range(0, 3000, 3):
        assert ("svc%d" % i) not in m
    assert sorted(m) == sorted(d)
    assert sorted(m.values()) == sorted(d.values())


def test_drop_where_removes_in_place_across_wrapped_runs():
    # Every third name dropped while walking the table, the runs shifting back under the
    # walk (a tiny table: runs wrap past its end): the rest stay reachable, no key list.
    for n in (7, 100, 3000):
        m = Names()
        d = {}
        for i in range(n):
            m["svc%d" % i] = i
            d["svc%d" % i] = i
        assert m.drop_where(lambda v: v % 3 == 0) == len([i for i in range(n) if i % 3 == 0])
        for i in range(n):
            assert m.get("svc%d" % i) == (None if i % 3 == 0 else i), i
        assert len(m) == len([k for k in d if d[k] % 3])


def probes(m, name):
    kp = m._kp
    h = hash(name)
    i = ((h & 0x7FFF) * 25173 ^ (h >> 15)) & m._mask
    n = 1
    while kp[i >> 7][i & 127] != name:
        i = (i + 1) & m._mask
        n += 1
    return n


def test_lookups_stay_short_at_thousands_of_names():
    # The reason it exists: a dict of such names probes long runs.
    for pattern in ("idle%d", "web@%d", "u%d"):
        m = Names()
        names = [pattern % i for i in range(4000)]  # 2 MiB test heap
        for n in names:
            m[n] = 1
        total = 0
        for n in names:
            total += probes(m, n)
        assert total < 2 * len(names), (pattern, total / len(names))


def test_ids_like_a_dict_in_small_chunks():
    from kernel.names import Ids

    m = Ids()
    d = {}
    for i in range(1, 3000, 7):
        m[i] = i * 2
        d[i] = i * 2
    m[8] = "x"
    d[8] = "x"
    for i in range(1, 3000, 21):
        assert m.pop(i) == d.pop(i)
    assert m.pop(123456, "none") == "none"
    assert len(m) == len(d)
    for k in d:
        assert m.get(k) == d[k] and m[k] == d[k] and k in m
    assert 2 not in m and m.get(2) is None
    assert sorted(m.values(), key=str) == sorted(d.values(), key=str)
    assert max(len(c) for c in m._chunks.values()) <= 1 << names._ID_SHIFT <= 16
    try:
        m[2]
        raise AssertionError("no KeyError")
    except KeyError:
        pass


def test_the_c_get_is_bound_and_answers_as_the_python_get():
    # build/unix/micropython carries _knames: Names.get is its get, and it must find exactly
    # what the Python probe finds, for present and missing keys, defaults and odd keys.
    import _knames

    from kernel import names

    assert names.lookup is _knames.get
    m = Names()
    keys = ["web@%d" % i for i in range(500)] + ["db@%d" % i for i in range(500)] + [7, (1, 2)]
    for i, k in enumerate(keys):
        m[k] = i
    for i in range(0, 1000, 7):
        m.pop(keys[i])
    for k in keys + ["web@1000", "nope", 8, (2, 1)]:
        assert m.get(k) == m.py_get(k) and m.get(k, "d") == m.py_get(k, "d"), k
        assert names.lookup(m, k) == m.py_get(k), k
    assert m.get("web@1") == 1 and m.get("web@0") is None and m.get("x", 5) == 5
    # strs compared by hash and bytes: interned (a literal) against made at run time, both
    # ways; names of one length and hash that differ; a key equal to a str but no str
    m2 = Names()
    m2["heartbeat"] = 1  # a literal: interned
    made = "".join(["pair-", "store"])  # made at run time: a heap str
    m2[made] = 2
    assert m2.get("".join(["heart", "beat"])) == 1 and m2.get("pair-store") == 2
    assert m2.get("heartbeaT") is None and m2.get("pair-storf") is None
    by_hash = {}
    for i in range(3000):
        k = "ab%d" % i
        by_hash.setdefault(hash(k), []).append(k)
    same = max(by_hash.values(), key=len)  # (MicroPython's str hash is 16 bits)
    assert len(same) > 1, same
    for k in same:
        m2[k] = k
    for k in same:
        assert m2.get("".join([k[:2], k[2:]])) == k, k
    try:
        _knames.get(object(), "x")
    except (TypeError, AttributeError) as e:
        assert str(e).startswith("_knames:"), e
    else:
        raise AssertionError("a non-Names accepted")


def test_no_block_grows_with_the_names_but_the_page_lists():
    # 4,000 names: 8,192 slots as 64 pages of 128, not two lists of 8,192 (32 KB on ARM,
    # a block a heap cut up by thousands of services does not have).
    m = Names()
    for i in range(4000):
        m["svc%d" % i] = i
    assert m.slots() == 8192 and len(m._kp) == len(m._vp) == 64
    assert all(len(p) == 128 for p in m._kp) and all(len(p) == 128 for p in m._vp)
    small = Names()
    small["a"] = 1
    assert small.slots() == 8 and len(small._kp) == 1 and len(small._kp[0]) == 8
    assert all(m.get("svc%d" % i) == i for i in range(0, 4000, 37))
    assert sorted(m.values())[:3] == [0, 1, 2] and len(m.items()) == len(m.keys()) == 4000


def test_the_c_get_refuses_a_names_out_of_shape():
    import _knames

    m = Names()
    for i in range(300):
        m["n%d" % i] = i
    for broken in ("page", "short", "pages"):
        m2 = Names()
        m2._kp = list(m._kp)
        m2._vp = list(m._vp)
        m2._mask = m._mask
        if broken == "page":
            m2._kp[1] = "not a page"
        elif broken == "short":
            m2._kp = [p[:3] for p in m._kp]
        else:
            m2._vp = m2._vp[:1]
        try:
            for i in range(300):
                _knames.get(m2, "n%d" % i)
        except RuntimeError as e:
            assert "out of shape" in str(e), e
        else:
            raise AssertionError("a Names with a broken %s was read" % broken)


def test_a_follower_grows_with_its_leader_and_never_on_its_own_insert():
    import micropython

    lead = Names()
    lead["a"] = 0
    f = Names()
    f["x"] = 1
    lead.follow(f)
    for i in range(1000):
        lead["svc%d" % i] = i
    assert f.slots() == lead.slots() == 2048, (f.slots(), lead.slots())
    micropython.heap_lock()  # as many names as its leader holds: no growth, no allocation
    try:
        for i in range(1000):
            f[NAMES[i]] = i
    finally:
        micropython.heap_unlock()
    assert f.slots() == 2048 and len(f) == 1001 and f.get("x") == 1 and f.get("n999") == 999
    late = Names()
    lead.follow(late)  # a follower that joins late is sized at once
    assert late.slots() == 2048


def test_the_c_move_places_every_key_where_the_python_loop_does():
    from kernel import names

    orig = names._c_move
    assert orig is not None  # build/unix/micropython carries _knames
    made = []
    try:
        for c_move in (orig, None):
            names._c_move = c_move
            m = Names()
            for i in range(3000):
                m["w@%d" % i] = i
            for i in range(0, 3000, 5):
                m.pop("w@%d" % i)
            m.reserve(5000)
            made.append(m)
    finally:
        names._c_move = orig
    a, b = made
    assert a._kp == b._kp and a._vp == b._vp and a.slots() == b.slots() == 16384
    assert all(a.get("w@%d" % i) == (None if i % 5 == 0 else i) for i in range(3000))
    try:
        names._c_move([["k"] + [None] * 7], [[1] * 8], [[]], [[]], 7)  # no slot 0..7
    except RuntimeError as e:
        assert "out of shape" in str(e), e
    else:
        raise AssertionError("pages shorter than the mask accepted")


def test_a_memory_error_while_growing_leaves_the_map_as_it_was():
    # The heap is filled, then one block that holds one of the two new lists is freed:
    # the growth's second list fails. The map must keep every entry (it lost them all,
    # and raised 'a Names out of shape' at every later call, when it assigned the first).
    import gc

    m = Names()
    for i in range(256):
        m["n%d" % i] = i
    size = 2 * m.slots()  # the next insert grows the map to this many slots
    keep = [None] * 20000  # the filler's own list, made before the heap is full
    n = 0
    gc.collect()
    try:
        while n < len(keep):
            keep[n] = [None] * size  # as long as one new list
            n += 1
    except MemoryError:
        pass
    try:
        while n < len(keep):
            keep[n] = bytearray(256)  # and the smaller holes
            n += 1
    except MemoryError:
        pass
    assert n < len(keep), "the heap did not fill"
    for k in range(n):  # free exactly one list-sized block
        if type(keep[k]) is list:
            keep[k] = None
            break
    gc.collect()
    try:
        m["new"] = 1
        grew = True
    except MemoryError:
        grew = False
    del keep
    gc.collect()
    assert not grew, "the growth did not fail: the test's heap fill is off"
    assert len(m) == 256 and "new" not in m
    assert all(m.get("n%d" % i) == i for i in range(256))
    m["new"] = 1  # room again: it grows
    assert len(m) == 257 and m["new"] == 1 and m.get("n255") == 255


def test_reserve_makes_room_once_and_keeps_every_entry():
    import micropython

    m = Names()
    for i in range(5):
        m["n%d" % i] = i
    m.reserve(1000)
    size = m.slots()
    assert size >= 2000 and size & (size - 1) == 0, size
    micropython.heap_lock()  # 1,000 names fit now: the inserts allocate nothing
    try:
        for i in range(5, 1000):
            m[NAMES[i]] = i
    finally:
        micropython.heap_unlock()
    assert m.slots() == size and len(m) == 1000
    assert all(m.get(NAMES[i]) == i for i in range(1000))
    m.reserve(10)  # smaller than it is: left as it is
    assert m.slots() == size


NAMES = ["n%d" % i for i in range(1000)]
