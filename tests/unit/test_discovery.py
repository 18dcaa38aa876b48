# Tests for kernel/discovery (and kernel/events): instances that follow their services'
# lifecycle, external instances with leases, lookups by name and pattern, the cache and its
# invalidation, Consul-style watches (woken by matching changes, by leaves, by the timeout),
# and the API through `kernel`. On the virtual clock with no per-step cost: exact ms.
from svcfakes import World

import kernel
from kernel import discovery, events, health, traps
from kernel.clock import VirtualClock
from kernel.units import UnitError


def world():
    w = World()
    health.attach(w.m)
    return w, w.m.registry


def forever_unit(w, name, **extra):
    extra.setdefault("exec", w.body(name, [("run", 0)]))
    return w.add(name=name, **extra)


def names(insts):
    return sorted(i.name for i in insts)


def test_instances_follow_the_services_lifecycle():
    w, reg = world()
    w.m.create(
        "[Unit]\nName=web@\n[Service]\nExecStart=x:y\nTags=http front\n"
        'Meta={"weight": 5, "zone": "a"}\nEndpoint=127.0.0.1:80%i\nKind=frontend\n'
    )
    for i in (1, 2):
        w.m.get("web@%d" % i).unit.exec = w.body("web", [("run", 0)])
    w.m.start_job(["web@1", "web@2"], "test")
    a = reg.get("web@1")
    assert a.service == "web" and a.kind == "frontend" and a.tags == ("http", "front")
    assert a.meta == {"weight": 5, "zone": "a"} and reg.get("web@2").endpoint == "127.0.0.1:802"
    assert a.ready and a.health == "passing" and not a.is_external()
    assert names(reg.of_service("web")) == ["web@1", "web@2"]
    w.m.stop_job([w.m.get("web@1")], "test")
    w.run_for(10)
    assert reg.get("web@1") is None and not a.ready
    assert names(reg.of_service("web")) == ["web@2"]


def test_a_crashed_service_stays_registered_critical_and_not_ready_until_it_runs_again():
    w, reg = world()
    forever_unit(w, "c", exec=w.body("c", [("raise", 10), ("run", 0)]), restart_sec=1)
    w.m.start_job(["c"], "test")
    inst = reg.get("c")
    w.run_for(20)
    assert reg.get("c") is inst and not inst.ready and inst.health == "critical"
    assert inst.note.startswith("exception: ValueError: crash 0")
    w.run_for(1000)
    assert inst.ready and inst.health == "passing"


def test_lookup_by_name_glob_regex_tag_kind_health_and_readiness():
    w, reg = world()
    forever_unit(w, "web-a", tags=["http"], kind="frontend")
    forever_unit(w, "web-b", tags=["http", "canary"], kind="frontend")
    forever_unit(w, "db", kind="store")
    w.m.start_job(["web-a", "web-b", "db"], "test")
    reg.register("cache@10.0.0.5", kind="store", tags=["mem"])
    assert names(reg.lookup()) == ["cache@10.0.0.5", "db", "web-a", "web-b"]
    assert names(reg.lookup("db")) == ["db"] and reg.lookup("nope") == ()
    assert names(reg.lookup("web-*")) == ["web-a", "web-b"]
    assert names(reg.lookup("glob:*-?")) == ["web-a", "web-b"]
    assert names(reg.lookup("regex:(db|cache)")) == ["cache@10.0.0.5", "db"]
    assert names(reg.lookup("tag:can*")) == ["web-b"]
    assert names(reg.lookup("kind:store")) == ["cache@10.0.0.5", "db"]
    assert reg.get("cache@10.0.0.5").service == "cache"
    reg.set_status(reg.get("web-a"), "warning")
    reg.set_status(reg.get("db"), "critical", False)
    assert names(reg.lookup("health:passing")) == ["cache@10.0.0.5", "web-b"]
    assert names(reg.lookup("health:warning")) == ["web-a"]
    assert names(reg.lookup("*", ready=False)) == ["db"]
    assert names(reg.lookup("kind:store", ready=True)) == ["cache@10.0.0.5"]
    for bad in ("health:sick", "regex:(", 5):
        try:
            reg.lookup(bad)
            raise AssertionError("accepted %r" % (bad,))
        except ValueError as e:
            assert "discovery:" in str(e) and "\n" not in str(e)


