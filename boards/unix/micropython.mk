# The `_hal` module for the unix port: shared HAL C code plus the unix backend.
SRC_USERMOD_C += $(USER_C_MODULES)/common/modhal.c $(USER_C_MODULES)/common/modktrap.c \
	$(USER_C_MODULES)/common/modksched.c $(USER_C_MODULES)/common/modkasync.c \
	$(USER_C_MODULES)/common/disk.c
SRC_USERMOD_LIB_C += $(USER_C_MODULES)/common/hal.c $(USERMOD_DIR)/board_unix.c
