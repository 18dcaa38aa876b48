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
#include "py/smallint.h"
#include "py/runtime.h"
#include "knames.h"
#include "hal.h"

#define N_FIELDS (20)

// Read obj's attributes names[0..n) into out[0..n), own table first, then its class's dict
// for the ones it does not set (class defaults; mp_load_attr for anything further up, or
// AttributeError), as Python reads them. Each call site keeps a Shape: the objects of one
// class set their attributes in the same order, so their tables hold the same keys in the
// same slots. An own table of up to SHAPE_SLOTS slots whose keys are those remembered (one
// compare a slot: a Service's 16, a Unit's 4) has each name where it was last time, in its
// own slot or, absent, at its slot in the class's dict (checked there: one compare); then a
// read is one load a field. A bigger table (the Scheduler's) is read at the remembered slot
// when that slot holds the name. Anything else is looked up, and the shape remembered.
// (Looked up each time, as before, a status was mostly lookups that hash their name through
// the qstr pools: 13 of a Unit's 15 fields read are class defaults; 57 us on ARM at 62.5
// MIPS, where a shape hit is a few instructions a field.)
#define SHAPE_SLOTS (16)
#define MAX_FIELDS (16)
#define IN_CLASS (0x8000)   // slot[j]: at (slot & ~IN_CLASS) in the class's dict
#define UNCACHED (0xFFFF)   // slot[j]: looked up each time (found further up than the class)
typedef struct {
    size_t alloc;                   // the own table's size when matched whole; 0: not
    mp_obj_t keys[SHAPE_SLOTS];     // its keys, slot by slot (qstrs, empty, deleted: no pointers)
    uint16_t slot[MAX_FIELDS];      // per name: its own slot, IN_CLASS | class slot, UNCACHED
} shape_t;

static void read_attrs(mp_obj_t obj, const qstr *names, size_t n, mp_obj_t *out, shape_t *sh) {
    if (n > MAX_FIELDS) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("_ksvc: at most 16 fields per read"));
    }
    const mp_obj_type_t *type = mp_obj_get_type(obj);
    if (!mp_obj_is_instance_type(type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_ksvc: need instances"));
    }
    mp_map_t *map = &((mp_obj_instance_t *)MP_OBJ_TO_PTR(obj))->members;
    mp_map_t *cls = MP_OBJ_TYPE_HAS_SLOT(type, locals_dict) ? &MP_OBJ_TYPE_GET_SLOT(type, locals_dict)->map : NULL;
    size_t alloc = map->alloc;
    mp_map_elem_t *t = map->table;
    bool whole = false;   // the own table is the remembered shape
    if (alloc != 0 && alloc == sh->alloc) {
        size_t i = 0;
        while (i < alloc && t[i].key == sh->keys[i]) {
            i++;
        }
        whole = i == alloc;
    }
    size_t j = 0;
    if (whole) {   // the hot path: a load a field, a compare for a class default
        mp_map_elem_t *ct = cls != NULL ? cls->table : NULL;
        size_t calloc = cls != NULL ? cls->alloc : 0;
        for (; j < n; j++) {
            size_t s = sh->slot[j];
            if (s < IN_CLASS) {   // learnt from a table of these keys: s < alloc
                out[j] = t[s].value;
                continue;
            }
            s -= IN_CLASS;   // (UNCACHED: beyond any class's table)
            if (s < calloc && ct[s].key == MP_OBJ_NEW_QSTR(names[j])) {
                out[j] = ct[s].value;
                continue;
            }
            break;   // the rest as below
        }
        if (j == n) {
            return;
        }
    }
    bool learn = false;
    for (; j < n; j++) {
        mp_obj_t key = MP_OBJ_NEW_QSTR(names[j]);
        size_t s = sh->slot[j];
        if (s != UNCACHED && !(s & IN_CLASS)) {
            if (s < alloc && (whole || t[s].key == key)) {
                out[j] = t[s].value;
                continue;
            }
        } else if (whole && s != UNCACHED) {   // absent from the own table: the class's?
            s &= ~IN_CLASS;
            if (cls != NULL && s < cls->alloc && cls->table[s].key == key) {
                out[j] = cls->table[s].value;
                continue;
            }
        }
        // looked up, and remembered
        learn = true;
        mp_map_elem_t *e = mp_map_lookup(map, key, MP_MAP_LOOKUP);
        if (e != NULL) {
            out[j] = e->value;
            sh->slot[j] = (uint16_t)(e - t);
            continue;
        }
        e = cls != NULL ? mp_map_lookup(cls, key, MP_MAP_LOOKUP) : NULL;
        if (e != NULL) {
            out[j] = e->value;
            sh->slot[j] = (uint16_t)(IN_CLASS | (e - cls->table));
        } else {
            out[j] = mp_load_attr(obj, names[j]);
            sh->slot[j] = UNCACHED;
        }
    }
    if (learn || !whole) {   // this object's table is the shape from now on
        if (alloc <= SHAPE_SLOTS) {
            for (size_t i = 0; i < alloc; i++) {
                sh->keys[i] = t[i].key;
            }
            sh->alloc = alloc;
        } else {
            sh->alloc = 0;
        }
    }
}
// READ(obj, FIELDS, n, out): read_attrs with the call site's own Shape.
#define READ(obj, fields, n, out) do { \
        static shape_t shape_ = { 0, { 0 }, { [0 ... MAX_FIELDS - 1] = UNCACHED - 1 } }; \
        read_attrs((obj), (fields), (n), (out), &shape_); \
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

