# boards/x86_64: a PC under qemu-system-x86_64 (pc, -cpu max), 64-bit long mode. Data only.
# The native gcc builds it against newlib's headers; QEMU's multiboot v1 loader takes only a
# 32-bit ELF, so POSTLINK writes an elf32-i386 copy, firmware32.elf, which QEMU boots.
# gcc for Linux merges sinf and cosf into sincosf, which MicroPython's libm lacks: hence
# -fno-builtin-sinf/cosf. -mno-red-zone: interrupts push onto the interrupted stack; libgcc
# is built with a red zone, so MicroPython's own float16 code replaces libgcc's helpers and
# nothing from libgcc gets linked.
CROSS_COMPILE ?=
CPU_NAME      := x86-64
CFLAGS_BOARD  := -m64 -march=x86-64 -mno-red-zone -mcmodel=small -fno-pic -fno-pie \
                 -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
                 -nostdinc -isystem /usr/include/newlib \
                 -isystem $(shell $(CROSS_COMPILE)gcc -print-file-name=include) \
                 -fno-builtin-sinf -fno-builtin-cosf -DMICROPY_FLOAT_USE_NATIVE_FLT16=0 \
                 -DMULTIOS_PYSTACK_WORDS=16384
LDFLAGS_BOARD := -no-pie -static -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none
LDSCRIPT      := boards/x86_64/link.ld
SRC_BOARD_C   := boards/x86_64/board.c boards/x86_64/traps.c boards/x86_64/ata.c
SRC_BOARD_S   := boards/x86_64/start.S
NET_DRIVER_C  := boards/x86_64/virtio_net.c
SRC_BOARD_O   := shared/runtime/gchelper_generic.o
MPY_TOOL_FLAGS += -mmpz-dig-size=32
POSTLINK       = $(OBJCOPY) -O elf32-i386 $@ $(@D)/firmware32.elf

# -machine q35 works the same (ACPI at 0x604, reset at 0xcf9); pc with -nodefaults reaches
# the prompt about 20 ms sooner. -cpu max has RDRAND; without it the RNG falls back to jitter.
# Exit status: poweroff(0) -> 0 (ACPI), poweroff(n) -> 2n+1 (isa-debug-exit), see board.c.
QEMU_SYSTEM   := qemu-system-x86_64
QEMU_NIC      := virtio-net-pci
QEMU_ARGS     := -machine pc -cpu max -m 128M -nodefaults -display none -monitor none \
                 -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
                 -kernel build/x86_64/firmware32.elf
# The disk: the first ATA disk on the PC's built-in IDE controller (boards/x86_64/ata.c).
QEMU_DISK     := -drive file=@DISK@,format=raw,if=ide,index=0,media=disk,cache=unsafe
