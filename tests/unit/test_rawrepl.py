# Tests for services/rawrepl (with services/pyrun): the raw REPL and raw-paste byte protocol,
# byte for byte as MicroPython's shared/runtime/pyexec.c answers, so mpremote works.
from shellfakes import FakeConsole, FakeHal, FakeKernel

from services.pyrun import Output, PyRunner, console_namespace
from services.rawrepl import BANNER, RAW_EXIT, RAW_NONE, RAW_RESET, RawRepl


def make(window=128, source_max=65536):
    con = FakeConsole()
    out = Output(con.write)
    ns = console_namespace(out, FakeKernel(), FakeHal(), None, {})
    raw = RawRepl(con.write, PyRunner(ns, out), window, source_max)
    raw.enter()
    return raw, con, ns


def feed(raw, data):
    codes = [raw.feed(c) for c in data]
    return [c for c in codes if c != RAW_NONE]


def test_enter_prints_banner_and_prompt():
    raw, con, ns = make()
    assert con.take() == b"raw REPL; CTRL-B to exit\r\n>"
    assert BANNER == b"raw REPL; CTRL-B to exit\r\n"


def test_exec_prints_ok_output_and_two_eofs():
    raw, con, ns = make()
    con.take()
    assert feed(raw, b"print(1 + 2)\x04") == []
    assert con.take() == b"OK3\r\n\x04\x04>"


def test_exception_goes_between_the_eofs():
    raw, con, ns = make()
    con.take()
    feed(raw, b"print('a')\n1/0\x04")
    assert con.take() == (
        b"OKa\r\n\x04Traceback (most recent call last):\r\n"
        b'  File "<stdin>", line 2, in <module>\r\n'
        b"ZeroDivisionError: divide by zero\r\n\x04>"
    )


def test_syntax_error_is_reported_not_raised():
    raw, con, ns = make()
    con.take()
    feed(raw, b"x =\x04")
    got = con.take()
    assert got.startswith(b"OK\x04Traceback")
    assert b"SyntaxError" in got and got.endswith(b"\x04>")


def test_namespace_persists_between_runs():
    raw, con, ns = make()
    feed(raw, b"x = 41\x04")
    con.take()
    feed(raw, b"print(x + 1)\x04")
    assert con.take() == b"OK42\r\n\x04\x04>"
    assert ns["x"] == 41


def test_ctrl_c_clears_the_buffer():
    raw, con, ns = make()
    con.take()
    feed(raw, b"garbage(\x03print(5)\x04")
    assert con.take() == b"OK5\r\n\x04\x04>"


def test_ctrl_a_resets():
    raw, con, ns = make()
    con.take()
    feed(raw, b"junk\x01")
    assert con.take() == b"raw REPL; CTRL-B to exit\r\n>"
    feed(raw, b"print(6)\x04")
    assert con.take() == b"OK6\r\n\x04\x04>"


def test_ctrl_b_exits():
    raw, con, ns = make()
    con.take()
    assert feed(raw, b"junk\x02") == [RAW_EXIT]
    assert con.take() == b"\r\n"


def test_ctrl_d_on_empty_buffer_asks_for_soft_reset():
    raw, con, ns = make()
    con.take()
    assert feed(raw, b"\x04") == [RAW_RESET]
    assert con.take() == b"OK\r\n"


def test_system_exit_asks_for_soft_reset():
    raw, con, ns = make()
    con.take()
    assert feed(raw, b"raise SystemExit\x04") == [RAW_RESET]
    assert con.take() == b"OK\x04\x04"


def test_raw_paste_replies_and_flow_control():
    raw, con, ns = make(window=8)
    con.take()
    feed(raw, b"\x05A\x01")
    assert con.take() == b"R\x01\x08\x00\x01"  # window 8, little-endian, then one window free
    src = b"print('raw paste!')"  # 19 bytes: two full windows consumed
    feed(raw, src)
    assert con.take() == b"\x01\x01"
    feed(raw, b"\x04")
    assert con.take() == b"\x04raw paste!\r\n\x04\x04>"


