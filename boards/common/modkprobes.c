// _kprobes: the C twins of the two loops that touch every probe every period on a booted
// board (100 probes at 1 Hz, tools/bench_health.py): the health monitor's fused run and the
// metrics' read of the probes' counters.
//
// fuse(): kernel/health.py Monitor._batch's fused path over one lane: while the lane's head
// is due, steady and passes its check (process: its service's task alive and stepping;
// ttl: the last report passing and within its TTL) and waits on its own period's lane, it
// passes again: its counter, its time and the lane's head moving to its tail, as the
// Python loop does (~60 us a probe there on ARM under icount). It stops at the first probe
// that is not such (the Python loop takes it: a full run, or a move from another lane).
// Fields by name: Probe.steady svc prober spec seen_steps fused last_ms due next plane
// output; Service.task; Task.state steps; Prober.report; ProbeSpec.ttl_ms; Lane.head.
//
// read(): the steady case of kernel/metprobes.py ProbeReads.reading's loop,
// the metrics' read of the health monitor's probes at every sample: a probe that only
// passed since a read that left it passing adds its passes to its service's probes_passing
// counter, whose ring first records the one round since (the common case: 100 probes at
// 1 Hz on a booted board, ~160 us each in Python on ARM under icount, most of it the ring's
// catch-up calls). Everything else (a warning or a critical since, a probe not steady, a
// counter whose ring has no list yet or missed more than one round, an int that is not
// small) is left to the Python loop: read() returns its index. kernel/metprobes.py binds
// it when the build has it; tests/unit/test_metprobes.py checks the two against each other
// (and tests/unit/test_health.py the monitor with and without fuse()).
// The fields it reads and writes, by name: Seen.probe runs nwarn ncrit steady passing;
// Probe.runs fused nwarn ncrit; Metric.at value ring; Ring.buf n size (kernel/metrics.py).
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include "py/objtype.h"
#include "py/runtime.h"
#include "py/smallint.h"

