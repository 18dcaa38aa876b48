// _ksched: the C twin of the hot half of a scheduler step (kernel/sched.py, _run_ready).
// step(sched, ms, last) steps the tasks at the head of the run queue: each is resumed once
// under its watchdog (hal_resume) and charged with one clock read (cpu_us, steps, last_run,
// alloc_b) from the scheduler's baseline (sched._t0, sched._a0: the end of the last step),
// which moves to now; a task that yielded the yield trap goes back to the end of the run queue
// and the next one steps, up to `last` (the round's end). It returns to the Python loop for
// anything else (another trap, a task's end, kernel work between steps). So a round of tasks
// that only yield is one C call instead of, per switch, resume + ticks_us + alloc_bytes and
// ~60 bytecodes of queueing and arithmetic.
// The rare parts stay in Python: the carries (sched._carry), the overrun verdict
// (sched._overrun) and a stale trap arm (sched._stale: one int compare per step finds it),
// called from here when due, after the counters and baseline are stored.
// A step that ends the task raises (StopIteration or the task's exception) before charging
// it: the caller ends the task, then calls charge(sched, t, ms), so that ending it is
// charged to it, as in the Python path.
// Counters are read and written in place in the instances' attribute tables (all set in
// __init__): no allocation, no attribute-lookup dispatch. Only for the HAL's own clock
// (kernel/clock.py HalClock.native): it reads hal_ticks_us() and hal_alloc_bytes() itself.
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include "py/objtype.h"
#include "py/runtime.h"
#include "hal.h"
#include "ktrap.h"

#define MASK (HAL_TICKS_PERIOD - 1)  // params.TICKS_PERIOD - 1
#define CARRY (1 << 28)         // params.CPU_CARRY_US, params.ALLOC_CARRY_B

// The slot of an attribute set in the instance's own table (Task.__init__, Scheduler.__init__).
// Every Task's table has the same keys inserted in the same order, so an attribute sits at the
// same index in each: each call site (SLOT) remembers its index and checks it (one compare)
// before the hashed lookup; a miss (another layout, a grown table) looks up and remembers the
// new index. One hint per site, so no two attributes share one: a table of hints indexed by
// qstr number made the cost of a switch depend on how the firmware numbered its qstrs.
static mp_map_elem_t *slot(mp_obj_t obj, qstr attr, uint16_t *hint) {
    mp_obj_instance_t *o = MP_OBJ_TO_PTR(obj);
    mp_map_t *map = &o->members;
    size_t i = *hint;
    if (i < map->alloc && map->table[i].key == MP_OBJ_NEW_QSTR(attr)) {
        return &map->table[i];
    }
    mp_map_elem_t *e = mp_map_lookup(map, MP_OBJ_NEW_QSTR(attr), MP_MAP_LOOKUP);
    if (e == NULL) {
        mp_raise_msg_varg(&mp_type_AttributeError, MP_ERROR_TEXT("_ksched: no attribute '%q'"), attr);
    }
    *hint = (uint16_t)(e - map->table);
    return e;
}
#define SLOT(obj, attr) ({ static uint16_t hint_; slot((obj), (attr), &hint_); })

static void check_instance(mp_obj_t obj) {
    if (!mp_obj_is_instance_type(mp_obj_get_type(obj))) {
        mp_raise_TypeError(MP_ERROR_TEXT("_ksched: need a Scheduler and a Task"));
    }
}

// sched.<method>(t, a, b) with the first n_args of (t, a, b): the rare, Python parts.
static mp_obj_t call(mp_obj_t sched, qstr method, size_t n_args, mp_obj_t t, mp_obj_t a, mp_obj_t b) {
    mp_obj_t dest[5];
    mp_load_method(sched, method, dest);
    dest[2] = t;
    dest[3] = a;
    dest[4] = b;
    return mp_call_method_n_kw(n_args, 0, dest);
}

// Charge t for the time and heap since the baseline, move the baseline to now; returns
// the step's length in µs.
static mp_int_t charge(mp_obj_t sched, mp_obj_t t, mp_obj_t ms) {
    mp_int_t now = hal_ticks_us();
    mp_int_t a = hal_alloc_bytes();
    mp_map_elem_t *t0 = SLOT(sched, MP_QSTR__t0);
    mp_map_elem_t *a0 = SLOT(sched, MP_QSTR__a0);
    mp_int_t d = (now - mp_obj_get_int(t0->value)) & MASK;
    mp_int_t b = (a - mp_obj_get_int(a0->value)) & MASK;
    t0->value = MP_OBJ_NEW_SMALL_INT(now);
    a0->value = MP_OBJ_NEW_SMALL_INT(a);
    // Below the carries both fit a small int; past them (< 2**31) only until _carry.
    mp_map_elem_t *e = SLOT(t, MP_QSTR_cpu_us);
    mp_int_t c = mp_obj_get_int(e->value) + d;
    e->value = mp_obj_new_int(c);
    e = SLOT(t, MP_QSTR_alloc_b);
    b += mp_obj_get_int(e->value);
    e->value = mp_obj_new_int(b);
    e = SLOT(t, MP_QSTR_steps);
    e->value = MP_OBJ_NEW_SMALL_INT((mp_obj_get_int(e->value) + 1) & MASK);
    SLOT(t, MP_QSTR_last_run)->value = ms;
    if (c >= CARRY || b >= CARRY) {
        call(sched, MP_QSTR__carry, 1, t, MP_OBJ_NULL, MP_OBJ_NULL);
    }
    return d;
}

