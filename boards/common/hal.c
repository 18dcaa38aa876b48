// hal.c: the board-independent half of the C HAL, shared by every board and the unix port.
//
// Owns the console receive ring, interrupt counters, soft interrupt handlers, the step
// watchdog, the RNG and the allocation counter. Interrupt context only touches the ring,
// counters and MicroPython's pending-exception/schedule slots (never the Python heap).
#include "py/gc.h"
#include "py/mpstate.h"
#include "py/runtime.h"
#if !MULTIOS_BOARD_UNIX
#include "shared/runtime/interrupt_char.h"
#define INTERRUPT_CHAR mp_interrupt_char
#else
#define INTERRUPT_CHAR (-1)  // the unix port takes Ctrl-C as SIGINT
#endif
#include "board.h"
#include "hal.h"
#if MULTIOS_NET
#include "net.h"
#endif

#define RX_RING_SIZE (1024)     // power of two; bytes beyond it are dropped

volatile uint32_t hal_irq_count[HAL_IRQ_N];
volatile uint32_t hal_ctrl_c_count;
int hal_boot_mode;              // in .bss, which a soft reset does not clear
uint32_t hal_soft_resets;       // the same

static bool vm_ready;       // hal_init() ran in this VM (cleared by hal_vm_reset)
static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail;

static volatile bool wdt_armed;
static volatile uint32_t wdt_left, wdt_budget_ticks, wdt_hits;  // in timer ticks
// A hit stayed pending for a whole budget: the step runs code that never looks at pending
// exceptions (native, viper or inline assembler code), so the board's timer interrupt sends
// it to hal_wdt_native_raise when it lands in that code (see hal_wdt_redirect).
static volatile bool wdt_force;
// A garbage collection is running: the watchdog's count stands still (a collection beside
// thousands of services takes longer than a step's budget, and it is the heap's cost, not
// the step's: the step that happened to allocate gets the rest of its budget after it).
static volatile bool wdt_held;
static uint64_t gc_t0;
static uint32_t step_gc_us, last_step_gc_us;  // collections' time inside the armed step
hal_gc_stats_t hal_gc_stats;    // this VM's collections (hal_vm_reset clears it)

static uint32_t alloc_base_blocks;  // blocks allocated before the last collection

static uint32_t rng_state[4];

static int world;                       // HAL_WORLD_*: whose builtins overrides are active
static bool reset_asked;                // a soft reset was requested in this VM
static volatile uint32_t reset_left;    // timer ticks until it tears the VM down (0: off)

// Root pointers multios_irq_handler[] and multios_wdt_exc are registered in modhal.c
// (only files scanned for qstrs can register them).

// ---- interrupt context ----

void hal_console_rx_isr(int c) {
    hal_irq_count[HAL_IRQ_UART]++;
    rng_state[0] ^= (uint32_t)board_ticks_us();     // arrival jitter
    if (c == 3) {
        hal_ctrl_c_count++;     // seen even when Ctrl-C is a plain byte (kbd_intr(-1))
    }
    if (c == INTERRUPT_CHAR) {
        mp_sched_keyboard_interrupt();
        return;
    }
    uint32_t next = (rx_head + 1) & (RX_RING_SIZE - 1);
    if (next != rx_tail) {
        rx_ring[rx_head] = (uint8_t)c;
        rx_head = next;
    }
    mp_obj_t h = MP_STATE_VM(multios_irq_handler)[HAL_IRQ_UART];
    if (h != MP_OBJ_NULL && h != mp_const_none) {
        mp_sched_schedule(MP_OBJ_FROM_PTR(&hal_irq_dispatch_uart_obj), MP_OBJ_NEW_SMALL_INT(c));
    }
}

void hal_timer_isr(void) {
    uint32_t n = ++hal_irq_count[HAL_IRQ_TIMER];
    if (wdt_armed && !wdt_held && --wdt_left == 0) {
        wdt_hits++;
        wdt_left = wdt_budget_ticks;  // a task that swallows it is hit again
        wdt_force = wdt_force
            || MP_STATE_MAIN_THREAD(mp_pending_exception) == MP_STATE_VM(multios_wdt_exc);
        mp_sched_exception(MP_STATE_VM(multios_wdt_exc));
    }
    if (reset_left != 0 && --reset_left == 0) {
        // Stopping for a soft reset took too long: abort to main.c at the next safe point.
        if (!mp_sched_schedule(MP_OBJ_FROM_PTR(&hal_reset_abort_obj), mp_const_none)) {
            reset_left = 1;     // the queue is full: again at the next tick
        }
    }
    mp_obj_t h = MP_STATE_VM(multios_irq_handler)[HAL_IRQ_TIMER];
    if (h != MP_OBJ_NULL && h != mp_const_none) {
        mp_sched_schedule(MP_OBJ_FROM_PTR(&hal_irq_dispatch_timer_obj),
            MP_OBJ_NEW_SMALL_INT(n & (HAL_TICKS_PERIOD - 1)));
    }
    #if MULTIOS_NET
    net_timer_isr(n);
    #endif
}

