// modhal.c: the `_hal` Python module, one function per HAL hook (see hal/__init__.py).
//
// Shared by every board and the unix port; board differences stay behind board.h.
#include <string.h>
#include "py/gc.h"
#include "py/objexcept.h"
#include "py/objstr.h"
#include "py/runtime.h"
#include "board.h"
#include "disk.h"
#include "lfsinfo.h"
#include "hal.h"
#if !MULTIOS_BOARD_UNIX
#include "shared/runtime/pyexec.h"
#endif

MP_DEFINE_EXCEPTION(Watchdog, BaseException)

MP_REGISTER_ROOT_POINTER(mp_obj_t multios_irq_handler[2]);
MP_REGISTER_ROOT_POINTER(mp_obj_t multios_irq_error[2]);
MP_REGISTER_ROOT_POINTER(mp_obj_t multios_wdt_exc);
MP_REGISTER_ROOT_POINTER(mp_obj_dict_t *multios_builtins[2]);  // per world, see hal.c

nlr_buf_t *hal_reset_target;

static mp_obj_t hal_init_(void) {
    hal_init();
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_init_obj, hal_init_);

// ---- time ----

static mp_obj_t hal_ticks_ms_(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_ticks_ms());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_ticks_ms_obj, hal_ticks_ms_);

static mp_obj_t hal_ticks_us_(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_ticks_us());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_ticks_us_obj, hal_ticks_us_);

