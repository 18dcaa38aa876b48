// _ksvc: the C twin of kernel/service.py's Service.status(), the dict that
// kernel.service_status(name) returns (`svc status`, callers polling a service).
// status(svc, names[, into]) builds the same 20 fields from the same attributes, with the same
// arithmetic (uptime, start-limit budget, the next restart delay), in one C call: in Python
// it was ~200 bytecodes and a 20-entry dict built key by key (0.33 ms on ARM under icount,
// 62.5 MIPS modelled). names is service.py's _KSVC tuple: the name tuples, backoff.raw_ms for
// the kinds other than fixed, and the state and backoff codes it compares with (passed per
// call, not kept here: a soft reset rebuilds the VM and its heap).
// The dict is a plain dict whose table is filled in order, once (an ordered table, as
// MicroPython's ROM dicts): no hashing per key, one allocation for the table. It iterates in
// the order below; lookups, changes, ==, json and printing are those of any dict.
// Attributes are read by name: the instance's own table first, else the class (a default),
// as Python reads them; read_attrs() says how. The names it reads are
// the ones service.py declares (KSVC_*); tests/unit/test_ksvc.py checks both, and the two
// builders against each other.
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include "py/objtype.h"
#include "py/runtime.h"

#define N_FIELDS (20)

// Read obj's attributes names[0..n) into out[0..n), own table first, then its class's dict
// for the ones it does not set (class defaults; mp_load_attr for anything further up, or
// AttributeError). A presized table (Service: 14 attributes in 16 slots) is nearly full,
// and a lookup that misses there probes up to its few empty slots (a class-default read
// cost 15 us on ARM): so each name's slot is remembered per call site (hints[j]: the
// objects of one class insert their attributes in the same order, so the same slot), and
// the names not found there are looked for in one pass over a nearly full table, by
// lookup in any other (misses there end at an empty slot soon). A class default is read
// at its slot in the class's dict remembered the same way (chints), else looked up.
#define NO_HINT (0xFFFF)
static void read_attrs(mp_obj_t obj, const qstr *names, size_t n, mp_obj_t *out, uint16_t *hints,
    uint16_t *chints) {
    if (n > 16) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("_ksvc: at most 16 fields per read"));
    }
    const mp_obj_type_t *type = mp_obj_get_type(obj);
    if (!mp_obj_is_instance_type(type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_ksvc: need instances"));
    }
    mp_map_t *map = &((mp_obj_instance_t *)MP_OBJ_TO_PTR(obj))->members;
    uint8_t miss[16];   // the names not at their hint (n <= 16)
    size_t missing = 0;
    for (size_t j = 0; j < n; j++) {
        size_t h = hints[j];
        if (h < map->alloc && map->table[h].key == MP_OBJ_NEW_QSTR(names[j])) {
            out[j] = map->table[h].value;
        } else {
            out[j] = MP_OBJ_NULL;
            miss[missing++] = (uint8_t)j;
        }
    }
    if (missing == 0) {
        return;
    }
    if (4 * map->used <= 3 * map->alloc) {   // not nearly full: misses end soon
        for (size_t m = 0; m < missing; m++) {
            size_t j = miss[m];
            mp_map_elem_t *e = mp_map_lookup(map, MP_OBJ_NEW_QSTR(names[j]), MP_MAP_LOOKUP);
            if (e != NULL) {
                out[j] = e->value;
                hints[j] = (uint16_t)(e - map->table);
            }
        }
    } else {
        for (size_t i = 0; i < map->alloc; i++) {
            mp_obj_t key = map->table[i].key;
            if (!mp_obj_is_qstr(key)) {
                continue;   // empty or deleted slot
            }
            for (size_t m = 0; m < missing; m++) {
                size_t j = miss[m];
                if (names[j] == MP_OBJ_QSTR_VALUE(key)) {
                    out[j] = map->table[i].value;
                    hints[j] = (uint16_t)i;
                    break;
                }
            }
        }
    }
    mp_map_t *cls = MP_OBJ_TYPE_HAS_SLOT(type, locals_dict) ? &MP_OBJ_TYPE_GET_SLOT(type, locals_dict)->map : NULL;
    for (size_t m = 0; m < missing; m++) {
        size_t j = miss[m];
        if (out[j] != MP_OBJ_NULL) {
            continue;
        }
        size_t h = chints[j];   // its slot in the class's dict last time (checked: a class
        if (cls != NULL && h < cls->alloc && cls->table[h].key == MP_OBJ_NEW_QSTR(names[j])) {
            out[j] = cls->table[h].value;   // changed since falls back to the lookup)
            continue;
        }
        mp_map_elem_t *e = cls != NULL ? mp_map_lookup(cls, MP_OBJ_NEW_QSTR(names[j]), MP_MAP_LOOKUP) : NULL;
        if (e != NULL) {
            chints[j] = (uint16_t)(e - cls->table);
        }
        out[j] = e != NULL ? e->value : mp_load_attr(obj, names[j]);
    }
}
// READ(obj, FIELDS, n, out): read_attrs with the call site's own hints.
#define READ(obj, fields, n, out) do { \
        static uint16_t hints_[sizeof(fields) / sizeof(qstr)] = { [0 ... sizeof(fields) / sizeof(qstr) - 1] = NO_HINT }; \
        static uint16_t chints_[sizeof(fields) / sizeof(qstr)] = { [0 ... sizeof(fields) / sizeof(qstr) - 1] = NO_HINT }; \
        read_attrs((obj), (fields), (n), (out), hints_, chints_); \
} while (0)

