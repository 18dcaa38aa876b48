// gcstart.c: where the GC's allocation scan starts after a collection, and presize().
//
// MicroPython's gc_alloc is first fit: every allocation scans the block table from the
// lowest free block (gc_last_free_atb_index) for a run of free blocks. After a collection
// that block sits at the bottom of the heap, below a running kernel's live data, which is
// peppered with small holes (objects freed between the long-lived ones); an allocation of
// more than a block or two walks past all of them. Measured on ARM under icount (62.5 MIPS
// modelled): a 20-entry dict cost ~0.7 ms right after boot, 0.9 ms beside 1,000 services,
// and a service start grew with the number of services.
// hal_gc_collected(), called after each collection, moves the start up to the highest free
// run of MULTIOS_GC_START_RUN blocks below which lie at most 1/MULTIOS_GC_START_DIV of the
// free heap and no free run longer than the free area above the live data. The skipped
// blocks wait for the next collection (or a gc_free() below the start, which moves it back
// down); anything that would have fitted into one of them fits above the start (the top
// area is at least as long), so the skip never turns a fit into a MemoryError.
// (Skipping past any run did: a start of 10,000 services failed earlier. Stopping at the
// first run of 16 or 64 blocks was safe but kept service_status at 1.0-1.3 ms: the boot
// heap has such runs low down, with the small holes above them.)
// The block table's format (2 bits per block, 4 per byte, 0 = free) and the meaning of
// gc_last_free_atb_index (a hint: "scan from here") are those of py/gc.c in the MicroPython
// release the Makefile pins; tests/unit/test_gcstart.py fails if they change.
#include "py/gc.h"
#include "py/mpstate.h"
#include "py/objtype.h"
#include "py/runtime.h"
#include "hal.h"

#define BLOCKS_PER_ATB (4)
#define BYTES_PER_BLOCK (MICROPY_BYTES_PER_GC_BLOCK)
#define FREE(atb, b) ((((atb)[(b) / BLOCKS_PER_ATB] >> (2 * ((b) % BLOCKS_PER_ATB))) & 3) == 0)

static size_t next_atb;   // hal_gc_alloc_run's scan start; 0: the GC's own (first fit)

void hal_gc_collected(void) {
    mp_state_mem_area_t *area = &MP_STATE_MEM(area);
    const byte *atb = area->gc_alloc_table_start;
    size_t total = area->gc_alloc_table_byte_len * BLOCKS_PER_ATB;
    size_t top = area->gc_last_used_block + 1;   // every block from here on is free
    if (top > total) {
        top = total;
    }
    size_t n_free = total - top;
    for (size_t b = 0; b < top; b++) {
        n_free += FREE(atb, b);
    }
    size_t budget = n_free / MULTIOS_GC_START_DIV;
    // The free area above the live data, with the free run that ends at it: every run the
    // skip passes must be no longer, so whatever would have fitted below still fits above.
    size_t top_len = total - top;
    for (size_t k = top; k > 0 && FREE(atb, k - 1); k--) {
        top_len++;
    }
    size_t below = 0;        // free blocks before b
    size_t run = 0;          // length of the free run that b ends or continues
    size_t run_start = 0;    // its first block, and the free blocks before it
    size_t run_below = 0;
    size_t longest = 0;      // the longest run ended before b
    size_t start = 0;        // the chosen block (0: leave the scan where it is)
    size_t b = 0;
    for (; b < top; b++) {
        if (FREE(atb, b)) {
            if (run == 0) {
                run_start = b;
                run_below = below;
            }
            run++;
            below++;
            if (run == MULTIOS_GC_START_RUN && longest <= top_len) {
                start = run_start;   // run_below <= budget: checked before it began
            }
        } else {
            if (run > longest) {
                longest = run;
            }
            run = 0;
            if (below > budget || longest > top_len) {
                break;   // no later run may be chosen
            }
        }
    }
    if (b == top) {   // the last run goes on into the free area above the live data
        if (run == 0) {
            run_start = top;
            run_below = below;
        }
        if (top_len >= MULTIOS_GC_START_RUN && run_below <= budget) {
            start = run_start;
        }
    }
    if (start / BLOCKS_PER_ATB > area->gc_last_free_atb_index) {
        area->gc_last_free_atb_index = start / BLOCKS_PER_ATB;
    }
    next_atb = 0;   // the collection freed what lay below: the next run is first fit again
}

