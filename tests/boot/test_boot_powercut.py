# The power-cut test: QEMU is killed with SIGKILL at a random moment while the firmware
# writes hard (appends to a log file, atomic config replacements by rename, file copies,
# and the journal), then boots again on the same image, which must mount without repair
# (no "[FAILED] storage", no reformat) and hold every write acknowledged before the kill.
# MULTIOS_POWERCUTS kills per board (`make test`: 5; `make powercut`: 50).
import os
import random
import re
import signal
import sys
import time

import pexpect

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import Console, new_image  # noqa: E402

CUTS = int(os.environ.get("MULTIOS_POWERCUTS", "5"))

# One `py` line: define and run the writer. Record i is acknowledged (printed `ack i`) once
# its append, the config replacement and (every 8th) the copy have all returned.
WRITER = (
    "py exec('import os\\n"
    "def w():\\n"
    " try:\\n"
    '  i = len(open("/data.log").read().split("\\\\n")) - 1\\n'
    " except OSError:\\n"
    "  i = 0\\n"
    " while True:\\n"
    '  with open("/data.log", "a") as f: f.write("rec %d\\\\n" % i)\\n'
    '  with open("/cfg.tmp", "w") as f: f.write("{\\\\"n\\\\": %d}" % i)\\n'
    '  os.rename("/cfg.tmp", "/cfg.json")\\n'
    "  if i % 8 == 0:\\n"
    '   with open("/data.log") as s, open("/copy.log", "w") as d: d.write(s.read())\\n'
    '  kernel.log("powercut: record %d" % i)\\n'
    '  print("ack", i)\\n'
    "  i += 1\\n"
    "w()')"
)
CHECK = (
    "py L = open('/data.log').read().split('\\n')[:-1]; "
    "C = open('/copy.log').read().split('\\n')[:-1] if 'copy.log' in os.listdir('/') else []; "
    "print('check', len(L), all(L[k] == 'rec %d' % k for k in range(len(L))), "
    "C == L[: len(C)], open('/cfg.json').read())"
)
ACK = re.compile(r"ack (\d+)\r")


def test_power_cut_during_heavy_writes_loses_nothing_acknowledged(board, request, tmp_path):
    rng = random.Random(os.environ.get("MULTIOS_POWERCUT_SEED", request.node.name))
    img = new_image(str(tmp_path / "disk.img"))
    acked = -1
    for cut in range(CUTS + 1):
        c = Console(board, "%s-%d" % (request.node.name, cut), budget_s=60, disk=img)
        try:
            lines = c.boot()
            assert not any(ln.startswith("[FAILED] storage") for ln in lines), lines
            assert (cut == 0) == any("formatted" in ln for ln in lines), (cut, lines)
            if cut > 0:
                c.cmd("py import os")
                check = [ln for ln in c.cmd(CHECK) if ln.startswith("check ")]
                assert check, c.tail()
                words = check[0].split(" ", 4)
                n, contiguous, copy_ok, cfg = int(words[1]), words[2], words[3], words[4]
                assert contiguous == "True" and copy_ok == "True", (cut, check)
                assert n - 1 >= acked, "cut %d: acknowledged %d, found %d" % (cut, acked, n - 1)
                # At most the record in flight, and one whose `ack` QEMU had not yet passed on.
                assert n - 1 <= acked + 2, (cut, acked, n)
                m = re.fullmatch(r'\{"n": (\d+)\}', cfg)
                assert m and acked <= int(m.group(1)) <= n - 1, (cut, cfg, acked, n)
            if cut == CUTS:
                assert c.poweroff() == 0
                break
            c.send(WRITER + "\r")
            c.expect(ACK, exact=False)  # writing has begun
            acked = int(c.p.match.group(1))
            end = time.monotonic() + rng.uniform(0.05, 1.2)  # the random moment
            while end > time.monotonic():
                try:
                    c.p.expect(ACK, timeout=end - time.monotonic())
                except pexpect.TIMEOUT:
                    break
                acked = int(c.p.match.group(1))
            os.kill(c.p.pid, signal.SIGKILL)
            try:  # what was printed before the kill was acknowledged too
                while True:
                    c.p.expect(ACK, timeout=2)
                    acked = int(c.p.match.group(1))
            except (pexpect.EOF, pexpect.TIMEOUT):
                pass
        finally:
            c.close()
