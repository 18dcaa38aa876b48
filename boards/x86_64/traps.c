// traps.c: the GDT's task state segment and the IDT, and the report of a CPU exception.
//
// Every vector 0..47 enters through start.S and lands in trap_dispatch(): 32..47 are the
// PIC's IRQs and go to the board; a CPU exception prints its vector, error code, RIP (and
// CR2 for a page fault or a double fault) and powers off with code 3, so QEMU ends instead
// of hanging or rebooting in a loop. The double fault runs on its own stack (IST 1): a
// stack overflow hits the unmapped guard page, the page fault cannot be pushed on the dead
// stack, and the double-fault handler reports it from a stack that works.
#include <stdint.h>
#include "board.h"
#include "hal.h"
#include "x86.h"

#define VECTOR_N (IRQ_VECTOR + IRQ_N)
#define VEC_DF (8)
#define VEC_PF (14)
#define GDT_TSS (3)             // index of the TSS descriptor in start.S's gdt
#define IST_DF (1)
#define GATE_INTERRUPT (0x8e)   // present, ring 0, 64-bit interrupt gate (clears IF)

typedef struct __attribute__((packed)) _tss_t {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} tss_t;

typedef struct _idt_entry_t {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
} idt_entry_t;

typedef struct __attribute__((packed)) _table_ptr_t {
    uint16_t limit;
    uint64_t base;
} table_ptr_t;

extern uint64_t gdt[];
extern const char isr_stubs[];          // 16 bytes per vector
extern uint8_t _eist_stack[], _stack_guard[];

static tss_t tss;
static idt_entry_t idt[VECTOR_N];

static const char *const names[] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range exceeded", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor segment overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack-segment fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 floating point", "#AC alignment check",
    "#MC machine check", "#XM SIMD floating point", "#VE virtualization",
    "#CP control protection",
};

void traps_init(void) {
    uint64_t base = (uint64_t)&tss;
    tss.ist[IST_DF - 1] = (uint64_t)_eist_stack;
    tss.iomap_base = sizeof(tss);
    gdt[GDT_TSS] = (sizeof(tss) - 1) | (base & 0xffffff) << 16 | 0x89ull << 40   // present, 64-bit TSS
        | (base >> 24 & 0xff) << 56;
    gdt[GDT_TSS + 1] = base >> 32;
    __asm volatile ("ltr %w0" : : "r" (GDT_TSS * 8));

    for (int v = 0; v < VECTOR_N; v++) {
        uint64_t addr = (uint64_t)(isr_stubs + 16 * v);
        idt[v] = (idt_entry_t) {
            .offset_low = addr & 0xffff,
            .selector = 0x08,
            .ist = v == VEC_DF ? IST_DF : 0,
            .attr = GATE_INTERRUPT,
            .offset_mid = addr >> 16 & 0xffff,
            .offset_high = addr >> 32,
        };
    }
    table_ptr_t idtr = { sizeof(idt) - 1, (uint64_t)idt };
    __asm volatile ("lidt %0" : : "m" (idtr));
}

static void put(const char *s) {
    board_console_tx(s, __builtin_strlen(s));
    hal_crash_put(s, __builtin_strlen(s));  // and into the report for the next boot
}

static void put_reg(const char *name, uint64_t v) {
    char buf[24];
    put(" ");
    put(name);
    put("=");
    for (int i = 15; i >= 0; i--, v >>= 4) {
        buf[i] = "0123456789abcdef"[v & 15];
    }
    buf[16] = 0;
    put(buf);
}

void trap_dispatch(trap_frame_t *f) {
    if (f->vector >= IRQ_VECTOR) {
        board_irq(f->vector - IRQ_VECTOR);
        if (f->vector == IRQ_VECTOR + PIT_IRQ && hal_wdt_redirect(f->rip)) {
            // Native code ignored the step watchdog: iretq into hal_wdt_native_raise, on a
            // stack aligned as after a call, below anything the native code keeps under rsp.
            f->rsp = ((f->rsp - 128) & ~(uint64_t)15) - 8;
            f->rip = (uint64_t)hal_wdt_native_raise;
        }
        return;
    }
    uint64_t cr2 = read_cr2();
    char vec[3] = { '0' + f->vector / 10, '0' + f->vector % 10, 0 };
    put("\r\n*** CPU exception ");
    put(vec);
    put(": ");
    put(f->vector < sizeof(names) / sizeof(names[0]) ? names[f->vector] : "reserved");
    put(" ***\r\n");
    put_reg("error", f->error);
    put_reg("rip", f->rip);
    if (f->vector == VEC_PF || f->vector == VEC_DF) {
        put_reg("cr2", cr2);
    }
    put("\r\n");
    put_reg("rsp", f->rsp);
    put_reg("rbp", f->rbp);
    put_reg("rflags", f->rflags);
    put("\r\n");
    put_reg("rax", f->rax);
    put_reg("rbx", f->rbx);
    put_reg("rcx", f->rcx);
    put_reg("rdx", f->rdx);
    put("\r\n");
    put_reg("rsi", f->rsi);
    put_reg("rdi", f->rdi);
    put_reg("r8", f->r8);
    put_reg("r9", f->r9);
    put("\r\n");
    if (cr2 - (uint64_t)_stack_guard < 4096 && (f->vector == VEC_PF || f->vector == VEC_DF)) {
        put(" the fault address is the stack guard page: stack overflow\r\n");
    }
    hal_crash_commit();
    board_poweroff(3);
}
