# services/lineedit: the shell's line editor, one console byte at a time.
#
# Owns: the line being typed, the cursor in it, its echo, history (up/down arrows), Tab
# completion and the parsing of terminal escape sequences. feed(byte) returns what happened
# (a KEY_* code); the shell decides what a finished line or a control key means.
# Keys: printable ASCII inserts at the cursor; Backspace (0x08/0x7f) and Delete (ESC [3~);
# Left/Right, Home/End (ESC [H/F, ESC [1~/4~, Ctrl-A/Ctrl-E on a non-empty line, as
# MicroPython's REPL); Up/Down history; Tab completes; Ctrl-C clears; CR, LF or CRLF end it.
# Invariants: the line holds printable ASCII only and never more than line_max bytes;
# 0 <= pos <= len(buf); an escape sequence is at most ESC_MAX bytes long, so no input leaves
# the editor stuck in a state that swallows the next command; any byte is safe to feed.
# Not here: commands, the raw REPL, reading the console (the shell feeds us).
from micropython import const

# What feed() reports to the shell.
KEY_NONE = const(0)  # byte consumed, nothing for the shell to do
KEY_LINE = const(1)  # Enter: the finished line is in .line
KEY_RAW = const(2)  # Ctrl-A on an empty line: enter the raw REPL
KEY_EOF = const(3)  # Ctrl-D on an empty line: soft reset

_CTRL_A = const(0x01)
_CTRL_C = const(0x03)
_CTRL_D = const(0x04)
_CTRL_E = const(0x05)
_BELL = const(0x07)
_BS = const(0x08)
_TAB = const(0x09)
_LF = const(0x0A)
_CR = const(0x0D)
_ESC = const(0x1B)
_DEL = const(0x7F)

# Escape parser states.
_ES_NONE = const(0)
_ES_ESC = const(1)  # seen ESC
_ES_CSI = const(2)  # seen ESC [ or ESC O, reading parameters
ESC_MAX = const(16)  # longest escape sequence we wait for, in bytes
_PARAM_NONE = const(-1)  # no numeric parameter seen
_PARAM_OTHER = const(-2)  # parameters we do not act on (e.g. "1;5" for Ctrl-arrow)


