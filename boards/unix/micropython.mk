# The `_hal` module for the unix port: shared HAL C code plus the unix backend.
SRC_USERMOD_C += $(USER_C_MODULES)/common/modhal.c $(USER_C_MODULES)/common/modktrap.c \
	$(USER_C_MODULES)/common/modksched.c $(USER_C_MODULES)/common/modkasync.c \
	$(USER_C_MODULES)/common/modknames.c $(USER_C_MODULES)/common/modksvc.c \
	$(USER_C_MODULES)/common/modkprobes.c \
	$(USER_C_MODULES)/common/disk.c $(USER_C_MODULES)/common/lfsinfo.c
SRC_USERMOD_LIB_C += $(USER_C_MODULES)/common/hal.c $(USER_C_MODULES)/common/gcstart.c \
	$(USERMOD_DIR)/board_unix.c
# mbedTLS's AES and SHA-256 (build/mbedtls, Debian's source package) for cryptolib and hashlib.
SRC_USERMOD_LIB_C += $(addprefix $(USER_C_MODULES)/../build/mbedtls/library/,\
	aes.c sha256.c platform_util.c)
