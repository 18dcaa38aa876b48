// mphalport.c: console and delays for MicroPython on top of board.h and hal.c.
#include "py/mphal.h"
#include "py/runtime.h"
#include "py/stream.h"
#include "board.h"
#include "hal.h"

uintptr_t mp_hal_stdio_poll(uintptr_t poll_flags) {
    uintptr_t ret = poll_flags & MP_STREAM_POLL_WR;     // the UART always accepts bytes
    if ((poll_flags & MP_STREAM_POLL_RD) && hal_console_any()) {
        ret |= MP_STREAM_POLL_RD;
    }
    return ret;
}

int mp_hal_stdin_rx_chr(void) {
    for (;;) {
        int c = hal_console_getc();
        if (c >= 0) {
            return c;
        }
        mp_event_wait_indefinite();     // runs soft handlers, raises Ctrl-C, then WFI
    }
}

mp_uint_t mp_hal_stdout_tx_strn(const char *str, size_t len) {
    if (hal_capturing()) {      // a service printed: the shell owns the console
        hal_capture_write(str, len);
    } else {
        board_console_tx(str, len);
    }
    return len;
}

void mp_hal_delay_us(mp_uint_t us) {
    uint64_t deadline = board_ticks_us() + us;
    while (board_ticks_us() < deadline) {
        mp_event_handle_nowait();
    }
}

void mp_hal_delay_ms(mp_uint_t ms) {
    uint64_t deadline = board_ticks_us() + (uint64_t)ms * 1000;
    while (board_ticks_us() < deadline) {
        mp_event_wait_ms(1);
    }
}

uint64_t mp_hal_time_ns(void) {
    return board_time_us() * 1000;
}