// a kind b: small ints in place (sums and differences of two small ints fit a machine
// word), anything else (big ints: an uptime past 2**30 ms) by the runtime, as in Python.
static mp_obj_t op(mp_binary_op_t kind, mp_obj_t a, mp_obj_t b) {
    if (mp_obj_is_small_int(a) && mp_obj_is_small_int(b)) {
        mp_int_t x = MP_OBJ_SMALL_INT_VALUE(a);
        mp_int_t y = MP_OBJ_SMALL_INT_VALUE(b);
        mp_int_t r;
        switch (kind) {
            case MP_BINARY_OP_ADD:
                r = x + y;
                break;
            case MP_BINARY_OP_SUBTRACT:
                r = x - y;
                break;
            case MP_BINARY_OP_LESS:
                return mp_obj_new_bool(x < y);
            case MP_BINARY_OP_MORE_EQUAL:
                return mp_obj_new_bool(x >= y);
            default:
                return mp_binary_op(kind, a, b);
        }
        if (MP_SMALL_INT_FITS(r)) {
            return MP_OBJ_NEW_SMALL_INT(r);
        }
    }
    return mp_binary_op(kind, a, b);
}

// a == b for the codes and names compared (small ints mostly): identity, else as Python.
static inline bool eq(mp_obj_t a, mp_obj_t b) {
    return a == b || (!(mp_obj_is_small_int(a) && mp_obj_is_small_int(b)) && mp_obj_equal(a, b));
}

// tuple[i]: read in place for a small int in range, else subscripted (its IndexError).
static mp_obj_t nth(mp_obj_t tuple, mp_obj_t i) {
    if (mp_obj_is_exact_type(tuple, &mp_type_tuple) && mp_obj_is_small_int(i)) {
        mp_obj_tuple_t *tu = MP_OBJ_TO_PTR(tuple);
        mp_int_t k = MP_OBJ_SMALL_INT_VALUE(i);
        if (k >= 0 && (size_t)k < tu->len) {
            return tu->items[k];
        }
    }
    return mp_obj_subscr(tuple, i, MP_OBJ_SENTINEL);
}

// obj.name = value: in place at its slot in obj's own table (*hint: where it was last
// time; mp_store_attr hashes the name through the qstr pools), else stored and its slot
// remembered.
static void store(mp_obj_t obj, qstr name, mp_obj_t value, uint16_t *hint) {
    mp_map_t *map = &((mp_obj_instance_t *)MP_OBJ_TO_PTR(obj))->members;
    mp_obj_t key = MP_OBJ_NEW_QSTR(name);
    size_t h = *hint;
    if (h < map->alloc && map->table[h].key == key) {
        map->table[h].value = value;
        return;
    }
    mp_store_attr(obj, name, value);
    mp_map_elem_t *e = mp_map_lookup(map, key, MP_MAP_LOOKUP);
    if (e != NULL) {
        *hint = (uint16_t)(e - map->table);
    }
}

