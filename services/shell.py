# services/shell: the console shell, a kernel task that owns the console.
#
# Owns: the console (any/read/write), the prompt `multios> `, dispatching a typed line to its
# command, switching between the line editor and the raw REPL, alert lines (printed, then
# the prompt and the line being typed redrawn; held while foreground code owns the console,
# dropped in the raw REPL), and how the shell ends (exit codes for boot).
# Invariants: nothing the console sends ends the shell except an explicit request (reboot,
# poweroff, soft reset); a failing command prints its error and the next prompt comes; while
# the raw REPL is active nothing but the raw REPL writes to the console. Nothing user code
# leaves behind stops it: user code runs only through services/pyrun.py (its builtins
# overrides are never ours), console bytes are read into a preallocated buffer (a full heap
# still lets the raw REPL answer), and a soft reset first tells the HAL (hal.reset_request:
# from then on the VM is rebuilt whatever happens) and drops the console's namespace.
# Not here: the commands (services/commands.py), line editing (services/lineedit.py), the raw
# REPL protocol (services/rawrepl.py), running Python (services/pyrun.py), what a reboot or
# a soft reset does to the machine (services/init.py).
import gc

import micropython
from micropython import const

from kernel import params as kernel_params
from services import commands
from services.lineedit import KEY_EOF, KEY_LINE, KEY_RAW, LineEditor
from services.pyrun import Output, PyRunner, console_namespace, run_user
from services.rawrepl import RAW_EXIT, RAW_RESET, RawRepl

# Why the shell ended: what services/init.py does next.
EXIT_NONE = const(0)  # still running
EXIT_SOFT = const(1)  # soft reset, come back at the prompt (Ctrl-D at the prompt)
EXIT_RAW = const(2)  # soft reset, come back in the raw REPL (Ctrl-D in the raw REPL)
EXIT_REBOOT = const(3)  # `reboot`
EXIT_POWEROFF = const(4)  # `poweroff`

BOOT_RAW = const(1)  # hal.boot_mode() that brings the next boot up in the raw REPL

_READ_CHUNK = const(64)  # console bytes taken per read, in bytes

_REPL_NAME = "_multios_repl"  # where `repl` briefly puts hal.repl in the namespace
_REPL_RESULT = "_multios_repl_result"  # and what it returned
_active = None  # the Shell that owns the console, for alert()


class HalConsole:
    """The board's console through the HAL, in the shape the shell takes."""

    def __init__(self, hal):
        self.any = hal.console_any
        self.read = hal.console_read
        self.readinto = hal.console_readinto  # into a preallocated buffer: no heap needed
        self.write = hal.console_write
        self.stdout = True  # sys.stdout writes to this same console (cooked: \n -> \r\n)


