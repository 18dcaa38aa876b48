# kernel/configstore: each service's effective config and its versions.
#
# Owns: Store (one per service manager): per service an Entry with the layers in precedence
# order, unit defaults < kind template (set_kind_config) < file params.CONFIG_DIR/NAME.json
# < boot command line tokens NAME.KEY=VALUE (hal.cmdline()) < runtime updates; the versions
# (number, time, effective values, diff, reason), the last params.CONFIG_HISTORY kept, each
# new one handed to kernel/configapply.py for the running service. Versions are saved to the
# manager's config_state_dir (init sets it when `/` is mounted; kernel/configsave.py) and read
# back when the service's entry is made: the last saved runtime layer is the runtime layer
# again.
# Invariants: an update is validated whole before anything changes; a secret's value is
# checked as given, then sealed (kernel/vault.py): every layer and version holds it as a
# vault.Sealed (shown as '***'), on disk as its sealed text, and only secret(key) unseals it,
# for its own service; the file and command line are read once per service (a bad value
# there is journaled and skipped, never fatal).
# Not here: schema and checks (kernel/configs.py), applying a version and its rollback watch
# (kernel/configapply.py), the kernel's API functions (kernel/configapi.py).
from kernel import configapply, configsave, params, vault
from kernel import configs as C

LAYER_NAMES = ("default", "kind", "file", "cmdline", "runtime")


class Version:
    """One version of a service's config."""

    def __init__(self, number, ms, values, runtime, diff, reason):
        self.number = number
        self.ms = ms  # uptime ms it was made
        self.values = values  # the effective config (secrets included: never shown)
        self.runtime = runtime  # the runtime layer that gave it (rollback restores it)
        self.diff = diff  # [(key, old, new)] against the version before, secrets masked
        self.reason = reason  # 'boot', 'update', 'rollback to v2', ...


class Entry:
    """One service's config: its layers and versions."""

    watch = None  # the rollback watch Task of the current version, while it runs

    def __init__(self, unit, schema, layers):
        self.unit = unit  # the Unit whose schema this is (a replaced unit starts over)
        self.schema = schema
        self.layers = layers  # [default, kind, file, cmdline] dicts; the runtime is per version
        self.versions = []  # the last params.CONFIG_HISTORY Versions, oldest first

    def current(self):
        return self.versions[-1]

    def find(self, number):
        for v in self.versions:
            if v.number == number:
                return v
        return None


