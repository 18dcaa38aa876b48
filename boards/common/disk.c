// disk.c: the board's disk as MicroPython block devices (`_hal.Disk`), and the crash region.
//
// Layout of the disk (512-byte sectors): the filesystem region first, then the last
// DISK_CRASH_SECTORS sectors, the crash region: a CPU fault handler, after which no Python
// runs, writes its report there (hal_crash_put + hal_crash_commit, polled I/O with
// interrupts off); the next boot reads it (crash_read), moves it into the journal and clears
// it (crash_clear). The report is a header (magic, length) followed by the text.
//
// `_hal.Disk(block_size[, first, count])`: first/count in sectors, default the filesystem
// region. It speaks MicroPython's extended block protocol (readblocks/writeblocks with a
// byte offset inside a block, as littlefs uses; ioctl 1-6), any offset and length: a partial
// sector is read, merged and written whole, so what was outside the write is rewritten
// unchanged (sector writes are atomic on both boards). Errors are returned as negative
// errno values, never raised: an exception unwinding through littlefs would leave it
// half-way through an operation.
#include <string.h>
#include "py/mperrno.h"
#include "py/runtime.h"
#include "board.h"
#include "disk.h"

#define CRASH_MAGIC (0x48535243u)   // "CRSH"
#define CRASH_TEXT_MAX (DISK_CRASH_SECTORS * BOARD_SECTOR_B - 8)

typedef struct _disk_obj_t {
    mp_obj_base_t base;
    uint32_t first;         // first sector of the region
    uint32_t count;         // sectors in the region
    uint32_t block_b;       // bytes per block, a multiple of BOARD_SECTOR_B
} disk_obj_t;

static uint8_t bounce[BOARD_SECTOR_B];
disk_stats_t disk_stats;

uint32_t disk_fs_sectors(void) {
    uint32_t n = board_disk_sectors();
    return n > DISK_CRASH_SECTORS * 2 ? n - DISK_CRASH_SECTORS : 0;
}

// Bytes [off, off + len) of the region starting at sector `first`, through whole sectors.
static int disk_rw(uint32_t first, uint64_t off, uint8_t *buf, size_t len, bool write) {
    while (len > 0) {
        uint32_t lba = first + off / BOARD_SECTOR_B;
        uint32_t in = off % BOARD_SECTOR_B;
        int r;
        if (in == 0 && len >= BOARD_SECTOR_B) {
            uint32_t n = len / BOARD_SECTOR_B;
            r = write ? board_disk_write(lba, buf, n) : board_disk_read(lba, buf, n);
            n *= BOARD_SECTOR_B;
            off += n;
            buf += n;
            len -= n;
        } else {
            size_t k = BOARD_SECTOR_B - in < len ? BOARD_SECTOR_B - in : len;
            r = board_disk_read(lba, bounce, 1);
            if (r == 0 && write) {
                memcpy(bounce + in, buf, k);
                r = board_disk_write(lba, bounce, 1);
                disk_stats.merges++;
            } else if (r == 0) {
                memcpy(buf, bounce + in, k);
            }
            off += k;
            buf += k;
            len -= k;
        }
        if (r != 0) {
            disk_stats.errors++;
            return r;
        }
    }
    return 0;
}

static mp_obj_t disk_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 3, false);
    uint32_t fs = disk_fs_sectors();
    if (fs == 0) {
        mp_raise_OSError(MP_ENODEV);
    }
    mp_int_t block_b = mp_obj_get_int(args[0]);
    mp_int_t first = n_args > 1 ? mp_obj_get_int(args[1]) : 0;
    mp_int_t count = n_args > 2 ? mp_obj_get_int(args[2]) : (mp_int_t)fs - first;
    if (block_b < BOARD_SECTOR_B || block_b % BOARD_SECTOR_B != 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("Disk: block_size must be a multiple of 512"));
    }
    if (first < 0 || count <= 0 || (uint64_t)first + count > board_disk_sectors()) {
        mp_raise_ValueError(MP_ERROR_TEXT("Disk: region outside the disk"));
    }
    disk_obj_t *self = mp_obj_malloc(disk_obj_t, type);
    self->first = first;
    self->count = count;
    self->block_b = block_b;
    return MP_OBJ_FROM_PTR(self);
}