// f() and f(a, b): a C function (the HAL clock's ticks_ms, ticks_diff) called straight,
// anything else (a VirtualClock's methods) through the runtime's call.
static mp_obj_t call0(mp_obj_t f) {
    if (mp_obj_is_type(f, &mp_type_fun_builtin_0)) {
        return ((mp_obj_fun_builtin_fixed_t *)MP_OBJ_TO_PTR(f))->fun._0();
    }
    return mp_call_function_0(f);
}

static mp_obj_t call2(mp_obj_t f, mp_obj_t a, mp_obj_t b) {
    if (mp_obj_is_type(f, &mp_type_fun_builtin_2)) {
        return ((mp_obj_fun_builtin_fixed_t *)MP_OBJ_TO_PTR(f))->fun._2(a, b);
    }
    return mp_call_function_2(f, a, b);
}

// Scheduler.uptime_ms(): ms since the clock was bound, accumulated from ticks differences.
static mp_obj_t uptime_ms(mp_obj_t sched) {
    mp_obj_t c[C_N];
    READ(sched, SCHED_FIELDS, C_N, c);   // (None until a clock is bound)
    if (c[C_CLOCK] == mp_const_none) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    mp_obj_t ms = call0(c[C_TICKS_MS]);
    mp_obj_t up = op(MP_BINARY_OP_ADD, c[C_UP_MS], call2(c[C_DIFF], ms, c[C_UP_LAST]));
    static uint16_t up_hint = UNCACHED, last_hint = UNCACHED;
    store(sched, MP_QSTR__up_ms, up, &up_hint);
    store(sched, MP_QSTR__up_last, ms, &last_hint);
    return up;
}

// names: (STATE_NAMES, SUB_NAMES, RESULT_NAMES, TYPE_NAMES, RESTART_NAMES, raw_ms, ACTIVE,
// RELOADING, FIXED), service.py's _KSVC.
enum { N_STATE, N_SUB, N_RESULT, N_TYPE, N_RESTART, N_RAW_MS, N_ACTIVE, N_RELOADING, N_FIXED, N_NAMES };