class Store:
    """Config of every service of one manager."""

    config_dir = params.CONFIG_DIR  # where NAME.json files are read (tests point elsewhere)

    def __init__(self, mgr):
        self.mgr = mgr
        self.state_dir = mgr.config_state_dir  # where versions are saved (None: nowhere)
        self.entries = {}  # service name -> Entry
        self.kinds = {}  # kind -> template dict
        self.cmdline = None  # service -> {key: text} from the boot command line, read once

    # ---- sources ----

    def entry(self, name):
        """The Entry of service `name`, made (sources read, version 1) on first use."""
        old = self.entries.get(name)
        svc = self.mgr.get(name)  # UnitError for an unknown service
        if old is not None and old.unit is svc.unit:
            return old
        schema = svc.unit.config or {}  # a new (or replaced) unit: its schema, sources again
        defaults = {k: s.default for k, s in schema.items() if s.default is not None}
        e = Entry(svc.unit, schema, [self._sealed(name, schema, defaults, "default"), {}, {}, {}])
        e.layers[1] = self._checked(name, schema, self.kinds.get(svc.unit.kind) or {}, "kind")
        e.layers[2] = self._checked(name, schema, self._file(name), "file")
        e.layers[3] = self._checked(name, schema, self._cmdline(name, schema), "cmdline")
        saved = self._saved(name, schema) if old is None else []
        values = self._merge(e, saved[-1][4] if saved else {})
        for err in C.check(name, schema, {}, values):
            self.mgr.event(name, "config error", err)
        for n, ms, reason, diff, rt in saved:  # the history goes on from the last boot's
            e.versions.append(Version(n, ms, self._merge(e, rt), rt, diff, reason))
        if not saved:
            first = old.current().number + 1 if old is not None else 1
            why = "unit replaced" if old is not None else "boot"
            e.versions.append(Version(first, self.mgr.now(), values, {}, [], why))
        self.entries[name] = e
        return e

    def _saved(self, name, schema):
        if self.state_dir is None:
            return []
        saved, errors = configsave.load(self.state_dir, name, schema)
        for k, v in (saved[-1][4] if saved else {}).items():
            why = vault.check(v) if isinstance(v, vault.Sealed) else None
            if why is not None:  # said once at boot; secret(k) raises it each time
                errors.append("config %s: secret '%s' cannot be read: %s" % (name, k, why))
        for err in errors:
            self.mgr.event(name, "config error", err)
        return saved

    def _sealed(self, name, schema, values, layer):
        """values with each secret sealed; a secret that cannot be (no usable key) is
        journaled and left out."""
        out = {}
        for k, v in values.items():
            s = schema.get(k)
            if s is not None and s.secret and not isinstance(v, vault.Sealed):
                try:
                    v = vault.seal(v)
                except vault.VaultError as err:
                    self._ignored(name, k, err, layer)
                    continue
            out[k] = v
        return out

    def _ignored(self, name, key, err, layer):
        # A secret that cannot be sealed or unsealed: journaled, the value left out.
        self.mgr.event(
            name,
            "config error",
            "config %s: '%s': %s (%s value ignored)" % (name, key, err, layer),
        )

    def _checked(self, name, schema, values, layer):
        out = {}
        for k, v in values.items():
            s = schema.get(k)
            if s is not None and s.secret and vault.is_text(v):  # sealed by us before
                try:
                    out[k] = vault.from_text(v)
                except vault.VaultError as err:
                    self._ignored(name, k, err, layer)
                continue
            errs = C.check(name, schema, {k: v})
            if errs:
                if layer != "kind" or k in schema:  # a kind template may hold other keys
                    self.mgr.event(name, "config error", errs[0] + " (%s value ignored)" % layer)
            else:
                out[k] = C.coerce(schema, {k: v})[k]
        return self._sealed(name, schema, out, layer)

    def _file(self, name):
        import json

        path = "%s/%s.json" % (self.config_dir, name)
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            return {}  # no file (or no filesystem on this board yet)
        try:
            d = json.loads(text)
        except ValueError:
            d = None
        if not isinstance(d, dict):
            self.mgr.event(name, "config error", "%s: not a JSON object (ignored)" % path)
            return {}
        return d

    def _cmdline(self, name, schema):
        if self.cmdline is None:
            self.cmdline = parse_cmdline(_hal_cmdline())
        out = {}
        for k, text in self.cmdline.get(name, {}).items():
            s = schema.get(k)
            out[k] = C.parse_text(s, text) if s is not None else text
        return out

    def _merge(self, e, runtime):
        out = {}
        for layer in e.layers:
            out.update(layer)
        out.update(runtime)
        return out

    def source_of(self, e, key):
        """The layer name the effective value of key comes from."""
        if key in e.current().runtime:
            return LAYER_NAMES[4]
        for i in range(3, -1, -1):
            if key in e.layers[i]:
                return LAYER_NAMES[i]
        return None

    def set_kind(self, kind, values):
        """A kind template; services of that kind get a new version when it changes theirs."""
        bad = C.not_a_dict("kind " + str(kind), values)
        if bad is not None:
            raise C.ConfigError([bad])
        for name, e in self.entries.items():
            if self.mgr.services[name].unit.kind == kind:
                errs = [x for x in C.check(name, e.schema, values) if "unknown key" not in x]
                if errs:
                    raise C.ConfigError(errs)
        self.kinds[kind] = dict(values)
        for name, e in self.entries.items():
            svc = self.mgr.services[name]
            if svc.unit.kind == kind:
                e.layers[1] = self._checked(name, e.schema, values, "kind")
                self._new_version(svc, e, e.current().runtime, "kind %s template" % kind, True)

    # ---- versions ----

    def validate(self, name, values):
        e = self.entry(name)
        bad = C.not_a_dict(name, values)
        if bad is not None:
            return [bad]
        full = self._merge(e, e.current().runtime)
        full.update(values)
        return C.check(name, e.schema, values, full)

    def update(self, name, values, reason="update"):
        e = self.entry(name)
        errs = self.validate(name, values)
        if errs:
            raise C.ConfigError(errs)
        new = C.coerce(e.schema, values)
        for k, v in new.items():
            if e.schema[k].secret and v is not None:
                try:
                    new[k] = vault.seal(v)
                except vault.VaultError as err:
                    raise C.ConfigError(["config %s: '%s': %s" % (name, k, err)]) from None
        runtime = dict(e.current().runtime)
        runtime.update(new)
        return self._new_version(self.mgr.get(name), e, runtime, reason, True)

    def rollback(self, name, number, reason=None, watch=False):
        e = self.entry(name)
        v = e.find(number)
        if v is None:
            kept = "%d..%d" % (e.versions[0].number, e.current().number)
            raise C.ConfigError(
                ["config %s: no version %r (kept: %s)" % (name, number, kept)], False
            )
        why = "rollback to v%d" % number
        if reason:
            why = "automatic %s: %s" % (why, reason)
        return self._new_version(self.mgr.get(name), e, dict(v.runtime), why, watch)

    def _new_version(self, svc, e, runtime, reason, watch):
        cur = e.current()
        values = self._merge(e, runtime)
        diff = []
        for k in sorted(set(cur.values) | set(values)):
            old = cur.values.get(k)
            new = values.get(k)
            if old != new:
                s = e.schema.get(k)
                if s is not None and s.secret:
                    old, new = C.MASK if old is not None else None, C.MASK
                diff.append((k, old, new))
        if not diff:
            return cur.number
        v = Version(cur.number + 1, self.mgr.now(), values, runtime, diff, reason)
        e.versions.append(v)
        if len(e.versions) > params.CONFIG_HISTORY:
            e.versions.pop(0)
        if self.state_dir is not None:
            err = configsave.save(self.state_dir, svc.name, e.versions)
            if err is not None:
                self.mgr.event(svc.name, "config error", err)
        self.mgr.event(svc.name, "config", "v%d, %s: %s" % (v.number, reason, format_diff(diff)))
        configapply.apply(self, svc, e, v, watch)
        return v.number


def format_diff(diff):
    return ", ".join("%s %r -> %r" % d for d in diff) or "no change"


def parse_cmdline(text):
    """'web.port=8081 quiet db.host=x' -> {'web': {'port': '8081'}, 'db': {'host': 'x'}}:
    tokens NAME.KEY=VALUE (the name may hold dots, the key may not); others are ignored."""
    out = {}
    for tok in (text or "").split():
        left, eq, value = tok.partition("=")
        i = left.rfind(".")
        if not eq or i <= 0 or i == len(left) - 1:
            continue
        out.setdefault(left[:i], {})[left[i + 1 :]] = value
    return out


def _hal_cmdline():
    try:
        import hal
    except ImportError:
        return ""
    fn = getattr(hal, "cmdline", None)
    return fn() if fn is not None else ""


_store = None  # the Store of the manager it was made for


def store(mgr=None):
    """The Store of `mgr` (default: the kernel's service manager), made on first use."""
    global _store
    if mgr is None:
        from kernel import svc

        mgr = svc.manager()
    if _store is None or _store.mgr is not mgr:
        _store = Store(mgr)
    return _store
