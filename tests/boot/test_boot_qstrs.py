# Boot-level check of the firmware build: the frozen modules' qstrs live in the firmware's
# own qstr pool (tools/frozen_qstrs.py via boards/common/port.mk), so that MicroPython's
# lookup of every new string searches one sorted pool, not two (perf_bench core_str). Reads
# what mpy-tool generated for the board (build/<board>/obj/frozen_content.c).
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FROZEN_POOL_MAX = 32  # qstrs tools/frozen_qstrs.py cannot name (control characters, quotes)


def test_frozen_code_qstrs_are_in_the_firmwares_pool(board):
    path = os.path.join(ROOT, "build", board, "obj", "frozen_content.c")
    with open(path) as f:
        src = f.read()
    m = re.search(r"mp_qstr_frozen_const_pool = \{.*?(\d+), // used entries", src, re.S)
    assert m, "no frozen qstr pool in %s" % path
    n = int(m.group(1))
    assert n <= FROZEN_POOL_MAX, "%d qstrs left in the frozen pool (at most %d)" % (
        n,
        FROZEN_POOL_MAX,
    )
    assert "kernel/asyncio.py" not in src.split("mp_qstr_frozen_const_pool")[1][:100000]