// hal_gc_alloc_run(n): n bytes (more than a block or two) for the C kernel's tables made
// per call (a fresh service_status dict's table, _ksvc), next fit: the scan starts where
// the last of them ended, not at the lowest free block. First fit scans past every hole
// too small for the run, from the bottom, on every call: beside 11,100 services (16 MiB of
// ARM heap cut into holes) 1,000 fresh statuses cost 5.5 ms each, each one scanning past
// the tables of the ones before. Without a free in between, next fit finds the same blocks
// (first fit took every fitting hole below already); a gc_free() or a shrink below the
// next start leaves a hole it passes, which the next collection resets. The raised start
// is this call's only: the GC's own hint (the lowest free block, which one-block
// allocations rely on) is put back, and the scan runs with collections held off, so a
// miss above costs no collection: it falls back to first fit, as m_malloc would have.
void *hal_gc_alloc_run(size_t n_bytes) {
    mp_state_mem_area_t *area = &MP_STATE_MEM(area);
    size_t low = area->gc_last_free_atb_index;
    void *p = NULL;
    if (next_atb > low && next_atb < area->gc_alloc_table_byte_len) {
        bool autocollect = MP_STATE_MEM(gc_auto_collect_enabled);
        MP_STATE_MEM(gc_auto_collect_enabled) = 0;
        area->gc_last_free_atb_index = next_atb;
        p = m_malloc_maybe(n_bytes);
        area->gc_last_free_atb_index = low;
        MP_STATE_MEM(gc_auto_collect_enabled) = autocollect;
    }
    if (p == NULL) {
        p = m_malloc(n_bytes);   // first fit; a collection, or MemoryError, when full
    }
    size_t end = ((byte *)p - area->gc_pool_start + n_bytes + BYTES_PER_BLOCK - 1) / BYTES_PER_BLOCK;
    next_atb = end / BLOCKS_PER_ATB;
    return p;
}

void hal_gc_alloc_reset(void) {
    next_atb = 0;
}

// presize(obj, n) -> obj: give an instance with no attributes yet a table of n slots, so
// that __init__ setting n attributes does not regrow it n times on the way (2, 4, ... 23
// slots, each old table left as a hole: the small holes above). For the kernel objects made
// by the thousand (Task, Service). A no-op for an instance that already has attributes.
// An empty dict gets a table of n slots too: a table the kernel needs late, when thousands
// of services have cut the heap into small holes, is made early instead (kernel/names.py).
static mp_obj_t gcstart_presize(mp_obj_t obj, mp_obj_t n_in) {
    mp_map_t *map;
    if (mp_obj_is_exact_type(obj, &mp_type_dict)) {
        map = &((mp_obj_dict_t *)MP_OBJ_TO_PTR(obj))->map;
        if (map->used != 0 || map->is_fixed) {
            return obj;
        }
        if (map->alloc != 0) {
            m_del(mp_map_elem_t, map->table, map->alloc);
            map->alloc = 0;
        }
    } else if (mp_obj_is_instance_type(mp_obj_get_type(obj))) {
        map = &((mp_obj_instance_t *)MP_OBJ_TO_PTR(obj))->members;
    } else {
        mp_raise_TypeError(MP_ERROR_TEXT("presize: need an instance or a dict"));
    }
    mp_int_t n = mp_obj_get_int(n_in);
    if (map->alloc == 0 && n > 0) {
        mp_map_init(map, (size_t)n);
    }
    return obj;
}
MP_DEFINE_CONST_FUN_OBJ_2(hal_presize_obj, gcstart_presize);

// gc_start() -> the block the next allocation's scan starts at (for tests).
static mp_obj_t gcstart_start(void) {
    return MP_OBJ_NEW_SMALL_INT(MP_STATE_MEM(area).gc_last_free_atb_index * BLOCKS_PER_ATB);
}
MP_DEFINE_CONST_FUN_OBJ_0(hal_gc_start_obj, gcstart_start);

// gc_run_start() -> the block hal_gc_alloc_run's next scan starts at, 0 when first fit (for tests).
static mp_obj_t gcstart_run_start(void) {
    return MP_OBJ_NEW_SMALL_INT(next_atb * BLOCKS_PER_ATB);
}
MP_DEFINE_CONST_FUN_OBJ_0(hal_gc_run_start_obj, gcstart_run_start);