static mp_obj_t disk_transfer(size_t n_args, const mp_obj_t *args, bool write) {
    disk_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_buffer_info_t b;
    mp_get_buffer_raise(args[2], &b, write ? MP_BUFFER_READ : MP_BUFFER_WRITE);
    mp_int_t block = mp_obj_get_int(args[1]);
    mp_int_t off = n_args > 3 && args[3] != mp_const_none ? mp_obj_get_int(args[3]) : 0;
    uint64_t start = (uint64_t)block * self->block_b + off;
    if (block < 0 || off < 0 || start + b.len > (uint64_t)self->count * BOARD_SECTOR_B) {
        return MP_OBJ_NEW_SMALL_INT(-MP_EIO);
    }
    if (write) {
        disk_stats.writes++;
        disk_stats.written_b += b.len;
    } else {
        disk_stats.reads++;
        disk_stats.read_b += b.len;
    }
    return MP_OBJ_NEW_SMALL_INT(disk_rw(self->first, start, b.buf, b.len, write));
}

// readblocks(block, buf, offset=0)
static mp_obj_t disk_readblocks(size_t n_args, const mp_obj_t *args) {
    return disk_transfer(n_args, args, false);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(disk_readblocks_obj, 3, 4, disk_readblocks);

// writeblocks(block, buf, offset=None)
static mp_obj_t disk_writeblocks(size_t n_args, const mp_obj_t *args) {
    return disk_transfer(n_args, args, true);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(disk_writeblocks_obj, 3, 4, disk_writeblocks);

static mp_obj_t disk_ioctl(mp_obj_t self_in, mp_obj_t op_in, mp_obj_t arg_in) {
    disk_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (mp_obj_get_int(op_in)) {
        case 1:     // init
        case 2:     // deinit
        case 6:     // erase: nothing to do, a sector is rewritten in place
            return MP_OBJ_NEW_SMALL_INT(0);
        case 3:     // sync
            disk_stats.syncs++;
            return MP_OBJ_NEW_SMALL_INT(board_disk_flush());
        case 4:     // block count
            return MP_OBJ_NEW_SMALL_INT(self->count / (self->block_b / BOARD_SECTOR_B));
        case 5:     // block size
            return MP_OBJ_NEW_SMALL_INT(self->block_b);
        default:
            return mp_const_none;
    }
}
static MP_DEFINE_CONST_FUN_OBJ_3(disk_ioctl_obj, disk_ioctl);

static const mp_rom_map_elem_t disk_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_readblocks), MP_ROM_PTR(&disk_readblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_writeblocks), MP_ROM_PTR(&disk_writeblocks_obj) },
    { MP_ROM_QSTR(MP_QSTR_ioctl), MP_ROM_PTR(&disk_ioctl_obj) },
};
static MP_DEFINE_CONST_DICT(disk_locals, disk_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    hal_disk_type, MP_QSTR_Disk, MP_TYPE_FLAG_NONE,
    make_new, disk_make_new,
    locals_dict, &disk_locals
    );

// ---- the crash region ----

static struct {
    uint32_t magic;
    uint32_t len;
    char text[CRASH_TEXT_MAX];
} crash __attribute__((aligned(4)));

void hal_crash_put(const char *s, size_t n) {
    while (n-- && crash.len < CRASH_TEXT_MAX) {
        crash.text[crash.len++] = *s++;
    }
}

void hal_crash_commit(void) {
    uint32_t total = disk_fs_sectors();
    if (total == 0 || crash.len == 0) {
        return;
    }
    crash.magic = CRASH_MAGIC;
    // Header and text in one write; the sector count covers what was written.
    uint32_t n = (8 + crash.len + BOARD_SECTOR_B - 1) / BOARD_SECTOR_B;
    board_disk_write(total, (const uint8_t *)&crash, n);
    board_disk_flush();
    crash.len = 0;
}