def test_the_cache_answers_until_any_change_or_its_ttl():
    from kernel import params

    w, reg = world()
    for i in range(5):
        reg.register("n%d" % i)
    first = reg.lookup("n*")
    again = reg.lookup("n*")
    assert again is first and reg.hits == 1  # the same tuple: no new work, no allocation
    reg.set_status(reg.get("n3"), "critical", False)  # any change invalidates
    third = reg.lookup("n*")
    assert third is not first and names(third) == names(first) and reg.hits == 1
    ready = reg.lookup("n*", ready=True)
    assert ready is not third and len(ready) == 4 and reg.hits == 1
    assert reg.lookup("n*") is third and reg.hits == 2
    w.run_for(params.DISC_CACHE_TTL_MS)  # nothing changed, but the TTL ran out
    assert reg.lookup("n*") is not third and reg.hits == 2
    reg.deregister("n0")
    assert names(reg.lookup("n*")) == ["n1", "n2", "n3", "n4"]


def test_external_instances_with_a_lease_expire_and_renew():
    w, reg = world()
    seen = []
    reg.listeners.append(lambda code, inst: seen.append((events.event_name(code), inst.name)))
    a = reg.register("ext@1", tags=("x",), meta={"weight": 2}, endpoint="10.0.0.1:80", ttl_sec=1)
    assert a.ready and a.is_external() and a.meta["weight"] == 2
    w.run_for(900)
    assert reg.register("ext@1", tags=("x",), meta={"weight": 2}, endpoint="10.0.0.1:80",
                        ttl_sec=1) is a  # fmt: skip
    i0 = a.index
    w.run_for(900)
    assert a.ready and a.index == i0  # a renewal that changes nothing is not a change
    w.run_for(200)  # 1000 ms after the renewal
    assert not a.ready and a.health == "critical" and a.note == "ttl 1000 ms expired"
    reg.register("ext@1", tags=("x",), meta={"weight": 2}, endpoint="10.0.0.1:80", ttl_sec=1)
    assert a.ready and a.health == "passing"
    assert reg.deregister("ext@1") and reg.get("ext@1") is None and not reg.deregister("ext@1")
    assert seen == [
        ("registered", "ext@1"),
        ("expired", "ext@1"),
        ("ready", "ext@1"),
        ("deregistered", "ext@1"),
    ]
    forever_unit(w, "svc")
    w.m.start_job(["svc"], "test")
    for fn in (lambda: reg.register("svc"), lambda: reg.deregister("svc")):
        try:
            fn()
            raise AssertionError("a managed instance was changed from outside")
        except ValueError as e:
            assert "kept by the service manager" in str(e)


def test_an_external_endpoint_is_checked_as_a_units_and_a_bad_one_changes_nothing():
    w, reg = world()
    a = reg.register("ext@1", endpoint="10.0.0.1:80")
    assert reg.register("ext@2", endpoint={"host": "10.0.0.2", "port": 81}).endpoint["port"] == 81
    for bad in (
        "nohost:notaport",
        "10.0.0.1",
        ":80",
        {"host": "h"},
        {"host": "h", "port": "80"},
        80,
    ):
        try:
            reg.register("ext@1", endpoint=bad)
        except ValueError as e:
            assert str(e).startswith("unit ext@1: 'endpoint' must "), str(e)
        else:
            raise AssertionError("endpoint %r taken" % (bad,))
        try:
            reg.register("ext@3", endpoint=bad)
        except ValueError:
            pass
    assert a.endpoint == "10.0.0.1:80" and reg.get("ext@3") is None  # nothing changed


def test_leases_pause_while_foreground_code_starves_the_kernel():
    # As the manager's deadlines: when the lease task wakes late, every lease moves by the
    # lateness; the one that was due ends then, the others keep their remaining time.
    w, reg = world()
    a = reg.register("a", ttl_sec=1)
    b = reg.register("b", ttl_sec=3)

    async def foreground():
        await traps.sleep_ms(500)
        w.clock.burn(5_000_000)  # 5 s of `py` that never yields
        await traps.sleep_ms(1)

    w.sched.run_until(w.sched.spawn(foreground(), "fg", budget_ms=0))
    assert not a.ready and b.ready  # b had 3 s: 1 s of kernel time passed
    w.run_for(1900)
    assert b.ready
    w.run_for(200)
    assert not b.ready


def test_watch_returns_at_once_for_index_0_and_for_changes_already_seen():
    w, reg = world()
    reg.register("a@1")
    idx, got = w.sched.run_until(w.sched.spawn(reg.watch("a@*"), "w")).result()
    assert idx == reg.index and names(got) == ["a@1"]
    reg.register("a@2")
    idx2, got = w.sched.run_until(w.sched.spawn(reg.watch("a@*", idx), "w")).result()
    assert idx2 > idx and names(got) == ["a@1", "a@2"]


