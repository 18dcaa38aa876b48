// mphalport.h: MicroPython's mp_hal_* hooks, each one line over the C HAL.
#include "shared/runtime/interrupt_char.h"
#include "hal.h"

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