// The attributes read, per owner (tests/unit/test_ksvc.py matches each list with
// service.py's KSVC_* and the enum beside it with the list's order).
static const qstr SVC_FIELDS[] = {
    MP_QSTR_mgr, MP_QSTR_unit, MP_QSTR_name, MP_QSTR_state, MP_QSTR_sub, MP_QSTR_result,
    MP_QSTR_cause, MP_QSTR_task, MP_QSTR_active_ms, MP_QSTR_restarts, MP_QSTR_limit_t0,
    MP_QSTR_limit_n, MP_QSTR_attempt, MP_QSTR_enabled, MP_QSTR_group,
};
enum { S_MGR, S_UNIT, S_NAME, S_STATE, S_SUB, S_RESULT, S_CAUSE, S_TASK, S_ACTIVE_MS, S_RESTARTS,
       S_LIMIT_T0, S_LIMIT_N, S_ATTEMPT, S_ENABLED, S_GROUP, S_N };
static const qstr UNIT_FIELDS[] = {
    MP_QSTR_name, MP_QSTR_description, MP_QSTR_interval_ms, MP_QSTR_burst, MP_QSTR_backoff,
    MP_QSTR_restart_ms, MP_QSTR_backoff_max_ms, MP_QSTR_enabled, MP_QSTR_type, MP_QSTR_restart,
    MP_QSTR_requires, MP_QSTR_wants, MP_QSTR_after, MP_QSTR_before, MP_QSTR_tags,
};
enum { U_NAME, U_DESCRIPTION, U_INTERVAL_MS, U_BURST, U_BACKOFF, U_RESTART_MS, U_BACKOFF_MAX_MS,
       U_ENABLED, U_TYPE, U_RESTART, U_REQUIRES, U_WANTS, U_AFTER, U_BEFORE, U_TAGS, U_N };
static const qstr SCHED_FIELDS[] = {
    MP_QSTR_clock, MP_QSTR__ticks_ms, MP_QSTR__diff, MP_QSTR__up_ms, MP_QSTR__up_last,
};
enum { C_CLOCK, C_TICKS_MS, C_DIFF, C_UP_MS, C_UP_LAST, C_N };
static const qstr TASK_FIELDS[] = { MP_QSTR_id };
static const qstr GROUP_FIELDS[] = { MP_QSTR_name };
static const qstr MGR_FIELDS[] = { MP_QSTR_sched };

static mp_obj_t op(mp_binary_op_t kind, mp_obj_t a, mp_obj_t b) {
    return mp_binary_op(kind, a, b);
}