// One step: pop the head of the run queue as sched.cur = *t_out; throw t.pending into t
// (clearing it) or resume it, under its watchdog budget t.wd_ms; charge the step. When it
// yielded the yield trap (sched._ytrap) or None, put t back at the end of the run queue and
// return MP_OBJ_NULL; else return what it yielded (or _overrun's verdict).
static mp_obj_t step(mp_obj_t sched, mp_obj_t ms, mp_obj_t *t_out) {
    mp_map_elem_t *head = SLOT(sched, MP_QSTR__head);
    mp_obj_t t = head->value;
    if (t == mp_const_none) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("_ksched: step with nothing ready"));
    }
    check_instance(t);
    *t_out = t;
    mp_obj_t nx = SLOT(t, MP_QSTR_next)->value;
    head->value = nx;
    if (nx == mp_const_none) {
        SLOT(sched, MP_QSTR__tail)->value = mp_const_none;
    }
    SLOT(sched, MP_QSTR_cur)->value = t;
    mp_obj_t send = mp_const_none;
    mp_obj_t exc = MP_OBJ_NULL;
    mp_map_elem_t *p = SLOT(t, MP_QSTR_pending);
    mp_obj_t coro = SLOT(t, MP_QSTR_coro)->value;
    if (p->value != mp_const_none) {
        exc = p->value;
        // As gen.throw(): a generator gets None beside the exception, which it takes even
        // before its first step (a task cancelled before it ran); other objects get .throw().
        if (!mp_obj_is_type(coro, &mp_type_gen_instance)) {
            send = MP_OBJ_NULL;
        }
        p->value = mp_const_none;
    }
    mp_int_t budget = mp_obj_get_int(SLOT(t, MP_QSTR_wd_ms)->value);
    bool quiet = SLOT(t, MP_QSTR_quiet)->value == mp_const_true;
    mp_obj_t r;
    mp_vm_return_kind_t kind = hal_resume(coro, send, exc, budget, quiet, &r);
    // From here the slots are looked up again: the step may have grown the tables.
    if (kind == MP_VM_RETURN_NORMAL) {
        nlr_raise(mp_obj_new_exception_arg1(&mp_type_StopIteration, r));
    } else if (kind != MP_VM_RETURN_YIELD) {
        nlr_raise(r);
    }
    mp_int_t d = charge(sched, t, ms);
    if (d >= mp_obj_get_int(SLOT(t, MP_QSTR_wd_us)->value)) {
        r = call(sched, MP_QSTR__overrun, 3, t, MP_OBJ_NEW_SMALL_INT(d), r);
    }
    if (ktrap_n_armed != 0 && ktrap_stale(r)) {  // it left a trap armed (kernel/traps.py)
        r = call(sched, MP_QSTR__stale, 2, t, r, MP_OBJ_NULL);
    }
    if (r != mp_const_none && r != SLOT(sched, MP_QSTR__ytrap)->value) {
        return r;
    }
    // Back of the run queue (the hottest trap, as Waits._ready; t stays READY).
    SLOT(t, MP_QSTR_next)->value = mp_const_none;
    mp_map_elem_t *tail = SLOT(sched, MP_QSTR__tail);
    if (tail->value == mp_const_none) {
        SLOT(sched, MP_QSTR__head)->value = t;
    } else {
        check_instance(tail->value);
        SLOT(tail->value, MP_QSTR_next)->value = t;
    }
    tail->value = t;
    return MP_OBJ_NULL;
}

// step(sched, ms, last): step the tasks at the head of the run queue, one after the other,
// until one yields what the scheduler must handle (returned), ends (raised: StopIteration or
// its exception), `last` has stepped, or a step ran kernel work that moved sched._epoch (a
// nested loop, _resync; then None). sched.cur is the task that stepped last.
static mp_obj_t ksched_step(mp_obj_t sched, mp_obj_t ms, mp_obj_t last) {
    check_instance(sched);
    mp_obj_t epoch = SLOT(sched, MP_QSTR__epoch)->value;
    for (;;) {
        mp_obj_t t;
        mp_obj_t r = step(sched, ms, &t);
        if (r != MP_OBJ_NULL) {
            return r;
        }
        if (t == last || SLOT(sched, MP_QSTR__epoch)->value != epoch) {
            return mp_const_none;
        }
    }
}
static MP_DEFINE_CONST_FUN_OBJ_3(ksched_step_obj, ksched_step);

// charge(sched, t, ms): the accounting of step(), for a step that ended t (after its end).
static mp_obj_t ksched_charge(mp_obj_t sched, mp_obj_t t, mp_obj_t ms) {
    check_instance(sched);
    check_instance(t);
    charge(sched, t, ms);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(ksched_charge_obj, ksched_charge);

static const mp_rom_map_elem_t ksched_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__ksched) },
    { MP_ROM_QSTR(MP_QSTR_step), MP_ROM_PTR(&ksched_step_obj) },
    { MP_ROM_QSTR(MP_QSTR_charge), MP_ROM_PTR(&ksched_charge_obj) },
};
static MP_DEFINE_CONST_DICT(ksched_globals, ksched_globals_table);

const mp_obj_module_t mp_module_ksched = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ksched_globals,
};
MP_REGISTER_MODULE(MP_QSTR__ksched, mp_module_ksched);
