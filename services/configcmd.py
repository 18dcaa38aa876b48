# services/configcmd: the shell's `config` command: get, set, diff, history, rollback.
#
# Owns: the verbs and their help (`config help [VERB]`) and how a service's config looks on
# the console (one `key = value  (source)` per line, secrets as ***). `config set` parses
# VALUE by the key's type: `8081` for an int, `true`, JSON for lists and dicts.
# Registered with the shell through services/commands.register(); imported by services/init.
# Invariants: a verb never raises to the shell: a ConfigError or UnitError prints its line;
# `config set` of a secret leaves '***' in the line history in place of the value.
# Not here: what the verbs do to a config (kernel/configstore.py, kernel/configs.py).
import kernel
from kernel import configs as C
from kernel import configstore as CS
from kernel.journal import format_entry
from kernel.units import UnitError
from services.commands import COMMANDS, register

VERBS = (
    ("get", "config get NAME [KEY]", "NAME's effective config (or one key), with its source"),
    ("set", "config set NAME KEY VALUE", "set KEY (VALUE parsed by its type) as a new version"),
    ("diff", "config diff NAME", "what differs from the unit's defaults, and where it came from"),
    ("history", "config history NAME", "the versions kept: number, time, reason, changes"),
    ("rollback", "config rollback NAME VERSION", "make a new version equal to VERSION"),
    ("help", "config help [VERB]", "these verbs, or how to use one"),
)


@register("config", "config VERB NAME ... (config help: list the verbs)", "services' config")
def cmd_config(sh, arg):
    verb, _, rest = arg.strip().partition(" ")
    verb = verb or "help"
    fn = globals().get("_" + verb)
    if fn is None or verb not in [v[0] for v in VERBS]:
        sh.println("config: unknown verb '%s' (try 'config help')" % verb)
        return
    try:
        fn(sh, rest.strip())
    except (UnitError, C.ConfigError) as e:
        sh.println("config %s: %s" % (verb, e))


def complete(arg):
    """Tab after `config `: a verb, then a service name."""
    verb, sp, word = arg.partition(" ")
    if not sp:
        return [v[0] for v in VERBS if v[0].startswith(verb)]
    if " " in word or verb == "help":
        return []
    return [verb + " " + s.name for s in kernel.list_services() if s.name.startswith(word)]


COMMANDS["config"].complete = complete


def _usage(verb):
    for v in VERBS:
        if v[0] == verb:
            return v[1]
    return "config help"


def _words(rest, verb, n):
    w = rest.split(None, n - 1) if rest else []
    if len(w) < n:
        raise UnitError("usage: %s" % _usage(verb))
    return w


def _help(sh, rest):
    for name, usage, summary in VERBS:
        if not rest or rest == name:
            sh.println("  %-30s %s" % (usage, summary))


def _get(sh, rest):
    w = rest.split()
    if not w:
        raise UnitError("usage: %s" % _usage("get"))
    name = w[0]
    st = CS.store()
    e = st.entry(name)
    values = C.masked(e.schema, e.current().values)
    if len(w) > 1:
        if w[1] not in e.schema:
            raise UnitError("no key '%s' in %s's config (keys: %s)" % (w[1], name, _keys(e)))
        sh.println(_text(values.get(w[1])))
        return
    sh.println("%s: config v%d" % (name, e.current().number))
    for k in sorted(e.schema):
        src = st.source_of(e, k) or "unset"
        sh.println("  %-16s = %s  (%s)" % (k, _text(values.get(k)), src))


def _set(sh, rest):
    name, key, text = _words(rest, "set", 3)
    st = CS.store()
    e = st.entry(name)
    spec = e.schema.get(key)
    if spec is None:
        raise UnitError("no key '%s' in %s's config (keys: %s)" % (key, name, _keys(e)))
    before = e.current().number
    if spec.secret:
        _forget(sh, text)  # the typed line leaves no copy of the secret behind
    n = st.update(name, {key: C.parse_text(spec, text)})
    if n == before:
        sh.println("%s: config v%d, unchanged" % (name, n))
        return
    v = e.find(n) or e.current()
    sh.println("%s: config v%d: %s" % (name, n, CS.format_diff(v.diff)))


def _forget(sh, text):
    ed = getattr(sh, "editor", None)
    if ed is None:
        return
    if ed.history and text in ed.history[-1]:
        ed.history[-1] = ed.history[-1].replace(text, C.MASK)
    if isinstance(getattr(ed, "line", None), str):
        ed.line = ed.line.replace(text, C.MASK)


def _diff(sh, rest):
    name = _words(rest, "diff", 1)[0]
    st = CS.store()
    e = st.entry(name)
    values = C.masked(e.schema, e.current().values)
    defaults = C.masked(e.schema, e.layers[0])
    n = 0
    for k in sorted(e.schema):
        if values.get(k) != defaults.get(k) or (
            e.schema[k].secret and st.source_of(e, k) != "default"
        ):
            sh.println(
                "  %-16s %s -> %s  (%s)"
                % (k, _text(defaults.get(k)), _text(values.get(k)), st.source_of(e, k))
            )
            n += 1
    if not n:
        sh.println("%s: config v%d is the unit's defaults" % (name, e.current().number))


def _history(sh, rest):
    name = _words(rest, "history", 1)[0]
    for v in kernel.config_history(name):
        line = format_entry((v["ms"], "v%d" % v["version"], v["reason"], None))
        if v["diff"]:
            line += ": " + CS.format_diff(v["diff"])
        sh.println(line)


def _rollback(sh, rest):
    name, text = _words(rest, "rollback", 2)
    try:
        version = int(text.strip().lstrip("v"))
    except ValueError:
        raise UnitError(
            "VERSION must be a number (see 'config history %s'), got '%s'" % (name, text)
        ) from None
    n = kernel.rollback_config(name, version)
    sh.println("%s: config v%d (= v%d)" % (name, n, version))


def _keys(e):
    return ", ".join(sorted(e.schema)) or "none"


def _text(v):
    if v is None:
        return "-"
    if isinstance(v, (list, dict, bool)) or v is None:
        import json

        return json.dumps(v)
    return str(v)
