// board.c: board.h for a PC under qemu-system-x86_64: COM1 16550 console on IRQ 4, the
// 8254 PIT at 1 kHz on IRQ 0 through the remapped 8259 PICs, the TSC for ticks (calibrated
// against the PIT), the CMOS RTC for the wall clock, RDRAND when the CPU has it, ACPI and
// QEMU's isa-debug-exit for power-off, the reset control register for reset.
//
// QEMU exit status: poweroff(0) is an ACPI soft-off and QEMU exits 0; poweroff(n), n != 0,
// writes n to isa-debug-exit (port 0xf4) and QEMU exits (2n + 1) & 0xff: 1 -> 3, 3 -> 7
// (CPU exception), 5 -> 11, 70 -> 141 (fatal error). Status 1 means the ACPI power-off
// failed and the fallback ran.
#include <string.h>
#include "board.h"
#include "hal.h"
#include "shared/timeutils/timeutils.h"
#include "x86.h"

#define TIMER_HZ (1000)
#define PIT_DIVISOR ((PIT_HZ + TIMER_HZ / 2) / TIMER_HZ)   // 1193: 1000.15 Hz
#define CALIBRATE_PIT_COUNTS (PIT_HZ / 100)                 // 10 ms
#define POWEROFF_WAIT_MS (500)

static char entropy_desc[112];

const board_info_t board_info = {
    .name = "x86_64",
    .cpu = "x86-64 in long mode (QEMU pc, -cpu max)",
    .clock = "TSC calibrated against the 8254 PIT (ticks), PIT 1 kHz on 8259 IRQ 0 (interrupts)",
    .entropy = entropy_desc,    // filled in by board_init: RDRAND or the fallback
    .rtc = "MC146818 CMOS RTC (UTC), read at boot and carried forward by the TSC",
    .timer_hz = TIMER_HZ,
};

static uint64_t tsc_boot, tsc_hz;
static uint64_t tsc_mult;       // microseconds per TSC cycle, 32.32 fixed point
static uint64_t boot_epoch_us;
static bool has_rdrand;

uint32_t board_irq_disable(void) {
    uint64_t flags;
    __asm volatile ("pushfq\n pop %0\n cli" : "=r" (flags) : : "memory");
    return flags & RFLAGS_IF;
}

void board_irq_restore(uint32_t state) {
    if (state & RFLAGS_IF) {
        __asm volatile ("sti" : : : "memory");
    }
}

// sti takes effect after the next instruction, so no interrupt slips in before the hlt.
void board_wfi(void) {
    uint32_t state = board_irq_disable();
    __asm volatile ("sti\n hlt" : : : "memory");
    if (!state) {
        __asm volatile ("cli" : : : "memory");
    }
}

uint64_t board_ticks_us(void) {
    return (uint64_t)(((unsigned __int128)(rdtsc() - tsc_boot) * tsc_mult) >> 32);
}

uint64_t board_time_us(void) {
    return boot_epoch_us + board_ticks_us();
}

// ---- console: COM1 ----

void board_console_tx(const char *s, size_t n) {
    while (n--) {
        while (!(inb(UART_LSR) & UART_LSR_THRE)) {
        }
        outb(UART_DATA, (uint8_t)*s++);
    }
}

void board_console_poll(void) {
}

static void uart_init(void) {
    outb(UART_IER, 0);
    outb(UART_LCR, 0x80);       // divisor latch: 1 = 115200 baud
    outb(UART_DATA, 1);
    outb(UART_IER, 0);
    outb(UART_LCR, 0x03);       // 8N1
    outb(UART_FCR, 0x07);       // FIFOs on and cleared, interrupt on every byte
    outb(UART_MCR, 0x0b);       // DTR, RTS, OUT2 (OUT2 gates the IRQ line to the PIC)
    while (inb(UART_LSR) & UART_LSR_DR) {
        inb(UART_DATA);
    }
    outb(UART_IER, 0x01);       // interrupt on received data
}

// ---- interrupts: 8259 PICs ----

static void pic_init(void) {
    outb(PIC1_CMD, 0x11);       // ICW1: edge triggered, cascade, ICW4 follows
    outb(PIC2_CMD, 0x11);
    outb(PIC1_DATA, IRQ_VECTOR);
    outb(PIC2_DATA, IRQ_VECTOR + 8);
    outb(PIC1_DATA, 1 << 2);    // the slave hangs off IRQ 2
    outb(PIC2_DATA, 2);
    outb(PIC1_DATA, 0x01);      // 8086 mode
    outb(PIC2_DATA, 0x01);
    outb(PIC1_DATA, (uint8_t) ~(1 << PIT_IRQ | 1 << COM1_IRQ));
    outb(PIC2_DATA, 0xff);
}

