// mpconfigport.h: MicroPython configuration shared by every MultiOS board.
//
// Boards differ only in the data their board.mk passes (-DMULTIOS_BOARD_NAME, CPU flags)
// and in board.c. What the kernel needs is on: time, select, the scheduler (soft IRQs,
// Ctrl-C as a pending exception), _asyncio, frozen modules, 1970 epoch, the VFS.
#include <limits.h>
#include <stdint.h>
#include <alloca.h>

#define MICROPY_CONFIG_ROM_LEVEL            (MICROPY_CONFIG_ROM_LEVEL_EXTRA_FEATURES)

#define MICROPY_ENABLE_GC                   (1)
#define MICROPY_ENABLE_COMPILER             (1)
#define MICROPY_HELPER_REPL                 (1)
#define MICROPY_REPL_AUTO_INDENT            (1)
#define MICROPY_ENABLE_SCHEDULER            (1)
#define MICROPY_SCHEDULER_DEPTH             (8)
#define MICROPY_KBD_EXCEPTION               (1)
#define MICROPY_STACK_CHECK                 (1)
#define MICROPY_ENABLE_EMERGENCY_EXCEPTION_BUF (1)
#define MICROPY_EMERGENCY_EXCEPTION_BUF_SIZE (256)
#define MICROPY_LONGINT_IMPL                (MICROPY_LONGINT_IMPL_MPZ)
#define MICROPY_FLOAT_IMPL                  (MICROPY_FLOAT_IMPL_FLOAT)
#define MICROPY_WARNINGS                    (1)
#define MICROPY_ALLOC_PATH_MAX              (256)
#define MICROPY_MALLOC_USES_ALLOCATED_SIZE  (1)
#define MICROPY_MEM_STATS                   (1)
#define MICROPY_GC_ALLOC_THRESHOLD          (1)     // its counter feeds _hal.alloc_bytes()
// The collector's mark stack. MicroPython's 64 entries overflow on any deep structure
// (a kernel with thousands of services: lists of Tasks, Names pages, journal rings), and
// each overflow makes gc.c rescan the whole block table and re-trace every marked block,
// pass after pass: seconds per collection beside 11,100 services on a 16 MiB heap.
// 4096 entries (16 KiB of RAM on ARM, 32 KiB on x86_64) hold the kernel's depth.
#define MICROPY_ALLOC_GC_STACK_SIZE         (4096)
#define MICROPY_EPOCH_IS_1970               (1)
// Function frames on a stack of their own, not the GC heap. Without it every call whose
// state passes 11 words (most kernel methods) allocates its frame with gc_alloc, whose scan
// for a multi-block run walks the whole fragmented heap of a running kernel: a 14-local
// method cost 2.4x its body on ARM (tools/bench_health.py). main.c gives the stack its
// memory (MULTIOS_PYSTACK_WORDS: 32 KiB on ARM, 128 KiB on x86_64: deeper than the C stack lets calls go) before every mp_init.
#define MICROPY_ENABLE_PYSTACK              (1)
#ifndef MULTIOS_PYSTACK_WORDS
#define MULTIOS_PYSTACK_WORDS               (8192)
#endif
// The map lookup cache (a byte per slot, shared by every dict and instance lookup) is
// indexed by the key's qstr number: with MicroPython's 128 slots (64 for qstrs), which names
// of a hot loop collide depends on how the firmware numbers its qstrs, and so its speed:
// perf_bench's misc_aes moved between 1.07x and 1.17x stock with the qstr numbering alone.
// With 1024 slots collisions are rare on any numbering (1 KiB of RAM).
#define MICROPY_OPT_MAP_LOOKUP_CACHE_SIZE   (1024)

