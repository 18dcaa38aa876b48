// lfsinfo.c: what the kernel needs from a mounted littlefs v2 (`vfs.VfsLfs2`) beyond
// MicroPython's VFS API, without walking the disk.
//
// `_hal.lfs_free(vfs)`: the free blocks littlefs' block allocator knows of, counted in its
// lookahead bitmap (FS_LOOKAHEAD_B bytes cover the whole 4 MiB disk), or -1 when it holds
// no window yet (just mounted). A lower bound, cheap (a popcount of 128 bytes): blocks
// freed since the allocator's last scan count again after its next one. `os.statvfs()`
// instead walks the whole filesystem each time (one read per data block).
// `_hal.lfs_scan(vfs)`: refill that bitmap now (littlefs' lfs2_fs_gc: one walk), at mount.
// `_hal.lfs_tune(vfs, metadata_max)`: bound a metadata pair's log (littlefs' metadata_max,
// a runtime setting, not on disk): compacting a pair costs about the square of its size,
// so with the default (the 4 KiB block) one commit in a large directory took 0.3 s.
//
// MicroPython keeps its VfsLfs2 object private (extmod/vfs_lfs.c): the struct below must
// match it, and every call checks that it does (config.context is its block device and
// lfs.cfg points at config, as vfs_lfsx.c sets them), raising OSError(EINVAL) if not.
#include "py/mperrno.h"
#include "py/runtime.h"
#include "extmod/vfs.h"
#include "extmod/vfs_lfs.h"
#include "lib/littlefs/lfs2.h"
#include "lfsinfo.h"

#if MICROPY_VFS_LFS2

typedef struct _vfs_lfs2_view_t {   // extmod/vfs_lfs.c's mp_obj_vfs_lfs2_t (MicroPython 1.25)
    mp_obj_base_t base;
    mp_vfs_blockdev_t blockdev;
    bool enable_mtime;
    vstr_t cur_dir;
    struct lfs2_config config;
    lfs2_t lfs;
} vfs_lfs2_view_t;

static vfs_lfs2_view_t *view(mp_obj_t vfs) {
    if (!mp_obj_is_type(vfs, &mp_type_vfs_lfs2)) {
        mp_raise_TypeError(MP_ERROR_TEXT("not a VfsLfs2"));
    }
    vfs_lfs2_view_t *v = MP_OBJ_TO_PTR(vfs);
    if (v->config.context != &v->blockdev || v->lfs.cfg != &v->config) {
        mp_raise_OSError(MP_EINVAL);    // MicroPython's layout changed: see the header
    }
    return v;
}

static mp_obj_t lfs_free(mp_obj_t vfs) {
    lfs2_t *lfs = &view(vfs)->lfs;
    if (lfs->free.size == 0) {
        return MP_OBJ_NEW_SMALL_INT(-1);
    }
    uint32_t n = 0;
    for (lfs2_block_t i = lfs->free.i; i < lfs->free.size; i++) {
        n += !(lfs->free.buffer[i / 32] & (1u << (i % 32)));
    }
    return MP_OBJ_NEW_SMALL_INT(n);
}
MP_DEFINE_CONST_FUN_OBJ_1(hal_lfs_free_obj, lfs_free);

static mp_obj_t lfs_scan(mp_obj_t vfs) {
    int r = lfs2_fs_gc(&view(vfs)->lfs);
    if (r < 0) {
        mp_raise_OSError(-r);
    }
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_1(hal_lfs_scan_obj, lfs_scan);

static mp_obj_t lfs_tune(mp_obj_t vfs, mp_obj_t metadata_max) {
    vfs_lfs2_view_t *v = view(vfs);
    mp_int_t n = mp_obj_get_int(metadata_max);
    if (n != 0 && (n < (mp_int_t)(2 * v->config.prog_size) || n > (mp_int_t)v->config.block_size
                   || n % v->config.prog_size != 0)) {
        mp_raise_ValueError(MP_ERROR_TEXT("metadata_max: 0, or 2 progs to a block"));
    }
    v->config.metadata_max = n;
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_2(hal_lfs_tune_obj, lfs_tune);

#endif // MICROPY_VFS_LFS2
