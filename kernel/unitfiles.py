# kernel/unitfiles: units as files in /etc/units, and `svc enable/disable` kept on the disk.
#
# Owns: reading /etc/units (one unit per file, INI or JSON as kernel/units.py parses them;
# the unit's name is the file's name without .json/.ini/.unit, and `web@.service` is the
# template `web@`), the unit attribute `origin` for those (the file's path; frozen units say
# `frozen`), and /var/lib/svc/enabled.json (name -> true/false: the operator's choice, which
# wins over the unit's own `enabled`). A file overrides a frozen unit of the same name.
# Invariants: a bad file is refused with one line naming the file and the field, the rest
# loads; the state file is replaced atomically (write a temporary file, then rename).
# Not here: parsing units (kernel/units.py), registering them (kernel/manager.py).
import json
import os

from kernel import units

UNIT_DIR = "/etc/units"
STATE_DIR = "/var/lib/svc"
STATE_FILE = STATE_DIR + "/enabled.json"
_STRIP = (".json", ".ini", ".unit")


def unit_name(filename):
    """The unit a file declares: 'web.json' -> 'web', 'web@.service' -> 'web@'."""
    for ext in _STRIP:
        if filename.endswith(ext):
            filename = filename[: -len(ext)]
            break
    return units.check_name(filename)


def load(manager, say=None, d=UNIT_DIR):
    """Register every unit file in d; returns (loaded, refused). say(line) for each refusal."""
    try:
        names = sorted(os.listdir(d))
    except OSError:
        return 0, 0  # no /etc/units: nothing to load
    loaded = refused = 0
    for fn in names:
        path = d + "/" + fn
        try:
            _load_one(manager, path, fn)
            loaded += 1
        except (units.UnitError, OSError, ValueError) as e:
            refused += 1
            line = "units: %s: %s" % (path, _why(e))
            manager.sched.log.log(line, "error")
            if say is not None:
                say("[FAILED] " + line)
    return loaded, refused


def _load_one(manager, path, fn):
    with open(path) as f:
        text = f.read()
    name = unit_name(fn)
    u = units.parse(text, name)
    if u.name != name:
        raise units.UnitError(
            "unit %s: 'name' is '%s' but the file declares '%s'" % (name, u.name, name)
        )
    u.origin = path
    if u.is_template():
        manager.templates[u.name] = u
    else:
        manager.add(u)


def _why(e):
    if isinstance(e, OSError):
        from kernel.storage import errno_name

        return "cannot read (%s)" % errno_name(e)
    return str(e)


# ---- enable/disable state ----


def load_enabled(manager, path=STATE_FILE):
    """Apply the saved enable/disable choices; returns how many applied."""
    n = 0
    for name, on in read_state(path).items():
        try:
            manager.get(name).enabled = bool(on)
            n += 1
        except units.UnitError:
            pass  # the unit is gone: its choice stays on disk, harmless
    return n


def read_state(path=STATE_FILE):
    try:
        with open(path) as f:
            state = json.loads(f.read())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def save_enabled(name, enabled, path=STATE_FILE):
    """Record the choice for name (raises OSError when the disk cannot take it)."""
    state = read_state(path)
    state[name] = bool(enabled)
    d = path.rsplit("/", 1)[0]
    p = ""
    for part in d.strip("/").split("/"):
        p += "/" + part
        try:
            os.mkdir(p)
        except OSError:
            pass  # exists
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(state))
    os.rename(tmp, path)
