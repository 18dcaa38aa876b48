# kernel/units: unit declarations: parsing and checking dicts, INI text (systemd's spelling)
# and JSON text into Unit objects; templates (`web@`) and their instances (`web@1`, %i).
#
# Owns: the unit vocabulary (types, restart policies with OTP's aliases), the field table,
# the one-line errors for bad units (UnitError: `unit web: 'restart' must be one of ...`).
# Invariants: a Unit is checked whole before it is returned (a bad field leaves nothing
# half-made); durations are kept in ms; lists are tuples; every field not given stays a
# class default, so an idle unit costs little heap. Not here: running units
# (kernel/service.py), the dependency graph (kernel/deps.py).
from micropython import const

from kernel import backoff as bo
from kernel import params

SIMPLE = const(0)  # active once spawned
NOTIFY = const(1)  # active when it calls notify_ready()
ONESHOT = const(2)  # active(-ish) while it runs; done when it returns
TYPE_NAMES = ("simple", "notify", "oneshot")

NO = const(0)
ON_FAILURE = const(1)
ON_ABNORMAL = const(2)
ON_WATCHDOG = const(3)
ALWAYS = const(4)
RESTART_NAMES = ("no", "on-failure", "on-abnormal", "on-watchdog", "always")
_RESTART_ALIASES = ("temporary", "transient", "", "", "permanent")  # OTP, by policy index

CONFIG_RESTART = const(0)  # config_reload: restart the service on a new config version
CONFIG_NONE = const(1)  # config_reload: leave it running (it reads service_config() itself)
CONFIG_RELOAD_NAMES = ("restart", "none")


class UnitError(ValueError):
    """A unit that cannot be used; the message is one line naming the unit and field."""


class Unit:
    """One service's declaration. Defaults live here; only given fields are set."""

    description = None
    type = SIMPLE
    exec = None  # 'module:function', or a callable (async def, class, function)
    args = ()  # arguments for exec (%i is replaced in instances)
    requires = ()
    wants = ()
    after = ()
    before = ()
    conflicts = ()
    restart = ON_FAILURE
    restart_ms = params.SVC_RESTART_MS
    backoff = bo.FIXED
    backoff_max_ms = params.SVC_BACKOFF_MAX_MS
    jitter = bo.NONE
    burst = params.SVC_START_LIMIT_BURST
    interval_ms = params.SVC_START_LIMIT_INTERVAL_MS
    start_timeout_ms = params.SVC_START_TIMEOUT_MS
    stop_timeout_ms = params.SVC_STOP_TIMEOUT_MS
    watchdog_ms = 0  # 0: no liveness watchdog
    tags = ()
    kind = None  # free-form kind, for discovery
    enabled = False  # started at boot
    group = None  # supervision group name (kernel/supervisor.py)
    reload = None  # callable or 'module:function' run by reload_service
    pre_start = None  # hooks: callables or 'module:function', called with the handle
    post_start = None
    pre_stop = None
    post_stop = None
    config = None  # {key: configs.Spec}: the config schema (kernel/configs.py)
    config_reload = CONFIG_RESTART  # what a new config version does without on_config
    rollback_ms = params.CONFIG_ROLLBACK_MS  # ms a new config is watched before it is kept
    on_config = None  # callable or 'module:function': on_config(config, changed)
    alerts = ()  # alert rules (kernel/alertrules.py)
    source = None  # templates only: the checked field dict instances are made from
    origin = "api"  # where it came from: 'api' (create_service), 'frozen' or its file's path
    startup = None  # probes (kernel/probes.py Spec): startup gates the other two
    liveness = None
    readiness = None
    meta = None  # dict for discovery (meta['weight'] for the balancer)
    endpoint = None  # 'host:port' text or a dict, for discovery and tcp/http probes
    breaker = None  # circuit breaker options (kernel/breakcfg.py Config) for its service
    detectors = None  # {detector code: {option: int}} (kernel/faultspec.py)
    escalation = None  # {detector code: (strategy codes)}: the order recoveries are tried in
    escalation_tries = None  # tries of one strategy per window before the next (None: burst)
    escalation_window_ms = None  # that window (None: the start limit's interval)
    standby = None  # the unit or instance `failover` promotes
    min_instances = 1  # scale_down stops no template instance below this many
    max_instances = 1  # scale_up starts no template instance above this many
    balancer = None  # (strategy code, options) for its service's pool (kernel/lbopts.py)

    def __init__(self, name):
        self.name = name

    def is_template(self):
        return self.name.endswith("@")

    def label(self):
        """The description, else the name (boot lines, svc list)."""
        return self.description or self.name