class LineEditor:
    """Edits one line at a time on a byte console; `write(bytes)` is the console's output."""

    prompt = b"multios> "

    def __init__(self, write, complete=None, line_max=200, history_max=20):
        self.write = write
        self.complete = complete  # complete(line) -> list of candidate whole lines, or None
        self.line_max = line_max  # longest line kept, in bytes; the rest is dropped
        self.history_max = history_max  # lines kept for the up arrow
        self.buf = bytearray()  # the line being typed
        self.pos = 0  # cursor: index into buf
        self.line = ""  # the last finished line (valid after KEY_LINE)
        self.history = []  # oldest first
        self._hist_pos = 0  # index into history while browsing; len(history) = the draft
        self._draft = b""  # what was typed before browsing history
        self._esc = _ES_NONE
        self._esc_len = 0  # bytes of the current escape sequence
        self._esc_param = _PARAM_NONE  # its numeric parameter, if one
        self._after_cr = False  # a LF right after CR is the same Enter
        self._overflow = False  # line_max reached: bell once, drop the rest

    def start(self):
        """Prints the prompt for a fresh, empty line."""
        self._clear()
        self.write(self.prompt)

    def redraw(self):
        """Prints the prompt and the current line again, e.g. after an alert."""
        self.write(b"\r" + self.prompt + self.buf + b"\x1b[K" + _left(len(self.buf) - self.pos))

    def feed(self, c):
        """Takes one input byte (an int) and returns a KEY_* code."""
        if self._esc != _ES_NONE and self._feed_esc(c):
            return KEY_NONE
        after_cr = self._after_cr
        self._after_cr = c == _CR
        if c == _CR or (c == _LF and not after_cr):
            return self._enter()
        if 0x20 <= c < 0x7F:
            self._insert(c)
        elif c == _BS or c == _DEL:
            self._backspace()
        elif c == _CTRL_C:
            self.write(b"^C\r\n")
            self.start()
        elif c == _TAB:
            self._tab()
        elif c == _ESC:
            self._esc = _ES_ESC
            self._esc_len = 1
            self._esc_param = _PARAM_NONE
        elif c == _CTRL_A:
            if not self.buf:
                return KEY_RAW
            self._home()
        elif c == _CTRL_E:
            self._end()
        elif c == _CTRL_D and not self.buf:
            return KEY_EOF
        # Any other byte (LF after CR, control chars, non-ASCII) is dropped.
        return KEY_NONE

    def _feed_esc(self, c):
        # Returns True when c belonged to the escape sequence.
        if c < 0x20 or c >= 0x7F:
            self._esc = _ES_NONE  # a control byte aborts the sequence and counts as itself
            return False
        self._esc_len += 1
        if self._esc == _ES_ESC:
            self._esc = _ES_CSI if c == 0x5B or c == 0x4F else _ES_NONE  # '[' or 'O'
        elif 0x40 <= c <= 0x7E:  # final byte
            self._esc = _ES_NONE
            self._escape(c, self._esc_param)
        elif self._esc_len >= ESC_MAX:
            self._esc = _ES_NONE
        elif 0x30 <= c <= 0x39 and self._esc_param != _PARAM_OTHER:  # a digit
            p = self._esc_param
            self._esc_param = (0 if p == _PARAM_NONE else p * 10) + c - 0x30
        else:
            self._esc_param = _PARAM_OTHER
        return True

    def _escape(self, final, param):
        if param == _PARAM_NONE:
            if final == 0x41:  # 'A' up
                self._history_move(-1)
            elif final == 0x42:  # 'B' down
                self._history_move(1)
            elif final == 0x43:  # 'C' right
                self._right()
            elif final == 0x44:  # 'D' left
                self._left()
            elif final == 0x48:  # 'H' home
                self._home()
            elif final == 0x46:  # 'F' end
                self._end()
        elif final == 0x7E:  # '~': vt220 keys by number
            if param == 1 or param == 7:
                self._home()
            elif param == 4 or param == 8:
                self._end()
            elif param == 3:
                self._delete()

    def _enter(self):
        self.write(b"\r\n")
        line = self.buf.decode()
        self.line = line
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
            if len(self.history) > self.history_max:
                self.history.pop(0)
        self._clear()
        return KEY_LINE

    def _clear(self):
        self.buf = bytearray()
        self.pos = 0
        self._hist_pos = len(self.history)
        self._draft = b""
        self._overflow = False

    def _insert(self, c):
        if len(self.buf) >= self.line_max:
            if not self._overflow:
                self.write(bytes((_BELL,)))
                self._overflow = True
            return
        pos = self.pos
        self.buf[pos:pos] = bytes((c,))
        self.pos = pos + 1
        tail = self.buf[pos + 1 :]
        self.write(bytes((c,)) + tail + _left(len(tail)))

    def _backspace(self):
        if self.pos > 0:
            self.pos -= 1
            self._cut(b"\b")

    def _delete(self):
        if self.pos < len(self.buf):
            self._cut(b"")

    def _cut(self, move):
        # Removes the byte under the cursor; `move` first steps the terminal onto it.
        pos = self.pos
        self.buf[pos : pos + 1] = b""
        self._overflow = False
        tail = self.buf[pos:]
        self.write(move + tail + b" " + _left(len(tail) + 1))

    def _left(self):
        if self.pos > 0:
            self.pos -= 1
            self.write(b"\b")

    def _right(self):
        if self.pos < len(self.buf):
            self.write(self.buf[self.pos : self.pos + 1])
            self.pos += 1

    def _home(self):
        self.write(_left(self.pos))
        self.pos = 0

    def _end(self):
        self.write(self.buf[self.pos :])
        self.pos = len(self.buf)

    def _replace(self, text):
        self.buf = bytearray(text[: self.line_max])
        self.pos = len(self.buf)
        self._overflow = False
        self.redraw()

    def _history_move(self, step):
        pos = self._hist_pos + step
        if pos < 0 or pos > len(self.history):
            self.write(bytes((_BELL,)))
            return
        if self._hist_pos == len(self.history):
            self._draft = bytes(self.buf)
        self._hist_pos = pos
        if pos == len(self.history):
            self._replace(self._draft)
        else:
            self._replace(self.history[pos].encode())

    def _tab(self):
        if self.complete is None:
            return
        line = self.buf[: self.pos].decode()  # complete what is left of the cursor
        found = self.complete(line)
        if not found:
            self.write(bytes((_BELL,)))
        elif len(found) == 1:
            self._replace((found[0] + " ").encode())
        else:
            common = _common_prefix(found)
            if len(common) > len(line):
                self._replace(common.encode())
            else:
                self.write(b"\r\n" + "  ".join(found).encode() + b"\r\n")
                self.redraw()


def _left(n):
    """The terminal sequence that moves the cursor n columns left."""
    if n <= 1:
        return b"\b" if n == 1 else b""
    return b"\x1b[%dD" % n


def _common_prefix(words):
    first = words[0]
    n = len(first)
    for w in words:
        i = 0
        while i < n and i < len(w) and w[i] == first[i]:
            i += 1
        n = i
    return first[:n]
