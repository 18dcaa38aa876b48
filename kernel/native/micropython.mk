# The kernel's C twin of its trap awaitable (`_ktrap`), as a MicroPython user C module:
# USER_C_MODULES=<dir holding this directory>, or add modktrap.c to a port's SRC_C.
KTRAP_DIR := $(USERMOD_DIR)
SRC_USERMOD_C += $(KTRAP_DIR)/modktrap.c