def test_raw_paste_default_window_is_micropythons():
    raw, con, ns = make()
    con.take()
    feed(raw, b"\x05A\x01")
    assert con.take() == b"R\x01\x80\x00\x01"


def test_raw_paste_exception_and_back_to_raw():
    raw, con, ns = make()
    con.take()
    feed(raw, b"\x05A\x01raise ValueError('bad')\x04")
    got = con.take()
    assert got.startswith(b"R\x01\x80\x00\x01\x04\x04Traceback")
    assert got.endswith(b"ValueError: bad\r\n\x04>")
    feed(raw, b"print(1)\x04")  # plain raw REPL again
    assert con.take() == b"OK1\r\n\x04\x04>"


def test_raw_paste_ctrl_c_aborts():
    raw, con, ns = make()
    con.take()
    feed(raw, b"\x05A\x01print(1)\x03")
    assert con.take() == b"R\x01\x80\x00\x01\x04\x04KeyboardInterrupt\r\n\x04>"


def test_raw_paste_unknown_command():
    raw, con, ns = make()
    con.take()
    feed(raw, b"\x05B\x01")
    assert con.take() == b"R\x00>"


def test_ctrl_e_alone_is_just_a_byte():
    raw, con, ns = make()
    con.take()
    feed(raw, b"\x05A\x05\x01")  # three bytes before Ctrl-A: a plain reset, not raw paste
    assert con.take() == b"raw REPL; CTRL-B to exit\r\n>"


def test_too_long_program_is_refused_not_kept():
    raw, con, ns = make(source_max=16)
    con.take()
    feed(raw, b"print(1)\n" * 100 + b"\x04")
    got = con.take()
    assert got.startswith(b"OK\x04MemoryError: raw REPL: program longer than 16 bytes")
    assert got.endswith(b"\x04>")
    assert len(raw.buf) == 0
    feed(raw, b"print(2)\x04")
    assert con.take() == b"OK2\r\n\x04\x04>"


def test_binary_bytes_pass_through():
    raw, con, ns = make()
    con.take()
    feed(raw, b"b = b'\xc3\xa9'\nprint(len(b))\x04")
    assert con.take() == b"OK2\r\n\x04\x04>"


class FullBuffer(bytearray):
    """A program buffer on a heap that user code filled: every append fails."""

    def append(self, c):
        raise MemoryError


def test_a_program_without_heap_is_refused_and_ctrl_d_still_resets():
    raw, con, ns = make()
    con.take()
    feed(raw, b"p")  # the buffer now exists...
    raw.buf = FullBuffer()  # ... and the heap is full
    assert feed(raw, b"rint(1)\x04") == []
    assert con.take() == b"OK\x04MemoryError: raw REPL: no heap left for the program\r\n\x04>"
    assert feed(raw, b"\x04") == [RAW_RESET]  # a soft reset needs no heap
    assert con.take() == b"OK\r\n"


class Parts:
    """A console write that records what it was given, without allocating."""

    def __init__(self):
        self.parts = [None] * 16
        self.n = 0

    def write(self, data):
        self.parts[self.n] = data
        self.n += 1


def test_replies_need_no_heap():
    import micropython

    raw, con, ns = make()
    feed(raw, b"x")  # the input buffer exists
    out = Parts()
    raw.write = out.write
    exits = 0
    micropython.heap_lock()
    try:
        for c in b"\x03\x01\x04\x02":  # clear, banner, soft reset, leave
            if raw.feed(c) != RAW_NONE:
                exits += 1
    finally:
        micropython.heap_unlock()
    assert exits == 2  # RAW_RESET, RAW_EXIT
    got = b"".join(out.parts[: out.n])
    assert got == BANNER + b">OK\r\n\r\n", got
