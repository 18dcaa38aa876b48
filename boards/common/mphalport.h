// mphalport.h: MicroPython's mp_hal_* hooks, each one line over the C HAL.
#include "shared/runtime/interrupt_char.h"
#include "board.h"
#include "hal.h"

// MicroPython's scheduler queue and state (mp_sched_schedule from the NIC, timer and UART
// interrupts; mp_sched_unlock after each scheduled callback) are shared with interrupt
// handlers: its atomic sections mask interrupts, as on MicroPython's bare-metal ports. Left
// empty (py/mphal.h's default), an interrupt that schedules between mp_sched_unlock's count
// and its store of IDLE leaves its callback queued with the scheduler idle, never run until
// something else schedules; net.c's poll schedules itself only once (poll_queued), so the
// network stack stopped for good (x86_64, a drop storm from the host).
#define MICROPY_BEGIN_ATOMIC_SECTION() board_irq_disable()
#define MICROPY_END_ATOMIC_SECTION(state) board_irq_restore(state)

static inline mp_uint_t mp_hal_ticks_ms(void) {
    return hal_ticks_ms();
}
static inline mp_uint_t mp_hal_ticks_us(void) {
    return hal_ticks_us();
}
static inline mp_uint_t mp_hal_ticks_cpu(void) {
    return hal_ticks_us();
}
void mp_hal_delay_ms(mp_uint_t ms);
void mp_hal_delay_us(mp_uint_t us);
uint64_t mp_hal_time_ns(void);