def test_watch_wakes_on_a_matching_change_and_leave_but_not_on_others_and_times_out():
    w, reg = world()
    reg.register("a@1")
    reg.register("b@1")
    idx = reg.index
    log = []

    async def watcher(pattern, index, timeout_ms):
        i, got = await reg.watch(pattern, index, timeout_ms)
        log.append((w.m.now(), pattern, i, names(got)))

    w.sched.spawn(watcher("a@*", idx, None), "wa")
    w.sched.spawn(watcher("b@*", idx, 500), "wb")
    w.run_for(100)
    reg.set_status(reg.get("b@1"), "warning")  # b changes: only b's watch wakes
    b_idx = reg.index
    w.run_for(100)
    assert log == [(100, "b@*", b_idx, ["b@1"])]
    w.sched.spawn(watcher("b@*", b_idx, 500), "wb2")
    w.run_for(100)
    reg.deregister("a@1")  # a leave is a change of the instances matching a@*
    w.run_for(1)
    assert log[1] == (300, "a@*", reg.index, [])
    w.run_for(600)
    assert log[2] == (700, "b@*", reg.index, ["b@1"])  # its timeout: nothing changed
    assert reg.watches == []


def test_a_watch_index_older_than_the_tombstones_kept_is_answered_at_once():
    from kernel import params

    w, reg = world()
    reg.register("keep")
    old = reg.index
    m = reg.pattern("gone*")
    for i in range(params.DISC_TOMBSTONES + 1):
        reg.register("gone%d" % i)
        reg.deregister("gone%d" % i)
    assert not reg.changed_since(reg.pattern("keep"), reg.index)
    assert reg.changed_since(m, old)  # its leave may have been forgotten: answer now
    assert reg.changed_since(reg.pattern("keep"), old)  # so does every pattern


def test_kernel_api_and_event_codes():
    assert (
        kernel.EV_STARTED == events.EV_STARTED
        and kernel.event_name(kernel.EV_STARTED) == "started"
    )
    assert kernel.event_code("post_start failed") == kernel.EV_HOOK_FAILED
    assert kernel.event_code("no such") == kernel.EV_OTHER and kernel.event_name(99) == "event 99"
    for i, n in enumerate(events.EVENT_NAMES):
        assert events.event_code(n) == i


def test_kernel_api_round_trip():
    kernel.reset(VirtualClock(0, 0))

    async def forever():
        while True:
            await kernel.sleep_ms(1000)

    kernel.create_service({"name": "api", "exec": forever, "tags": ["t"]})
    kernel.start_service("api")
    e = kernel.register_instance("far@1", kind="remote", endpoint="10.1.1.1:9")
    assert kernel.instance("far@1") is e and names(kernel.instances()) == ["api", "far@1"]
    assert names(kernel.instances("kind:remote", ready=True)) == ["far@1"]
    assert [s.name for s in kernel.discover_services("tag:t", ready=True)] == ["api"]
    assert [s.name for s in kernel.discover_services("health:passing")] == ["api"]
    assert kernel.discover_services("api", ready=False) == []

    async def w():
        return await kernel.watch("far@*", 10**6, 50)

    idx, got = kernel.scheduler().run_until(kernel.spawn(w(), "w")).result()
    assert names(got) == ["far@1"]  # an index from the future (another boot): at once
    assert kernel.deregister_instance("far@1") and kernel.instances("far@*") == ()


def test_unit_fields_for_discovery_are_checked():
    from kernel import units

    for field, value, msg in (
        ("meta", "[1, 2]", "'meta' must be a dict"),
        ("meta", "{bad", "'meta' is not valid JSON"),
        ("endpoint", "nohost", "'endpoint' must be 'host:port'"),
        ("endpoint", {"host": "a"}, "'endpoint' must have 'host' and an int 'port'"),
    ):
        try:
            units.parse({"name": "u", field: value})
            raise AssertionError("accepted %s=%r" % (field, value))
        except UnitError as e:
            assert msg in str(e), str(e)
    u = units.parse(
        {"name": "u", "exec": "m:f", "endpoint": {"host": "h", "port": 8}, "meta": {"w": 1}}
    )
    assert u.endpoint == {"host": "h", "port": 8} and u.meta == {"w": 1}
    assert discovery.service_of("web@3") == "web" and discovery.service_of("web") == "web"


def test_exact_and_cached_lookups_allocate_nothing():
    import micropython

    w, reg = world()
    for i in range(200):
        reg.register("web@%d" % i, tags=("http",))
    hit = reg.lookup("web@1*")
    reg.lookup("tag:http", True)
    reg.lookup("web@5")
    micropython.heap_lock()
    try:
        for _ in range(20):
            same = reg.lookup("web@1*") is hit
            reg.lookup("tag:http", True)
            reg.lookup("web@5")
            reg.get("web@7")
    finally:
        micropython.heap_unlock()
    assert same and len(hit) == 111 and reg.hits == 40  # exact names skip the cache:
    assert reg.lookup("web@5") is reg.get("web@5").alone  # the instance's own 1-tuple
    assert reg.lookup("web@5", False) == () and reg.lookup("web@999") == ()
    assert reg.lookups == 43  # the 23 exact names found are not pattern lookups