static mp_obj_t nth(mp_obj_t tuple, mp_obj_t i) {
    return mp_obj_subscr(tuple, i, MP_OBJ_SENTINEL);
}

// Scheduler.uptime_ms(): ms since the clock was bound, accumulated from ticks differences.
static mp_obj_t uptime_ms(mp_obj_t sched) {
    mp_obj_t c[C_N];
    READ(sched, SCHED_FIELDS, 1, c);   // clock; the rest exist once it is bound
    if (c[C_CLOCK] == mp_const_none) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    READ(sched, SCHED_FIELDS, C_N, c);
    mp_obj_t ms = mp_call_function_0(c[C_TICKS_MS]);
    mp_obj_t up = op(MP_BINARY_OP_ADD, c[C_UP_MS], mp_call_function_2(c[C_DIFF], ms, c[C_UP_LAST]));
    mp_store_attr(sched, MP_QSTR__up_ms, up);
    mp_store_attr(sched, MP_QSTR__up_last, ms);
    return up;
}

// names: (STATE_NAMES, SUB_NAMES, RESULT_NAMES, TYPE_NAMES, RESTART_NAMES, raw_ms, ACTIVE,
// RELOADING, FIXED), service.py's _KSVC.
enum { N_STATE, N_SUB, N_RESULT, N_TYPE, N_RESTART, N_RAW_MS, N_ACTIVE, N_RELOADING, N_FIXED, N_NAMES };

