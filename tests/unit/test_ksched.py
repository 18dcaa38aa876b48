# Tests for the contract between kernel/sched.py and its C step (_ksched,
# boards/common/modksched.c): the attributes the C code reads and writes by name are the ones
# sched.py declares (KSCHED_*), and each exists where the C code looks for it (the instance's
# own table, set in __init__). A rename on either side fails here, not in the firmware.
import re

from kernel import sched
from kernel.clock import VirtualClock
from kernel.sched import Scheduler

SLOT = re.compile(r"SLOT\(([\w>-]+), MP_QSTR_(\w+)\)")
CALL = re.compile(r"call\(sched, MP_QSTR_(\w+),")


def findall(rx, src, head, n):
    # MicroPython's re has no findall (nor groups()): match at each occurrence of the head.
    out = []
    i = src.find(head)
    while i >= 0:
        m = rx.match(src[i : i + 80])
        if m:
            out.append(tuple(m.group(k) for k in range(1, n + 1)) if n > 1 else m.group(1))
        i = src.find(head, i + 1)
    return out


OWNER = {"sched": "sched", "t": "task", "tail->value": "task"}


def used_by_c():
    """{'sched': names, 'task': names, 'methods': names} that modksched.c uses."""
    with open("boards/common/modksched.c") as f:
        src = f.read()
    out = {"sched": set(), "task": set(), "methods": set(findall(CALL, src, "call(", 1))}
    for obj, name in findall(SLOT, src, "SLOT(", 2):
        assert obj in OWNER, "modksched.c: SLOT() on %r: say whose field it is in OWNER" % obj
        out[OWNER[obj]].add(name)
    return out


def test_c_uses_exactly_the_declared_fields():
    c = used_by_c()
    assert c["sched"] == set(sched.KSCHED_SCHED_FIELDS), c["sched"]
    assert c["task"] == set(sched.KSCHED_TASK_FIELDS), c["task"]
    assert c["methods"] == set(sched.KSCHED_SCHED_METHODS), c["methods"]


def test_declared_fields_live_in_the_instances_own_tables():
    s = Scheduler(VirtualClock())

    async def f():
        pass

    t = s.spawn(f())
    for name in sched.KSCHED_SCHED_FIELDS:
        assert name in s.__dict__, "Scheduler.__init__ must set %s (the C step reads it)" % name
    for name in sched.KSCHED_TASK_FIELDS:
        assert name in t.__dict__, "Task.__init__ must set %s (the C step reads it)" % name
    for name in sched.KSCHED_SCHED_METHODS:
        assert callable(getattr(s, name)), name
    s.run_until(t)


def test_the_checker_sees_a_field_the_c_code_would_lack():
    class Renamed:
        def __init__(self):
            self.head = None  # a rename of _head

    assert "_head" not in Renamed().__dict__
    assert "_head" in used_by_c()["sched"]
