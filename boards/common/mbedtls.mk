# mbedtls.mk: the AES and SHA-256 of mbedTLS (Debian's source package, fetched by
# tools/fetch.sh into build/mbedtls) built into the firmware as MicroPython's crypto backend
# (MICROPY_SSL_MBEDTLS in mpconfigport.h): extmod/modcryptolib.c (`cryptolib`) and
# extmod/modhashlib.c use it. Which parts: boards/common/mbedtls_config.h. Included by port.mk.
MBEDTLS_DIR := build/mbedtls
CFLAGS += -I$(MBEDTLS_DIR)/include -DMBEDTLS_CONFIG_FILE='"boards/common/mbedtls_config.h"'
# Not scanned for qstrs: compiled and linked only.
SRC_MBEDTLS_C := $(addprefix $(MBEDTLS_DIR)/library/,aes.c sha256.c platform_util.c)
OBJ += $(addprefix $(BUILD)/, $(SRC_MBEDTLS_C:.c=.o))
