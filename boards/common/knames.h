// knames.h: the Names lookup of boards/common/modknames.c, for the other C twins.
#ifndef MULTIOS_KNAMES_H
#define MULTIOS_KNAMES_H
#include "py/obj.h"

// names' (a kernel/names.py Names) value for name, or MP_OBJ_NULL when it has none.
mp_obj_t knames_lookup(mp_obj_t names, mp_obj_t name);

// map[name] (a qstr key: an instance's own table, a module's globals), read at the slot it
// had last time (*hint) when that slot holds it, else looked up (hashing the name through
// the qstr pools) and its slot remembered; MP_OBJ_NULL when absent.
mp_obj_t knames_hinted(mp_map_t *map, qstr name, uint16_t *hint);

#endif
