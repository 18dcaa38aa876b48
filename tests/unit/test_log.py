# Tests for kernel/log: the bounded kernel log ring.
import sys

import kernel.log  # noqa: F401 - loads the module; `kernel.log` is the log() function

klog = sys.modules["kernel.log"]


def test_lines_oldest_first_with_uptime_and_level():
    now = [1234]
    lg = klog.Log(lambda: now[0], size=4)
    lg.log("a")
    now[0] = 2500
    lg.log("b", "warn")
    assert lg.lines() == ["[    1.234] info: a", "[    2.500] warn: b"]


def test_ring_keeps_only_the_last_size_entries():
    lg = klog.Log(None, size=3)
    for i in range(10):
        lg.log("m%d" % i)
    texts = [e[2] for e in lg.entries()]
    assert texts == ["m7", "m8", "m9"]
    assert [e[2] for e in lg.entries(2)] == ["m8", "m9"]
    assert len(lg.ring) == 3


def test_levels_by_name_and_number():
    assert klog.level_of("error") == klog.ERROR
    assert klog.level_of("warning") == klog.WARN
    assert klog.level_of("debug") == klog.DEBUG
    assert klog.level_of("whatever") == klog.INFO
    assert klog.level_of(klog.WARN) == klog.WARN
    assert klog.level_of(99) == klog.ERROR


def test_long_lines_are_cut():
    from kernel import params

    lg = klog.Log(None)
    lg.log("x" * 1000)
    text = lg.entries(1)[0][2]
    assert len(text) == params.LOG_LINE_MAX
    assert text.endswith("...")


def test_subscriber_sees_each_entry():
    seen = []
    lg = klog.Log(None)
    assert lg.subscribe(seen.append) is None
    lg.log("hello", klog.ERROR)
    assert seen == [(0, klog.ERROR, "hello")]


def test_pull_logs_captured_output_line_by_line_and_keeps_the_partial_line():
    from kernel.log import Log

    log = Log()
    log.pull(b"hello\r\nwor")
    log.pull(b"ld\n\npart")
    texts = [e[2] for e in log.ring if e is not None]
    assert texts == ["stdout: hello", "stdout: world"], texts
    assert log.partial == "part"
    log.pull(b"\xff\xfe\n")  # not UTF-8: kept as its repr, never an exception
    assert log.count == 3