class Shell:
    """The console shell. `console` has any(), read(n) (never blocks) and write(bytes);
    kernel, hal and asyncio are the modules the shell and the console's Python use."""

    def __init__(self, console, kernel, hal, ns=None, asyncio=None, wait=None, params=None):
        self.console = console
        self.kernel = kernel
        self.hal = hal
        self.wait = wait or kernel.wait_console  # async wait until console bytes are waiting
        p = params or kernel_params
        self.reset_max_ms = p.SOFT_RESET_MAX_MS
        self.alerts_held = p.SHELL_ALERTS_HELD
        self._reset_request = getattr(hal, "reset_request", None)
        self._readinto = getattr(console, "readinto", None)
        self._rbuf = bytearray(_READ_CHUNK)
        self.out = Output(console.write)
        self.ns = console_namespace(
            self.out, kernel, hal, asyncio, ns, getattr(console, "stdout", False)
        )
        self.runner = PyRunner(self.ns, self.out, self._foreground)
        self.editor = LineEditor(console.write, self.complete, p.SHELL_LINE_MAX, p.SHELL_HISTORY)
        self.raw = RawRepl(console.write, self.runner, p.RAW_PASTE_WINDOW, p.RAW_SOURCE_MAX)
        self.in_raw = False  # the raw REPL has the console
        self.fg = 0  # foreground code (py, repl, top, /main.py) runs: it owns the console
        self.held = []  # alert lines held meanwhile, shown before the next prompt
        self.task = None  # the kernel Task running run(); exempt from the watchdog in `py`
        self.exit = EXIT_NONE

    # -- the task -------------------------------------------------------------------------

    async def run(self, raw=False):
        """The shell's task body: prompt (or raw REPL banner), then bytes until an exit."""
        self.start(raw)
        while self.exit == EXIT_NONE:
            await self.wait()
            self.poll()
        return self.exit

    def start(self, raw=False):
        global _active
        _active = self
        micropython.kbd_intr(-1)  # Ctrl-C reaches us as a byte while we wait for input
        if raw:
            self.in_raw = True
            self.raw.enter()
        else:
            self.editor.start()

    def poll(self):
        """Feeds every byte that is waiting on the console."""
        n = self.console.any()
        while n and self.exit == EXIT_NONE:
            if self._readinto is None:
                self.feed(self.console.read(min(n, _READ_CHUNK)))
            else:
                buf = self._rbuf
                n = self._readinto(buf)
                for i in range(n):  # compiled to a counter: no allocation
                    if self.exit != EXIT_NONE:
                        return
                    self._feed_byte(buf[i])
            n = self.console.any()

    def feed(self, data):
        """Handles console input bytes; stops early when the shell is asked to end."""
        for c in data:
            if self.exit != EXIT_NONE:
                return
            self._feed_byte(c)

    def _feed_byte(self, c):
        try:
            if self.in_raw:
                self._feed_raw(c)
            else:
                self._feed_line(c)
        except KeyboardInterrupt:
            # A Ctrl-C that landed just after user code finished: nothing to stop.
            micropython.kbd_intr(-1)
        except MemoryError:
            # User code filled the heap (the raw REPL answers that itself): the byte is
            # dropped, the shell goes on; a soft reset gives the heap back.
            if not self.in_raw:
                self.write(b"\r\nMemoryError: heap full (Ctrl-D: soft reset)\r\n")

    def _feed_line(self, c):
        key = self.editor.feed(c)
        if key == KEY_LINE:
            self.execute(self.editor.line)
            if self.exit == EXIT_NONE and not self.in_raw:  # `repl` may leave us in raw
                self.show_held()
                self.editor.start()
        elif key == KEY_RAW:
            self.write(b"\r\n")
            self.in_raw = True
            self.raw.enter()
        elif key == KEY_EOF:
            self.write(b"\r\n")
            self._soft_reset(EXIT_SOFT)

    def _feed_raw(self, c):
        r = self.raw.feed(c)
        if r == RAW_EXIT:
            self.in_raw = False
            self.editor.start()
        elif r == RAW_RESET:
            self._soft_reset(EXIT_RAW)

    def _soft_reset(self, code):
        self.write(b"MPY: soft reboot\r\n")
        self.soft_reset(code)

    # -- commands -------------------------------------------------------------------------

    def execute(self, line):
        """Runs one command line; every error is printed, none escapes."""
        line = line.strip()
        if not line:
            return
        name, _, arg = line.partition(" ")
        cmd = commands.COMMANDS.get(name)
        if cmd is None:
            self.println("unknown command: %s (try 'help')" % name)
            return
        try:
            cmd.fn(self, arg.lstrip())
        except Exception as e:  # noqa: BLE001 - a broken command must not take the console down
            self.println("%s: failed: %s: %s" % (name, type(e).__name__, e))

    def complete(self, line):
        """Tab: whole-line candidates for a command name, `help`'s argument, or the
        argument of a command that has a completer (e.g. `svc`'s verbs and names)."""
        if " " not in line:
            return [n for n in commands.names() if n.startswith(line)]
        head, _, word = line.partition(" ")
        if head == "help" and " " not in word:
            return ["help " + n for n in commands.names() if n.startswith(word)]
        cmd = commands.COMMANDS.get(head)
        if cmd is not None and cmd.complete is not None:
            return [head + " " + a for a in cmd.complete(word)]
        return []

    def request_exit(self, code):
        """Ends run() with `code` after the current byte: boot then stops the services."""
        self.exit = code

    def reboot(self):
        self.request_exit(EXIT_REBOOT)

    def soft_reset(self, code=EXIT_SOFT):
        """Ends the shell for a soft reset (EXIT_SOFT: back at the prompt, EXIT_RAW: in the
        raw REPL). First the HAL: from here the VM is rebuilt whatever happens (init stops
        the services within reset_max_ms, else the VM is torn down anyway); the user's
        builtins overrides are gone and the heap is unlocked. Then the user's globals go, so
        a heap they filled is free again for stopping the services."""
        if code == EXIT_RAW:
            self.hal.set_boot_mode(BOOT_RAW)  # now: the VM may go before init runs on
        if self._reset_request is not None:
            self._reset_request(self.reset_max_ms)
        self.ns.clear()
        gc.collect()
        self.request_exit(code)

    def poweroff(self):
        self.request_exit(EXIT_POWEROFF)

    def run_foreground_repl(self):
        """`repl`: MicroPython's own REPL, with globals = the console namespace. When the
        person (or mpremote) leaves it with Ctrl-A, hal.repl() returns "raw" and the
        shell goes on in the raw REPL, as MicroPython's REPL would."""
        self._foreground(True)
        self.ns[_REPL_NAME] = self.hal.repl
        try:
            # exec() makes self.ns the current globals and locals, and the C REPL compiles
            # and stores names in those (a separate locals dict would swallow its names).
            # hal.repl is called from the exec'd code itself: calling it through a Python
            # function of ours would make our module's dict the REPL's globals.
            # run_user: what is typed there is user code (its builtins overrides are its own).
            run_user(exec, _REPL_RESULT + " = " + _REPL_NAME + "()", self.ns)
        finally:
            self.ns.pop(_REPL_NAME, None)
            how = self.ns.pop(_REPL_RESULT, None)
            micropython.kbd_intr(-1)
            self._foreground(False)
        if how == "raw":
            self.in_raw = True
            self.raw.enter()

    def _foreground(self, flag):
        self.fg += 1 if flag else -1
        if self.task is not None:
            self.kernel.set_foreground(self.task, flag)

    # -- output ---------------------------------------------------------------------------

    def write(self, data):
        self.console.write(data)

    def println(self, text=""):
        self.out.write(text + "\n")

    def alert(self, text):
        """Prints an alert on its own line and redraws the prompt and the line being typed.
        While foreground code owns the console (py, repl, top) the line is held and shown
        before the next prompt (the last params.SHELL_ALERTS_HELD of them). Returns False
        (nothing printed, nothing held) while the raw REPL owns the console."""
        if self.in_raw or self.exit != EXIT_NONE:
            return False
        if self.fg > 0:
            h = self.held
            if len(h) >= self.alerts_held:
                h.pop(0)
            h.append(text)
            return True
        self.write(b"\r\x1b[K")
        self.println(text)
        self.editor.redraw()
        return True

    def show_held(self):
        """The alert lines held while foreground code ran, before the prompt comes back."""
        while self.held:
            self.println(self.held.pop(0))


def alert(text):
    """An alert line for the person at the console; False when it could not be shown
    (no shell, or the raw REPL is active): it is journaled anyway."""
    if _active is None:
        return False
    return _active.alert(text)
