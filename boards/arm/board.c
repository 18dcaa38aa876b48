// board.c: board.h for QEMU mps2-an385: CMSDK UART0, SysTick at 1 kHz, the FPGA's 25 MHz
// counter for ticks, and ARM semihosting for the host's wall clock and for power-off with
// an exact QEMU exit status.
#include <string.h>
#include "board.h"
#include "hal.h"
#include "mps2.h"

#define TIMER_HZ (1000)

#define ADP_STOPPED_APPLICATION_EXIT (0x20026)

const board_info_t board_info = {
    .name = "arm",
    .cpu = "ARM Cortex-M3 (QEMU mps2-an385)",
    .clock = "FPGA 25 MHz counter (ticks), SysTick 1 kHz (interrupts)",
    .entropy = "no hardware RNG: SysTick interrupt arrival jitter against the 25 MHz counter, "
        "mixed with the host clock (semihosting); not cryptographic",
    .rtc = "host clock via semihosting SYS_TIME",
    .timer_hz = TIMER_HZ,
};

static uint64_t boot_epoch_us;
static uint32_t counter_last;

uint32_t board_irq_disable(void) {
    uint32_t primask;
    __asm volatile ("mrs %0, primask\n cpsid i" : "=r" (primask) : : "memory");
    return primask;
}

void board_irq_restore(uint32_t state) {
    __asm volatile ("msr primask, %0" : : "r" (state) : "memory");
}

void board_wfi(void) {
    __asm volatile ("wfi");
}

// The 32-bit counter wraps every 172 s; the SysTick handler reads it every millisecond,
// so accumulating differences here never misses a wrap. Only 32-bit divisions (UDIV) on
// this path: it runs once per task switch.
static uint64_t now_us;
static uint32_t cycles_rem;     // cycles not yet worth a whole microsecond

uint64_t board_ticks_us(void) {
    uint32_t state = board_irq_disable();
    uint32_t now = FPGAIO_COUNTER;
    uint32_t delta = now - counter_last + cycles_rem;
    counter_last = now;
    uint32_t us = delta / (SYSCLK_HZ / 1000000);
    cycles_rem = delta - us * (SYSCLK_HZ / 1000000);
    now_us += us;
    uint64_t t = now_us;
    board_irq_restore(state);
    return t;
}

uint64_t board_time_us(void) {
    return boot_epoch_us + board_ticks_us();
}

// The frame the CPU stacked for the interrupted code: r0-r3, r12, lr, pc, xpsr.
#define FRAME_PC (6)
#define FRAME_XPSR (7)
#define XPSR_T (1u << 24)
#define XPSR_ICI_IT (0x0600fc00u)   // If-Then / interrupted-multiple state: none at the new pc

// Thread mode, instead of the interrupted native code: 8-byte stack alignment (AAPCS; native
// code may leave sp 4-aligned), then the Watchdog is raised from there.
__attribute__((naked, used)) static void wdt_native_entry(void) {
    __asm volatile (
        "mov r0, sp\n"
        "bic r0, r0, #7\n"
        "mov sp, r0\n"
        "b hal_wdt_native_raise\n");
}

__attribute__((used)) static void systick_c(uint32_t *frame, uint32_t exc_return) {
    board_ticks_us();
    hal_timer_isr();
    if ((exc_return & 4) && hal_wdt_redirect(frame[FRAME_PC])) {   // thread mode only
        frame[FRAME_PC] = (uint32_t)wdt_native_entry & ~1u;
        frame[FRAME_XPSR] = (frame[FRAME_XPSR] & ~XPSR_ICI_IT) | XPSR_T;
    }
}

// SysTick: hands systick_c the interrupted code's frame (Python runs on the PSP).
void SysTick_Handler(void) __attribute__((naked));
void SysTick_Handler(void) {
    __asm volatile (
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b systick_c\n");
}

void UART0_RX_Handler(void) {
    UART_INTCLEAR = UART_INT_RX;
    while (UART_STATE & UART_STATE_RXFULL) {
        hal_console_rx_isr(UART_DATA & 0xff);
    }
}

void board_console_tx(const char *s, size_t n) {
    while (n--) {
        while (UART_STATE & UART_STATE_TXFULL) {
        }
        UART_DATA = (uint8_t)*s++;
    }
}

void board_console_poll(void) {
}

void board_wdt_enable(void) {
}

uint64_t board_entropy(void) {
    // Where each of 8 SysTick interrupts lands against the 25 MHz counter depends on the
    // host's scheduling of the emulator; the host clock separates boots further apart.
    uint64_t seed = boot_epoch_us;
    for (int i = 0; i < 8; i++) {
        uint32_t n = hal_irq_count[HAL_IRQ_TIMER];
        while (hal_irq_count[HAL_IRQ_TIMER] == n) {
            board_wfi();
        }
        seed = (seed << 5 | seed >> 59) ^ FPGAIO_COUNTER;
    }
    return seed;
}

void board_init(void) {
    boot_epoch_us = (uint64_t)semihost(SYS_TIME, NULL) * 1000000;
    UART_BAUDDIV = 16;
    UART_CTRL = UART_CTRL_TXEN | UART_CTRL_RXEN | UART_CTRL_RXINTEN;
    NVIC_ISER0 = 1u << UART0_RX_IRQ;
    SYST_RVR = SYSCLK_HZ / TIMER_HZ - 1;
    SYST_CVR = 0;
    SYST_CSR = 7;   // processor clock, interrupt, enable
    semidisk_init();
}

// Semihosting's command line: QEMU gives "<kernel path> <-append text>" when no
// -semihosting-config arg= is set; the first word (the program) is dropped.
const char *board_cmdline(void) {
    static char buf[BOARD_CMDLINE_MAX];
    static bool done;
    if (!done) {
        uint32_t block[2] = { (uint32_t)buf, sizeof(buf) - 1 };
        done = true;
        if (semihost(SYS_GET_CMDLINE, block) != 0) {
            buf[0] = 0;
        }
        buf[sizeof(buf) - 1] = 0;
    }
    const char *s = strchr(buf, ' ');
    return s != NULL ? s + 1 : "";
}

uint64_t board_cpu_hz(void) {
    return SYSCLK_HZ;
}

// QEMU has no per-board serial number: the CPUID and the SCC's board ID identify the model
// (the same on every QEMU instance).
size_t board_unique_id(uint8_t *id, size_t max) {
    uint32_t words[2] = { SCB_CPUID, SCC_ID };
    size_t n = max < sizeof(words) ? max : sizeof(words);
    memcpy(id, words, n);
    return n;
}

void board_poweroff(int code) {
    uint32_t block[2] = { ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code };
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
        board_wfi();
    }
}

void board_reset(void) {
    SCB_AIRCR = SCB_AIRCR_RESET;
    for (;;) {
        board_wfi();
    }
}
