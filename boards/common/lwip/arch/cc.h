// arch/cc.h: lwIP's compiler and platform hooks for MultiOS (ILP32 arm, LP64 x86_64).
// lwIP's own arch.h takes the integer types from <stdint.h> and mem_ptr_t from uintptr_t.
#ifndef MULTIOS_LWIP_ARCH_CC_H
#define MULTIOS_LWIP_ARCH_CC_H

#include <stdint.h>
#include <limits.h>
#include <sys/types.h>      // ssize_t from the libc (lwIP would typedef it as int otherwise)
#define SSIZE_MAX LONG_MAX
#define LWIP_NO_UNISTD_H 1

#define LWIP_NO_CTYPE_H 1   // lwIP's own isdigit etc.: no libc ctype table

void net_assert_failed(const char *msg);    // boards/common/net.c: print and power off
#define LWIP_PLATFORM_DIAG(x)
#define LWIP_PLATFORM_ASSERT(x) net_assert_failed(x)

#define PACK_STRUCT_FIELD(x) x
#define PACK_STRUCT_STRUCT __attribute__((packed))
#define PACK_STRUCT_BEGIN
#define PACK_STRUCT_END

#endif // MULTIOS_LWIP_ARCH_CC_H