// The status of svc; mgr and its scheduler when the caller has read them (the bound
// service_status: svc is of that manager, whose scheduler is running), else NULL.
static mp_obj_t status_build(mp_obj_t svc, mp_obj_t names_in, mp_obj_t into, mp_obj_t mgr,
    mp_obj_t sched) {
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
    if (mgr != MP_OBJ_NULL && v[S_MGR] == mgr) {
        mgr_sched = sched;   // (read by the caller)
    } else {
        READ(v[S_MGR], MGR_FIELDS, 1, &mgr_sched);
    }
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
    if (eq(u[U_BACKOFF], names[N_FIXED])) {
        delay = mp_obj_is_true(op(MP_BINARY_OP_LESS, base, cap)) ? base : cap;
    } else {
        mp_obj_t args[4] = { u[U_BACKOFF], base, cap, v[S_ATTEMPT] };
        delay = mp_call_function_n_kw(names[N_RAW_MS], 4, 0, args);
    }
    mp_obj_t up = MP_OBJ_NEW_SMALL_INT(0);
    if (eq(st, names[N_ACTIVE]) || eq(st, names[N_RELOADING])) {
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
    // a first-fit scan over their holes: ~0.5 ms on ARM at 1,000; next fit instead).
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
        e = hal_gc_alloc_run(sizeof(mp_map_elem_t) * N_FIELDS);   // next fit (gcstart.c)
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

static mp_obj_t ksvc_status(size_t n_args, const mp_obj_t *args) {
    return status_build(args[0], args[1], n_args > 2 ? args[2] : mp_const_none, MP_OBJ_NULL,
        MP_OBJ_NULL);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ksvc_status_obj, 2, 3, ksvc_status);

// status_of(services, name, names[, into]): status() of the Service services (the manager's
// Names) holds as name, or None when it holds none (a template's instance not made yet:
// the caller goes the long way). kernel.service_status(name, into) in one C call.
static mp_obj_t ksvc_status_of(size_t n_args, const mp_obj_t *args) {
    mp_obj_t svc = knames_lookup(args[0], args[1]);
    if (svc == MP_OBJ_NULL || svc == mp_const_none) {
        return mp_const_none;
    }
    mp_obj_t a[3] = { svc, args[2], n_args > 3 ? args[3] : mp_const_none };
    return ksvc_status(3, a);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ksvc_status_of_obj, 3, 4, ksvc_status_of);

// bind(slow, names, svc_globals, sched_module) -> kernel.service_status(name, into=None)
// as one C call (a Python function's frame alone cost ~9 us on ARM at 62.5 MIPS, a
// fifth of a status): the kernel's manager is svc_globals['_mgr'] when its scheduler is
// sched_module._running (kernel/svc.py's test), its services are looked up (knames_lookup)
// and the dict built (ksvc_status). Any other case (no manager yet, another scheduler
// running, a name it does not hold: a template's instance to make, an UnitError to raise,
// keyword arguments) is slow(name, into): kernel/svc.py's Python, which decides.
typedef struct {
    mp_obj_base_t base;
    mp_obj_t slow;
    mp_obj_t names;
    mp_obj_dict_t *g;    // kernel/svc.py's globals (_mgr)
    mp_obj_dict_t *sg;   // kernel/sched.py's globals (_running)
    uint16_t g_hint;
    uint16_t sg_hint;
} bound_t;

static const qstr BOUND_MGR_FIELDS[] = { MP_QSTR_sched, MP_QSTR_services };

static mp_obj_t bound_call(mp_obj_t self_in, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    bound_t *self = MP_OBJ_TO_PTR(self_in);
    mp_obj_t into = n_args > 1 ? args[1] : mp_const_none;
    if (n_kw == 1 && n_args == 1 && args[1] == MP_OBJ_NEW_QSTR(MP_QSTR_into)) {
        into = args[2];   // service_status(name, into=d), as polling callers write it
        n_kw = 0;
    }
    if (n_kw == 0 && (n_args == 1 || n_args == 2)) {
        mp_obj_t mgr = knames_hinted(&self->g->map, MP_QSTR__mgr, &self->g_hint);
        mp_obj_t running = knames_hinted(&self->sg->map, MP_QSTR__running, &self->sg_hint);
        if (mgr != MP_OBJ_NULL && mgr != mp_const_none && running != MP_OBJ_NULL
            && mp_obj_is_instance_type(mp_obj_get_type(mgr))) {
            mp_obj_t f[2];
            READ(mgr, BOUND_MGR_FIELDS, 2, f);
            if (f[0] == running) {
                mp_obj_t svc = knames_lookup(f[1], args[0]);
                if (svc != MP_OBJ_NULL && svc != mp_const_none) {
                    return status_build(svc, self->names, into, mgr, running);
                }
            }
        }
    }
    if (n_kw == 0 && n_args == 1 && into != mp_const_none) {
        return mp_call_function_2(self->slow, args[0], into);
    }
    return mp_call_function_n_kw(self->slow, n_args, n_kw, args);
}

static MP_DEFINE_CONST_OBJ_TYPE(
    ksvc_bound_type, MP_QSTR_service_status, MP_TYPE_FLAG_NONE,
    call, bound_call
    );

static mp_obj_t ksvc_bind(size_t n_args, const mp_obj_t *args) {
    if (!mp_obj_is_type(args[2], &mp_type_dict) || !mp_obj_is_type(args[3], &mp_type_module)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_ksvc: bind(slow, names, globals(), sched module)"));
    }
    bound_t *b = mp_obj_malloc(bound_t, &ksvc_bound_type);
    b->slow = args[0];
    b->names = args[1];
    b->g = MP_OBJ_TO_PTR(args[2]);
    b->sg = mp_obj_module_get_globals(args[3]);
    b->g_hint = b->sg_hint = UNCACHED;
    return MP_OBJ_FROM_PTR(b);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(ksvc_bind_obj, 4, 4, ksvc_bind);

static const mp_rom_map_elem_t ksvc_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_bind), MP_ROM_PTR(&ksvc_bind_obj) },
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__ksvc) },
    { MP_ROM_QSTR(MP_QSTR_status), MP_ROM_PTR(&ksvc_status_obj) },
    { MP_ROM_QSTR(MP_QSTR_status_of), MP_ROM_PTR(&ksvc_status_of_obj) },
};
static MP_DEFINE_CONST_DICT(ksvc_globals, ksvc_globals_table);

const mp_obj_module_t mp_module_ksvc = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ksvc_globals,
};
MP_REGISTER_MODULE(MP_QSTR__ksvc, mp_module_ksvc);
