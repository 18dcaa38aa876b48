# services/rawrepl: MicroPython's raw REPL and raw-paste protocol, one console byte at a time.
#
# Owns: the byte protocol that mpremote and pyboard.py speak (the behaviour of
# shared/runtime/pyexec.c, written afresh): Ctrl-A resets and prints the banner, bytes
# accumulate until Ctrl-D, "OK", the code's output, 0x04, its exception, 0x04, ">"; Ctrl-B
# leaves; Ctrl-C clears; Ctrl-D on an empty buffer asks for a soft reset. Raw-paste
# (Ctrl-E 'A' Ctrl-A) answers "R\x01", the window size (2 bytes little-endian) and 0x01,
# then 0x01 for each window of bytes consumed, 0x04 at the end, then runs the code.
# Invariants: every reply is byte-exact with MicroPython's; input larger than source_max is
# consumed and refused with a MemoryError in the exception frame, never held.
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


class RawRepl:
    """The raw REPL state machine. `write(bytes)` answers on the console; `runner.run_raw(src)`
    executes a program and writes its framed output."""

    def __init__(self, write, runner, window=128, source_max=65536):
        self.write = write
        self.runner = runner
        self.window = window  # raw-paste flow-control window, in bytes (MicroPython: 128)
        self.source_max = source_max  # longest program accepted, in bytes
        self.buf = bytearray()
        self._mode = _M_RAW
        self._remain = 0  # raw-paste bytes the host may still send in this window
        self._too_long = False  # input passed source_max; consumed but not kept

    def enter(self):
        """Prints the banner and the prompt; called on Ctrl-A and after a soft reset."""
        self._reset()
        self.write(BANNER + b">")

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
            if not self.buf and not self._too_long:
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
        w = self.window
        self.write(bytes((0x52, 0x01, w & 0xFF, w >> 8, 0x01)))  # "R\x01", window, one more
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
        if len(self.buf) < self.source_max:
            self.buf.append(c)
        else:
            self._too_long = True

    def _run(self):
        source = self.buf
        too_long = self._too_long
        self._reset()
        if too_long:
            self.write(
                b"\x04MemoryError: raw REPL: program longer than %d bytes\r\n\x04"
                % self.source_max
            )
            forced_exit = False
        else:
            forced_exit = self.runner.run_raw(bytes(source))
        if forced_exit:
            return RAW_RESET
        self.write(b">")
        return RAW_NONE

    def _reset(self):
        self.buf = bytearray()
        self._mode = _M_RAW
        self._too_long = False