static bool pic_in_service(int irq) {
    uint16_t cmd = irq < 8 ? PIC1_CMD : PIC2_CMD;
    outb(cmd, PIC_READ_ISR);
    return inb(cmd) & (1 << (irq & 7));
}

// Further devices (the NIC) attach their handler to an IRQ line; attaching unmasks it.
static void (*irq_handlers[IRQ_N])(void);

void board_irq_attach(int irq, void (*handler)(void)) {
    irq_handlers[irq] = handler;
    if (irq >= 8) {
        outb(PIC2_DATA, inb(PIC2_DATA) & ~(1 << (irq - 8)));
        irq = 2;    // the cascade
    }
    outb(PIC1_DATA, inb(PIC1_DATA) & ~(1 << irq));
}

void board_irq(int irq) {
    if ((irq == 7 || irq == 15) && !pic_in_service(irq)) {
        if (irq == 15) {
            outb(PIC1_CMD, PIC_EOI);    // spurious on the slave: the master did see IRQ 2
        }
        return;
    }
    if (irq == PIT_IRQ) {
        hal_timer_isr();
    } else if (irq == COM1_IRQ) {
        while (inb(UART_LSR) & UART_LSR_DR) {
            hal_console_rx_isr(inb(UART_DATA));
        }
    } else if (irq_handlers[irq] != NULL) {
        irq_handlers[irq]();
    }
    if (irq >= 8) {
        outb(PIC2_CMD, PIC_EOI);
    }
    outb(PIC1_CMD, PIC_EOI);
}

// ---- time: PIT, TSC, RTC ----

static void pit_start(uint16_t divisor) {
    outb(PIT_CMD, 0x34);        // channel 0, lobyte/hibyte, mode 2 (rate generator)
    outb(PIT_CH0, divisor & 0xff);
    outb(PIT_CH0, divisor >> 8);
}

// One (TSC, PIT count) pair read close together; false if something (the host) stalled us.
static bool pit_sample(uint64_t *tsc, uint16_t *count) {
    uint64_t t0 = rdtsc();
    outb(PIT_CMD, 0x00);        // latch channel 0
    uint16_t c = inb(PIT_CH0);
    c |= inb(PIT_CH0) << 8;
    uint64_t t1 = rdtsc();
    *tsc = t0 + (t1 - t0) / 2;
    *count = c;
    return t1 - t0 < 100000;
}

// With channel 0 counting down from 65535 (one period is 55 ms), take a sample, wait until
// 10 ms of PIT input clock has passed, take another: only the two samples' timing counts.
static void tsc_calibrate(void) {
    uint64_t t0, t1;
    uint16_t c0, c1;
    pit_start(0xffff);
    for (;;) {
        while (!pit_sample(&t0, &c0) || c0 < CALIBRATE_PIT_COUNTS + 1000) {
        }
        bool ok;
        do {
            ok = pit_sample(&t1, &c1);
        } while (c1 <= c0 && (!ok || c0 - c1 < CALIBRATE_PIT_COUNTS));
        if (c1 <= c0) {
            break;
        }
    }
    tsc_hz = (t1 - t0) * PIT_HZ / (c0 - c1);
    tsc_mult = ((uint64_t)1000000 << 32) / tsc_hz;
}

static uint8_t cmos_read(uint8_t reg) {
    outb(CMOS_ADDR, 0x80 | reg);    // bit 7 keeps NMI disabled
    return inb(CMOS_DATA);
}

static void rtc_snapshot(uint8_t t[7]) {
    static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    while (cmos_read(0x0a) & 0x80) {    // update in progress
    }
    for (int i = 0; i < 7; i++) {
        t[i] = cmos_read(regs[i]);
    }
}

static uint32_t bcd(uint8_t v) {
    return (v >> 4) * 10 + (v & 15);
}

