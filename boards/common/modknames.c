// _knames: the C twin of kernel/names.py's Names.get, the lookup that every call by name
// makes (a service's status, discovery's instance()): the same mixed hash and linear probe
// over the same two lists, in one C call instead of ~25 bytecodes and a Python frame
// (discovery's exact lookup over 1,000 instances, tools/bench_health.py). kernel/names.py
// binds it as Names.get when the build has it; tests/unit/test_names.py checks the two
// against each other. Reads only: every change still goes through the Python methods.
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include "py/objtype.h"
#include "py/runtime.h"
#include "knames.h"

mp_obj_t knames_hinted(mp_map_t *map, qstr name, uint16_t *hint) {
    mp_obj_t key = MP_OBJ_NEW_QSTR(name);
    size_t h = *hint;
    if (h < map->alloc && map->table[h].key == key) {
        return map->table[h].value;
    }
    mp_map_elem_t *e = mp_map_lookup(map, key, MP_MAP_LOOKUP);
    if (e == NULL) {
        return MP_OBJ_NULL;
    }
    *hint = (uint16_t)(e - map->table);
    return e->value;
}

// A field of the Names instance (set in Names.__init__, so in its own table), read at the
// slot it had last time (*hint: every Names sets its fields in the same order).
static mp_obj_t field(mp_obj_t self, qstr attr, uint16_t *hint) {
    mp_obj_t v = knames_hinted(&((mp_obj_instance_t *)MP_OBJ_TO_PTR(self))->members, attr, hint);
    if (v == MP_OBJ_NULL) {
        mp_raise_msg_varg(&mp_type_AttributeError, MP_ERROR_TEXT("_knames: no attribute '%q'"), attr);
    }
    return v;
}

static uint16_t keys_hint = 0xFFFF, vals_hint = 0xFFFF, mask_hint = 0xFFFF;

static mp_obj_t *items(mp_obj_t self, qstr attr, size_t *len, uint16_t *hint) {
    mp_obj_t l = field(self, attr, hint);
    if (!mp_obj_is_type(l, &mp_type_list)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_knames: a Names' tables are lists"));
    }
    mp_obj_t *out;
    mp_obj_list_get(l, len, &out);
    return out;
}

// knames_lookup(names, name): names' value for name, or MP_OBJ_NULL (knames.h: _ksvc's
// status by name calls it too). The slot is ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask with
// h = hash(name), as Names._slot.
mp_obj_t knames_lookup(mp_obj_t self, mp_obj_t name) {
    if (!mp_obj_is_instance_type(mp_obj_get_type(self))) {
        mp_raise_TypeError(MP_ERROR_TEXT("_knames: need a Names"));
    }
    size_t nk;
    size_t nv;
    mp_obj_t *keys = items(self, MP_QSTR__keys, &nk, &keys_hint);
    mp_obj_t *vals = items(self, MP_QSTR__vals, &nv, &vals_hint);
    mp_uint_t mask = (mp_uint_t)mp_obj_get_int(field(self, MP_QSTR__mask, &mask_hint));
    if (nk != mask + 1 || nv != nk) {
        mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("_knames: a Names out of shape"));
    }
    mp_int_t h = mp_obj_get_int(mp_unary_op(MP_UNARY_OP_HASH, name));
    mp_uint_t i = (mp_uint_t)(((h & 0x7FFF) * 25173) ^ (h >> 15)) & mask;
    for (;;) {  // Names stays at most half full: an empty slot ends every probe
        mp_obj_t k = keys[i];
        if (k == mp_const_none) {
            return MP_OBJ_NULL;
        }
        if (k == name || mp_obj_equal(k, name)) {
            return vals[i];
        }
        i = (i + 1) & mask;
    }
}

// get(names, name, default=None): names' value for name, or default.
static mp_obj_t knames_get(size_t n_args, const mp_obj_t *args) {
    mp_obj_t v = knames_lookup(args[0], args[1]);
    if (v == MP_OBJ_NULL) {
        return n_args > 2 ? args[2] : mp_const_none;
    }
    return v;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(knames_get_obj, 2, 3, knames_get);

static const mp_rom_map_elem_t knames_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__knames) },
    { MP_ROM_QSTR(MP_QSTR_get), MP_ROM_PTR(&knames_get_obj) },
};
static MP_DEFINE_CONST_DICT(knames_globals, knames_globals_table);

const mp_obj_module_t mp_module_knames = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&knames_globals,
};
MP_REGISTER_MODULE(MP_QSTR__knames, mp_module_knames);
