# services/fscmds: the shell's file commands: ls, cat, rm, mkdir, df, mount.
#
# Owns: how files and filesystems look on the console. Registered with the shell through
# services/commands.register(); imported by init. Invariants: a command never raises to
# the shell: an OSError prints one line naming the path, the error and what it means
# ("ENOENT (no such file or directory)").
# Paths are as os takes them (relative to the current directory, `/` after boot).
# Not here: mounting (kernel/storage.py), the filesystem itself (littlefs through the VFS).
import os

from kernel import storage
from services.commands import register

_DIR = 0x4000  # stat mode bit of a directory (S_IFDIR)
CAT_MAX_B = 65536  # bytes `cat` prints at most; the rest is summarised


# What an errno means at the console, after its name: "cat: /x: ENOENT (no such file)".
_MEANING = {
    storage.EPERM: "not permitted: the VFS root itself, or a mount point in use",
    storage.ENOENT: "no such file or directory",
    storage.EIO: "I/O error: the disk did not answer; see 'log'",
    storage.EINVAL: "invalid argument",
    storage.EEXIST: "already exists",
    storage.ENODEV: "no filesystem mounted there; see 'mount'",
    storage.ENOTDIR: "not a directory",
    storage.EISDIR: "is a directory",
    storage.ENOSPC: "no space left; see 'df'",
    storage.ENOTEMPTY: "directory not empty",
}


def _err(sh, cmd, path, e):
    code = e.args[0] if isinstance(e, OSError) and e.args else None
    why = _MEANING.get(code) if isinstance(code, int) else None
    text = storage.errno_name(e)
    sh.println(
        "%s: %s: %s (%s)" % (cmd, path, text, why) if why else "%s: %s: %s" % (cmd, path, text)
    )


def _size(path, name):
    # Some VFS types (the unix port's) list no size: ask stat.
    try:
        return os.stat(path.rstrip("/") + "/" + name)[6]
    except OSError:
        return 0


def _is_dir(path):
    return os.stat(path)[0] & _DIR


@register("ls", "ls [PATH]", "the files in PATH (default: the current directory), with sizes")
def cmd_ls(sh, arg):
    path = arg.strip() or os.getcwd()
    try:
        if not _is_dir(path):
            sh.println("%10d %s" % (os.stat(path)[6], path))
            return
        names = sorted(os.ilistdir(path), key=lambda e: e[0])
    except OSError as e:
        _err(sh, "ls", path, e)
        return
    for e in names:
        if e[1] & _DIR:
            sh.println("%10s %s/" % ("", e[0]))
        else:
            sh.println("%10d %s" % (e[3] if len(e) > 3 else _size(path, e[0]), e[0]))


@register("cat", "cat FILE", "print FILE (text; at most 64 KiB)")
def cmd_cat(sh, arg):
    path = arg.strip()
    if not path:
        sh.println("cat: expected a file name, e.g. 'cat /boot.py'")
        return
    try:
        with open(path, "rb") as f:
            data = f.read(CAT_MAX_B)
            more = len(f.read(1)) > 0
    except OSError as e:
        _err(sh, "cat", path, e)
        return
    text = data.decode("utf-8", "replace") if hasattr(data, "decode") else str(data)
    for line in text.split("\n"):
        sh.println(line.rstrip("\r"))
    if more:
        sh.println("cat: %s: more than %d bytes, the rest not shown" % (path, CAT_MAX_B))


@register("rm", "rm PATH...", "remove files, or empty directories")
def cmd_rm(sh, arg):
    paths = arg.split()
    if not paths:
        sh.println("rm: expected a path, e.g. 'rm /main.py'")
    for path in paths:
        try:
            if _is_dir(path):
                os.rmdir(path)
            else:
                os.remove(path)
        except OSError as e:
            _err(sh, "rm", path, e)


@register("mkdir", "mkdir PATH...", "make directories (their parents must exist)")
def cmd_mkdir(sh, arg):
    paths = arg.split()
    if not paths:
        sh.println("mkdir: expected a path, e.g. 'mkdir /etc'")
    for path in paths:
        try:
            os.mkdir(path)
        except OSError as e:
            _err(sh, "mkdir", path, e)


def _kib(n):
    return "%d KiB" % (n // 1024)


@register("df", "df", "size, used and free space of the mounted filesystem, in KiB")
def cmd_df(sh, arg):
    if not storage.mounted():
        sh.println("df: nothing mounted (%s)" % storage.root.reason)
        return
    total, used, free = storage.statvfs("/")
    sh.println("%-12s %10s %10s %10s %5s %s" % ("fs", "KiB", "used", "free", "use%", "on"))
    pct = used * 100 // total if total else 0
    sh.println(
        "%-12s %10d %10d %10d %4d%% %s"
        % ("littlefs2", total // 1024, used // 1024, free // 1024, pct, "/")
    )


@register("mount", "mount", "what is mounted where, on which disk, with size and free space")
def cmd_mount(sh, arg):
    r = storage.root
    if not storage.mounted():
        sh.println("mount: / not mounted: %s" % r.reason)
        return
    total, used, free = storage.statvfs("/")
    sh.println(
        "%s on / type littlefs2 (%s, %s free) [%s]"
        % (r.info["name"], _kib(total), _kib(free), storage.STATE_NAMES[r.state])
    )
