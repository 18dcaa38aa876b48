// _kasync: the hot calls of kernel/asyncio.py in C. asyncio.sleep(t) and sleep_ms(t) are
// what asyncio code awaits most (`await asyncio.sleep(0)` is its yield); as Python functions
// they cost a frame per switch (~600 instructions on the Cortex-M3, 15% of a switch), and
// sleep(float) a boxed float. Here they arm the kernel's trap singletons (kernel/traps.py)
// directly: t <= 0 is the yield trap, which the C step (_ksched) puts back in the run queue
// inline; t > 0 is the sleep trap with whole milliseconds (rounded up). No allocation.
// bind(yield_trap, sleep_trap, slow_sleep) hands over the traps once per boot (kernel/asyncio.py
// at import); slow_sleep(t) takes what is not a plain number of reasonable size.
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include "py/runtime.h"

MP_REGISTER_ROOT_POINTER(mp_obj_t multios_kasync[3]);

#define YIELD_TRAP (MP_STATE_VM(multios_kasync)[0])
#define SLEEP_TRAP (MP_STATE_VM(multios_kasync)[1])
#define SLOW_SLEEP (MP_STATE_VM(multios_kasync)[2])
#define MAX_S (1000000)     // longer: through slow_sleep (which clamps), not the float path
#define MAX_MS (1 << 29)    // params.TICKS_PERIOD // 2: from here MicroPython's ticks_add overflows

static mp_obj_t kasync_bind(mp_obj_t yield_trap, mp_obj_t sleep_trap, mp_obj_t slow_sleep) {
    YIELD_TRAP = yield_trap;
    SLEEP_TRAP = sleep_trap;
    SLOW_SLEEP = slow_sleep;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(kasync_bind_obj, kasync_bind);

static void check_bound(void) {
    if (YIELD_TRAP == MP_OBJ_NULL) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("_kasync: not bound"));
    }
}

static mp_obj_t arm_ms(mp_int_t ms) {
    if (ms <= 0) {
        return mp_call_function_0(YIELD_TRAP);
    }
    if (ms >= MAX_MS) {  // as MicroPython's asyncio.sleep_ms (its ticks_add raises)
        mp_raise_msg(&mp_type_OverflowError, MP_ERROR_TEXT("ticks interval overflow"));
    }
    return mp_call_function_1(SLEEP_TRAP, MP_OBJ_NEW_SMALL_INT(ms));
}

// sleep(t): at least t seconds (int or float).
static mp_obj_t kasync_sleep(mp_obj_t t) {
    check_bound();
    if (mp_obj_is_small_int(t)) {
        mp_int_t s = MP_OBJ_SMALL_INT_VALUE(t);
        if (s <= MAX_S) {
            return arm_ms(s * 1000);
        }
    }
    #if MICROPY_PY_BUILTINS_FLOAT
    else if (mp_obj_is_float(t)) {
        mp_float_t f = mp_obj_float_get(t);
        if (f <= (mp_float_t)0.0) {
            return arm_ms(0);
        }
        if (f <= (mp_float_t)MAX_S) {
            return arm_ms((mp_int_t)(f * (mp_float_t)1000.0 + (mp_float_t)0.999));
        }
    }
    #endif
    return mp_call_function_1(SLOW_SLEEP, t);
}
static MP_DEFINE_CONST_FUN_OBJ_1(kasync_sleep_obj, kasync_sleep);

// sleep_ms(t): at least t milliseconds (an int; OverflowError from params.TICKS_PERIOD // 2).
static mp_obj_t kasync_sleep_ms(mp_obj_t t) {
    check_bound();
    if (mp_obj_is_small_int(t)) {
        return arm_ms(MP_OBJ_SMALL_INT_VALUE(t));
    }
    return arm_ms(mp_obj_get_int(t));  // a float: TypeError, a big int: OverflowError
}
static MP_DEFINE_CONST_FUN_OBJ_1(kasync_sleep_ms_obj, kasync_sleep_ms);

static const mp_rom_map_elem_t kasync_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__kasync) },
    { MP_ROM_QSTR(MP_QSTR_bind), MP_ROM_PTR(&kasync_bind_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep), MP_ROM_PTR(&kasync_sleep_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep_ms), MP_ROM_PTR(&kasync_sleep_ms_obj) },
};
static MP_DEFINE_CONST_DICT(kasync_globals, kasync_globals_table);

const mp_obj_module_t mp_module_kasync = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&kasync_globals,
};
MP_REGISTER_MODULE(MP_QSTR__kasync, mp_module_kasync);
