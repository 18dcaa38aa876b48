// hal.h: the shared C HAL (boards/common/hal.c) used by modhal.c and mphalport.c.
#ifndef MULTIOS_HAL_H
#define MULTIOS_HAL_H

#include <stdbool.h>
#include <stdint.h>
#include "py/obj.h"
#include "py/runtime.h"

#define HAL_TICKS_PERIOD (1u << 30)     // ticks_ms/ticks_us wrap here: always small ints

enum { HAL_IRQ_TIMER, HAL_IRQ_UART, HAL_IRQ_N };

extern volatile uint32_t hal_irq_count[HAL_IRQ_N];
extern volatile uint32_t hal_ctrl_c_count;     // Ctrl-C bytes received on the console

// Called from interrupt context by the board.
void hal_console_rx_isr(int c);
void hal_timer_isr(void);

// Console receive ring.
int hal_console_any(void);
int hal_console_getc(void);             // -1 when empty
size_t hal_console_peek(uint8_t *dst, size_t max);  // what is waiting, left in the ring

// Time and idle.
uint32_t hal_ticks_ms(void);
uint32_t hal_ticks_us(void);
bool hal_idle(uint32_t timeout_ms);     // true when woken by something other than time

// Soft interrupt handlers (run by micropython.schedule, through these dispatchers).
extern const mp_obj_fun_builtin_fixed_t hal_irq_dispatch_timer_obj, hal_irq_dispatch_uart_obj;
void hal_set_irq_handler(int source, mp_obj_t handler);

// Watchdog for one step of a task.
void hal_wdt_arm(uint32_t budget_ms);
uint32_t hal_wdt_disarm(void);          // number of times it fired while armed
// Pause the armed watchdog of the step running now (saved in *s); restore re-arms it with a
// whole budget. For a step that blocks in C while others step (boards/common/net.c).
typedef struct _hal_wdt_saved_t {
    bool armed;
    uint32_t budget_ticks;
} hal_wdt_saved_t;
void hal_wdt_pause(hal_wdt_saved_t *s);
void hal_wdt_restore(const hal_wdt_saved_t *s);
// gen.send(send_value) or, when it is MP_OBJ_NULL, gen.throw(throw_value), under a watchdog of
// budget_ms (0: none): armed and disarmed around the resume, so the injected Watchdog can
// only land in the task's own code.
// quiet: the step's stdout goes to the capture ring (services never print to the console).
mp_vm_return_kind_t hal_resume(mp_obj_t gen, mp_obj_t send_value, mp_obj_t throw_value, mp_int_t budget_ms, bool quiet, mp_obj_t *ret);
uint32_t hal_wdt_last_hits(void);
// The board's timer interrupt: redirect the interrupted thread to hal_wdt_native_raise?
bool hal_wdt_redirect(uintptr_t pc);
void hal_wdt_native_raise(void) __attribute__((noreturn));
bool hal_capturing(void);
void hal_capture_write(const char *s, size_t n);
size_t hal_capture_take(uint8_t *dst, size_t max);
size_t hal_capture_pending(void);
uint32_t hal_step_gc_us(void);           // µs of collections in the last hal_resume's step
uint32_t hal_capture_dropped(void);       // times the watchdog fired in the last hal_resume

// RNG: xoshiro128**, seeded at boot from board_entropy().
void hal_rng_seed(uint64_t seed);
uint32_t hal_rng_u32(void);

// Heap bytes allocated since boot, modulo HAL_TICKS_PERIOD.
uint32_t hal_alloc_bytes(void);
void hal_gc_collect_hook(void);         // before each collection zeroes the GC's counter
void hal_gc_collect_done(void);         // after it: hal_gc_collected, the watchdog counts again
typedef struct {
    uint32_t count;     // collections in this VM
    uint64_t us_total;  // their time
    uint32_t us_max;    // the longest
} hal_gc_stats_t;
extern hal_gc_stats_t hal_gc_stats;

// After each collection: start the allocation scan above the small holes (gcstart.c).
// MULTIOS_GC_START_DIV: at most this fraction of the free heap is left below the start;
// MULTIOS_GC_START_RUN: the start is the first block of a free run at least this long.
#ifndef MULTIOS_GC_START_DIV
#define MULTIOS_GC_START_DIV (8)
#endif
#ifndef MULTIOS_GC_START_RUN
#define MULTIOS_GC_START_RUN (16)
#endif
#if MICROPY_GC_SPLIT_HEAP
#error "gcstart.c knows one heap area only"
#endif
void hal_gc_collected(void);
void *hal_gc_alloc_run(size_t n_bytes);   // next fit, for the C kernel's per-call tables
void hal_gc_alloc_reset(void);            // a new VM: first fit again
extern const mp_obj_fun_builtin_fixed_t hal_presize_obj, hal_gc_start_obj, hal_gc_run_start_obj;

// Two worlds of builtins overrides (`builtins.abs = ...`, `builtins.__import__ = ...`): the
// user's, seen only by code typed at the console while it runs (hal_run_user), and the
// system's, seen by the kernel, the shell and every service step (hal_resume, quiet).
enum { HAL_WORLD_SYSTEM, HAL_WORLD_USER };
int hal_world_enter(int world);         // -> the previous world, to restore with
void hal_heap_unlock_all(void);         // micropython.heap_unlock() until the depth is 0

// Soft reset (Ctrl-D in the raw REPL or at the prompt). Once asked for, it always ends in a
// fresh VM: main.c takes whatever ends init (a return, any exception) as the reset, and
// after max_ms the timer jumps to hal_reset_target (main.c) without running more Python.
void hal_reset_request(uint32_t max_ms);
bool hal_reset_requested(void);
extern nlr_buf_t *hal_reset_target;     // main.c's, while init runs; NULL otherwise
extern const mp_obj_fun_builtin_fixed_t hal_reset_abort_obj;
void hal_vm_reset(void);                // after each mp_init: nothing left from the last VM
void hal_step_abandon(void);            // a step left by a jump: watchdog off, no capture

extern uint32_t hal_soft_resets;        // VMs built since power-on, minus one
extern int hal_boot_mode;               // survives soft reset: 0 normal, 1 raw REPL
extern const mp_obj_type_t mp_type_Watchdog;  // BaseException subclass, preallocated

void hal_vm_init(void);                 // once per VM, from mp_init (MICROPY_PORT_INIT_FUNC)
void hal_init(void);                    // once per (soft) reset, after mp_init

#endif // MULTIOS_HAL_H