static mp_obj_t hal_ticks_add(mp_obj_t t, mp_obj_t delta) {
    return MP_OBJ_NEW_SMALL_INT((mp_obj_get_int(t) + mp_obj_get_int(delta)) & (HAL_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_2(hal_ticks_add_obj, hal_ticks_add);

static mp_obj_t hal_ticks_diff(mp_obj_t end, mp_obj_t start) {
    // Signed difference in (-PERIOD/2, PERIOD/2]: correct across one wrap.
    mp_int_t d = (mp_obj_get_int(end) - mp_obj_get_int(start)) & (HAL_TICKS_PERIOD - 1);
    if (d >= (mp_int_t)(HAL_TICKS_PERIOD / 2)) {
        d -= HAL_TICKS_PERIOD;
    }
    return MP_OBJ_NEW_SMALL_INT(d);
}
static MP_DEFINE_CONST_FUN_OBJ_2(hal_ticks_diff_obj, hal_ticks_diff);

static void sleep_us(uint64_t us) {
    uint64_t deadline = board_ticks_us() + us;
    while (board_ticks_us() < deadline) {
        mp_handle_pending(true);    // Ctrl-C and the watchdog reach a sleeping task
        board_wfi();
    }
}

static mp_obj_t hal_sleep_ms(mp_obj_t ms) {
    mp_int_t n = mp_obj_get_int(ms);
    sleep_us(n > 0 ? (uint64_t)n * 1000 : 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_sleep_ms_obj, hal_sleep_ms);

static mp_obj_t hal_sleep_us(mp_obj_t us) {
    mp_int_t n = mp_obj_get_int(us);
    sleep_us(n > 0 ? (uint64_t)n : 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_sleep_us_obj, hal_sleep_us);

static mp_obj_t hal_idle_(mp_obj_t timeout_ms) {
    mp_int_t n = mp_obj_get_int(timeout_ms);
    return mp_obj_new_bool(hal_idle(n > 0 ? (uint32_t)n : 0));
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_idle_obj, hal_idle_);

static mp_obj_t hal_time(void) {
    return mp_obj_new_int_from_ull(board_time_us() / 1000000);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_time_obj, hal_time);

// ---- interrupts ----

static mp_obj_t hal_irq_disable(void) {
    return mp_obj_new_int_from_uint(board_irq_disable());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_irq_disable_obj, hal_irq_disable);

static mp_obj_t hal_irq_restore(mp_obj_t state) {
    board_irq_restore(mp_obj_get_int_truncated(state));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_irq_restore_obj, hal_irq_restore);

static const qstr irq_names[HAL_IRQ_N] = { MP_QSTR_timer, MP_QSTR_uart };

// What the interrupt schedules (micropython.schedule): runs the Python handler, and if it
// raises, disables it and keeps the exception for irq_error() instead of printing a
// traceback per interrupt (1,000 a second for the timer) over the console.
static void irq_dispatch(int source, mp_obj_t arg) {
    mp_obj_t h = MP_STATE_VM(multios_irq_handler)[source];
    if (h == MP_OBJ_NULL || h == mp_const_none) {
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_1(h, arg);
        nlr_pop();
    } else {
        MP_STATE_VM(multios_irq_handler)[source] = MP_OBJ_NULL;
        MP_STATE_VM(multios_irq_error)[source] = MP_OBJ_FROM_PTR(nlr.ret_val);
    }
}

static mp_obj_t irq_dispatch_timer(mp_obj_t arg) {
    irq_dispatch(HAL_IRQ_TIMER, arg);
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_1(hal_irq_dispatch_timer_obj, irq_dispatch_timer);

static mp_obj_t irq_dispatch_uart(mp_obj_t arg) {
    irq_dispatch(HAL_IRQ_UART, arg);
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_1(hal_irq_dispatch_uart_obj, irq_dispatch_uart);

static int irq_source(mp_obj_t source) {
    qstr q = mp_obj_str_get_qstr(source);
    for (int i = 0; i < HAL_IRQ_N; i++) {
        if (irq_names[i] == q) {
            return i;
        }
    }
    mp_raise_ValueError(MP_ERROR_TEXT("irq source must be 'timer' or 'uart'"));
}

// irq_error(source): the exception that disabled source's handler (then cleared), or None.
static mp_obj_t hal_irq_error(mp_obj_t source) {
    int i = irq_source(source);
    mp_obj_t e = MP_STATE_VM(multios_irq_error)[i];
    MP_STATE_VM(multios_irq_error)[i] = MP_OBJ_NULL;
    return e == MP_OBJ_NULL ? mp_const_none : e;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_irq_error_obj, hal_irq_error);

static mp_obj_t hal_irq_counts(void) {
    mp_obj_t d = mp_obj_new_dict(HAL_IRQ_N);
    for (int i = 0; i < HAL_IRQ_N; i++) {
        mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(irq_names[i]), mp_obj_new_int_from_uint(hal_irq_count[i]));
    }
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_irq_counts_obj, hal_irq_counts);

// Ctrl-C bytes seen on the console, whether or not they raised KeyboardInterrupt: the
// kernel's nested loop (asyncio.run at the console) polls it at safe points.
static mp_obj_t hal_ctrl_c_count_(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_ctrl_c_count & (HAL_TICKS_PERIOD - 1));
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_ctrl_c_count_obj, hal_ctrl_c_count_);

static mp_obj_t hal_irq_handler(mp_obj_t source, mp_obj_t handler) {
    int i = irq_source(source);
    if (handler != mp_const_none && !mp_obj_is_callable(handler)) {
        mp_raise_TypeError(MP_ERROR_TEXT("irq handler must be callable or None"));
    }
    hal_set_irq_handler(i, handler);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(hal_irq_handler_obj, hal_irq_handler);

// ---- random ----

static mp_obj_t hal_random_u32(void) {
    return mp_obj_new_int_from_uint(hal_rng_u32());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_random_u32_obj, hal_random_u32);

static uint64_t rng_u64(void) {
    uint64_t hi = hal_rng_u32();
    return hi << 32 | hal_rng_u32();
}

static mp_obj_t hal_random_u64(void) {
    return mp_obj_new_int_from_ull(rng_u64());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_random_u64_obj, hal_random_u64);

// n bytes from next(), 8 at a time: the PRNG or the board's entropy source.
static mp_obj_t bytes_from(mp_obj_t n_in, uint64_t (*next)(void)) {
    mp_int_t n = mp_obj_get_int(n_in);
    if (n < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("n must be >= 0"));
    }
    vstr_t v;
    vstr_init_len(&v, n);
    for (mp_int_t i = 0; i < n; i += 8) {
        uint64_t r = next();
        memcpy(v.buf + i, &r, n - i < 8 ? n - i : 8);
    }
    return mp_obj_new_bytes_from_vstr(&v);
}

static mp_obj_t hal_random_bytes(mp_obj_t n_in) {
    return bytes_from(n_in, rng_u64);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_random_bytes_obj, hal_random_bytes);

// Bytes straight from the board's entropy source (hal.info()['entropy'] says which: RDRAND,
// getrandom() or timer-interrupt jitter), not from the PRNG: for keys. On ARM each 8 bytes
// wait for 8 timer interrupts (about 8 ms).
static mp_obj_t hal_entropy_bytes(mp_obj_t n_in) {
    return bytes_from(n_in, board_entropy);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_entropy_bytes_obj, hal_entropy_bytes);

static mp_obj_t hal_random_seed(mp_obj_t seed) {
    hal_rng_seed((uint64_t)mp_obj_get_int_truncated(seed));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_random_seed_obj, hal_random_seed);

// ---- console ----

static mp_obj_t hal_console_any_(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_console_any());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_console_any_obj, hal_console_any_);

static mp_obj_t hal_console_read(mp_obj_t n_in) {
    mp_int_t n = mp_obj_get_int(n_in);
    mp_int_t avail = hal_console_any();
    if (n > avail) {
        n = avail;
    }
    if (n <= 0) {
        return mp_const_empty_bytes;
    }
    vstr_t v;
    vstr_init_len(&v, n);
    for (mp_int_t i = 0; i < n; i++) {
        v.buf[i] = hal_console_getc();
    }
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_console_read_obj, hal_console_read);

// console_peek(): the bytes waiting on the console, left there (boot looks for a Ctrl-C).
static mp_obj_t hal_console_peek_(void) {
    uint8_t buf[64];
    size_t n = hal_console_peek(buf, sizeof(buf));
    return mp_obj_new_bytes(buf, n);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_console_peek_obj, hal_console_peek_);

// console_readinto(buf): up to len(buf) waiting bytes into buf -> how many; never blocks,
// never allocates (the shell reads this way, so a heap that user code filled cannot mute it).
static mp_obj_t hal_console_readinto(mp_obj_t buf_in) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(buf_in, &buf, MP_BUFFER_WRITE);
    size_t n = 0;
    while (n < buf.len && hal_console_any()) {
        ((uint8_t *)buf.buf)[n++] = hal_console_getc();
    }
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_console_readinto_obj, hal_console_readinto);

static mp_obj_t hal_console_write(mp_obj_t data) {
    mp_buffer_info_t buf;
    mp_get_buffer_raise(data, &buf, MP_BUFFER_READ);
    board_console_tx(buf.buf, buf.len);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_console_write_obj, hal_console_write);

// ---- power, boot mode, foreground REPL ----

static mp_obj_t hal_poweroff(size_t n_args, const mp_obj_t *args) {
    board_poweroff(n_args ? mp_obj_get_int(args[0]) : 0);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hal_poweroff_obj, 0, 1, hal_poweroff);

static mp_obj_t hal_reset(void) {
    board_reset();
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_reset_obj, hal_reset);

static mp_obj_t hal_boot_mode_(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_boot_mode);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_boot_mode_obj, hal_boot_mode_);

static mp_obj_t hal_set_boot_mode(mp_obj_t mode) {
    hal_boot_mode = mp_obj_get_int(mode);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_set_boot_mode_obj, hal_set_boot_mode);

static mp_obj_t hal_repl(void) {
    #if MULTIOS_BOARD_UNIX
    mp_raise_msg(&mp_type_OSError, MP_ERROR_TEXT("repl: no console REPL on the unix port"));
    #else
    // Returns on Ctrl-D at an empty line, or on Ctrl-A (raw REPL requested, e.g. by mpremote):
    // then say "raw" so the shell carries on in its own raw REPL.
    pyexec_friendly_repl();
    if (pyexec_mode_kind == PYEXEC_MODE_RAW_REPL) {
        pyexec_mode_kind = PYEXEC_MODE_FRIENDLY_REPL;
        return MP_OBJ_NEW_QSTR(MP_QSTR_raw);
    }
    return mp_const_none;
    #endif
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_repl_obj, hal_repl);

#if MULTIOS_BOARD_UNIX
// The unix port's stand-in for lwIP's wake-up (kernel/netwait.py): watch_fd(fd, write)
// makes the next idle wait poll the host socket fd too; once it is ready, the fn given to
// fd_handler(fn) is scheduled (as the boards' lwIP poll calls _net's handler). One-shot: a
// task watches again each time it waits. False when the set is full (the caller re-checks
// on a timer instead).
MP_REGISTER_ROOT_POINTER(mp_obj_t multios_fd_handler);

void hal_fd_ready(void) {
    if (MP_STATE_VM(multios_fd_handler) != MP_OBJ_NULL) {
        mp_sched_schedule(MP_STATE_VM(multios_fd_handler), mp_const_none);
    }
}

static mp_obj_t hal_watch_fd(mp_obj_t fd, mp_obj_t write) {
    return mp_obj_new_bool(board_watch_fd(mp_obj_get_int(fd), mp_obj_is_true(write)));
}
static MP_DEFINE_CONST_FUN_OBJ_2(hal_watch_fd_obj, hal_watch_fd);

static mp_obj_t hal_fd_handler(mp_obj_t fn) {
    MP_STATE_VM(multios_fd_handler) = fn == mp_const_none ? MP_OBJ_NULL : fn;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_fd_handler_obj, hal_fd_handler);
#endif

// run_user(fn, *args): fn(*args) as code typed at the console: with the user's builtins
// overrides. Afterwards, whether fn returned or raised, the system's builtins are back and
// the heap is unlocked (as after MicroPython's own REPL runs a line).
static mp_obj_t hal_run_user(size_t n_args, const mp_obj_t *args) {
    int outer = hal_world_enter(HAL_WORLD_USER);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t ret = mp_call_function_n_kw(args[0], n_args - 1, 0, args + 1);
        nlr_pop();
        hal_world_enter(outer);
        hal_heap_unlock_all();
        return ret;
    }
    hal_world_enter(outer);
    hal_heap_unlock_all();
    nlr_jump(nlr.ret_val);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR(hal_run_user_obj, 1, hal_run_user);

// reset_request(max_ms): a soft reset is under way; see hal.h.
static mp_obj_t hal_reset_request_(mp_obj_t max_ms) {
    mp_int_t ms = mp_obj_get_int(max_ms);
    hal_reset_request(ms > 0 ? (uint32_t)ms : 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(hal_reset_request_obj, hal_reset_request_);

// What the timer schedules when a soft reset takes too long: straight to main.c's handler,
// past every Python frame (no except or finally runs), as MicroPython's VM abort does.
static mp_obj_t reset_abort(mp_obj_t arg) {
    (void)arg;
    if (hal_reset_target != NULL) {
        hal_step_abandon();     // the step we leave must not keep the console captured
        hal_heap_unlock_all();
        MP_STATE_THREAD(nlr_top) = hal_reset_target;
        nlr_jump(NULL);
    }
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_1(hal_reset_abort_obj, reset_abort);

// ---- accounting and the step watchdog ----

static mp_obj_t hal_alloc_bytes_(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_alloc_bytes());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_alloc_bytes_obj, hal_alloc_bytes_);

// gc_stats() -> (collections, total us, longest us) in this VM. The step watchdog does not
// count a collection's time against the step that triggered it.
static mp_obj_t hal_gc_stats_(void) {
    mp_obj_t t[3] = {
        mp_obj_new_int_from_uint(hal_gc_stats.count),
        mp_obj_new_int_from_ull(hal_gc_stats.us_total),
        mp_obj_new_int_from_uint(hal_gc_stats.us_max),
    };
    return mp_obj_new_tuple(3, t);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_gc_stats_obj, hal_gc_stats_);

// gc_max_free() -> bytes: the longest run of free blocks, the largest object the heap can
// give without a collection (MicroPython's gc_info, as micropython.mem_info prints it). The
// free total says nothing of the holes it is cut into. One read-only pass of the block
// table: no allocation, no collection.
static mp_obj_t hal_gc_max_free_(void) {
    gc_info_t info;
    gc_info(&info);
    return mp_obj_new_int_from_uint(info.max_free * MICROPY_BYTES_PER_GC_BLOCK);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_gc_max_free_obj, hal_gc_max_free_);

// resume(gen, value, budget_ms): gen.send(value) under a watchdog of budget_ms (0: none).
// Arming and disarming happen in hal_resume, around the resume, so the injected Watchdog can
// only land in the task's own code.
// resume(gen, value, budget_ms, quiet=False); quiet: what the step prints is captured.
static mp_obj_t hal_resume_(size_t n_args, const mp_obj_t *args) {
    mp_obj_t ret;
    bool quiet = n_args > 3 && mp_obj_is_true(args[3]);
    mp_vm_return_kind_t kind = hal_resume(args[0], args[1], MP_OBJ_NULL, mp_obj_get_int(args[2]), quiet, &ret);
    if (kind == MP_VM_RETURN_YIELD) {
        return ret;
    } else if (kind == MP_VM_RETURN_NORMAL) {
        nlr_raise(mp_obj_new_exception_arg1(&mp_type_StopIteration, ret));
    } else {
        nlr_raise(ret);
    }
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(hal_resume_obj, 3, 4, hal_resume_);

// captured(): what quiet steps printed since the last call (b'' when nothing).
static mp_obj_t hal_captured(void) {
    size_t n = hal_capture_pending();
    if (n == 0) {
        return mp_const_empty_bytes;
    }
    vstr_t v;
    vstr_init_len(&v, n);
    hal_capture_take((uint8_t *)v.buf, n);
    return mp_obj_new_bytes_from_vstr(&v);
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_captured_obj, hal_captured);

static mp_obj_t hal_wdt_hits(void) {
    return MP_OBJ_NEW_SMALL_INT(hal_wdt_last_hits());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_wdt_hits_obj, hal_wdt_hits);

// step_gc_us(): µs the last resume's step spent collecting, which the kernel does not count
// against its budget (the watchdog stood still meanwhile).
static mp_obj_t hal_step_gc_us_(void) {
    return mp_obj_new_int_from_uint(hal_step_gc_us());
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_step_gc_us_obj, hal_step_gc_us_);

// ---- board facts ----

static mp_obj_t hal_cmdline(void) {
    const char *s = board_cmdline();
    return mp_obj_new_str(s, strlen(s));
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_cmdline_obj, hal_cmdline);

static void store(mp_obj_t d, qstr key, mp_obj_t value) {
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(key), value);
}

static mp_obj_t hal_info(void) {
    // The heap's size from its bounds: gc_info() would walk the whole allocation table (20M
    // instructions for 8 MiB on the Cortex-M3, most of the boot's time).
    size_t heap = MP_STATE_MEM(area).gc_pool_end - MP_STATE_MEM(area).gc_pool_start;
    mp_obj_t d = mp_obj_new_dict(8);
    store(d, MP_QSTR_board, mp_obj_new_str_from_cstr(board_info.name));
    store(d, MP_QSTR_cpu, mp_obj_new_str_from_cstr(board_info.cpu));
    store(d, MP_QSTR_clock, mp_obj_new_str_from_cstr(board_info.clock));
    store(d, MP_QSTR_entropy, mp_obj_new_str_from_cstr(board_info.entropy));
    store(d, MP_QSTR_rtc, mp_obj_new_str_from_cstr(board_info.rtc));
    store(d, MP_QSTR_timer_hz, mp_obj_new_int_from_uint(board_info.timer_hz));
    store(d, MP_QSTR_heap, mp_obj_new_int_from_uint(heap));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_0(hal_info_obj, hal_info);

static const mp_rom_map_elem_t hal_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__hal) },
    { MP_ROM_QSTR(MP_QSTR___init__), MP_ROM_PTR(&hal_init_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_ms), MP_ROM_PTR(&hal_ticks_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_us), MP_ROM_PTR(&hal_ticks_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_add), MP_ROM_PTR(&hal_ticks_add_obj) },
    { MP_ROM_QSTR(MP_QSTR_ticks_diff), MP_ROM_PTR(&hal_ticks_diff_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep_ms), MP_ROM_PTR(&hal_sleep_ms_obj) },
    { MP_ROM_QSTR(MP_QSTR_sleep_us), MP_ROM_PTR(&hal_sleep_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_idle), MP_ROM_PTR(&hal_idle_obj) },
    { MP_ROM_QSTR(MP_QSTR_time), MP_ROM_PTR(&hal_time_obj) },
    { MP_ROM_QSTR(MP_QSTR_irq_disable), MP_ROM_PTR(&hal_irq_disable_obj) },
    { MP_ROM_QSTR(MP_QSTR_irq_restore), MP_ROM_PTR(&hal_irq_restore_obj) },
    { MP_ROM_QSTR(MP_QSTR_irq_counts), MP_ROM_PTR(&hal_irq_counts_obj) },
    { MP_ROM_QSTR(MP_QSTR_irq_handler), MP_ROM_PTR(&hal_irq_handler_obj) },
    { MP_ROM_QSTR(MP_QSTR_ctrl_c_count), MP_ROM_PTR(&hal_ctrl_c_count_obj) },
    { MP_ROM_QSTR(MP_QSTR_irq_error), MP_ROM_PTR(&hal_irq_error_obj) },
    { MP_ROM_QSTR(MP_QSTR_random_u32), MP_ROM_PTR(&hal_random_u32_obj) },
    { MP_ROM_QSTR(MP_QSTR_random_u64), MP_ROM_PTR(&hal_random_u64_obj) },
    { MP_ROM_QSTR(MP_QSTR_random_bytes), MP_ROM_PTR(&hal_random_bytes_obj) },
    { MP_ROM_QSTR(MP_QSTR_random_seed), MP_ROM_PTR(&hal_random_seed_obj) },
    { MP_ROM_QSTR(MP_QSTR_entropy_bytes), MP_ROM_PTR(&hal_entropy_bytes_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_any), MP_ROM_PTR(&hal_console_any_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_read), MP_ROM_PTR(&hal_console_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_peek), MP_ROM_PTR(&hal_console_peek_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_readinto), MP_ROM_PTR(&hal_console_readinto_obj) },
    { MP_ROM_QSTR(MP_QSTR_console_write), MP_ROM_PTR(&hal_console_write_obj) },
    { MP_ROM_QSTR(MP_QSTR_poweroff), MP_ROM_PTR(&hal_poweroff_obj) },
    { MP_ROM_QSTR(MP_QSTR_reset), MP_ROM_PTR(&hal_reset_obj) },
    { MP_ROM_QSTR(MP_QSTR_boot_mode), MP_ROM_PTR(&hal_boot_mode_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_boot_mode), MP_ROM_PTR(&hal_set_boot_mode_obj) },
    { MP_ROM_QSTR(MP_QSTR_repl), MP_ROM_PTR(&hal_repl_obj) },
    { MP_ROM_QSTR(MP_QSTR_run_user), MP_ROM_PTR(&hal_run_user_obj) },
    { MP_ROM_QSTR(MP_QSTR_reset_request), MP_ROM_PTR(&hal_reset_request_obj) },
    { MP_ROM_QSTR(MP_QSTR_alloc_bytes), MP_ROM_PTR(&hal_alloc_bytes_obj) },
    { MP_ROM_QSTR(MP_QSTR_gc_stats), MP_ROM_PTR(&hal_gc_stats_obj) },
    { MP_ROM_QSTR(MP_QSTR_gc_max_free), MP_ROM_PTR(&hal_gc_max_free_obj) },
    { MP_ROM_QSTR(MP_QSTR_presize), MP_ROM_PTR(&hal_presize_obj) },
    { MP_ROM_QSTR(MP_QSTR_gc_start), MP_ROM_PTR(&hal_gc_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_gc_run_start), MP_ROM_PTR(&hal_gc_run_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_resume), MP_ROM_PTR(&hal_resume_obj) },
    { MP_ROM_QSTR(MP_QSTR_captured), MP_ROM_PTR(&hal_captured_obj) },
    { MP_ROM_QSTR(MP_QSTR_wdt_hits), MP_ROM_PTR(&hal_wdt_hits_obj) },
    { MP_ROM_QSTR(MP_QSTR_step_gc_us), MP_ROM_PTR(&hal_step_gc_us_obj) },
    { MP_ROM_QSTR(MP_QSTR_cmdline), MP_ROM_PTR(&hal_cmdline_obj) },
    { MP_ROM_QSTR(MP_QSTR_Watchdog), MP_ROM_PTR(&mp_type_Watchdog) },
    { MP_ROM_QSTR(MP_QSTR_info), MP_ROM_PTR(&hal_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_Disk), MP_ROM_PTR(&hal_disk_type) },
    { MP_ROM_QSTR(MP_QSTR_disk_info), MP_ROM_PTR(&hal_disk_info_obj) },
    { MP_ROM_QSTR(MP_QSTR_crash_read), MP_ROM_PTR(&hal_crash_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_crash_clear), MP_ROM_PTR(&hal_crash_clear_obj) },
    { MP_ROM_QSTR(MP_QSTR_crash_put), MP_ROM_PTR(&hal_crash_put_obj) },
    #if MICROPY_VFS_LFS2
    { MP_ROM_QSTR(MP_QSTR_lfs_free), MP_ROM_PTR(&hal_lfs_free_obj) },
    { MP_ROM_QSTR(MP_QSTR_lfs_scan), MP_ROM_PTR(&hal_lfs_scan_obj) },
    { MP_ROM_QSTR(MP_QSTR_lfs_tune), MP_ROM_PTR(&hal_lfs_tune_obj) },
    #endif
    #if MULTIOS_BOARD_UNIX
    { MP_ROM_QSTR(MP_QSTR_watch_fd), MP_ROM_PTR(&hal_watch_fd_obj) },
    { MP_ROM_QSTR(MP_QSTR_fd_handler), MP_ROM_PTR(&hal_fd_handler_obj) },
    #endif
};
static MP_DEFINE_CONST_DICT(hal_globals, hal_globals_table);

const mp_obj_module_t mp_module_hal = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&hal_globals,
};

MP_REGISTER_MODULE(MP_QSTR__hal, mp_module_hal);