// obj.attr: from its own table when there (every field above is set in __init__), else
// through the general lookup (a class default, e.g. Seen.passing before the first pass).
static mp_obj_t get(mp_obj_t obj, qstr attr) {
    if (mp_obj_is_instance_type(mp_obj_get_type(obj))) {
        mp_obj_instance_t *o = MP_OBJ_TO_PTR(obj);
        mp_map_elem_t *e = mp_map_lookup(&o->members, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
        if (e != NULL) {
            return e->value;
        }
    }
    return mp_load_attr(obj, attr);
}

static void set(mp_obj_t obj, qstr attr, mp_obj_t value) {
    if (mp_obj_is_instance_type(mp_obj_get_type(obj))) {
        mp_obj_instance_t *o = MP_OBJ_TO_PTR(obj);
        mp_map_elem_t *e = mp_map_lookup(&o->members, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
        if (e != NULL) {
            e->value = value;
            return;
        }
    }
    mp_store_attr(obj, attr, value);
}

// read(reads, i, samples) -> the index of the first Seen from reads[i] on that the Python
// loop must read itself, or len(reads) when there is none.
static mp_obj_t kprobes_read(mp_obj_t reads_in, mp_obj_t i_in, mp_obj_t samples_in) {
    if (!mp_obj_is_type(reads_in, &mp_type_list)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_kprobes: reads is a list"));
    }
    size_t n;
    mp_obj_t *reads;
    mp_obj_list_get(reads_in, &n, &reads);
    size_t i = (size_t)mp_obj_get_int(i_in);
    mp_obj_t samples = samples_in;
    if (!mp_obj_is_small_int(samples)) {
        return i_in;
    }
    mp_int_t rounds = MP_OBJ_SMALL_INT_VALUE(samples);
    for (; i < n; i++) {
        mp_obj_t e = reads[i];
        mp_obj_t p = get(e, MP_QSTR_probe);
        mp_obj_t a = get(p, MP_QSTR_runs);
        mp_obj_t b = get(p, MP_QSTR_fused);
        mp_obj_t c = get(e, MP_QSTR_runs);
        if (!mp_obj_is_small_int(a) || !mp_obj_is_small_int(b) || !mp_obj_is_small_int(c)) {
            break;
        }
        mp_int_t runs = MP_OBJ_SMALL_INT_VALUE(a) + MP_OBJ_SMALL_INT_VALUE(b);
        mp_int_t seen = MP_OBJ_SMALL_INT_VALUE(c);
        if (runs == seen) {
            continue;  // nothing ran since
        }
        if (!mp_obj_is_true(get(e, MP_QSTR_steady))
            || get(p, MP_QSTR_nwarn) != get(e, MP_QSTR_nwarn)  // small ints: equal iff same
            || get(p, MP_QSTR_ncrit) != get(e, MP_QSTR_ncrit)) {
            break;
        }
        mp_obj_t m = get(e, MP_QSTR_passing);
        mp_obj_t at = get(m, MP_QSTR_at);
        mp_obj_t v = get(m, MP_QSTR_value);
        if (!mp_obj_is_small_int(at) || !mp_obj_is_small_int(v)) {
            break;
        }
        mp_int_t new_v = MP_OBJ_SMALL_INT_VALUE(v) + runs - seen;
        if (!MP_SMALL_INT_FITS(new_v) || !MP_SMALL_INT_FITS(runs)) {
            break;
        }
        if (MP_OBJ_SMALL_INT_VALUE(at) != rounds) {
            // Metric.sync for one round since: its ring records the value it had
            mp_obj_t ring = get(m, MP_QSTR_ring);
            mp_obj_t buf = get(ring, MP_QSTR_buf);
            mp_obj_t rn = get(ring, MP_QSTR_n);
            mp_obj_t rs = get(ring, MP_QSTR_size);
            if (MP_OBJ_SMALL_INT_VALUE(at) != rounds - 1 || !mp_obj_is_type(buf, &mp_type_list)
                || !mp_obj_is_small_int(rn) || !mp_obj_is_small_int(rs)) {
                break;
            }
            size_t len;
            mp_obj_t *slots;
            mp_obj_list_get(buf, &len, &slots);
            mp_int_t k = MP_OBJ_SMALL_INT_VALUE(rn);
            mp_int_t size = MP_OBJ_SMALL_INT_VALUE(rs);
            if (size <= 0 || (size_t)size != len || k < 0 || !MP_SMALL_INT_FITS(k + 1)) {
                break;
            }
            slots[k % size] = v;
            set(ring, MP_QSTR_n, MP_OBJ_NEW_SMALL_INT(k + 1));
            set(m, MP_QSTR_at, samples);
        }
        set(m, MP_QSTR_value, MP_OBJ_NEW_SMALL_INT(new_v));
        set(e, MP_QSTR_runs, MP_OBJ_NEW_SMALL_INT(runs));
    }
    return MP_OBJ_NEW_SMALL_INT(i);
}
static MP_DEFINE_CONST_FUN_OBJ_3(kprobes_read_obj, kprobes_read);

// fuse(lane, now, up, d, limit, cap, k) -> probes fused (at most cap), from lane.head on,
// while due (p.due <= limit): moved to the lane's tail due at d, last_ms = up. k: the
// constants (FUSE_PROCESS, FUSE_TTL, PASSING, SLEEPING, WAITING, DONE), given by
// kernel/health.py from their modules.
static mp_obj_t kprobes_fuse(size_t n_args, const mp_obj_t *args) {
    mp_obj_t lane = args[0];
    mp_int_t now = mp_obj_get_int(args[1]);
    mp_obj_t up = args[2];
    mp_obj_t d = args[3];
    mp_int_t limit = mp_obj_get_int(args[4]);
    mp_int_t cap = mp_obj_get_int(args[5]);
    size_t nk;
    mp_obj_t *k;
    mp_obj_get_array(args[6], &nk, &k);
    if (nk != 6) {
        mp_raise_TypeError(MP_ERROR_TEXT("_kprobes: fuse needs 6 constants"));
    }
    mp_obj_t fuse_process = k[0];
    mp_obj_t fuse_ttl = k[1];
    mp_obj_t passing = k[2];
    mp_int_t sleeping = mp_obj_get_int(k[3]);
    mp_int_t waiting = mp_obj_get_int(k[4]);
    mp_int_t done = mp_obj_get_int(k[5]);
    mp_int_t fused = 0;
    mp_obj_t p = get(lane, MP_QSTR_head);
    while (fused < cap && p != mp_const_none) {
        mp_obj_t due = get(p, MP_QSTR_due);
        if (!mp_obj_is_small_int(due) || MP_OBJ_SMALL_INT_VALUE(due) > limit) {
            break;
        }
        mp_obj_t st = get(p, MP_QSTR_steady);
        if (get(p, MP_QSTR_plane) != lane) {
            break;  // from another lane (its initial delay's, a report's): Python moves it
        }
        if (st == fuse_process) {  // as probes.check_process
            mp_obj_t t = get(get(p, MP_QSTR_svc), MP_QSTR_task);
            if (t == mp_const_none) {
                break;
            }
            mp_obj_t ts = get(t, MP_QSTR_state);
            if (!mp_obj_is_small_int(ts)) {
                break;
            }
            mp_int_t s = MP_OBJ_SMALL_INT_VALUE(ts);
            mp_obj_t steps = get(t, MP_QSTR_steps);
            if (s == sleeping || s == waiting
                || (s < done && !mp_obj_equal(steps, get(p, MP_QSTR_seen_steps)))) {
                set(p, MP_QSTR_seen_steps, steps);
            } else {
                break;
            }
        } else if (st == fuse_ttl) {  // as probes.check_ttl
            mp_obj_t r = get(get(p, MP_QSTR_prober), MP_QSTR_report);
            if (!mp_obj_is_type(r, &mp_type_tuple)) {
                break;
            }
            size_t nr;
            mp_obj_t *rv;
            mp_obj_tuple_get(r, &nr, &rv);
            if (nr < 3 || rv[0] != passing || !mp_obj_is_small_int(rv[2])) {
                break;
            }
            mp_int_t ttl = mp_obj_get_int(get(get(p, MP_QSTR_spec), MP_QSTR_ttl_ms));
            if (now - MP_OBJ_SMALL_INT_VALUE(rv[2]) > ttl) {
                break;
            }
            set(p, MP_QSTR_output, rv[1]);
        } else {
            break;  // not steady: a full run
        }
        mp_obj_t f = get(p, MP_QSTR_fused);
        if (!mp_obj_is_small_int(f) || !MP_SMALL_INT_FITS(MP_OBJ_SMALL_INT_VALUE(f) + 1)) {
            break;
        }
        set(p, MP_QSTR_fused, MP_OBJ_NEW_SMALL_INT(MP_OBJ_SMALL_INT_VALUE(f) + 1));
        set(p, MP_QSTR_last_ms, up);
        fused++;
        mp_obj_t nx = get(p, MP_QSTR_next);  // the head to the tail (Lanes.rotate), due at d
        set(lane, MP_QSTR_head, nx);
        set(p, MP_QSTR_due, d);
        p = nx;
    }
    return MP_OBJ_NEW_SMALL_INT(fused);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(kprobes_fuse_obj, 7, 7, kprobes_fuse);

static const mp_rom_map_elem_t kprobes_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__kprobes) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&kprobes_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_fuse), MP_ROM_PTR(&kprobes_fuse_obj) },
};
static MP_DEFINE_CONST_DICT(kprobes_globals, kprobes_globals_table);

const mp_obj_module_t mp_module_kprobes = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kprobes_globals,
};
MP_REGISTER_MODULE(MP_QSTR__kprobes, mp_module_kprobes);