static int crash_header(uint32_t *len) {
    uint32_t total = disk_fs_sectors();
    if (total == 0) {
        return -MP_ENODEV;
    }
    int r = board_disk_read(total, bounce, 1);
    if (r != 0) {
        return r;
    }
    uint32_t magic, n;
    memcpy(&magic, bounce, 4);
    memcpy(&n, bounce + 4, 4);
    *len = magic == CRASH_MAGIC && n <= CRASH_TEXT_MAX ? n : 0;
    return 0;
}

// crash_read(): the report a fault handler left in the crash region (bytes), or None.
static mp_obj_t hal_crash_read(void) {
    uint32_t len;
    if (crash_header(&len) != 0 || len == 0) {
        return mp_const_none;
    }
    uint32_t n = (8 + len + BOARD_SECTOR_B - 1) / BOARD_SECTOR_B;
    uint8_t *buf = m_new(uint8_t, n * BOARD_SECTOR_B);
    int r = board_disk_read(disk_fs_sectors(), buf, n);
    mp_obj_t out = r == 0 ? mp_obj_new_bytes(buf + 8, len) : mp_const_none;
    m_del(uint8_t, buf, n * BOARD_SECTOR_B);
    return out;
}
MP_DEFINE_CONST_FUN_OBJ_0(hal_crash_read_obj, hal_crash_read);

// crash_clear(): forget the report (once it is safe in the journal).
static mp_obj_t hal_crash_clear(void) {
    uint32_t total = disk_fs_sectors();
    if (total == 0) {
        return mp_const_none;
    }
    memset(bounce, 0, sizeof(bounce));
    int r = board_disk_write(total, bounce, 1);
    if (r == 0) {
        r = board_disk_flush();
    }
    if (r != 0) {
        mp_raise_OSError(-r);
    }
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_0(hal_crash_clear_obj, hal_crash_clear);

// crash_put(text): add to the pending report and commit it (tests; the fault handlers use C).
static mp_obj_t hal_crash_put_(mp_obj_t text) {
    size_t n;
    const char *s = mp_obj_str_get_data(text, &n);
    crash.len = 0;
    hal_crash_put(s, n);
    hal_crash_commit();
    crash.len = 0;
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_1(hal_crash_put_obj, hal_crash_put_);

// disk_info(): None without a disk, else a dict: what the disk is, its size, its layout and
// the block device's counters since boot.
static void put(mp_obj_t d, const char *key, mp_obj_t v) {
    mp_obj_dict_store(d, mp_obj_new_str_from_cstr(key), v);
}

static mp_obj_t hal_disk_info(void) {
    uint32_t fs = disk_fs_sectors();
    if (fs == 0) {
        return mp_const_none;
    }
    mp_obj_t d = mp_obj_new_dict(12);
    put(d, "name", mp_obj_new_str_from_cstr(board_disk_name()));
    put(d, "sectors", mp_obj_new_int_from_uint(board_disk_sectors()));
    put(d, "sector_b", MP_OBJ_NEW_SMALL_INT(BOARD_SECTOR_B));
    put(d, "fs_sectors", mp_obj_new_int_from_uint(fs));
    put(d, "crash_sectors", MP_OBJ_NEW_SMALL_INT(DISK_CRASH_SECTORS));
    put(d, "reads", mp_obj_new_int_from_uint(disk_stats.reads));
    put(d, "writes", mp_obj_new_int_from_uint(disk_stats.writes));
    put(d, "read_b", mp_obj_new_int_from_ull(disk_stats.read_b));
    put(d, "written_b", mp_obj_new_int_from_ull(disk_stats.written_b));
    put(d, "merges", mp_obj_new_int_from_uint(disk_stats.merges));
    put(d, "syncs", mp_obj_new_int_from_uint(disk_stats.syncs));
    put(d, "errors", mp_obj_new_int_from_uint(disk_stats.errors));
    return d;
}
MP_DEFINE_CONST_FUN_OBJ_0(hal_disk_info_obj, hal_disk_info);
