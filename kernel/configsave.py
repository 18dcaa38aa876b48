# kernel/configsave: a service's config versions on disk, so that what `update_config` and
# `config set` made survives a reboot.
#
# Owns: the file DIR/NAME.json (DIR: params.CONFIG_STATE_DIR on the boards' `/`): the
# versions kept, oldest first, each {"v": number, "ms": uptime ms, "reason": text, "diff":
# [[key, old, new]] (secrets already '***'), "runtime": {key: value}}, where a secret's value
# is its sealed text ('sealed:...', kernel/vault.py), never the value. Written whole to a
# temporary file then renamed over (littlefs renames atomically: the old file or the new).
# Invariants: saving never raises (it returns the error as one line); loading never raises:
# a bad file, key or value is skipped with one line each; a sealed value is taken as it is
# (checked when it was set), so loading needs no key.
# Not here: merging layers and making versions (kernel/configstore.py), the key (vault.py).
import os

from kernel import configs as C
from kernel import vault


def path(d, name):
    return "%s/%s.json" % (d, name)


def save(d, name, versions):
    """Write versions [Version] of `name` under d. -> None, or the error as one line."""
    import json

    out = []
    for v in versions:
        rt = {k: (x.text() if isinstance(x, vault.Sealed) else x) for k, x in v.runtime.items()}
        out.append({"v": v.number, "ms": v.ms, "reason": v.reason, "diff": v.diff, "runtime": rt})
    p = path(d, name)
    try:
        _mkdirs(d)
        with open(p + ".tmp", "w") as f:
            f.write(json.dumps(out))
        os.rename(p + ".tmp", p)
    except (OSError, TypeError, ValueError) as e:  # a full disk; a value JSON cannot hold
        from kernel.storage import errno_name

        return "config %s: not saved to %s (%s)" % (name, p, errno_name(e))
    return None


def load(d, name, schema):
    """The versions saved for `name` -> ([(number, ms, reason, diff, runtime)], [error line]);
    ([], []) when there is no file. Secrets come back as vault.Sealed."""
    import json

    p = path(d, name)
    try:
        with open(p) as f:
            text = f.read()
    except OSError:
        return [], []
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, list):
        return [], ["config %s: %s is not a JSON list of versions (ignored)" % (name, p)]
    out, errors = [], []
    for d in data:
        try:
            n, ms, reason = int(d["v"]), int(d["ms"]), str(d["reason"])
            diff = [tuple(x) for x in d["diff"]]
            rt = dict(d["runtime"])
        except (KeyError, TypeError, ValueError):
            errors.append("config %s: %s: a version is damaged (ignored)" % (name, p))
            continue
        out.append((n, ms, reason, diff, _runtime(name, schema, rt, errors)))
    return out, errors


def _runtime(name, schema, rt, errors):
    out = {}
    for k, v in rt.items():
        s = schema.get(k)
        if s is None:
            continue  # the unit dropped the key since: its saved value goes with it
        if s.secret:
            if not vault.is_text(v):
                errors.append("config %s: '%s' was saved unsealed (ignored)" % (name, k))
                continue
            try:
                out[k] = vault.from_text(v)
            except vault.VaultError as e:
                errors.append("config %s: '%s': %s (ignored)" % (name, k, e))
            continue
        err = C.check_value(name, k, s, v)
        if err is not None:
            errors.append(err + " (saved value ignored)")
            continue
        out[k] = C.coerce(schema, {k: v})[k]
    return out


def _mkdirs(d):
    p = "/" if d.startswith("/") else ""
    for part in d.split("/"):
        if not part:
            continue
        p += part if p in ("", "/") else "/" + part
        try:
            os.mkdir(p)
        except OSError:
            pass  # there already (or the open after says why not)