def _unit_err(name, key, msg):
    return UnitError("unit %s: '%s' %s" % (name, key, msg))


def _str(name, key, v):
    if not isinstance(v, str):
        raise _unit_err(name, key, "must be a string, got %r" % (v,))
    return v


def _list(name, key, v):
    if isinstance(v, str):
        v = v.replace(",", " ").split()
    if not isinstance(v, (list, tuple)) or not all(isinstance(x, str) for x in v):
        raise _unit_err(name, key, "must be a list of names, got %r" % (v,))
    return tuple(v)


def _ms(name, key, v):
    # Seconds (int/float, or text with a unit: '500ms', '2s', '1min') -> ms.
    s = v
    if isinstance(v, str):
        s = v.strip()
        for suffix, scale in (("ms", 1), ("min", 60000), ("s", 1000)):
            if s.endswith(suffix):
                try:
                    return _ms_ok(name, key, v, float(s[: -len(suffix)]) * scale)
                except ValueError:
                    break
        try:
            s = float(s)
        except ValueError:
            s = None
    if isinstance(s, bool) or not isinstance(s, (int, float)):
        raise _unit_err(name, key, "must be seconds (e.g. 5, 0.5, '500ms'), got %r" % (v,))
    return _ms_ok(name, key, v, s * 1000)