static mp_obj_t ksvc_status(size_t n_args, const mp_obj_t *args) {
    mp_obj_t svc = args[0];
    mp_obj_t names_in = args[1];
    mp_obj_t into = n_args > 2 ? args[2] : mp_const_none;
    if (into != mp_const_none && !mp_obj_is_exact_type(into, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_ksvc: into must be a dict (an earlier status)"));
    }
    size_t n_names;
    mp_obj_t *names;
    mp_obj_tuple_get(names_in, &n_names, &names);
    if (n_names != N_NAMES) {
        mp_raise_TypeError(MP_ERROR_TEXT("_ksvc: names out of shape"));
    }
    mp_obj_t v[S_N];
    mp_obj_t u[U_N];
    mp_obj_t mgr_sched;
    READ(svc, SVC_FIELDS, S_N, v);
    READ(v[S_UNIT], UNIT_FIELDS, U_N, u);
    READ(v[S_MGR], MGR_FIELDS, 1, &mgr_sched);
    mp_obj_t now = uptime_ms(mgr_sched);
    mp_obj_t st = v[S_STATE];

    mp_obj_t budget = u[U_BURST];
    mp_obj_t since = op(MP_BINARY_OP_SUBTRACT, now, v[S_LIMIT_T0]);
    if (!mp_obj_is_true(op(MP_BINARY_OP_MORE_EQUAL, since, u[U_INTERVAL_MS]))) {
        budget = op(MP_BINARY_OP_SUBTRACT, u[U_BURST], v[S_LIMIT_N]);
        if (mp_obj_is_true(op(MP_BINARY_OP_LESS, budget, MP_OBJ_NEW_SMALL_INT(0)))) {
            budget = MP_OBJ_NEW_SMALL_INT(0);
        }
    }
    mp_obj_t base = u[U_RESTART_MS];
    mp_obj_t cap = u[U_BACKOFF_MAX_MS];
    mp_obj_t delay;
    if (mp_obj_equal(u[U_BACKOFF], names[N_FIXED])) {
        delay = mp_obj_is_true(op(MP_BINARY_OP_LESS, base, cap)) ? base : cap;
    } else {
        mp_obj_t args[4] = { u[U_BACKOFF], base, cap, v[S_ATTEMPT] };
        delay = mp_call_function_n_kw(names[N_RAW_MS], 4, 0, args);
    }
    mp_obj_t up = MP_OBJ_NEW_SMALL_INT(0);
    if (mp_obj_equal(st, names[N_ACTIVE]) || mp_obj_equal(st, names[N_RELOADING])) {
        up = op(MP_BINARY_OP_SUBTRACT, now, v[S_ACTIVE_MS]);
    }
    mp_obj_t desc = mp_obj_is_true(u[U_DESCRIPTION]) ? u[U_DESCRIPTION] : u[U_NAME];
    mp_obj_t enabled = v[S_ENABLED] == mp_const_none ? u[U_ENABLED] : v[S_ENABLED];
    mp_obj_t group = v[S_GROUP];
    if (group != mp_const_none) {
        READ(group, GROUP_FIELDS, 1, &group);
    }
    mp_obj_t task = v[S_TASK];
    if (task != mp_const_none) {
        READ(task, TASK_FIELDS, 1, &task);
    }

    // The dict, its table filled in order: key, value. into: an earlier status dict (or
    // any dict) refilled in place; its table is reused when it holds N_FIELDS, so a caller
    // polling one service allocates nothing (a fresh table beside thousands of services is
    // a first-fit scan over their holes: ~0.5 ms on ARM at 1,000).
    mp_obj_t d = into != mp_const_none ? into : mp_obj_new_dict(0);
    mp_map_t *map = &((mp_obj_dict_t *)MP_OBJ_TO_PTR(d))->map;
    mp_map_elem_t *e;
    if (map->alloc >= N_FIELDS && !map->is_fixed) {
        e = map->table;
        for (size_t i = N_FIELDS; i < map->alloc; i++) {
            e[i].key = MP_OBJ_NULL;   // entries past ours: empty (and no longer kept alive)
            e[i].value = MP_OBJ_NULL;
        }
    } else {
        e = m_new(mp_map_elem_t, N_FIELDS);
        map->alloc = 0;   // (the old table, if any, is the GC's)
    }
    size_t k = 0;
    #define FIELD(q, v) do { e[k].key = MP_OBJ_NEW_QSTR(q); e[k].value = (v); k++; } while (0)
    FIELD(MP_QSTR_name, v[S_NAME]);
    FIELD(MP_QSTR_description, desc);
    FIELD(MP_QSTR_state, nth(names[N_STATE], st));
    FIELD(MP_QSTR_sub, nth(names[N_SUB], v[S_SUB]));
    FIELD(MP_QSTR_result, nth(names[N_RESULT], v[S_RESULT]));
    FIELD(MP_QSTR_cause, v[S_CAUSE]);
    FIELD(MP_QSTR_task, task);
    FIELD(MP_QSTR_uptime_ms, up);
    FIELD(MP_QSTR_restarts, v[S_RESTARTS]);
    FIELD(MP_QSTR_budget, budget);
    FIELD(MP_QSTR_next_delay_ms, delay);
    FIELD(MP_QSTR_enabled, enabled);
    FIELD(MP_QSTR_type, nth(names[N_TYPE], u[U_TYPE]));
    FIELD(MP_QSTR_restart, nth(names[N_RESTART], u[U_RESTART]));
    FIELD(MP_QSTR_group, group);
    FIELD(MP_QSTR_requires, u[U_REQUIRES]);
    FIELD(MP_QSTR_wants, u[U_WANTS]);
    FIELD(MP_QSTR_after, u[U_AFTER]);
    FIELD(MP_QSTR_before, u[U_BEFORE]);
    FIELD(MP_QSTR_tags, u[U_TAGS]);
    #undef FIELD
    if (map->table != e) {
        map->table = e;
        map->alloc = N_FIELDS;
    }
    map->is_fixed = 0;
    map->used = N_FIELDS;
    map->is_ordered = 1;
    map->all_keys_are_qstrs = 1;
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ksvc_status_obj, 2, 3, ksvc_status);

static const mp_rom_map_elem_t ksvc_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__ksvc) },
    { MP_ROM_QSTR(MP_QSTR_status), MP_ROM_PTR(&ksvc_status_obj) },
};
static MP_DEFINE_CONST_DICT(ksvc_globals, ksvc_globals_table);

const mp_obj_module_t mp_module_ksvc = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ksvc_globals,
};
MP_REGISTER_MODULE(MP_QSTR__ksvc, mp_module_ksvc);