// ---- console ring ----

size_t hal_console_peek(uint8_t *dst, size_t max) {
    size_t n = 0;
    for (uint32_t i = rx_tail; i != rx_head && n < max; i = (i + 1) & (RX_RING_SIZE - 1)) {
        dst[n++] = rx_ring[i];
    }
    return n;
}

int hal_console_any(void) {
    board_console_poll();
    return (rx_head - rx_tail) & (RX_RING_SIZE - 1);
}

int hal_console_getc(void) {
    if (!hal_console_any()) {
        return -1;
    }
    int c = rx_ring[rx_tail];
    rx_tail = (rx_tail + 1) & (RX_RING_SIZE - 1);
    return c;
}

// ---- time ----

// Milliseconds from the board's microseconds with 32-bit divisions only (64-bit division is
// a slow library call on 32-bit cores): accumulate whole milliseconds since the last call.
// Thread context only (no interrupt handler reads it: the watchdog counts timer ticks), so
// no critical section: on the unix port that was two sigprocmask calls per read.
uint32_t hal_ticks_ms(void) {
    static uint64_t last_us;
    static uint32_t ms, rem_us;
    uint64_t now = board_ticks_us();
    uint64_t d64 = now - last_us + rem_us;
    last_us = now;
    if (d64 >> 32) {    // not read for over 71 minutes: the slow division, once
        ms += (uint32_t)(d64 / 1000);
        rem_us = (uint32_t)(d64 % 1000);
    } else {
        uint32_t add = (uint32_t)d64 / 1000;
        rem_us = (uint32_t)d64 - add * 1000;
        ms += add;
    }
    return ms & (HAL_TICKS_PERIOD - 1);
}

uint32_t hal_ticks_us(void) {
    return (uint32_t)board_ticks_us() & (HAL_TICKS_PERIOD - 1);
}

static bool woken(void) {
    #if MICROPY_ENABLE_SCHEDULER
    if (MP_STATE_VM(sched_state) == MP_SCHED_PENDING) {
        return true;
    }
    #endif
    return MP_STATE_MAIN_THREAD(mp_pending_exception) != MP_OBJ_NULL || hal_console_any();
}

bool hal_idle(uint32_t timeout_ms) {
    uint64_t deadline = board_ticks_us() + (uint64_t)timeout_ms * 1000;
    for (;;) {
        if (woken()) {
            return true;
        }
        if (board_ticks_us() >= deadline) {
            return false;
        }
        board_wfi();
    }
}

void hal_set_irq_handler(int source, mp_obj_t handler) {
    MP_STATE_VM(multios_irq_handler)[source] = handler;
}

// ---- watchdog ----

void hal_wdt_arm(uint32_t budget_ms) {
    if (MP_STATE_VM(multios_wdt_exc) == MP_OBJ_NULL) {
        return;     // module not initialised: no watchdog rather than a crash
    }
    mp_obj_exception_clear_traceback(MP_STATE_VM(multios_wdt_exc));
    board_wdt_enable();
    // No clock read: count timer ticks (rounded up, +1 for the tick in progress).
    uint32_t hz = board_info.timer_hz;
    wdt_budget_ticks = (budget_ms * hz + 999) / 1000 + 1;
    wdt_left = wdt_budget_ticks;
    wdt_hits = 0;
    wdt_force = false;
    step_gc_us = 0;
    wdt_armed = true;
}

