# tools/bench_lb: the load balancer's figures (issue 10), run ON MicroPython:
#   MICROPYPATH=.frozen:. build/unix/micropython -X heapsize=64M tools/bench_lb.py
#   mpremote connect <pty> run tools/bench_lb.py        (on a board; its kernel is frozen)
# Prints one "name value unit" line per figure:
#   picks per second per strategy over 10 instances (a pool's pick, as select_instance does)
#   and a plain dict lookup in the same loop, same run (the ratio says what balancing costs);
#   key movement when 1 of N (5, 10, 50) instances leaves, ring and Maglev at its default
#   table size: the exact share of the key space that moved (Maglev entries, the ring's
#   arcs) and the share of 2,000 keys (target 1/N + 2%), and their max/mean load (exact);
#   smooth WRR's worst deviation from the ideal share (picks, over every prefix of 7,000);
#   Maglev table build time (ms) and heap at 65537 and 8191 entries for 10 instances, and the
#   default this machine gets (kernel/lbopts.maglev_default: by heap size).
# Host-side tool: nothing in the firmware imports it.
import gc
import time

from kernel import balancer as B
from kernel import health, lbopts, params
from kernel import lbstrat as L
from kernel.clock import real_clock
from kernel.manager import Manager
from kernel.sched import Scheduler

PICKS = 2000
KEYS = 2000


def out(name, value, unit):
    print("%s %s %s" % (name, value, unit))


def world(n, strategy, weights=None, **opts):
    m = Manager(Scheduler(real_clock()))
    health.attach(m)
    bal = B.attach(m)
    for i in range(n):
        meta = {"weight": weights[i]} if weights else None
        m.registry.register("web@%d" % i, meta=meta)
    p = bal.pool("web")
    p.configure(*lbopts.check("bench", strategy, opts))
    return m, p


def picks_per_s():
    keys = ["10.%d.%d.9" % (i % 7, i) for i in range(64)]
    d = {k: i for i, k in enumerate(keys)}
    t0 = time.ticks_us()
    for i in range(PICKS):
        d[keys[i & 63]]
    base_us = time.ticks_diff(time.ticks_us(), t0)
    out("lb_dict_lookup", int(PICKS * 1000000 / max(1, base_us)), "per_s")
    for name in L.NAMES:
        opts = {"table_size": 4093} if name == "maglev" else {}
        m, p = world(10, name, (3, 1, 1, 2, 1, 1, 1, 5, 1, 1), **opts)
        p.pick(keys[0], -1)  # rebuild (and the hash table) outside the timing
        gc.collect()
        t0 = time.ticks_us()
        for i in range(PICKS):
            p.pick(keys[i & 63], -1)
        us = time.ticks_diff(time.ticks_us(), t0)
        out("lb_picks_" + name, int(PICKS * 1000000 / max(1, us)), "per_s")
        out("lb_vs_dict_" + name, "%.1f" % (us / max(1, base_us)), "x")


def shares(p, n):
    """Each member's exact share of the key space: ring arcs, Maglev table entries."""
    t = p.strat
    share = [0.0] * n
    names = [int(m.name[4:]) for m in t.tc]  # candidate index -> instance number
    if hasattr(t, "table"):
        for e in t.table:
            share[names[e - 1]] += 1 / len(t.table)
        return share
    pts = t.points
    for i in range(len(pts)):  # the arc ending at a point belongs to that point's owner
        prev = pts[i - 1] if i else pts[-1] - (1 << 30)
        share[names[pts[i] & t.mask]] += (pts[i] - prev) / (1 << 30)
    return share


def owners(p):
    """Maglev: the instance number of every table entry."""
    return [int(p.strat.tc[e - 1].name[4:]) for e in p.strat.table]


def movement(strategy, n, **opts):
    """(exact share of the key space that moved, the same over 2,000 keys, max/mean share)
    when instance n // 2 of n leaves. Exact: Maglev entries that changed owner; on the ring
    the leaving instance's arcs (no other point moves: the unit tests check that keys move
    only from it)."""
    m, p = world(n, strategy, **opts)
    keys = ["client-%d" % i for i in range(KEYS)]
    before = [p.pick(k, -1).name for k in keys]
    sh = shares(p, n)
    table = owners(p) if strategy == "maglev" else None
    gone = n // 2
    m.registry.deregister("web@%d" % gone)
    after = [p.pick(k, -1).name for k in keys]
    moved = sum(1 for a, b in zip(before, after) if a != b)
    if table is not None:
        exact = sum(1 for a, b in zip(table, owners(p)) if a != b) / len(table)
    else:
        exact = sh[gone]
    return exact, moved / KEYS, max(sh) * n


def key_movement():
    for label, strategy, opts in (
        ("ring", "consistent_hash", {}),
        ("maglev", "maglev", {}),  # this machine's default table (lbopts.maglev_default)
    ):
        for n in (5, 10, 50):
            exact, sampled, peak = movement(strategy, n, **opts)
            out("lb_move_%s_n%d" % (label, n), "%.3f" % exact, "share")
            out("lb_move_%s_n%d_keys" % (label, n), "%.3f" % sampled, "share")
            out("lb_move_%s_n%d_target" % (label, n), "%.3f" % (1 / n + 0.02), "share")
            out("lb_load_%s_n%d" % (label, n), "%.2f" % peak, "max_over_mean")


def wrr_deviation():
    for label, weights in (("5_1_1", (5, 1, 1)), ("10_mixed", (7, 3, 1, 1, 2, 5, 1, 4, 1, 2))):
        m, p = world(len(weights), "weighted_round_robin", weights)
        total = sum(weights)
        seen = {}
        worst = 0.0
        for k in range(1, 7001):
            name = p.pick(None, -1).name
            seen[name] = seen.get(name, 0) + 1
            for i, w in enumerate(weights):
                dev = abs(seen.get("web@%d" % i, 0) - k * w / total)
                if dev > worst:
                    worst = dev
        out("lb_wrr_max_dev_" + label, "%.2f" % worst, "picks")


def maglev_build():
    out("lb_maglev_default_table", lbopts.maglev_default(), "entries")
    for size in (params.LB_MAGLEV_TABLE, params.LB_MAGLEV_TABLE_SMALL):
        m, p = world(10, "maglev", table_size=size)
        gc.collect()
        free0 = gc.mem_free()
        t0 = time.ticks_us()
        p.pick("k", -1)
        us = time.ticks_diff(time.ticks_us(), t0)
        out("lb_maglev_build_%d" % size, "%.1f" % (us / 1000), "ms")
        out("lb_maglev_heap_%d" % size, free0 - gc.mem_free(), "B")


picks_per_s()
wrr_deviation()
maglev_build()
key_movement()
