# services/rawrepl: MicroPython's raw REPL and raw-paste protocol, one console byte at a time.
#
# Owns: the byte protocol that mpremote and pyboard.py speak (the behaviour of
# shared/runtime/pyexec.c, written afresh): Ctrl-A resets and prints the banner, bytes
# accumulate until Ctrl-D, "OK", the code's output, 0x04, its exception, 0x04, ">"; Ctrl-B
# leaves; Ctrl-C clears; Ctrl-D on an empty buffer asks for a soft reset. Raw-paste
# (Ctrl-E 'A' Ctrl-A) answers "R\x01", the window size (2 bytes little-endian) and 0x01,
# then 0x01 for each window of bytes consumed, 0x04 at the end, then runs the code.
# Invariants: every reply is byte-exact with MicroPython's; input larger than source_max, or
# than the heap that user code left free, is consumed and refused with a MemoryError in the
# exception frame, never held; no reply needs the heap (a full one still gets its frames).
# Not here: running the code (a PyRunner does), what a soft reset does (the shell decides).
from micropython import const

# What feed() reports to the shell.
RAW_NONE = const(0)  # keep feeding
RAW_EXIT = const(1)  # Ctrl-B: back to the shell's prompt
RAW_RESET = const(2)  # soft reset requested (Ctrl-D on empty input, or SystemExit)

_CTRL_A = const(0x01)
_CTRL_B = const(0x02)
_CTRL_C = const(0x03)
_CTRL_D = const(0x04)
_CTRL_E = const(0x05)

# Modes.
_M_RAW = const(0)
_M_PASTE = const(1)

BANNER = b"raw REPL; CTRL-B to exit\r\n"
_BANNER_PROMPT = BANNER + b">"
_NO_HEAP = b"\x04MemoryError: raw REPL: no heap left for the program\r\n\x04"
_EMPTY = b""  # the input buffer while nothing is kept


class RawRepl:
    """The raw REPL state machine. `write(bytes)` answers on the console; `runner.run_raw(src)`
    executes a program and writes its framed output."""

    def __init__(self, write, runner, window=128, source_max=65536):
        self.write = write
        self.runner = runner
        self.window = window  # raw-paste flow-control window, in bytes (MicroPython: 128)
        self.source_max = source_max  # longest program accepted, in bytes
        self.buf = _EMPTY
        self._mode = _M_RAW
        self._remain = 0  # raw-paste bytes the host may still send in this window
        self._refused = None  # the error frame for input consumed but not kept, or None
        w = window
        self._paste_ok = bytes((0x52, 0x01, w & 0xFF, w >> 8, 0x01))  # "R\x01", window, one more
        self._too_long = (
            b"\x04MemoryError: raw REPL: program longer than %d bytes\r\n\x04" % source_max
        )

    def enter(self):
        """Prints the banner and the prompt; called on Ctrl-A and after a soft reset."""
        self._reset()
        self.write(_BANNER_PROMPT)

    def feed(self, c):
        """Takes one input byte (an int) and returns a RAW_* code."""
        if self._mode == _M_PASTE:
            return self._feed_paste(c)
        if c == _CTRL_A:
            if len(self.buf) == 2 and self.buf[0] == _CTRL_E:
                return self._start_paste(self.buf[1])
            self.enter()
        elif c == _CTRL_B:
            self._reset()
            self.write(b"\r\n")
            return RAW_EXIT
        elif c == _CTRL_C:
            self._reset()
        elif c == _CTRL_D:
            self.write(b"OK")
            if not self.buf and self._refused is None:
                self.write(b"\r\n")
                return RAW_RESET
            return self._run()
        else:
            self._add(c)
        return RAW_NONE

    def _start_paste(self, command):
        self._reset()
        if command != 0x41:  # 'A' is the only raw-paste command there is
            self.write(b"R\x00>")
            return RAW_NONE
        self._mode = _M_PASTE
        self._remain = self.window
        self.write(self._paste_ok)
        return RAW_NONE

    def _feed_paste(self, c):
        if c == _CTRL_C:
            self.write(b"\x04\x04KeyboardInterrupt\r\n\x04>")  # as an interrupted read does
            self._reset()
            return RAW_NONE
        if c == _CTRL_D:
            self.write(b"\x04")  # end of data acknowledged
            return self._run()
        self._add(c)
        self._remain -= 1
        if self._remain == 0:
            self.write(b"\x01")  # the host may send another window
            self._remain = self.window
        return RAW_NONE

    def _add(self, c):
        if self._refused is not None:
            return
        if len(self.buf) >= self.source_max:
            self._refused = self._too_long
            return
        try:
            if self.buf is _EMPTY:
                self.buf = bytearray()
            self.buf.append(c)
        except MemoryError:
            self._refused = _NO_HEAP

    def _run(self):
        source = self.buf
        refused = self._refused
        self._reset()
        if refused is not None:
            self.write(refused)
            forced_exit = False
        else:
            forced_exit = self.runner.run_raw(source)  # bytes or bytearray, not copied
        if forced_exit:
            return RAW_RESET
        self.write(b">")
        return RAW_NONE

    def _reset(self):
        self.buf = _EMPTY  # a bytearray is made by the first byte kept (_add)
        self._mode = _M_RAW
        self._refused = None
