// knames.h: the Names lookup of boards/common/modknames.c, for the other C twins.
#ifndef MULTIOS_KNAMES_H
#define MULTIOS_KNAMES_H
#include "py/obj.h"

// names' (a kernel/names.py Names) value for name, or MP_OBJ_NULL when it has none.
mp_obj_t knames_lookup(mp_obj_t names, mp_obj_t name);

#endif