uint32_t hal_wdt_disarm(void) {
    wdt_armed = false;  // from here the timer ISR leaves the pending exception alone
    wdt_force = false;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    // A hit that landed after the task's last bytecode must not leak into the scheduler;
    // compare-and-swap, so a Ctrl-C that lands meanwhile is not lost.
    mp_obj_t exc = MP_STATE_VM(multios_wdt_exc);
    __atomic_compare_exchange_n(&MP_STATE_MAIN_THREAD(mp_pending_exception), &exc, MP_OBJ_NULL,
        false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return wdt_hits;
}

// A kernel task blocked in C (a blocking socket call, boards/common/net.c) lets the others
// step meanwhile: its watchdog stops counting while it waits and then starts a whole budget
// again (the nested steps arm and disarm their own).
void hal_wdt_pause(hal_wdt_saved_t *s) {
    s->armed = wdt_armed;
    s->budget_ticks = wdt_budget_ticks;
    if (wdt_armed) {
        hal_wdt_disarm();
    }
}

void hal_wdt_restore(const hal_wdt_saved_t *s) {
    if (s->armed) {
        wdt_budget_ticks = s->budget_ticks;
        wdt_left = s->budget_ticks;
        wdt_hits = 0;
        wdt_force = false;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        wdt_armed = true;
    }
}

static uint32_t last_wdt_hits;

#if !MULTIOS_BOARD_UNIX
extern uint8_t _heap_start[], _heap_end[];  // from the board's linker script

// Interrupt context, from the board's timer handler with the interrupted pc: true when the
// step ignored a watchdog hit for a whole budget and pc lies in the GC heap, i.e. in machine
// code MicroPython emitted (native, viper, asm): never in C, so no lock or half-done
// allocation is abandoned. The board then resumes at hal_wdt_native_raise instead of pc.
bool hal_wdt_redirect(uintptr_t pc) {
    return wdt_force && wdt_armed && pc >= (uintptr_t)_heap_start && pc < (uintptr_t)_heap_end;
}

// Thread context, entered instead of the native code: raises the Watchdog there, as if that
// code had raised it itself, so the step ends through the usual exception path.
void hal_wdt_native_raise(void) {
    wdt_force = false;
    mp_obj_t exc = MP_STATE_VM(multios_wdt_exc);
    mp_obj_t pending = exc;
    __atomic_compare_exchange_n(&MP_STATE_MAIN_THREAD(mp_pending_exception), &pending,
        MP_OBJ_NULL, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    nlr_raise(exc);
}
#endif

// ---- console ownership: what a quiet (service) step prints goes to a ring, not the UART ----

#define CAPTURE_SIZE (1024)     // bytes kept until the kernel moves them to its log

static bool capture_on;
static uint8_t capture_buf[CAPTURE_SIZE];
static uint32_t capture_start, capture_len, capture_dropped;

bool hal_capturing(void) {
    return capture_on;
}

void hal_capture_write(const char *s, size_t n) {
    while (n--) {
        if (capture_len == CAPTURE_SIZE) {
            capture_dropped++;
            continue;
        }
        capture_buf[(capture_start + capture_len++) % CAPTURE_SIZE] = (uint8_t)*s++;
    }
}

size_t hal_capture_take(uint8_t *dst, size_t max) {
    size_t n = capture_len < max ? capture_len : max;
    for (size_t i = 0; i < n; i++) {
        dst[i] = capture_buf[(capture_start + i) % CAPTURE_SIZE];
    }
    capture_start = (capture_start + n) % CAPTURE_SIZE;
    capture_len -= n;
    return n;
}

size_t hal_capture_pending(void) {
    return capture_len;
}

uint32_t hal_capture_dropped(void) {
    return capture_dropped;
}

mp_vm_return_kind_t hal_resume(mp_obj_t gen, mp_obj_t send_value, mp_obj_t throw_value, mp_int_t budget_ms, bool quiet, mp_obj_t *ret) {
    bool outer = capture_on;    // a foreground step's nested loop steps quiet ones
    capture_on = quiet;
    // A service never sees the console user's builtins overrides, not even when a nested
    // loop (asyncio.run typed at the console) steps it.
    int outer_world = quiet ? hal_world_enter(HAL_WORLD_SYSTEM) : world;
    if (budget_ms > 0) {
        hal_wdt_arm(budget_ms);
    }
    mp_vm_return_kind_t kind = mp_resume(gen, send_value, throw_value, ret);
    last_wdt_hits = budget_ms > 0 ? hal_wdt_disarm() : 0;
    last_step_gc_us = budget_ms > 0 ? step_gc_us : 0;
    hal_world_enter(outer_world);
    capture_on = outer;
    return kind;
}

uint32_t hal_wdt_last_hits(void) {
    return last_wdt_hits;
}

// µs the last hal_resume's step spent in garbage collections (not the step's own time).
uint32_t hal_step_gc_us(void) {
    return last_step_gc_us;
}

// ---- worlds of builtins overrides, soft reset ----

// MicroPython looks overrides up in MP_STATE_VM(mp_module_builtins_override_dict) (and makes
// it on the first `builtins.x = ...`); the world not running keeps its dict in
// MP_STATE_VM(multios_builtins)[], a root pointer (modhal.c).
int hal_world_enter(int w) {
    int prev = world;
    #if MICROPY_CAN_OVERRIDE_BUILTINS
    if (w != prev) {
        MP_STATE_VM(multios_builtins)[prev] = MP_STATE_VM(mp_module_builtins_override_dict);
        MP_STATE_VM(mp_module_builtins_override_dict) = MP_STATE_VM(multios_builtins)[w];
        world = w;
    }
    #endif
    return prev;
}

void hal_heap_unlock_all(void) {
    MP_STATE_THREAD(gc_lock_depth) &= GC_COLLECT_FLAG;
}

void hal_reset_request(uint32_t max_ms) {
    // From here only the system's code runs until the VM is rebuilt: the user's builtins
    // overrides are dropped and a heap that user code left locked is unlocked.
    hal_world_enter(HAL_WORLD_SYSTEM);
    MP_STATE_VM(multios_builtins)[HAL_WORLD_USER] = NULL;
    hal_heap_unlock_all();
    reset_asked = true;
    reset_left = (uint32_t)(((uint64_t)max_ms * board_info.timer_hz + 999) / 1000) + 1;
}

bool hal_reset_requested(void) {
    return reset_asked;
}

void hal_step_abandon(void) {
    wdt_armed = false;
    capture_on = false;
}

void hal_vm_reset(void) {
    vm_ready = false;           // the new VM's first `import _hal` runs hal_init() again
    world = HAL_WORLD_SYSTEM;
    MP_STATE_VM(multios_builtins)[HAL_WORLD_SYSTEM] = NULL;
    MP_STATE_VM(multios_builtins)[HAL_WORLD_USER] = NULL;
    reset_asked = false;
    reset_left = 0;
    hal_reset_target = NULL;
    hal_step_abandon();         // an abort may have left a step's state behind
    capture_len = 0;
    hal_gc_stats = (hal_gc_stats_t){0};
    hal_gc_alloc_reset();
}

// ---- RNG: xoshiro128** ----

static inline uint32_t rotl(uint32_t x, int k) {
    return (x << k) | (x >> (32 - k));
}

void hal_rng_seed(uint64_t seed) {
    for (int i = 0; i < 4; i++) {   // splitmix64 spreads any seed over the whole state
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        rng_state[i] = (uint32_t)(z ^ (z >> 31));
    }
}

uint32_t hal_rng_u32(void) {
    uint32_t *s = rng_state;
    uint32_t result = rotl(s[1] * 5, 7) * 9;
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

// ---- allocation counter ----

uint32_t hal_alloc_bytes(void) {
    uint32_t blocks = alloc_base_blocks + (uint32_t)MP_STATE_MEM(gc_alloc_amount);
    return (blocks * MICROPY_BYTES_PER_GC_BLOCK) & (HAL_TICKS_PERIOD - 1);
}

void hal_gc_collect_hook(void) {
    alloc_base_blocks += (uint32_t)MP_STATE_MEM(gc_alloc_amount);
    wdt_held = true;
    gc_t0 = board_ticks_us();
}

void hal_gc_collect_done(void) {
    hal_gc_collected();
    uint32_t us = (uint32_t)(board_ticks_us() - gc_t0);
    hal_gc_stats.count++;
    hal_gc_stats.us_total += us;
    if (us > hal_gc_stats.us_max) {
        hal_gc_stats.us_max = us;
    }
    if (wdt_armed) {
        step_gc_us += us;
    }
    wdt_held = false;
}

// MICROPY_PORT_INIT_FUNC: once per VM (mp_init), unlike hal_init, which runs on every
// `import _hal` of a built-in module.
void hal_vm_init(void) {
    static bool booted;
    if (booted) {
        hal_soft_resets++;
    }
    booted = true;
}

// Once per VM: MicroPython calls a built-in module's __init__ on every `import _hal` (a
// built-in never enters sys.modules), and a script's import must not drop the interrupt
// handlers or reset the network stack under live sockets.
void hal_init(void) {
    static bool seeded;
    if (vm_ready) {
        return;
    }
    vm_ready = true;
    if (!seeded) {      // once per power-on: a soft reset keeps the stream going
        hal_rng_seed(board_entropy());
        seeded = true;
    }
    for (int i = 0; i < HAL_IRQ_N; i++) {
        MP_STATE_VM(multios_irq_handler)[i] = MP_OBJ_NULL;
        MP_STATE_VM(multios_irq_error)[i] = MP_OBJ_NULL;
    }
    MP_STATE_VM(multios_wdt_exc) = mp_obj_new_exception(&mp_type_Watchdog);
    #if MULTIOS_NET
    net_vm_init();
    #endif
}
