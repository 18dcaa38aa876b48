// boards/common/mbedtls_config.h: the part of mbedTLS (Debian's source package, fetched by
// tools/fetch.sh into build/mbedtls) that MultiOS builds, as MBEDTLS_CONFIG_FILE: AES for
// `cryptolib` (ECB, CBC, CTR; the config secrets, kernel/vault.py) and SHA-256 for `hashlib`
// (MicroPython's hashlib takes it from mbedTLS whenever MICROPY_SSL_MBEDTLS is set). No TLS,
// no bignum, no entropy module, no platform layer: the key comes from the HAL's entropy.
// Used by the boards (boards/common/mbedtls.mk) and the unix port (boards/unix/unix.mk) alike.
#ifndef MULTIOS_MBEDTLS_CONFIG_H
#define MULTIOS_MBEDTLS_CONFIG_H

#define MBEDTLS_AES_C
#define MBEDTLS_CIPHER_MODE_CBC
#define MBEDTLS_CIPHER_MODE_CTR
// The AES tables as const data (no 8 KiB of RAM filled at first use), one table of each
// four (about 6 KiB less code, a few rotations more per round).
#define MBEDTLS_AES_ROM_TABLES
#define MBEDTLS_AES_FEWER_TABLES

#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER  // a loop instead of 64 unrolled rounds: smaller, a bit slower

#endif // MULTIOS_MBEDTLS_CONFIG_H