#define MICROPY_PY_SYS_PLATFORM             "multios"
#define MICROPY_PY_SYS_STDFILES             (1)
#define MICROPY_PY_SYS_STDIO_BUFFER         (1)
#define MICROPY_PY_TIME                     (1)
#define MICROPY_PY_TIME_TIME_TIME_NS        (1)
#define MICROPY_PY_TIME_GMTIME_LOCALTIME_MKTIME (1)
#define MICROPY_PY_TIME_INCLUDEFILE         "boards/common/modtime.c"
#define MICROPY_PY_TIME_TICKS_PERIOD        (1 << 30)   // 32-bit HAL counters
#define MICROPY_PY_SELECT                   (1)
#define MICROPY_PY_ASYNCIO                  (1)
#define MICROPY_PY_RANDOM_SEED_INIT_FUNC    (hal_rng_u32())
#define MICROPY_PY_BTREE                    (0)
// cryptolib's AES (ECB, CBC, CTR) on mbedTLS, which hashlib's SHA-256 then uses too
// (boards/common/mbedtls.mk; the config secrets, kernel/vault.py). No ssl module.
#define MICROPY_SSL_MBEDTLS                 (1)
#define MICROPY_PY_CRYPTOLIB                (1)
#define MICROPY_PY_CRYPTOLIB_CTR            (1)
#define MICROPY_PY_CRYPTOLIB_CONSTS         (1)

// At least what stock MicroPython's ports/qemu (MPS2_AN385) enables: machine, the VFS core
// (with ROMFS images), importing .mpy files (native code too), os with uname().
#define MICROPY_PY_MACHINE                  (1)
#define MICROPY_PY_MACHINE_INCLUDEFILE      "boards/common/modmachine.c"
#define MICROPY_PY_MACHINE_RESET            (1)
#define MICROPY_PY_MACHINE_BARE_METAL_FUNCS (1)
#define MICROPY_PY_MACHINE_PIN_BASE         (1)
#define MICROPY_PY_OS                       (1)
#define MICROPY_PY_OS_UNAME                 (1)
#define MICROPY_PY_OS_SYNC                  (1)
// Storage: the VFS with littlefs v2 (MICROPY_VFS_LFS2, set by port.mk) on the board's disk;
// open(), os and imports go through it (boot mounts `/`, kernel/storage.py).
#define MICROPY_VFS                         (1)
#define MICROPY_READER_VFS                  (1)
#define MICROPY_VFS_ROM                     (1)
#define MICROPY_VFS_ROM_IOCTL               (0)
#define MICROPY_PERSISTENT_CODE_LOAD        (1)

// The native emitters where MicroPython has them for the CPU: @micropython.native and
// @micropython.viper, plus the inline assembler on Thumb-2. Native code lives in the GC
// heap, which is executable on both boards (Cortex-M3 SRAM region; no NX bit on x86_64).
#if defined(__thumb__)
#define MICROPY_EMIT_THUMB                  (1)
#define MICROPY_EMIT_INLINE_THUMB           (1)
#elif defined(__x86_64__)
#define MICROPY_EMIT_X64                    (1)
#endif

#define MICROPY_HW_BOARD_NAME               MULTIOS_BOARD_NAME
#define MICROPY_HW_MCU_NAME                 MULTIOS_CPU_NAME
#define MICROPY_BANNER_MACHINE              "MultiOS on " MULTIOS_BOARD_NAME " with " MULTIOS_CPU_NAME

#if defined(__thumb__)
#define MICROPY_MAKE_POINTER_CALLABLE(p)    ((void *)((uintptr_t)(p) | 1))
#endif

#define MICROPY_PORT_INIT_FUNC              hal_vm_init()   // counts soft resets

// Sleep until the next interrupt whenever MicroPython waits for an event.
#define MICROPY_INTERNAL_WFE(TIMEOUT_MS)    board_wfi()

typedef long mp_int_t;              // pointer-sized on both ILP32 (arm) and LP64 (x86_64)
typedef unsigned long mp_uint_t;
typedef long mp_off_t;
#define UINT_FMT                            "%lu"
#define INT_FMT                             "%ld"
#define MP_SSIZE_MAX                        LONG_MAX

#define MP_NEED_LOG2                        (1)
#define MP_STATE_PORT                       MP_STATE_VM

void board_wfi(void);
void hal_vm_init(void);
uint32_t hal_rng_u32(void);

#include "boards/common/mpconfignet.h"
