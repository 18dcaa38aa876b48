# Tests for services/lineedit: echo, backspace, Ctrl-C, history, Tab, escapes, garbage.
from services.lineedit import KEY_EOF, KEY_LINE, KEY_NONE, KEY_RAW, LineEditor


class Out:
    def __init__(self):
        self.data = bytearray()

    def write(self, b):
        self.data += b

    def take(self):
        d = bytes(self.data)
        self.data = bytearray()
        return d


def make(complete=None, line_max=200):
    out = Out()
    ed = LineEditor(out.write, complete, line_max=line_max, history_max=3)
    ed.start()
    out.take()
    return ed, out


def feed(ed, data):
    """Feeds bytes; returns the list of non-NONE keys with the line for KEY_LINE."""
    keys = []
    for c in data:
        k = ed.feed(c)
        if k == KEY_LINE:
            keys.append(ed.line)
        elif k != KEY_NONE:
            keys.append(k)
    return keys


def test_prompt_and_echo():
    ed, out = make()
    ed.start()
    assert out.take() == b"multios> "
    assert feed(ed, b"ps") == []
    assert out.take() == b"ps"


def test_enter_cr_lf_and_crlf_is_one_line():
    ed, out = make()
    assert feed(ed, b"a\r") == ["a"]
    assert feed(ed, b"b\n") == ["b"]
    assert feed(ed, b"c\r\n") == ["c"]  # the LF after CR is not a second, empty line
    assert feed(ed, b"\n") == [""]  # but a lone LF later is
    assert out.take() == b"a\r\nb\r\nc\r\n\r\n"


def test_backspace_both_codes():
    ed, out = make()
    assert feed(ed, b"abc\x08\x7fd\r") == ["ad"]
    assert out.take() == b"abc\b \b\b \bd\r\n"


def test_backspace_on_empty_line_writes_nothing():
    ed, out = make()
    feed(ed, b"\x08\x7f")
    assert out.take() == b""


def test_ctrl_c_clears_the_line():
    ed, out = make()
    feed(ed, b"junk\x03")
    assert out.take() == b"junk^C\r\nmultios> "
    assert feed(ed, b"ok\r") == ["ok"]


def test_ctrl_a_and_ctrl_d_only_on_empty_line():
    ed, out = make()
    assert feed(ed, b"\x01") == [KEY_RAW]
    assert feed(ed, b"\x04") == [KEY_EOF]
    assert feed(ed, b"x\x01\x04\r") == ["x"]  # ignored with text on the line


def test_history_up_down():
    ed, out = make()
    feed(ed, b"one\rtwo\r")
    out.take()
    feed(ed, b"dr")
    out.take()
    feed(ed, b"\x1b[A")
    assert bytes(ed.buf) == b"two"
    assert out.take() == b"\rmultios> two\x1b[K"
    feed(ed, b"\x1b[A")
    assert bytes(ed.buf) == b"one"
    feed(ed, b"\x1b[A")  # past the oldest: bell, line unchanged
    assert bytes(ed.buf) == b"one"
    assert out.take().endswith(b"\x07")
    feed(ed, b"\x1b[B\x1b[B")
    assert bytes(ed.buf) == b"dr"  # back to the draft
    assert feed(ed, b"\x1bOA\r") == ["two"]  # application-mode arrow works too


def test_history_skips_blank_and_repeated_lines_and_is_bounded():
    ed, out = make()
    feed(ed, b"a\ra\r  \rb\rc\rd\r")
    assert ed.history == ["b", "c", "d"]  # history_max=3, oldest dropped


def test_tab_completes_unique_and_lists_ambiguous():
    words = ["help", "heap", "ps"]

    def complete(line):
        return [w for w in words if w.startswith(line)]

    ed, out = make(complete)
    feed(ed, b"p\t")
    assert bytes(ed.buf) == b"ps "
    feed(ed, b"\x03")
    out.take()
    feed(ed, b"h\t")  # extends to the common prefix
    assert bytes(ed.buf) == b"he"
    out.take()
    feed(ed, b"\t")  # nothing more to add: list the candidates and redraw
    assert out.take() == b"\r\nhelp  heap\r\n\rmultios> he\x1b[K"
    feed(ed, b"\x03x\t")
    assert out.take().endswith(b"\x07")  # no candidate: bell


