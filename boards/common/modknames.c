// _knames: the C twin of kernel/names.py's Names.get, the lookup that every call by name
// makes (a service's status, discovery's instance()): the same mixed hash and linear probe
// over the same pages of slots, in one C call instead of ~25 bytecodes and a Python frame
// (discovery's exact lookup over 1,000 instances, tools/bench_health.py). kernel/names.py
// binds it as Names.get when the build has it; tests/unit/test_names.py checks the two
// against each other. Reads, and move (Names._grow's rehash into new pages); every other
// change goes through the Python methods.
// Built into every board (boards/common/port.mk) and the unix port (boards/unix/micropython.mk).
#include <string.h>

#include "py/objstr.h"
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

#define PAGE_SHIFT (7)  // kernel/names.py's _PSHIFT: slot i is page i >> 7, offset i & 127
#define PAGE_MASK ((1 << PAGE_SHIFT) - 1)

static mp_obj_t *items(mp_obj_t self, qstr attr, size_t *len, uint16_t *hint) {
    mp_obj_t l = field(self, attr, hint);
    if (!mp_obj_is_type(l, &mp_type_list)) {
        mp_raise_TypeError(MP_ERROR_TEXT("_knames: a Names' tables are lists"));
    }
    mp_obj_t *out;
    mp_obj_list_get(l, len, &out);
    return out;
}

static NORETURN void out_of_shape(void) {
    mp_raise_msg(&mp_type_RuntimeError, MP_ERROR_TEXT("_knames: a Names out of shape"));
}

// Slot i of a page list (checked: a list long enough, else the map is out of shape).
static inline mp_obj_t slot(mp_obj_t *pages, mp_uint_t i) {
    mp_obj_t page = pages[i >> PAGE_SHIFT];
    if (!mp_obj_is_type(page, &mp_type_list)) {
        out_of_shape();
    }
    mp_obj_list_t *l = MP_OBJ_TO_PTR(page);
    if ((i & PAGE_MASK) >= l->len) {
        out_of_shape();
    }
    return l->items[i & PAGE_MASK];
}

