# port.mk: the one MultiOS port layer, built out of MicroPython's tree for any board.
#   make -f boards/common/port.mk BOARD=arm TOP=build/micropython BUILD=build/arm/obj
# boards/$(BOARD)/board.mk supplies only data: toolchain, CPU flags, linker script,
# board sources and QEMU arguments. Everything else is here, once.
BOARD ?= arm
BOARD_DIR := boards/$(BOARD)
ifeq ($(wildcard $(BOARD_DIR)/board.mk),)
$(error unknown BOARD '$(BOARD)': expected one of $(notdir $(wildcard boards/*/board.mk)))
endif

include $(TOP)/py/mkenv.mk
vpath mpconfigport.h boards/common   # py.mk names it relative to the port directory
include $(BOARD_DIR)/board.mk

QSTR_DEFS = boards/common/qstrdefsport.h

# Qstrs that would otherwise sit in the frozen code's own pool, or be interned at run time.
# - Every qstr of the frozen modules (tools/frozen_qstrs.py: names, string constants, module
#   names and paths): MicroPython binary-searches each sorted pool in turn whenever it makes
#   a string, and a second pool of ~2,000 frozen qstrs cost ~250 instructions per string
#   (perf_bench core_str 1.14x stock); in the firmware's pool they cost one search.
# - The ASCII letters and digits: one-character strings are interned, and the run-time pools
#   are scanned linearly before any other (with the 29 the boot once left there, core_str
#   took 1.19x stock's time).
# The header is rewritten only when its content changes: a new name in a frozen module then
# rebuilds the C code (every object includes the qstr numbers), an edit that adds none does not.
FROZEN_PY = $(wildcard hal/*.py kernel/*.py services/*.py)
FROZEN_TOP_PY = $(wildcard boards/common/frozen/*.py)
QSTR_FROZEN = $(BUILD)/qstrdefs_frozen.h
QSTR_DEFS += $(QSTR_FROZEN)
$(QSTR_FROZEN): $(FROZEN_PY) $(FROZEN_TOP_PY) tools/frozen_qstrs.py boards/common/port.mk
	$(Q)mkdir -p $(@D)
	$(Q){ $(PYTHON) tools/frozen_qstrs.py . $(FROZEN_PY) && \
	    $(PYTHON) tools/frozen_qstrs.py boards/common/frozen $(FROZEN_TOP_PY) && \
	    $(PYTHON) tools/frozen_qstrs.py $(TOP)/extmod $(TOP)/extmod/asyncio/[!m]*.py \
	        | sed 's|^Q(asyncio|Q(mpasyncio|' && \
	    $(PYTHON) -c 'import string; print("\n".join("Q(%s)" % c for c in string.ascii_letters + string.digits))'; \
	    } | grep '^Q(' | sort -u > $@.new
	$(Q)cmp -s $@.new $@ && rm $@.new || mv $@.new $@
FROZEN_MANIFEST = boards/common/manifest.py
MICROPY_ROM_TEXT_COMPRESSION ?= 1
# littlefs v2 from MicroPython's lib/littlefs (extmod.mk adds its sources and flags).
MICROPY_VFS_LFS2 = 1

include $(TOP)/py/py.mk
include $(TOP)/extmod/extmod.mk
# py.mk names the config as `mpconfigport.h`; vpath finds it, but then mkrules.mk cannot tell
# that the config changed and extracts qstrs from it alone: name it by its path.
QSTR_GLOBAL_DEPENDENCIES := $(patsubst mpconfigport.h,boards/common/mpconfigport.h,$(QSTR_GLOBAL_DEPENDENCIES))

INC += -I. -Iboards/common -I$(BOARD_DIR) -I$(TOP) -I$(BUILD)
CFLAGS += $(INC) -Wall -Werror -Wpointer-arith -std=gnu99 -Os -DNDEBUG -g
CFLAGS += -ffunction-sections -fdata-sections -fno-common
CFLAGS += -DMULTIOS_BOARD_NAME='"$(BOARD)"' -DMULTIOS_CPU_NAME='"$(CPU_NAME)"'
CFLAGS += $(CFLAGS_BOARD)
LDFLAGS += -nostdlib -T $(LDSCRIPT) -Wl,--gc-sections -Wl,-Map=$(BUILD)/firmware.map $(LDFLAGS_BOARD)
LIBS += $(shell $(CC) $(CFLAGS) -print-libgcc-file-name)

SRC_C += \
	boards/common/main.c \
	boards/common/mphalport.c \
	boards/common/hal.c \
	boards/common/gcstart.c \
	boards/common/modhal.c \
	boards/common/disk.c \
	boards/common/lfsinfo.c \
	boards/common/modktrap.c \
	boards/common/modksched.c \
	boards/common/modknames.c \
	boards/common/modkprobes.c \
	boards/common/modksvc.c \
	boards/common/modkasync.c \
	shared/libc/string0.c \
	shared/readline/readline.c \
	shared/runtime/interrupt_char.c \
	shared/runtime/pyexec.c \
	shared/runtime/stdout_helpers.c \
	shared/runtime/sys_stdio_mphal.c \
	shared/timeutils/timeutils.c \
	$(SRC_BOARD_C)

LIB_SRC_C += $(SRC_LIB_LIBM_C) $(SRC_LIB_LIBM_SQRT_SW_C)

ifneq ($(NET_DRIVER_C),)
include boards/common/lwip.mk
endif
include boards/common/mbedtls.mk

OBJ += $(PY_O)
OBJ += $(addprefix $(BUILD)/, $(SRC_C:.c=.o))
OBJ += $(addprefix $(BUILD)/, $(SRC_BOARD_S:.S=.o))
OBJ += $(addprefix $(BUILD)/, $(SRC_BOARD_O))
OBJ += $(addprefix $(BUILD)/, $(LIB_SRC_C:.c=.o))
SRC_QSTR += $(SRC_C) $(LIB_SRC_C)

OUT := $(dir $(BUILD:/=))
all: $(OUT)firmware.elf

$(OUT)firmware.elf: $(LDSCRIPT) $(OBJ)
	$(ECHO) "LINK $@"
	$(Q)$(CC) $(CFLAGS_BOARD) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)
	$(Q)$(SIZE) $@
	$(Q)$(POSTLINK)

# MicroPython's own asyncio is frozen too, as `mpasyncio`, so that benchmarks compare it with
# the kernel's on the same build; the manifest reaches it through $(BUILD)/extra.
MICROPY_MANIFEST_BUILD = $(abspath $(BUILD))
$(BUILD)/frozen_content.c: $(BUILD)/extra/mpasyncio
$(BUILD)/extra/mpasyncio:
	$(Q)mkdir -p $(@D)
	$(Q)ln -sfn $(abspath $(TOP))/extmod/asyncio $@

include $(TOP)/py/mkrules.mk
