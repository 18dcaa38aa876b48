// x86.h: port I/O, CPU registers and the PC devices MultiOS uses on QEMU pc/q35.
#ifndef MULTIOS_X86_H
#define MULTIOS_X86_H

#include <stdint.h>

// 8250/16550 UART COM1 on IRQ 4.
#define COM1            (0x3f8)
#define COM1_IRQ        (4)
#define UART_DATA       (COM1 + 0)
#define UART_IER        (COM1 + 1)
#define UART_FCR        (COM1 + 2)
#define UART_LCR        (COM1 + 3)
#define UART_MCR        (COM1 + 4)
#define UART_LSR        (COM1 + 5)
#define UART_LSR_DR     (0x01)
#define UART_LSR_THRE   (0x20)

// 8259 PICs, remapped so that IRQ n arrives on vector IRQ_VECTOR + n.
#define PIC1_CMD        (0x20)
#define PIC1_DATA       (0x21)
#define PIC2_CMD        (0xa0)
#define PIC2_DATA       (0xa1)
#define PIC_EOI         (0x20)
#define PIC_READ_ISR    (0x0b)
#define IRQ_VECTOR      (32)
#define IRQ_N           (16)

// 8254 PIT channel 0 on IRQ 0.
#define PIT_CH0         (0x40)
#define PIT_CMD         (0x43)
#define PIT_HZ          (1193182u)
#define PIT_IRQ         (0)

// MC146818 CMOS real-time clock.
#define CMOS_ADDR       (0x70)
#define CMOS_DATA       (0x71)

// Power: ACPI PM1a control (SeaBIOS puts the PM block at 0x600 on pc and q35), QEMU's
// isa-debug-exit device, the reset control register and the keyboard controller.
#define ACPI_PM1A_CNT   (0x604)
#define ACPI_SLP_EN     (1u << 13)  // with SLP_TYP 0: QEMU's soft power-off (S5)
#define DEBUG_EXIT      (0xf4)
#define RESET_CTRL      (0xcf9)
#define KBC_CMD         (0x64)

#define RFLAGS_IF       (1u << 9)

void board_irq_attach(int irq, void (*handler)(void));   // board.c: handler, PIC unmasked

static inline void outb(uint16_t port, uint8_t v) {
    __asm volatile ("outb %0, %1" : : "a" (v), "Nd" (port));
}

static inline void outw(uint16_t port, uint16_t v) {
    __asm volatile ("outw %0, %1" : : "a" (v), "Nd" (port));
}

static inline void outl(uint16_t port, uint32_t v) {
    __asm volatile ("outl %0, %1" : : "a" (v), "Nd" (port));
}

static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm volatile ("inb %1, %0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline uint16_t inw(uint16_t port) {
    uint16_t v;
    __asm volatile ("inw %1, %0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm volatile ("inl %1, %0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_cr2(void) {
    uint64_t v;
    __asm volatile ("mov %%cr2, %0" : "=r" (v));
    return v;
}

static inline void cpuid(uint32_t leaf, uint32_t r[4]) {
    __asm volatile ("cpuid" : "=a" (r[0]), "=b" (r[1]), "=c" (r[2]), "=d" (r[3]) : "a" (leaf), "c" (0));
}

// The register frame start.S pushes before calling trap_dispatch().
typedef struct _trap_frame_t {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;      // pushed by the CPU
} trap_frame_t;

void traps_init(void);                          // GDT with TSS, IDT (traps.c)
void trap_dispatch(trap_frame_t *f);            // called by start.S for every vector
void board_irq(int irq);                        // a device interrupt (board.c)
void ata_init(void);                            // probe the IDE disk (ata.c)

#endif // MULTIOS_X86_H