def _ms_ok(name, key, v, ms):
    if not 0 <= ms <= params.MAX_SLEEP_MS:
        raise _unit_err(name, key, "must be 0..%d s, got %r" % (params.MAX_SLEEP_MS // 1000, v))
    return int(ms)


def _count(name, key, v):
    try:
        n = int(v)
    except (TypeError, ValueError):
        n = -1
    if isinstance(v, bool) or n < 0 or n > 1000000:
        raise _unit_err(name, key, "must be an int in 0..1000000, got %r" % (v,))
    return n


def _bool(name, key, v):
    if isinstance(v, str):
        v = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}.get(
            v.strip().lower(), v
        )
    if not isinstance(v, bool):
        raise _unit_err(name, key, "must be yes/no (true/false), got %r" % (v,))
    return v


def _choice(names, aliases=None):
    def parse(name, key, v):
        if isinstance(v, str):
            w = v.strip().lower()
            if w in names:
                return names.index(w)
            if aliases and w and w in aliases:
                return aliases.index(w)
        allowed = ", ".join(names + tuple(a for a in aliases or () if a))
        raise _unit_err(name, key, "must be one of %s, got %r" % (allowed, v))

    return parse


def _exec(name, key, v):
    if isinstance(v, str):
        mod, _, fn = v.partition(":")
        if not mod or not fn:
            raise _unit_err(name, key, "must be 'module:function' or a callable, got %r" % (v,))
        return v
    if not callable(v):
        raise _unit_err(name, key, "must be 'module:function' or a callable, got %r" % (v,))
    return v


def _args(name, key, v):
    if not isinstance(v, (list, tuple)):
        raise _unit_err(name, key, "must be a list, got %r" % (v,))
    return tuple(v)


def json_value(name, key, v, types=(dict, list)):
    """A dict/list field: the value itself, or its JSON text (how INI writes one on a line)."""
    if isinstance(v, str) and v.strip()[:1] in ("{", "["):
        import json

        try:
            v = json.loads(v)
        except ValueError as e:
            raise _unit_err(name, key, "is not valid JSON: %s" % e) from None
    if not isinstance(v, types):
        kinds = " or ".join(t.__name__ for t in types)
        raise _unit_err(name, key, "must be a %s (JSON on an INI line), got %r" % (kinds, v))
    return v


def _dict(name, key, v):
    return json_value(name, key, v, (dict,))


def _probe(name, key, v):
    from kernel.probes import spec  # only units with probes load the probe kinds

    return spec(name, key, json_value(name, key, v, (dict,)))


def _endpoint(name, key, v):
    # 'host:port' (port digits, or %i in a template) or a dict with 'host' and 'port'.
    if isinstance(v, str) and not v.strip().startswith("{"):
        host, colon, port = v.strip().rpartition(":")
        if colon and host and (port.isdigit() or "%i" in port):
            return v.strip()
        raise _unit_err(name, key, 'must be \'host:port\' or {"host": .., "port": ..}, got %r' % v)
    v = json_value(name, key, v, (dict,))
    if "host" not in v or not isinstance(v.get("port"), int):
        raise _unit_err(name, key, "must have 'host' and an int 'port', got %r" % (v,))
    return v


def _breaker(name, key, v):
    from kernel import breakcfg  # only units with a breaker load its options

    try:
        return breakcfg.parse("unit %s: '%s'" % (name, key), json_value(name, key, v, (dict,)))
    except UnitError:
        raise
    except ValueError as e:
        raise UnitError(str(e)) from None


def _escalation(name, key, v):
    from kernel import faultspec  # only units with a fault policy load its vocabulary

    return faultspec.parse_escalation(name, key, v)


def _detectors(name, key, v):
    from kernel import faultspec

    return faultspec.parse_detectors(name, key, v)


def _tries(name, key, v):
    n = _count(name, key, v)
    if n < 1:
        raise _unit_err(name, key, "must be an int in 1..1000000, got %r" % (v,))
    return n


def _balancer(name, key, v):
    from kernel import lbopts

    v = json_value(name, key, v, (dict,))
    try:
        return lbopts.unit_field(name, key, v)
    except UnitError:
        raise
    except ValueError as e:
        raise UnitError("unit %s: %s" % (name, e)) from None


def _schema(name, key, v):
    from kernel import configs

    try:
        return configs.parse_schema(name, v)
    except ValueError as e:
        raise _unit_err(name, key, str(e)) from None


def _alert_rules(name, key, v):
    from kernel import alertrules

    try:
        return alertrules.parse_rules(name, v)
    except ValueError as e:
        raise _unit_err(name, key, str(e)) from None


# field -> (attribute, parser); aliases below map other spellings onto these fields.
FIELDS = {
    "description": ("description", _str),
    "type": ("type", _choice(TYPE_NAMES)),
    "exec": ("exec", _exec),
    "args": ("args", _args),
    "requires": ("requires", _list),
    "wants": ("wants", _list),
    "after": ("after", _list),
    "before": ("before", _list),
    "conflicts": ("conflicts", _list),
    "restart": ("restart", _choice(RESTART_NAMES, _RESTART_ALIASES)),
    "restart_sec": ("restart_ms", _ms),
    "backoff": ("backoff", _choice(bo.KIND_NAMES)),
    "backoff_max_sec": ("backoff_max_ms", _ms),
    "jitter": ("jitter", _choice(bo.JITTER_NAMES)),
    "start_limit_burst": ("burst", _count),
    "start_limit_interval": ("interval_ms", _ms),
    "start_timeout": ("start_timeout_ms", _ms),
    "stop_timeout": ("stop_timeout_ms", _ms),
    "watchdog_sec": ("watchdog_ms", _ms),
    "tags": ("tags", _list),
    "kind": ("kind", _str),
    "enabled": ("enabled", _bool),
    "group": ("group", _str),
    "reload": ("reload", _exec),
    "pre_start": ("pre_start", _exec),
    "post_start": ("post_start", _exec),
    "pre_stop": ("pre_stop", _exec),
    "post_stop": ("post_stop", _exec),
    "startup": ("startup", _probe),
    "liveness": ("liveness", _probe),
    "readiness": ("readiness", _probe),
    "meta": ("meta", _dict),
    "endpoint": ("endpoint", _endpoint),
    "balancer": ("balancer", _balancer),
    "config": ("config", _schema),
    "config_reload": ("config_reload", _choice(CONFIG_RELOAD_NAMES)),
    "rollback_sec": ("rollback_ms", _ms),
    "on_config": ("on_config", _exec),
    "alerts": ("alerts", _alert_rules),
    "breaker": ("breaker", _breaker),
    "detectors": ("detectors", _detectors),
    "escalation": ("escalation", _escalation),
    "escalation_tries": ("escalation_tries", _tries),
    "escalation_window_sec": ("escalation_window_ms", _ms),
    "standby": ("standby", _str),
    "min_instances": ("min_instances", _count),
    "max_instances": ("max_instances", _tries),
}
# Other spellings, compared lower-case without '_' and '-': systemd's INI keys and short forms.
_ALIASES = {
    "execstart": "exec",
    "restartsec": "restart_sec",
    "timeoutstartsec": "start_timeout",
    "starttimeoutsec": "start_timeout",
    "timeoutstopsec": "stop_timeout",
    "stoptimeoutsec": "stop_timeout",
    "watchdog": "watchdog_sec",
    "startlimitintervalsec": "start_limit_interval",
    "startlimitintervalms": "start_limit_interval",
    "wantedby": "enabled",  # [Install] WantedBy=... : enabled at boot
    "execstartpre": "pre_start",
    "execstartpost": "post_start",
    "execstop": "pre_stop",
    "execstoppost": "post_stop",
    "execreload": "reload",
}
_SKIP = ("name",)


def _field(key):
    k = key.lower().replace("-", "").replace("_", "")
    for f in FIELDS:
        if f.replace("_", "") == k:
            return f
    return _ALIASES.get(k)


def check_name(name):
    """The name, checked: letters, digits, '-', '_', '.', one '@' (templates, instances)."""
    if not isinstance(name, str) or not name:
        raise UnitError("unit: 'name' must be a non-empty string, got %r" % (name,))
    if name.endswith(".service"):
        name = name[:-8]
    if name.endswith("@."):
        name = name[:-1]
    ok = len(name) <= params.SVC_NAME_MAX and name.count("@") <= 1
    for c in name:
        ok = ok and (c.isalpha() or c.isdigit() or c in "-_.@")
    if not ok:
        raise UnitError(
            "unit %r: 'name' must be 1..%d letters, digits, '-_.' and one '@', got %r"
            % (name, params.SVC_NAME_MAX, name)
        )
    return name


def parse(src, name=None):
    """A Unit from a dict, JSON text ('{...}') or INI text; raises UnitError."""
    if isinstance(src, str):
        s = src.strip()
        if s.startswith("{"):
            import json

            try:
                src = json.loads(s)
            except ValueError as e:
                raise UnitError("unit %s: bad JSON: %s" % (name or "?", e)) from None
        else:
            src = parse_ini(s)
    if not isinstance(src, dict):
        raise UnitError("unit: need a dict, JSON or INI text, got %r" % (type(src).__name__,))
    name = check_name(src.get("name", src.get("Name", name)))
    fields = {}
    for key, v in src.items():
        if key in _SKIP or key == "Name":
            continue
        f = _field(key)
        if f is None:
            raise UnitError("unit %s: unknown field '%s'" % (name, key))
        attr, check = FIELDS[f]
        if key.lower() == "wantedby":
            v = True
        fields[attr] = check(name, key, v)
    if fields.get("exec") is None:  # as systemd refuses a service with no ExecStart=
        raise UnitError("unit %s: 'exec' is not set: give 'module:function' or a callable" % name)
    lo = fields.get("min_instances", Unit.min_instances)
    hi = fields.get("max_instances", Unit.max_instances)
    if lo > hi:
        raise UnitError(
            "unit %s: 'min_instances' (%d) must not be above 'max_instances' (%d)" % (name, lo, hi)
        )
    return make(name, fields)


def make(name, fields):
    """A Unit named `name` from checked fields (attribute -> value)."""
    u = Unit(name)
    for attr, v in fields.items():
        if v != getattr(Unit, attr):
            setattr(u, attr, v)
    if u.is_template():
        u.source = fields
    return u


def instance(template, inst):
    """The unit `web@<inst>` from template `web@`, with %i replaced by inst everywhere."""
    fields = {}
    for attr, v in template.source.items():
        if isinstance(v, str):
            v = v.replace("%i", inst)
        elif isinstance(v, tuple):
            v = tuple(x.replace("%i", inst) if isinstance(x, str) else x for x in v)
        fields[attr] = v
    u = make(template.name + inst, fields)
    if template.origin != Unit.origin:
        u.origin = template.origin
    return u


def template_of(name):
    """'web@' for 'web@1'; None when name is not an instance."""
    i = name.find("@")
    if i < 0 or i == len(name) - 1:
        return None
    return name[: i + 1]


def parse_ini(text):
    """systemd-style INI: [Section] lines are ignored, `Key=value`; list keys accumulate."""
    out = {}
    for n, line in enumerate(text.split("\n")):
        line = line.strip()
        if not line or line[0] in "#;" or line[0] == "[":
            continue
        key, eq, v = line.partition("=")
        if not eq:
            raise UnitError("unit: line %d: expected Key=value, got %r" % (n + 1, line))
        key = key.strip()
        v = v.strip()
        f = _field(key)
        if f is not None and FIELDS[f][1] is _list and key in out:
            v = out[key] + " " + v
        out[key] = v
    return out
