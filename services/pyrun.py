# services/pyrun: runs Python typed at the console (`py`, the raw REPL) in one namespace.
#
# Owns: the console's Python namespace (with kernel, hal and asyncio imported, shared with
# `repl` through __main__'s dict), the console output stream that Python code prints to, and
# the foreground section around user code (Ctrl-C raises KeyboardInterrupt only while it runs).
# Invariants: user code never escapes with an exception: every error is printed to the console
# (a one-line note when the heap is too full to format it); Ctrl-C is disabled again
# (kbd_intr(-1)) whenever control returns to the shell. User code runs through
# hal.run_user (C): its builtins overrides (`builtins.__import__ = ...`) are active only while
# it runs, never in the shell, the kernel or a service, and it never leaves the heap locked.
# Not here: the raw REPL's framing of bytes (services/rawrepl.py), commands.
import builtins
import io
import sys

import micropython
from micropython import const

_CTRL_C = const(3)
_OWN_FILE = globals().get("__file__")  # our frame, dropped from tracebacks the user sees
_NO_HEAP = b"(heap full: the exception could not be printed)\r\n"


class Output(io.IOBase):
    """A stream over the console's write(bytes) that turns "\\n" into "\\r\\n"."""

    def __init__(self, write):
        self._write = write

    def write(self, data):
        n = len(data)  # report what we were given: MicroPython's stream layer relies on it
        if isinstance(data, str):
            data = data.encode()
        data = bytes(data)
        if b"\n" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._write(data)
        return n


def _unlock_heap():
    """Leaves the heap unlocked after user code, as MicroPython's own REPL does: code that
    left it locked (heap_lock() then an error) would otherwise starve the whole kernel."""
    depth = micropython.heap_unlock()
    while depth > 0:
        depth = micropython.heap_unlock()
    if depth < 0:
        micropython.heap_lock()  # it was not locked: undo our unlock


try:
    from _hal import run_user
except ImportError:  # a MicroPython without the HAL: no worlds of builtins, unlock in Python

    def run_user(fn, *args):
        """fn(*args) as console code; the heap is unlocked afterwards."""
        try:
            return fn(*args)
        finally:
            _unlock_heap()


def console_namespace(out, kernel, hal, asyncio, ns=None, native_stdout=False):
    """Fills ns (default: a new dict) with what code at the console expects to find.
    native_stdout: sys.stdout already is this console (the firmware's UART), so the builtin
    print is kept: it allocates nothing, which code under heap_lock() relies on."""
    if ns is None:
        ns = {}
    ns["kernel"] = kernel
    ns["hal"] = hal
    if asyncio is not None:
        ns["asyncio"] = asyncio  # the kernel's asyncio-compatible API
    if native_stdout:
        ns.pop("print", None)
    else:
        ns["print"] = console_print(out)
    return ns


def console_print(out):
    """A print() that writes to the console stream unless given another file."""
    bprint = builtins.print

    def print(*args, sep=" ", end="\n", file=None):  # shadows the builtin on purpose
        bprint(*args, sep=sep, end=end, file=out if file is None else file)

    return print


# compile() is an optional builtin in MicroPython; without it eval()/exec() take the text.
_HAVE_COMPILE = hasattr(builtins, "compile")


def _split_last(source):
    """(statements, expression) compiled from 'a; b; EXPR', or (all of it, None) when the
    text after the last ';' is not an expression on its own (or the ';' sits in a string)."""
    i = source.rfind(";")
    if i > 0 and source[i + 1 :].strip():
        try:
            return (
                compile(source[:i], "<stdin>", "exec"),
                compile(source[i + 1 :].strip(), "<stdin>", "eval"),
            )
        except SyntaxError:
            pass
    return compile(source, "<stdin>", "exec"), None


def _exec_then_eval(head, last, ns):
    exec(head, ns)
    return eval(last, ns)


class PyRunner:
    """Runs source text in `ns`, printing results and errors to `out` (an Output)."""

    def __init__(self, ns, out, foreground=None):
        self.ns = ns
        self.out = out
        self.foreground = foreground  # foreground(flag): tell the kernel user code runs

    def run_line(self, source):
        """`py`: evaluates an expression and prints its repr, or executes statements."""
        try:
            self._enter()
            try:
                result = self._eval_or_exec(source)
            finally:
                self._leave()
            if result is not None:
                self.ns["_"] = result
                self.out.write(repr(result) + "\n")
        except BaseException as e:  # noqa: BLE001 - user code: every error is theirs to see
            self.print_exception(e)

    def run_file(self, path):
        """Runs the file at path in ns (/boot.py, /main.py) in the foreground (Ctrl-C stops
        it); what it raises is printed. Returns False when it raised."""
        try:
            with open(path) as f:
                code = f.read()
            if _HAVE_COMPILE:
                code = compile(code, path, "exec")
            self._enter()
            try:
                run_user(exec, code, self.ns)
            finally:
                self._leave()
        except BaseException as e:  # noqa: BLE001 - user code: every error is theirs to see
            self.print_exception(e)
            return False
        return True

    def _eval_or_exec(self, source):
        # Compiling is ours; running the code is the user's (run_user). Statements that end
        # in an expression ('import m; m.f()') print its value, as the REPL prints one.
        if _HAVE_COMPILE:
            try:
                code = compile(source, "<stdin>", "eval")
            except SyntaxError:
                head, last = _split_last(source)
                if last is None:
                    run_user(exec, head, self.ns)
                    return None
                return run_user(_exec_then_eval, head, last, self.ns)  # one piece of user code
            return run_user(eval, code, self.ns)
        try:
            return run_user(eval, source, self.ns)  # a SyntaxError here: nothing ran
        except SyntaxError:
            run_user(exec, source, self.ns)
            return None

    def run_raw(self, source):
        """Raw REPL: executes source (bytes), framing output as MicroPython does:
        stdout, 0x04, the exception if any, 0x04. Returns True if the code raised
        SystemExit (which asks for a soft reset, as in MicroPython's raw REPL)."""
        error = None
        try:
            code = source.decode()  # bytes or bytearray
            if _HAVE_COMPILE:
                code = compile(code, "<stdin>", "exec")
            self._enter()
            try:
                run_user(exec, code, self.ns)
            finally:
                self._leave()
        except BaseException as e:  # noqa: BLE001 - user code: reported in the frame below
            error = e
        self.out.write(b"\x04")
        forced_exit = isinstance(error, SystemExit)
        if error is not None and not forced_exit:
            self.print_exception(error)
        self.out.write(b"\x04")
        return forced_exit

    def print_exception(self, e):
        try:
            buf = io.StringIO()
            sys.print_exception(e, buf)
            text = buf.getvalue()
            if _OWN_FILE:
                own = '  File "%s"' % _OWN_FILE
                text = "\n".join(ln for ln in text.split("\n") if not ln.startswith(own))
            self.out.write(text)
        except MemoryError:  # user code filled the heap: stream it, else say so in one line
            try:
                sys.print_exception(e, self.out)
            except MemoryError:
                self.out._write(_NO_HEAP)

    def _enter(self):
        if self.foreground is not None:
            self.foreground(True)
        micropython.kbd_intr(_CTRL_C)

    def _leave(self):
        micropython.kbd_intr(-1)
        if self.foreground is not None:
            self.foreground(False)
