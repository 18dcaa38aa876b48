// startup.c: Cortex-M3 vector table, reset and fault handlers for mps2-an385.
//
// Python runs in thread mode on the process stack (PSP, bottom of RAM); handlers run on
// their own main stack (MSP). A thread-stack overflow therefore faults on unmapped memory
// and is reported by a handler whose stack is intact, instead of corrupting .data.
#include <stdint.h>
#include "board.h"
#include "mps2.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[], _ehandler_stack[];
int main(void);
void SysTick_Handler(void);
void UART0_RX_Handler(void);
void ETH_IRQHandler(void);

void Reset_Handler(void) __attribute__((naked, noreturn));
void Reset_Handler(void) {
    // Thread mode uses PSP from here on; MSP stays on the handler stack.
    __asm volatile (
        "msr psp, %0\n"
        "movs r0, #2\n"
        "msr control, r0\n"
        "isb\n"
        "b reset_c\n"
        : : "r" (_estack) : "r0");
}

__attribute__((used, noreturn)) static void reset_c(void) {
    for (uint32_t *src = _sidata, *dst = _sdata; dst < _edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = _sbss; dst < _ebss;) {
        *dst++ = 0;
    }
    SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA | SCB_SHCSR_USGFAULTENA;
    SCB_CCR |= SCB_CCR_DIV_0_TRP;
    main();
    board_poweroff(0);
}

static void put(const char *s) {
    board_console_tx(s, __builtin_strlen(s));
    hal_crash_put(s, __builtin_strlen(s));  // and into the report for the next boot
}

static void put_reg(const char *name, uint32_t v) {
    char buf[16] = " ";
    int n = 1;
    while (*name) {
        buf[n++] = *name++;
    }
    buf[n++] = '=';
    put(buf);
    char hex[9];
    for (int i = 7; i >= 0; i--, v >>= 4) {
        hex[i] = "0123456789abcdef"[v & 15];
    }
    hex[8] = 0;
    put(hex);
}

// Called with the exception frame (r0-r3, r12, lr, pc, xpsr) pushed by the CPU.
__attribute__((used, noreturn)) static void fault_report(uint32_t *frame, uint32_t exc_return) {
    static const char *const names[] = { "?", "?", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault" };
    uint32_t ipsr;
    __asm volatile ("mrs %0, ipsr" : "=r" (ipsr));
    put("\r\n*** CPU fault: ");
    put(ipsr < 7 ? names[ipsr] : "?");
    put(" ***\r\n");
    // When stacking itself failed (stack overflow), the frame is not readable.
    if (!(SCB_CFSR & (SCB_CFSR_MSTKERR | SCB_CFSR_STKERR))) {
        put_reg("pc", frame[6]);
        put_reg("lr", frame[5]);
        put_reg("xpsr", frame[7]);
        put("\r\n");
        put_reg("r0", frame[0]);
        put_reg("r1", frame[1]);
        put_reg("r2", frame[2]);
        put_reg("r3", frame[3]);
        put_reg("r12", frame[4]);
        put("\r\n");
    } else {
        put(" stacking failed: stack overflow?\r\n");
    }
    put_reg("sp", (uint32_t)frame);
    put_reg("exc_return", exc_return);
    put_reg("cfsr", SCB_CFSR);
    put_reg("hfsr", SCB_HFSR);
    put_reg("mmfar", SCB_MMFAR);
    put_reg("bfar", SCB_BFAR);
    put("\r\n");
    hal_crash_commit();
    board_poweroff(3);
}

void Fault_Handler(void) __attribute__((naked));
void Fault_Handler(void) {
    __asm volatile (
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "mov r1, lr\n"
        "b fault_report\n");
}

static void Default_Handler(void) {
    put("\r\n*** unexpected interrupt ***\r\n");
    board_poweroff(3);
}

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used)) const vector_t isr_vector[16 + 32] = {
    (vector_t)_ehandler_stack,
    Reset_Handler,
    Fault_Handler,      // NMI
    Fault_Handler,      // HardFault
    Fault_Handler,      // MemManage
    Fault_Handler,      // BusFault
    Fault_Handler,      // UsageFault
    0, 0, 0, 0,
    Default_Handler,    // SVCall
    Default_Handler,    // DebugMonitor
    0,
    Default_Handler,    // PendSV
    SysTick_Handler,
    [16 + 0] = UART0_RX_Handler,
    [16 + 1 ... 16 + 31] = Default_Handler,
    [16 + 13] = ETH_IRQHandler,     // boards/arm/lan9118.c
};