def test_line_is_capped():
    ed, out = make(line_max=8)
    feed(ed, b"0123456789abcdef")
    assert bytes(ed.buf) == b"01234567"
    assert out.take() == b"01234567\x07"  # one bell, not one per dropped byte
    assert feed(ed, b"\r") == ["01234567"]


def test_escape_sequences_are_swallowed():
    ed, out = make()
    # cursor keys, function keys, a colour sequence, Alt-x: none reaches the line
    assert feed(ed, b"\x1b[C\x1b[D\x1b[15~\x1b[1;31m\x1bxok\r") == ["ok"]


def test_unterminated_escape_is_bounded():
    ed, out = make()
    feed(ed, b"\x1b[" + b"1" * 40)  # never gets its final byte
    assert len(feed(ed, b"\r")) == 1  # the parser gave up: Enter is Enter again
    assert feed(ed, b"ps\r") == ["ps"]


def test_control_byte_aborts_escape():
    ed, out = make()
    feed(ed, b"x\x1b[\x03")  # Ctrl-C inside an escape sequence still clears the line
    assert out.take().endswith(b"^C\r\nmultios> ")
    assert feed(ed, b"ok\r") == ["ok"]


def test_non_ascii_and_control_garbage_is_dropped():
    ed, out = make()
    feed(ed, bytes(range(0x80, 0x100)))
    feed(ed, b"\x00\x02\x05\x06\x0b\x0c\x0e\x1f")
    assert out.take() == b""
    assert feed(ed, b"ok\r") == ["ok"]


def test_left_right_and_insert_in_the_middle():
    ed, out = make()
    feed(ed, b"pz\x1b[D")
    assert ed.pos == 1
    assert out.take() == b"pz\b"
    feed(ed, b"s")  # insert before 'z': echo the tail, step back over it
    assert bytes(ed.buf) == b"psz"
    assert out.take() == b"sz\b"
    feed(ed, b"\x1b[C\x1b[C")  # right once moves, a second time at the end does nothing
    assert ed.pos == 3
    assert out.take() == b"z"
    assert feed(ed, b"\r") == ["psz"]


def test_backspace_and_delete_in_the_middle():
    ed, out = make()
    feed(ed, b"abcd\x1b[D\x1b[D")
    out.take()
    feed(ed, b"\x7f")  # removes 'b'
    assert bytes(ed.buf) == b"acd" and ed.pos == 1
    assert out.take() == b"\bcd \x1b[3D"
    feed(ed, b"\x1b[3~")  # Delete removes 'c' under the cursor
    assert bytes(ed.buf) == b"ad" and ed.pos == 1
    assert out.take() == b"d \x1b[2D"
    feed(ed, b"\x1b[C\x1b[3~")  # Delete at the end does nothing
    assert bytes(ed.buf) == b"ad"


def test_home_and_end_keys():
    ed, out = make()
    feed(ed, b"echo")
    for home, end in ((b"\x1b[H", b"\x1b[F"), (b"\x1b[1~", b"\x1b[4~"), (b"\x01", b"\x05")):
        feed(ed, home)
        assert ed.pos == 0, home
        feed(ed, end)
        assert ed.pos == 4, end
    out.take()
    feed(ed, b"\x01X")
    assert bytes(ed.buf) == b"Xecho"
    assert out.take() == b"\x1b[4DXecho\x1b[4D"


def test_ctrl_arrow_and_other_parameters_are_ignored():
    ed, out = make()
    feed(ed, b"ab\x1b[1;5D\x1b[5~\x1b[99D")
    assert ed.pos == 2
    assert feed(ed, b"\r") == ["ab"]


def test_history_puts_the_cursor_at_the_end():
    ed, out = make()
    feed(ed, b"first\r")
    feed(ed, b"x\x1b[D\x1b[A")
    assert bytes(ed.buf) == b"first" and ed.pos == 5
    feed(ed, b"!\r")
    assert ed.line == "first!"


def test_redraw_puts_the_cursor_back():
    ed, out = make()
    feed(ed, b"abc\x1b[D\x1b[D")
    out.take()
    ed.redraw()
    assert out.take() == b"\rmultios> abc\x1b[K\x1b[2D"
