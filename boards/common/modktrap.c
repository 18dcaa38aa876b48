// _ktrap: the C twin of kernel/traps.py's PyTrap, the kernel's trap awaitable.
// A Trap yields itself once per await and then completes with its preset value, with no
// Python frame, no exception and no allocation: calling it arms it (and sets its arguments),
// iternext yields it once, then returns MP_OBJ_STOP_ITERATION. getiter is the identity
// (MP_TYPE_FLAG_ITER_IS_ITERNEXT), so `await` allocates no iter_buf.
// Same API as PyTrap: Trap(code, value=None); trap(arg, arg2=-1) arms it, sets the arguments
// and returns it (trap() only arms it); attributes code, arg, arg2, armed. Measured on the
// unix port: ~4x the awaits per second of PyTrap (its __iter__/__next__ are Python frames
// and its completion raises StopIteration), 0 bytes allocated per await.
// Stale arms: the hot traps are singletons shared by every task, so an arm that is never
// awaited (`kernel.sleep_ms(100000)` without `await`) would be yielded by the next task that
// resumes inside an await of the same trap. An arm is therefore live only until the end of
// the step that made it: the scheduler asks armed() after each step (one int compare in the
// C step, ktrap_stale() below) and disarm() drops every live arm at once, by moving the
// generation an arm belongs to (a trap is armed iff its gen is the current one). O(1), no
// list of armed traps, nothing allocated.
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include "py/runtime.h"
#include "ktrap.h"

typedef struct _ktrap_obj_t {
    mp_obj_base_t base;
    mp_obj_t arg;
    mp_obj_t arg2;
    mp_obj_t value;
    mp_obj_t code;
    mp_uint_t gen;  // == ktrap_gen while armed; 0 never is
} ktrap_obj_t;

static mp_uint_t ktrap_gen = 1;  // the generation of live arms (never 0)
mp_int_t ktrap_n_armed;  // traps armed in the current generation

static const mp_obj_type_t ktrap_type;

static inline bool armed(const ktrap_obj_t *self) {
    return self->gen == ktrap_gen;
}

static void disarm_one(ktrap_obj_t *self) {
    if (armed(self)) {
        self->gen = 0;
        ktrap_n_armed--;
    }
}

bool ktrap_stale(mp_obj_t yielded) {
    // Is a trap armed besides the one the step yielded (a generator task yields a trap bare,
    // still armed, for its handler)? Called with ktrap_n_armed > 0 only.
    mp_int_t own = 0;
    if (mp_obj_is_type(yielded, &ktrap_type) && armed(MP_OBJ_TO_PTR(yielded))) {
        own = 1;
    }
    return ktrap_n_armed > own;
}

static mp_obj_t ktrap_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 2, false);
    ktrap_obj_t *o = mp_obj_malloc(ktrap_obj_t, type);
    o->code = args[0];
    o->value = n_args > 1 ? args[1] : mp_const_none;
    o->arg = mp_const_none;
    o->arg2 = MP_OBJ_NEW_SMALL_INT(-1);
    o->gen = 0;
    return MP_OBJ_FROM_PTR(o);
}

static mp_obj_t ktrap_call(mp_obj_t self_in, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 0, 2, false);
    ktrap_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (!armed(self)) {  // the await that follows yields it once (identity getiter: no hook)
        self->gen = ktrap_gen;
        ktrap_n_armed++;
    }
    if (n_args > 0) {
        self->arg = args[0];
        self->arg2 = n_args > 1 ? args[1] : MP_OBJ_NEW_SMALL_INT(-1);
    }
    return self_in;
}

static mp_obj_t ktrap_iternext(mp_obj_t self_in) {
    ktrap_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (armed(self)) {
        self->gen = 0;
        ktrap_n_armed--;
        return self_in;
    }
    return mp_make_stop_iteration(self->value);
}

static void ktrap_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    ktrap_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (dest[0] == MP_OBJ_NULL) {
        if (attr == MP_QSTR_code) {
            dest[0] = self->code;
        } else if (attr == MP_QSTR_arg) {
            dest[0] = self->arg;
        } else if (attr == MP_QSTR_arg2) {
            dest[0] = self->arg2;
        } else if (attr == MP_QSTR_armed) {
            dest[0] = mp_obj_new_bool(armed(self));
        }
    } else if (dest[1] != MP_OBJ_NULL) {
        if (attr == MP_QSTR_arg) {
            self->arg = dest[1];
            dest[0] = MP_OBJ_NULL;
        } else if (attr == MP_QSTR_arg2) {
            self->arg2 = dest[1];
            dest[0] = MP_OBJ_NULL;
        } else if (attr == MP_QSTR_armed) {
            if (mp_obj_is_true(dest[1])) {
                ktrap_call(self_in, 0, 0, NULL);
            } else {
                disarm_one(self);
            }
            dest[0] = MP_OBJ_NULL;
        }
    }
}

static MP_DEFINE_CONST_OBJ_TYPE(
    ktrap_type,
    MP_QSTR_Trap,
    MP_TYPE_FLAG_ITER_IS_ITERNEXT,
    make_new, ktrap_make_new,
    call, ktrap_call,
    attr, ktrap_attr,
    iter, ktrap_iternext
    );

// armed() -> int: how many traps are armed now (0 between steps, unless one went stale).
static mp_obj_t ktrap_armed(void) {
    return MP_OBJ_NEW_SMALL_INT(ktrap_n_armed);
}
static MP_DEFINE_CONST_FUN_OBJ_0(ktrap_armed_obj, ktrap_armed);

// disarm() -> int: drop every live arm (a new generation); returns how many there were.
static mp_obj_t ktrap_disarm(void) {
    mp_int_t n = ktrap_n_armed;
    ktrap_gen = ktrap_gen + 1 ? ktrap_gen + 1 : 1;
    ktrap_n_armed = 0;
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(ktrap_disarm_obj, ktrap_disarm);

static const mp_rom_map_elem_t ktrap_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__ktrap) },
    { MP_ROM_QSTR(MP_QSTR_Trap), MP_ROM_PTR(&ktrap_type) },
    { MP_ROM_QSTR(MP_QSTR_armed), MP_ROM_PTR(&ktrap_armed_obj) },
    { MP_ROM_QSTR(MP_QSTR_disarm), MP_ROM_PTR(&ktrap_disarm_obj) },
};
static MP_DEFINE_CONST_DICT(ktrap_globals, ktrap_globals_table);

const mp_obj_module_t mp_module_ktrap = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&ktrap_globals,
};
MP_REGISTER_MODULE(MP_QSTR__ktrap, mp_module_ktrap);
