// main.c: MultiOS boot, read top to bottom.
//
// 1. the board brings up its clock, console and timer (board_init);
// 2. MicroPython gets its heap and stack limits;
// 3. the frozen init boots the kernel: services.init.main() starts services and the shell;
// 4. when it returns (soft reset), the VM is torn down and we go round again.
// A soft reset, once asked for (hal_reset_request: Ctrl-D in the raw REPL or at the prompt),
// always ends in a fresh VM: whatever ends init (a return, any exception, or the timer's
// abort when stopping the services takes too long) leads back here, never to the rescue REPL.
// If the kernel cannot boot or stops on its own, the console says why in one line, then the
// traceback, and MicroPython's REPL is offered as a rescue console; Ctrl-D there soft-resets
// into the kernel again.
#include "py/compile.h"
#include "py/gc.h"
#include "py/runtime.h"
#include "py/mphal.h"
#include "py/stackctrl.h"
#include "shared/runtime/gchelper.h"
#include "shared/runtime/pyexec.h"
#include "board.h"
#include "hal.h"

extern uint8_t _heap_start[], _heap_end[];      // from the board's linker script
extern uint8_t _sstack[], _estack[];

static const char boot_src[] = "import services.init\nservices.init.main()\n";

// Run the frozen init; returns true for a soft reset, false if the kernel did not boot or
// stopped without a reset request (said in one line).
static bool boot_kernel(void) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        hal_reset_target = &nlr;    // where a soft reset that takes too long lands
        mp_lexer_t *lex = mp_lexer_new_from_str_len(MP_QSTR__lt_boot_gt_, boot_src, sizeof(boot_src) - 1, 0);
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t fun = mp_compile(&tree, lex->source_name, false);
        mp_call_function_0(fun);
        nlr_pop();
        hal_reset_target = NULL;
        if (hal_reset_requested()) {
            return true;
        }
        mp_printf(&mp_plat_print, "\nkernel panic: init returned without a reset request\n");
        return false;
    }
    hal_reset_target = NULL;
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (hal_reset_requested()) {    // the VM is torn down anyway; say why it was not clean
        if (exc == MP_OBJ_NULL) {
            mp_printf(&mp_plat_print, "soft reset: the services did not stop in time, VM torn down\n");
        } else {
            mp_printf(&mp_plat_print, "soft reset: stopping failed (");
            mp_obj_print_helper(&mp_plat_print, exc, PRINT_EXC);
            mp_printf(&mp_plat_print, "), VM torn down\n");
        }
        return true;
    }
    mp_printf(&mp_plat_print, "\nkernel panic: ");
    if (exc == MP_OBJ_NULL) {
        mp_printf(&mp_plat_print, "VM aborted\n");
        return false;
    }
    mp_obj_print_helper(&mp_plat_print, exc, PRINT_EXC);
    mp_printf(&mp_plat_print, "\n");
    mp_obj_print_exception(&mp_plat_print, exc);
    return false;
}

// MicroPython's REPL as a rescue console after a kernel panic. Whatever escapes it (say a
// MemoryError while reading a line) ends in a soft reset, never in an uncaught NLR.
static void rescue_repl(void) {
    mp_printf(&mp_plat_print, "rescue REPL: Ctrl-D reboots the kernel\n");
    hal_boot_mode = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        pyexec_friendly_repl();
        nlr_pop();
    } else {
        mp_printf(&mp_plat_print, "\nrescue REPL failed: ");
        mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
}

// Python function frames (MICROPY_ENABLE_PYSTACK): LIFO, reset with the VM.
#if MICROPY_ENABLE_PYSTACK
static mp_obj_t pystack[MULTIOS_PYSTACK_WORDS];
#endif

int main(void) {
    board_init();
    mp_stack_set_top(_estack);
    mp_stack_set_limit((_estack - _sstack) - 4096);   // RuntimeError well before overflow
    for (;;) {
        gc_init(_heap_start, _heap_end);
        #if MICROPY_ENABLE_PYSTACK
        mp_pystack_init(pystack, pystack + MP_ARRAY_SIZE(pystack));
        #endif
        mp_init();
        hal_vm_reset();
        mp_hal_set_interrupt_char(-1);
        if (!boot_kernel()) {
            rescue_repl();
        }
        gc_sweep_all();
        mp_deinit();
    }
}

void gc_collect(void) {
    hal_gc_collect_hook();
    gc_collect_start();
    gc_helper_collect_regs_and_stack();
    gc_collect_end();
    hal_gc_collect_done();
}

void nlr_jump_fail(void *val) {
    mp_printf(&mp_plat_print, "FATAL: uncaught NLR %p\n", val);
    board_poweroff(70);
}

void NORETURN __fatal_error(const char *msg) {
    mp_printf(&mp_plat_print, "FATAL: %s\n", msg);
    board_poweroff(70);
}

#ifndef NDEBUG
void MP_WEAK __assert_func(const char *file, int line, const char *func, const char *expr) {
    mp_printf(&mp_plat_print, "assert %s:%d %s: %s\n", file, line, func, expr);
    __fatal_error("assertion failed");
}
#endif
