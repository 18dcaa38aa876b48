// ktrap.h: what the C step (modksched.c) needs from _ktrap (modktrap.c): the count of armed
// traps and the stale-arm test, so a step that leaves a trap armed is caught in C at the cost
// of one int compare.
#ifndef MULTIOS_KTRAP_H
#define MULTIOS_KTRAP_H

#include "py/obj.h"

extern mp_int_t ktrap_n_armed;  // traps armed now (0 between steps unless one went stale)

// True when a trap other than `yielded` (the step's yield, armed if a generator yielded it
// bare) is armed: the step armed a trap it did not await.
bool ktrap_stale(mp_obj_t yielded);

#endif // MULTIOS_KTRAP_H
