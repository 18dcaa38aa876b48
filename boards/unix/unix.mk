# boards/unix/unix.mk: MicroPython's unix port plus the project's `_hal` C module.
#
# The unit tests run on this binary, so they exercise the same HAL C code as the boards
# (boards/common/modhal.c and hal.c) over a unix backend (boards/unix/board_unix.c).
# The allocation counter is kept across collections by wrapping gc_collect at link time.
# cryptolib on the boards' mbedTLS subset (boards/common/mbedtls_config.h; the sources are
# compiled in by boards/unix/micropython.mk), not on the system's libmbedtls: no ssl module.
REPO := $(CURDIR)
OUT  := $(REPO)/build/unix
CRYPTO_CFLAGS := -DMICROPY_SSL_MBEDTLS=1 -DMICROPY_PY_CRYPTOLIB=1 -DMICROPY_PY_CRYPTOLIB_CTR=1 \
	-DMICROPY_PY_CRYPTOLIB_CONSTS=1 -I$(REPO)/build/mbedtls/include -I$(REPO) \
	-DMBEDTLS_CONFIG_FILE=\"boards/common/mbedtls_config.h\"

$(OUT)/micropython: FORCE
	@$(MAKE) --no-print-directory -C $(MPY)/ports/unix \
	    BUILD=$(OUT)/obj \
	    USER_C_MODULES=$(REPO)/boards \
	    FROZEN_MANIFEST=$(REPO)/boards/unix/manifest.py \
	    MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_USE_READLINE=1 \
	    CFLAGS_EXTRA='-DMULTIOS_BOARD_UNIX=1 $(CRYPTO_CFLAGS)' \
	    LDFLAGS_EXTRA='-Wl,--wrap=gc_collect' \
	    2>&1 | grep -v '^Including User C Module' || true
	@test -x $(OUT)/obj/micropython
	@cp -p $(OUT)/obj/micropython $@

FORCE:
