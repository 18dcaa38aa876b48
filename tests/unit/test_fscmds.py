# Tests for services/fscmds (ls, cat, rm, mkdir) on the unix port's filesystem: output, and
# the one-line errors naming the path, the errno and what it means.
import binascii
import os

import _hal
from shellfakes import FakeConsole, FakeHal, cmd

import kernel
import services.fscmds  # noqa: F401 - registers the file commands
from kernel.clock import VirtualClock
from services.shell import Shell

DIR = "/tmp/multios-fscmds-%s" % binascii.hexlify(_hal.entropy_bytes(6)).decode()


def setup():
    kernel.reset(VirtualClock(0, 0))
    for name in ("a.txt", "sub/b.txt"):
        try:
            os.remove(DIR + "/" + name)
        except OSError:
            pass
    for d in (DIR + "/sub", DIR):
        try:
            os.rmdir(d)
        except OSError:
            pass
    os.mkdir(DIR)
    with open(DIR + "/a.txt", "w") as f:
        f.write("one\ntwo\n")
    con = FakeConsole()
    return Shell(con, kernel, FakeHal(), ns={}), con


def test_ls_cat_mkdir_rm_print_what_they_did():
    sh, con = setup()
    assert cmd(sh, con, "cat %s/a.txt" % DIR) == ["one", "two", ""]
    assert cmd(sh, con, "mkdir %s/sub" % DIR) == []
    out = cmd(sh, con, "ls %s" % DIR)
    assert out == ["         8 a.txt", "           sub/"], out
    assert cmd(sh, con, "rm %s/a.txt" % DIR) == []
    assert cmd(sh, con, "ls %s" % DIR) == ["           sub/"]


def test_errors_name_the_path_the_errno_and_its_meaning():
    sh, con = setup()
    nope = DIR + "/nope"
    assert cmd(sh, con, "cat " + nope) == ["cat: %s: ENOENT (no such file or directory)" % nope]
    assert cmd(sh, con, "rm " + nope) == ["rm: %s: ENOENT (no such file or directory)" % nope]
    assert cmd(sh, con, "mkdir " + DIR) == ["mkdir: %s: EEXIST (already exists)" % DIR]
    os.mkdir(DIR + "/sub")
    with open(DIR + "/sub/b.txt", "w") as f:
        f.write("x")
    out = cmd(sh, con, "rm %s/sub" % DIR)
    assert out == ["rm: %s/sub: ENOTEMPTY (directory not empty)" % DIR], out
    assert cmd(sh, con, "cat") == ["cat: expected a file name, e.g. 'cat /boot.py'"]


def test_the_vfs_roots_eperm_is_named_and_explained():
    # What a board without a disk answers to 'cat /' or 'rm /': MicroPython's VFS refuses
    # an operation on its root with EPERM (extmod/vfs.c), once printed as 'errno 1'.
    sh, con = setup()
    con.take()
    services.fscmds._err(sh, "cat", "/", OSError(1))
    want = b"cat: /: EPERM (not permitted: the VFS root itself, or a mount point in use)\r\n"
    assert con.take() == want
