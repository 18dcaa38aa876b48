// _kprobes: the C twin of the steady case of kernel/metprobes.py ProbeReads.reading's loop,
// the metrics' read of the health monitor's probes at every sample: a probe that only
// passed since a read that left it passing adds its passes to its service's probes_passing
// counter, whose ring first records the one round since (the common case: 100 probes at
// 1 Hz on a booted board, ~160 us each in Python on ARM under icount, most of it the ring's
// catch-up calls). Everything else (a warning or a critical since, a probe not steady, a
// counter whose ring has no list yet or missed more than one round, an int that is not
// small) is left to the Python loop: read() returns its index. kernel/metprobes.py binds
// it when the build has it; tests/unit/test_metprobes.py checks the two against each other.
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

static const mp_rom_map_elem_t kprobes_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__kprobes) },
    { MP_ROM_QSTR(MP_QSTR_read), MP_ROM_PTR(&kprobes_read_obj) },
};
static MP_DEFINE_CONST_DICT(kprobes_globals, kprobes_globals_table);

const mp_obj_module_t mp_module_kprobes = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kprobes_globals,
};
MP_REGISTER_MODULE(MP_QSTR__kprobes, mp_module_kprobes);
