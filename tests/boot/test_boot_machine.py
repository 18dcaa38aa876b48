# Boot tests of what a stock MicroPython board offers, through the real `mpremote`: the
# `machine` module (unique_id, freq, reset_cause, soft_reset, reset: what `mpremote reset`
# calls), os.uname(), the VFS core (a user filesystem mounted and imported from) and the
# native emitters (native, viper, and the inline assembler where the CPU has one).
from test_boot_mpremote import mpremote, pty_board  # noqa: F401 - pty_board is a fixture

SCRIPT = """\
import machine, os, sys, micropython, vfs
print('uid', len(machine.unique_id()), 'freq', machine.freq() > 1000000)
print('uname', os.uname().sysname, os.uname().machine.startswith(hal.info()['board']))

@micropython.native
def total_native(n):
    s = 0
    for i in range(n):
        s += i
    return s

@micropython.viper
def total_viper(n: int) -> int:
    s = 0
    for i in range(n):
        s += i
    return s

print('native', total_native(100), total_viper(100))
ASM = "@micropython.asm_thumb\\ndef asm_add(r0, r1):\\n    add(r0, r0, r1)\\n"
if sys.implementation._mpy >> 10 == 6:     # armv7m: MicroPython's Thumb-2 assembler
    exec(ASM)  # compiled only here: other CPUs reject the decorator at compile time
    print('asm', asm_add(40, 2))
else:
    print('asm', None)

class RamFS:    # the smallest user filesystem: one module, readable through the VFS
    files = {'/ramdemo.py': b'VALUE = 6 * 7\\n'}
    def mount(self, readonly, mkfs): pass
    def umount(self): pass
    def chdir(self, path): pass
    def stat(self, path):
        if path in self.files:
            return (0x8000, 0, 0, 0, 0, 0, len(self.files[path]), 0, 0, 0)
        raise OSError(2)
    def open(self, path, mode):
        import io
        return io.BytesIO(self.files[path])

vfs.mount(RamFS(), '/ram')
sys.path.append('/ram')
import ramdemo
print('vfs', ramdemo.VALUE, '/ram' in [m[1] for m in vfs.mount()])
"""


def test_machine_os_vfs_and_native_emitters(board, pty_board):  # noqa: F811
    out = mpremote(pty_board, "exec", SCRIPT)
    lines = [ln for ln in out.splitlines() if ln.split(" ")[0] in ("uid", "uname", "native")]
    assert lines == ["uid 8 freq True", "uname multios True", "native 4950 4950"], out
    assert ("asm 42" if board == "arm" else "asm None") in out, out  # Thumb-2 only
    assert "vfs 42 True" in out, out


def test_soft_reset_and_mpremote_reset(pty_board):  # noqa: F811
    # mpremote's soft reset before exec: reset_cause() says soft reset.
    assert (
        mpremote(
            pty_board, "exec", "import machine; print(machine.reset_cause() == machine.SOFT_RESET)"
        ).strip()
        == "True"
    )
    # machine.soft_reset() in the raw REPL is a soft reset: the namespace is fresh after it.
    # The next exec is chained in the same mpremote: the board comes back in the raw REPL
    # and prints its banner once it has booted, and a second mpremote started while the
    # board still boots gets that banner *and* the one its own Ctrl-A asks for, and reads
    # the second as the raw-paste answer ("could not exec command (response: b'R\x01')";
    # seen under load, and 1 in 4 with the guest slowed by -icount shift=6). Stock's raw
    # REPL also prints its banner at its start and on every Ctrl-A. One connection reads
    # the banner as it comes.
    mpremote(pty_board, "resume", "exec", "kept = 1")
    out = mpremote(
        pty_board,
        "resume",
        "exec",
        "import machine; machine.soft_reset()",
        "exec",
        "print('kept' in globals())",
    )
    assert out.strip() == "False", out
    # mpremote reset: machine.reset() resets the board, which boots from power-on again.
    mpremote(pty_board, "reset")
    out = mpremote(
        pty_board,
        "resume",
        "exec",
        "import machine; print(machine.reset_cause() == machine.PWRON_RESET)",
        timeout=90,
    )
    assert out.strip() == "True", out


SPINNERS = {
    "native": "@micropython.native\ndef spin_native():\n    while True:\n        pass\n",
    "viper": "@micropython.viper\ndef spin_viper():\n    while True:\n        pass\n",
    "asm": "@micropython.asm_thumb\ndef spin_asm():\n    label(loop)\n    b(loop)\n",
}


def test_watchdog_stops_native_viper_and_asm_loops(board, console):
    # Machine code never looks at pending exceptions: once a hit stays pending for a whole
    # budget, the timer interrupt raises the Watchdog in that code itself.
    console.boot()
    kinds = ["native", "viper"] + (["asm"] if board == "arm" else [])
    for kind in kinds:
        src = SPINNERS[kind] + "async def spin_%s_task():\n    spin_%s()\n" % (kind, kind)
        console.cmd("py exec(%r)" % src)
        console.cmd("py t_%s = kernel.spawn(spin_%s_task(), 'spin-%s')" % (kind, kind, kind))
        assert console.cmd("echo alive") == ["alive"]
    for kind in kinds:
        assert console.cmd("py t_%s.reason" % kind) == ["'watchdog'"], kind
    assert console.cmd("py 6 * 7") == ["42"]
    assert console.poweroff() == 0
