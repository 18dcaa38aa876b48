// disk.h: the shared block device and crash region over board.h's disk (disk.c).
#ifndef MULTIOS_DISK_H
#define MULTIOS_DISK_H

#include <stddef.h>
#include <stdint.h>
#include "py/obj.h"

#define DISK_CRASH_SECTORS (8)      // the disk's last 4 KiB: the CPU fault report

typedef struct _disk_stats_t {
    uint32_t reads, writes, merges, syncs, errors;
    uint64_t read_b, written_b;
} disk_stats_t;

extern disk_stats_t disk_stats;
extern const mp_obj_type_t hal_disk_type;
MP_DECLARE_CONST_FUN_OBJ_0(hal_crash_read_obj);
MP_DECLARE_CONST_FUN_OBJ_0(hal_crash_clear_obj);
MP_DECLARE_CONST_FUN_OBJ_1(hal_crash_put_obj);
MP_DECLARE_CONST_FUN_OBJ_0(hal_disk_info_obj);

uint32_t disk_fs_sectors(void);             // sectors before the crash region; 0: no disk
void hal_crash_put(const char *s, size_t n);    // fault handlers: append to the report...
void hal_crash_commit(void);                // ...and write it to the crash region

#endif // MULTIOS_DISK_H
