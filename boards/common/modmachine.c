// modmachine.c: the board half of MicroPython's `machine` module (extmod/modmachine.c
// includes this file through MICROPY_PY_MACHINE_INCLUDEFILE), over board.h.
//
// reset() resets the machine through the board (hal.reset()); soft_reset() is extmod's
// sys.exit, i.e. SystemExit: at the console (raw REPL, `py`) that is the shell's soft reset,
// exactly as a stock board's REPL treats it. unique_id() and freq() come from the board;
// freq(hz) is refused (fixed clocks); lightsleep sleeps, deepsleep sleeps then resets, as a
// board without retained RAM wakes from deep sleep. reset_cause() tells a soft reset from a
// power-on (or hard reset: QEMU reloads the image either way).
#include "board.h"
#include "hal.h"

#define MACHINE_PWRON_RESET (1)
#define MACHINE_HARD_RESET  (2)
#define MACHINE_SOFT_RESET  (5)

#define MICROPY_PY_MACHINE_EXTRA_GLOBALS \
    { MP_ROM_QSTR(MP_QSTR_PWRON_RESET), MP_ROM_INT(MACHINE_PWRON_RESET) }, \
    { MP_ROM_QSTR(MP_QSTR_HARD_RESET), MP_ROM_INT(MACHINE_HARD_RESET) }, \
    { MP_ROM_QSTR(MP_QSTR_SOFT_RESET), MP_ROM_INT(MACHINE_SOFT_RESET) },

static void mp_machine_idle(void) {
    board_wfi();
}

NORETURN static void mp_machine_reset(void) {
    board_reset();
}

static mp_int_t mp_machine_reset_cause(void) {
    return hal_soft_resets ? MACHINE_SOFT_RESET : MACHINE_PWRON_RESET;
}

static mp_obj_t mp_machine_unique_id(void) {
    uint8_t id[16];
    size_t n = board_unique_id(id, sizeof(id));
    return mp_obj_new_bytes(id, n);
}

static mp_obj_t mp_machine_get_freq(void) {
    return mp_obj_new_int_from_ull(board_cpu_hz());
}

static void mp_machine_set_freq(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    (void)args;
    mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("freq: the board's clock is fixed"));
}

// lightsleep(ms) sleeps ms (Ctrl-C and the watchdog still land); without ms, until the
// next interrupt.
static void machine_sleep_ms(size_t n_args, const mp_obj_t *args) {
    if (n_args == 0) {
        board_wfi();
        return;
    }
    mp_int_t ms = mp_obj_get_int(args[0]);
    if (ms > 0) {
        mp_hal_delay_ms(ms);
    }
}

static void mp_machine_lightsleep(size_t n_args, const mp_obj_t *args) {
    machine_sleep_ms(n_args, args);
}

NORETURN static void mp_machine_deepsleep(size_t n_args, const mp_obj_t *args) {
    machine_sleep_ms(n_args, args);
    board_reset();
}
