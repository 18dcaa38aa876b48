// start.S: multiboot v1 entry, the climb from 32-bit protected mode to long mode, and the
// interrupt entry stubs.
//
// QEMU's -kernel loads the elf32-i386 copy of the firmware (multiboot v1 takes no 64-bit
// ELF) and jumps to _start in 32-bit protected mode with paging off. We zero .bss, map the
// first 1 GiB 1:1 (4 KiB pages for the first 8 MiB so that page 0 and the page below the
// stack can stay unmapped, 2 MiB pages above), enable PAE, EFER.LME, paging and SSE, load
// a GDT with a 64-bit code segment and far-jump into 64-bit code, which calls main().

#define MB_MAGIC    0x1badb002
#define MB_FLAGS    0x00000003          // page-aligned modules, memory map wanted
#define MB_LOADED   0x2badb002          // %eax from a multiboot loader (%ebx: its info)
#define MB_INFO_CMDLINE 0x4             // info flags: `cmdline` (offset 16) is valid
#define MB_CMDLINE_MAX 512              // BOARD_CMDLINE_MAX (board.h)
#define PTE_P       0x001
#define PTE_W       0x002
#define PTE_PS      0x080               // 2 MiB page in a page directory
#define PT_PAGES    4                   // 4 page tables: 4 KiB pages for 0..8 MiB
#define CR0_PE      (1 << 0)
#define CR0_MP      (1 << 1)
#define CR0_EM      (1 << 2)
#define CR0_PG      (1 << 31)
#define CR4_PAE     (1 << 5)
#define CR4_OSFXSR  (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER    0xc0000080
#define EFER_LME    (1 << 8)
#define SEL_CODE    0x08
#define SEL_DATA    0x10

    .section .multiboot, "a"
    .balign 4
    .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

    .section .text.start, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    mov $_estack, %esp

    // The multiboot cmdline (QEMU -append) lies where QEMU found room: after the ELF's file
    // image, inside what becomes our .bss. Copy it to mb_cmdline (in .data) before zeroing.
    cmp $MB_LOADED, %eax
    jne 5f
    testl $MB_INFO_CMDLINE, (%ebx)
    jz 5f
    mov 16(%ebx), %esi
    mov $mb_cmdline, %edi
    mov $(MB_CMDLINE_MAX - 1), %ecx
4:  lodsb
    test %al, %al
    jz 5f
    stosb
    loop 4b
5:

    // .bss, page tables included (the loader zeroes it too, but a reset must not rely on it).
    mov $_sbss, %edi
    mov $_ebss, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    movl $(pdpt + PTE_P + PTE_W), pml4
    movl $(pd + PTE_P + PTE_W), pdpt

    // Page tables: entry i maps 4 KiB page i.
    mov $pt, %edi
    mov $(PTE_P + PTE_W), %eax
    mov $(PT_PAGES * 512), %ecx
1:  mov %eax, (%edi)
    add $0x1000, %eax
    add $8, %edi
    loop 1b

    // Page directory: the page tables first, then 2 MiB pages up to 1 GiB.
    mov $pd, %edi
    mov $(pt + PTE_P + PTE_W), %eax
    mov $PT_PAGES, %ecx
2:  mov %eax, (%edi)
    add $0x1000, %eax
    add $8, %edi
    loop 2b
    mov $(PT_PAGES * 0x200000 + PTE_P + PTE_W + PTE_PS), %eax
    mov $(512 - PT_PAGES), %ecx
3:  mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 3b

    // Unmapped: page 0 (NULL dereferences fault) and the stack guard page.
    movl $0, pt
    mov $_stack_guard, %eax
    shr $12, %eax
    movl $0, pt(, %eax, 8)

    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $pml4, %eax
    mov %eax, %cr3
    // EFER.NXE stays off: every mapped page is executable, the heap included, where
    // MicroPython's x64 emitter (@micropython.native, viper) writes its machine code.
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $~CR0_EM, %eax
    or $(CR0_PG | CR0_MP | CR0_PE), %eax
    mov %eax, %cr0

    lgdt gdt_ptr
    ljmp $SEL_CODE, $long_mode

    .code64
long_mode:
    mov $SEL_DATA, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $_estack, %rsp
    xor %ebp, %ebp
    fninit
    call traps_init
    call main
    xor %edi, %edi
    call board_poweroff

// Interrupt entry: one 16-byte stub per vector 0..47 (CPU exceptions, then the 16 PIC
// IRQs). Each pushes a zero error code unless the CPU pushed one, then its vector.
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 48
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

// Saves the general registers and the FPU/SSE state (interrupts may land in code that holds
// doubles in XMM registers), calls trap_dispatch(frame) and returns where the CPU left off.
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rbx
    sub $512, %rsp
    and $-16, %rsp
    fxsave (%rsp)
    mov %rbx, %rdi
    cld
    call trap_dispatch
    fxrstor (%rsp)
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq

    .section .data
// null, 64-bit code, data, and two slots for the TSS descriptor that traps.c fills in.
    .balign 16
    .globl gdt
gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
    .quad 0, 0
gdt_end:
    .balign 4
    .word 0
gdt_ptr:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .bss
    .balign 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4096
pt:
    .skip 4096 * PT_PAGES

    .section .note.GNU-stack, "", @progbits
