// main.c: MultiOS boot, read top to bottom.
//
// 1. the board brings up its clock, console and timer (board_init);
// 2. MicroPython gets its heap and stack limits;
// 3. the frozen init boots the kernel: services.init.main() starts services and the shell;
// 4. when it returns (soft reset), the VM is torn down and we go round again.
// If the kernel itself dies, its traceback is printed and MicroPython's REPL is offered
// as a rescue console; Ctrl-D there soft-resets into the kernel again.
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

// Run the frozen kernel; returns true for a soft reset, false if the kernel crashed.
static bool boot_kernel(void) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_lexer_t *lex = mp_lexer_new_from_str_len(MP_QSTR__lt_boot_gt_, boot_src, sizeof(boot_src) - 1, 0);
        mp_parse_tree_t tree = mp_parse(lex, MP_PARSE_FILE_INPUT);
        mp_obj_t fun = mp_compile(&tree, lex->source_name, false);
        mp_call_function_0(fun);
        nlr_pop();
        return true;
    }
    mp_obj_t exc = MP_OBJ_FROM_PTR(nlr.ret_val);
    if (mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(exc)), MP_OBJ_FROM_PTR(&mp_type_SystemExit))) {
        return true;
    }
    mp_printf(&mp_plat_print, "\r\nkernel panic: ");
    mp_obj_print_exception(&mp_plat_print, exc);
    return false;
}

// MicroPython's REPL as a rescue console after a kernel panic. Whatever escapes it (say a
// MemoryError while reading a line) ends in a soft reset, never in an uncaught NLR.
static void rescue_repl(void) {
    mp_printf(&mp_plat_print, "rescue REPL: Ctrl-D reboots the kernel\r\n");
    hal_boot_mode = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        pyexec_friendly_repl();
        nlr_pop();
    } else {
        mp_printf(&mp_plat_print, "\r\nrescue REPL failed: ");
        mp_obj_print_exception(&mp_plat_print, MP_OBJ_FROM_PTR(nlr.ret_val));
    }
}

int main(void) {
    board_init();
    mp_stack_set_top(_estack);
    mp_stack_set_limit((_estack - _sstack) - 4096);   // RuntimeError well before overflow
    for (;;) {
        gc_init(_heap_start, _heap_end);
        mp_init();
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
}

void nlr_jump_fail(void *val) {
    mp_printf(&mp_plat_print, "FATAL: uncaught NLR %p\r\n", val);
    board_poweroff(70);
}

void NORETURN __fatal_error(const char *msg) {
    mp_printf(&mp_plat_print, "FATAL: %s\r\n", msg);
    board_poweroff(70);
}

#ifndef NDEBUG
void MP_WEAK __assert_func(const char *file, int line, const char *func, const char *expr) {
    mp_printf(&mp_plat_print, "assert %s:%d %s: %s\r\n", file, line, func, expr);
    __fatal_error("assertion failed");
}
#endif
