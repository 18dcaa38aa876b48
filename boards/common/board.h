// board.h: the C HAL interface every board implements (boards/<board>/board.c).
//
// A board is data plus the few drivers it needs: a console UART, a periodic timer, a
// monotonic counter, power control and its best entropy. Everything shared (console ring,
// interrupt counters, watchdog, RNG, the `_hal` module, mp_hal_*) lives once in
// boards/common and calls only these functions. Interrupt handlers call back into
// hal.c: hal_console_rx_isr() per received byte, hal_timer_isr() per timer tick.
#ifndef MULTIOS_BOARD_H
#define MULTIOS_BOARD_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct _board_info_t {
    const char *name;       // the BOARD name: "arm", "x86_64", "unix"
    const char *cpu;        // e.g. "Cortex-M3 (QEMU mps2-an385)"
    const char *clock;      // where ticks come from
    const char *entropy;    // what seeds the RNG, honestly
    const char *rtc;        // where the wall clock comes from
    uint32_t timer_hz;      // periodic timer interrupt rate
} board_info_t;

extern const board_info_t board_info;

void board_init(void);                          // clocks, console, timer, interrupts on
uint64_t board_ticks_us(void);                  // monotonic microseconds since boot
void board_wfi(void);                           // sleep until the next interrupt
void board_console_tx(const char *s, size_t n); // blocking write of raw bytes
void board_console_poll(void);                  // feed pending RX bytes (no-op if IRQ driven)
uint32_t board_irq_disable(void);               // returns state for board_irq_restore
void board_irq_restore(uint32_t state);
uint64_t board_time_us(void);                   // wall clock: microseconds since 1970 UTC
uint64_t board_entropy(void);                   // best entropy the board has, 64 bits
void board_wdt_enable(void);                    // make sure hal_timer_isr runs periodically
uint64_t board_cpu_hz(void);                    // the CPU clock, for machine.freq()
size_t board_unique_id(uint8_t *id, size_t max); // identification bytes, machine.unique_id()
void board_poweroff(int code) __attribute__((noreturn));
void board_reset(void) __attribute__((noreturn));
const char *board_cmdline(void);                // the boot command line (QEMU -append), "" if none

#define BOARD_CMDLINE_MAX (512)                 // bytes of the command line a board keeps

// The unix port only: host sockets the kernel waits on (kernel/netwait.py). The next idle
// wait polls fd with the console; once it is ready (readable, or writable if `write`) it is
// dropped from the set and hal_fd_ready() runs. False when the set is full.
bool board_watch_fd(int fd, bool write);
void hal_fd_ready(void);                        // modhal.c: schedules hal.fd_handler's fn

// Storage: a disk of BOARD_SECTOR_B-byte sectors on an image the host keeps (IDE on x86_64,
// semihosting file I/O on arm, a file on unix). boards/common/disk.c builds the block device
// and the crash region on these. Probed by board_init; 0 sectors means no disk. Polled I/O,
// usable with interrupts off (the fault handlers write the crash region).
#define BOARD_SECTOR_B (512)
uint32_t board_disk_sectors(void);
const char *board_disk_name(void);              // what the disk is, for `mount`
int board_disk_read(uint32_t lba, uint8_t *buf, uint32_t n);    // 0, or a negative errno
int board_disk_write(uint32_t lba, const uint8_t *buf, uint32_t n);
int board_disk_flush(void);                     // written sectors reach the host image

// The fault handlers' report also goes to the disk's crash region (boards/common/disk.c):
// hal_crash_put() per piece of text, hal_crash_commit() once, before power-off.
void hal_crash_put(const char *s, size_t n);
void hal_crash_commit(void);

#endif // MULTIOS_BOARD_H