// knames_lookup(names, name): names' value for name, or MP_OBJ_NULL (knames.h: _ksvc's
// status by name calls it too). The slot is ((h & 0x7FFF) * 25173 ^ (h >> 15)) & mask with
// h = hash(name), as Names._slot; the slots are pages of at most 128 (_kp keys, _vp values).
mp_obj_t knames_lookup(mp_obj_t self, mp_obj_t name) {
    if (!mp_obj_is_instance_type(mp_obj_get_type(self))) {
        mp_raise_TypeError(MP_ERROR_TEXT("_knames: need a Names"));
    }
    size_t nk;
    size_t nv;
    mp_obj_t *kp = items(self, MP_QSTR__kp, &nk, &keys_hint);
    mp_obj_t *vp = items(self, MP_QSTR__vp, &nv, &vals_hint);
    mp_obj_t m = field(self, MP_QSTR__mask, &mask_hint);
    mp_uint_t mask = (mp_uint_t)(mp_obj_is_small_int(m) ? MP_OBJ_SMALL_INT_VALUE(m) : mp_obj_get_int(m));
    if (nk == 0 || nv != nk || (mask >> PAGE_SHIFT) >= nk) {
        out_of_shape();
    }
    // A str's hash is the one it keeps (hash(name), which Names._slot uses); anything else
    // is hashed as Python does.
    bool str = mp_obj_is_exact_type(name, &mp_type_str);
    const mp_obj_str_t *ns = str ? MP_OBJ_TO_PTR(name) : NULL;
    mp_int_t h = str && ns->hash != 0 ? (mp_int_t)ns->hash
        : mp_obj_get_int(mp_unary_op(MP_UNARY_OP_HASH, name));
    mp_uint_t i = (mp_uint_t)(((h & 0x7FFF) * 25173) ^ (h >> 15)) & mask;
    for (mp_uint_t n = 0; n <= mask; n++) {  // at most half full: an empty slot ends a probe
        mp_obj_t k = slot(kp, i);
        if (k == mp_const_none) {
            return MP_OBJ_NULL;
        }
        if (k == name) {
            return slot(vp, i);
        }
        if (str && mp_obj_is_exact_type(k, &mp_type_str)) {
            // two strs (keys and names mostly are): a hash that differs, else the bytes;
            // what mp_obj_equal does, without its dispatch (a third of a lookup)
            const mp_obj_str_t *ks = MP_OBJ_TO_PTR(k);
            if ((ks->hash == 0 || ns->hash == 0 || ks->hash == ns->hash) && ks->len == ns->len
                && memcmp(ks->data, ns->data, ns->len) == 0) {
                return slot(vp, i);
            }
        } else if (mp_obj_equal(k, name)) {
            return slot(vp, i);
        }
        i = (i + 1) & mask;
    }
    out_of_shape();  // a full table (never made by Names): no endless probe
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

// move(kp, vp, nkp, nvp, mask): every key of the pages kp (values vp) into the empty pages
// nkp / nvp of mask + 1 slots, at the slots Names._slot gives: Names._grow's loop, ~1 us an
// entry instead of ~30 on ARM (a table of 8,192 names grows in one call, not 250 ms).
static mp_obj_t knames_move(size_t n_args, const mp_obj_t *args) {
    size_t np;
    size_t nvals;
    size_t nn;
    size_t nnv;
    mp_obj_t *kp;
    mp_obj_t *vp;
    mp_obj_t *nkp;
    mp_obj_t *nvp;
    mp_obj_get_array(args[0], &np, &kp);
    mp_obj_get_array(args[1], &nvals, &vp);
    mp_obj_get_array(args[2], &nn, &nkp);
    mp_obj_get_array(args[3], &nnv, &nvp);
    mp_uint_t mask = (mp_uint_t)mp_obj_get_int(args[4]);
    if (nvals != np || nn == 0 || nnv != nn || (mask >> PAGE_SHIFT) >= nn) {
        out_of_shape();
    }
    mp_uint_t moved = 0;
    for (size_t p = 0; p < np; p++) {
        size_t len;
        size_t vlen;
        mp_obj_t *keys;
        mp_obj_t *vals;
        mp_obj_get_array(kp[p], &len, &keys);
        mp_obj_get_array(vp[p], &vlen, &vals);
        if (vlen != len) {
            out_of_shape();
        }
        for (size_t o = 0; o < len; o++) {
            mp_obj_t k = keys[o];
            if (k == mp_const_none) {
                continue;
            }
            if (++moved > mask / 2 + 1) {
                out_of_shape();     // more keys than the new pages may hold
            }
            mp_int_t h = mp_obj_get_int(mp_unary_op(MP_UNARY_OP_HASH, k));
            mp_uint_t j = (mp_uint_t)(((h & 0x7FFF) * 25173) ^ (h >> 15)) & mask;
            while (slot(nkp, j) != mp_const_none) {
                j = (j + 1) & mask;
            }
            ((mp_obj_list_t *)MP_OBJ_TO_PTR(nkp[j >> PAGE_SHIFT]))->items[j & PAGE_MASK] = k;
            slot(nvp, j);   // (checks the value page's shape)
            ((mp_obj_list_t *)MP_OBJ_TO_PTR(nvp[j >> PAGE_SHIFT]))->items[j & PAGE_MASK] = vals[o];
        }
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(knames_move_obj, 5, 5, knames_move);

static const mp_rom_map_elem_t knames_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__knames) },
    { MP_ROM_QSTR(MP_QSTR_get), MP_ROM_PTR(&knames_get_obj) },
    { MP_ROM_QSTR(MP_QSTR_move), MP_ROM_PTR(&knames_move_obj) },
};
static MP_DEFINE_CONST_DICT(knames_globals, knames_globals_table);

const mp_obj_module_t mp_module_knames = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&knames_globals,
};
MP_REGISTER_MODULE(MP_QSTR__knames, mp_module_knames);
