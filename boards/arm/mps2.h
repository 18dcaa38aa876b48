// mps2.h: the registers MultiOS uses on QEMU mps2-an385 (Cortex-M3, CMSDK peripherals).
#ifndef MULTIOS_MPS2_H
#define MULTIOS_MPS2_H

#define REG(addr) (*(volatile uint32_t *)(addr))

// System control block and SysTick.
#define SCB_CPUID       REG(0xe000ed00)
#define SCB_ICSR        REG(0xe000ed04)
#define SCB_AIRCR       REG(0xe000ed0c)
#define SCB_CCR         REG(0xe000ed14)
#define SCB_SHCSR       REG(0xe000ed24)
#define SCB_CFSR        REG(0xe000ed28)
#define SCB_HFSR        REG(0xe000ed2c)
#define SCB_MMFAR       REG(0xe000ed34)
#define SCB_BFAR        REG(0xe000ed38)
#define SCB_SHCSR_MEMFAULTENA (1u << 16)
#define SCB_SHCSR_BUSFAULTENA (1u << 17)
#define SCB_SHCSR_USGFAULTENA (1u << 18)
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_CFSR_MSTKERR (1u << 4)
#define SCB_CFSR_STKERR (1u << 12)
#define SCB_AIRCR_RESET (0x05fa0004u)
#define SYST_CSR        REG(0xe000e010)
#define SYST_RVR        REG(0xe000e014)
#define SYST_CVR        REG(0xe000e018)
#define NVIC_ISER0      REG(0xe000e100)

// CMSDK APB UART0; its RX interrupt is IRQ 0.
#define UART0_BASE      (0x40004000)
#define UART_DATA       REG(UART0_BASE + 0x00)
#define UART_STATE      REG(UART0_BASE + 0x04)
#define UART_CTRL       REG(UART0_BASE + 0x08)
#define UART_INTCLEAR   REG(UART0_BASE + 0x0c)
#define UART_BAUDDIV    REG(UART0_BASE + 0x10)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TXEN  (1u << 0)
#define UART_CTRL_RXEN  (1u << 1)
#define UART_CTRL_RXINTEN (1u << 3)
#define UART_INT_RX     (1u << 1)
#define UART0_RX_IRQ    (0)

// FPGA I/O: a free-running counter at the 25 MHz system clock.
#define FPGAIO_COUNTER  REG(0x40028018)
#define SYSCLK_HZ       (25000000u)

// Serial communication controller: the board's ID register (0x41043850 on the AN385).
#define SCC_ID          REG(0x4002fffc)

// ARM semihosting (QEMU -semihosting-config enable=on,target=native): one trap per call.
#define SYS_OPEN        (0x01)
#define SYS_CLOSE       (0x02)
#define SYS_WRITE       (0x05)
#define SYS_READ        (0x06)
#define SYS_SEEK        (0x0a)
#define SYS_FLEN        (0x0c)
#define SYS_TIME        (0x11)
#define SYS_GET_CMDLINE (0x15)
#define SYS_EXIT_EXTENDED (0x20)

static inline uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile ("bkpt 0xab" : "+r" (r0) : "r" (r1) : "memory");
    return r0;
}

void semidisk_init(void);       // open the host image named by `disk=` (semidisk.c)

#endif // MULTIOS_MPS2_H
