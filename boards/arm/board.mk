# boards/arm: QEMU mps2-an385, an ARM Cortex-M3 with 16 MiB of PSRAM. Data only.
CROSS_COMPILE ?= arm-none-eabi-
CPU_NAME      := Cortex-M3
CFLAGS_BOARD  := -mthumb -mcpu=cortex-m3 -mfloat-abi=soft
LDSCRIPT      := boards/arm/link.ld
SRC_BOARD_C   := boards/arm/startup.c boards/arm/board.c boards/arm/semidisk.c
NET_DRIVER_C  := boards/arm/lan9118.c
SRC_BOARD_O   := shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o
MPY_CROSS_FLAGS += -march=armv7m

QEMU_SYSTEM   := qemu-system-arm
QEMU_NIC      := lan9118
QEMU_ARGS     := -machine mps2-an385 -cpu cortex-m3 -nographic -monitor none \
                 -semihosting-config enable=on,target=native \
                 -kernel build/arm/firmware.elf
# No storage controller on this machine: the disk is a host image through semihosting file
# I/O, named on the semihosting command line (boards/arm/semidisk.c). @DISK@: its path.
QEMU_DISK     := -append disk=@DISK@