def test_glob_metacharacters_are_literal_and_whole_names_match():
    from kernel import glob as globs

    assert globs.to_regex("web@*") == "^web@.*$"
    w, reg = world()
    reg.register("a.b", tags=["t[1]"])
    reg.register("axb", tags=["t11"])
    reg.register("a.bc")
    assert names(reg.lookup("a.?")) == ["a.b"]  # '.' literal, '?' one character, whole name
    assert names(reg.lookup("tag:t[?]")) == ["a.b"]  # '[' ']' literal: no character class
    assert names(reg.lookup("a?b*")) == ["a.b", "a.bc", "axb"]


def test_registering_again_with_other_fields_is_ev_updated_and_wakes_watches():
    w, reg = world()
    seen = []
    reg.listeners.append(lambda code, inst: seen.append((code, inst.name, inst.index)))
    a = reg.register("ext@1", kind="cache", tags=("x",), meta={"weight": 2}, endpoint="h:1",
                     ttl_sec=5)  # fmt: skip
    assert reg.lookup("tag:y") == ()
    i0 = reg.index
    woke = []

    async def watcher():
        woke.append(await reg.watch("ext@*", i0))

    w.sched.spawn(watcher(), "w")
    w.run_for(10)
    assert woke == []
    # only the lease renewed (ttl_sec too): no change, no event, the watch sleeps on
    assert reg.register("ext@1", kind="cache", tags=("x",), meta={"weight": 2},
                        endpoint="h:1", ttl_sec=9) is a  # fmt: skip
    w.run_for(10)
    assert woke == [] and a.index == i0 and len(seen) == 1
    for k, fields in enumerate(
        (
            {"kind": "store", "tags": ("x",), "meta": {"weight": 2}, "endpoint": "h:1"},
            {"kind": "store", "tags": ("y",), "meta": {"weight": 2}, "endpoint": "h:1"},
            {"kind": "store", "tags": ("y",), "meta": {"weight": 3}, "endpoint": "h:1"},
            {"kind": "store", "tags": ("y",), "meta": {"weight": 3}, "endpoint": "h:2"},
        )
    ):
        assert reg.register("ext@1", ttl_sec=9, **fields) is a  # the same Instance, updated
        assert seen[-1] == (events.EV_UPDATED, "ext@1", reg.index) and a.index == reg.index
        assert len(seen) == 2 + k and a.ready and a.health == "passing"
    assert (a.kind, a.tags, a.meta, a.endpoint) == ("store", ("y",), {"weight": 3}, "h:2")
    assert reg.lookup("tag:y") == (a,) and reg.lookup("kind:store") == (a,)  # cache dropped
    w.run_for(1)
    assert woke and woke[0][0] > i0 and woke[0][1] == (a,)
    assert events.event_name(events.EV_UPDATED) == "updated"


def test_a_service_with_one_instance_keeps_no_list_of_its_instances():
    # 10,000 services of one instance each: of_service() is the instance's own 1-tuple,
    # a list only from a second instance on.
    w, reg = world()
    forever_unit(w, "db")
    w.m.create({"name": "web@", "exec": w.body("web", [("run", 0)])})
    w.m.start_job(["db", "web@1"], "test")
    db = reg.get("db")
    assert reg.of_service("db") is db.alone and db.alone == (db,)
    one = reg.get("web@1")
    assert reg.of_service("web") is one.alone
    w.m.start_job(["web@2"], "test")
    assert names(reg.of_service("web")) == ["web@1", "web@2"]
    w.m.stop_job([w.m.get("web@1"), w.m.get("web@2")], "test")
    w.run_for(10)
    assert reg.of_service("web") == () and "web" not in reg.by_service
    w.m.stop_job([w.m.get("db")], "test")
    w.run_for(10)
    assert reg.of_service("db") == () and "db" not in reg.by_service


def test_the_name_tables_are_sized_for_every_service_at_the_first_instance():
    # Grown one by one, discovery's tables needed two 64 KB lists each at ~4,100 services on
    # ARM, when thousands of started services had cut the heap into small holes.
    w, reg = world()
    for i in range(300):
        forever_unit(w, "s%d" % i)
    w.m.start_job(["s0"], "test")
    size = reg.by_name.slots()
    assert size >= 2 * 300 and reg.by_service.slots() >= 2 * 300, size
    w.m.start_job(["s%d" % i for i in range(1, 300)], "test")
    assert reg.by_name.slots() == size and len(reg.by_name) == 300
    assert reg.get("s299").ready and names(reg.of_service("s7")) == ["s7"]
