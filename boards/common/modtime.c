// modtime.c: the board-specific half of MicroPython's `time` module (included by
// extmod/modtime.c): wall time from the board's RTC source, 1970 epoch.
#include "shared/timeutils/timeutils.h"
#include "board.h"

static mp_obj_t mp_time_time_get(void) {
    return mp_obj_new_int_from_ull(board_time_us() / 1000000);
}

static mp_obj_t mp_time_localtime_get(void) {
    timeutils_struct_time_t tm;
    timeutils_seconds_since_epoch_to_struct_time(board_time_us() / 1000000, &tm);
    mp_obj_t tuple[8] = {
        mp_obj_new_int(tm.tm_year), mp_obj_new_int(tm.tm_mon), mp_obj_new_int(tm.tm_mday),
        mp_obj_new_int(tm.tm_hour), mp_obj_new_int(tm.tm_min), mp_obj_new_int(tm.tm_sec),
        mp_obj_new_int(tm.tm_wday), mp_obj_new_int(tm.tm_yday),
    };
    return mp_obj_new_tuple(8, tuple);
}