// Seconds since 1970 UTC: read until two snapshots agree (no update in between).
static uint64_t rtc_seconds(void) {
    uint8_t t[7], u[7];
    do {
        rtc_snapshot(t);
        rtc_snapshot(u);
    } while (memcmp(t, u, sizeof(t)) != 0);
    uint8_t status_b = cmos_read(0x0b);
    bool pm = t[2] & 0x80;
    t[2] &= 0x7f;
    uint32_t v[7];
    for (int i = 0; i < 7; i++) {
        v[i] = status_b & 0x04 ? t[i] : bcd(t[i]);
    }
    if (!(status_b & 0x02)) {       // 12-hour mode
        v[2] = v[2] % 12 + (pm ? 12 : 0);
    }
    uint32_t year = (v[6] ? v[6] : 20) * 100 + v[5];
    return timeutils_seconds_since_epoch(year, v[4], v[3], v[2], v[1], v[0]);
}

// ---- entropy ----

static bool rdrand64(uint64_t *v) {
    for (int i = 0; i < 10; i++) {  // Intel's advice: retry a few times on underflow
        uint8_t ok;
        __asm volatile ("rdrand %0\n setc %1" : "=r" (*v), "=qm" (ok) : : "cc");
        if (ok) {
            return true;
        }
    }
    return false;
}

uint64_t board_entropy(void) {
    uint64_t seed;
    if (has_rdrand && rdrand64(&seed)) {
        return seed;
    }
    // Where each of 8 PIT interrupts lands against the TSC depends on the host's scheduling
    // of the emulator; the RTC separates boots further apart.
    seed = boot_epoch_us;
    for (int i = 0; i < 8; i++) {
        uint32_t n = hal_irq_count[HAL_IRQ_TIMER];
        while (hal_irq_count[HAL_IRQ_TIMER] == n) {
            board_wfi();
        }
        seed = (seed << 5 | seed >> 59) ^ rdtsc();
    }
    return seed;
}

void board_wdt_enable(void) {
}

// QEMU's multiboot cmdline, "<kernel path> <-append text>", copied by start.S before .bss is
// zeroed (QEMU puts it inside our .bss); kept in .data so that zeroing leaves it alone.
char mb_cmdline[BOARD_CMDLINE_MAX] __attribute__((section(".data")));

const char *board_cmdline(void) {
    const char *s = strchr(mb_cmdline, ' ');   // the first word is the kernel's path
    return s != NULL ? s + 1 : "";
}

void board_init(void) {
    uart_init();
    pic_init();
    tsc_calibrate();
    tsc_boot = rdtsc();
    pit_start(PIT_DIVISOR);
    boot_epoch_us = rtc_seconds() * 1000000 - board_ticks_us();
    uint32_t r[4];
    cpuid(1, r);
    has_rdrand = r[2] & (1u << 30);
    ata_init();
    strcpy(entropy_desc, has_rdrand
        ? "RDRAND (CPUID.01H:ECX.RDRAND = 1) seeds xoshiro128**"
        : "no RDRAND (CPUID.01H:ECX.RDRAND = 0): TSC jitter of 8 PIT interrupts and the RTC; "
        "not cryptographic");
    __asm volatile ("sti" : : : "memory");
}

// ---- identity ----

uint64_t board_cpu_hz(void) {
    return tsc_hz;
}

// QEMU has no per-board serial number: CPUID leaf 1 (signature, APIC ID) identifies the
// CPU model (the same on every QEMU instance with the same -cpu).
size_t board_unique_id(uint8_t *id, size_t max) {
    uint32_t r[4];
    cpuid(1, r);
    size_t n = max < 8 ? max : 8;
    memcpy(id, r, n);
    return n;
}

// ---- power ----

void board_poweroff(int code) {
    board_irq_disable();
    if (code == 0) {
        outw(ACPI_PM1A_CNT, ACPI_SLP_EN);
        // QEMU powers off asynchronously: wait before falling back to exit status 1.
        uint64_t t0 = rdtsc();
        uint64_t wait = (tsc_hz ? tsc_hz : 3000000000u) / 1000 * POWEROFF_WAIT_MS;
        while (rdtsc() - t0 < wait) {
            __asm volatile ("pause");
        }
    }
    outl(DEBUG_EXIT, code);     // QEMU exits with status (code << 1) | 1
    for (;;) {
        __asm volatile ("cli\n hlt");
    }
}

void board_reset(void) {
    board_irq_disable();
    outb(RESET_CTRL, 0x02);     // arm a hard reset...
    outb(RESET_CTRL, 0x06);     // ...and trigger it
    outb(KBC_CMD, 0xfe);        // else pulse the CPU reset line through the 8042
    struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } none = { 0, 0 };
    __asm volatile ("lidt %0\n int3" : : "m" (none));  // else triple fault: the CPU resets
    for (;;) {
        __asm volatile ("cli\n hlt");
    }
}
