// lfsinfo.h: the `_hal` functions that look into a mounted littlefs v2 (lfsinfo.c).
#ifndef MULTIOS_LFSINFO_H
#define MULTIOS_LFSINFO_H

#include "py/obj.h"

MP_DECLARE_CONST_FUN_OBJ_1(hal_lfs_free_obj);
MP_DECLARE_CONST_FUN_OBJ_1(hal_lfs_scan_obj);
MP_DECLARE_CONST_FUN_OBJ_2(hal_lfs_tune_obj);

#endif // MULTIOS_LFSINFO_H
