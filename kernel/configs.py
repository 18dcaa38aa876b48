# kernel/configs: a service's config schema, and checking values against it.
#
# Owns: the schema a unit declares in its `config` field (key -> Spec: type
# int|float|bool|str|list|dict, default, min, max, regex, enum, required, secret, validate),
# ConfigError (a ValueError, one line; .errors holds every error), checking one value or a
# whole config (one-line errors naming the key and what was expected:
# `config web: 'port' must be an int in 1..65535, got 'abc'`), text -> value by a key's type
# (the shell, the boot command line) and masking secrets ('***') wherever values are shown.
# Invariants: a secret's value never appears in an error, a diff or a listing made here.
# min/max bound a number's value and a str/list/dict's length.
# Not here: sources, versions, applying and rollback (kernel/configstore.py).
from micropython import const

T_INT = const(0)
T_FLOAT = const(1)
T_BOOL = const(2)
T_STR = const(3)
T_LIST = const(4)
T_DICT = const(5)
TYPE_NAMES = ("int", "float", "bool", "str", "list", "dict")
_ARTICLE = ("an int", "a float", "a bool", "a str", "a list", "a dict")
SPEC_KEYS = (
    "type",
    "default",
    "min",
    "max",
    "regex",
    "enum",
    "required",
    "secret",
    "validate",
    "description",
)
MASK = "***"


class ConfigError(ValueError):
    """A config that cannot be used: one line; .errors holds every error."""

    def __init__(self, errors, kept=True):
        self.errors = list(errors)
        text = "; ".join(self.errors)
        super().__init__(text + " (kept previous config)" if kept else text)


class Spec:
    """One key of a schema. Defaults live on the class."""

    type = T_STR
    default = None
    min = None
    max = None
    regex = None  # text; compiled on first use (`rx`)
    rx = None
    enum = None  # tuple of allowed values
    required = False
    secret = False
    validate = None  # callable(value) -> True/None ok, False or text: bad; or raises
    description = None


def parse_schema(unit, v):
    """The unit field `config` (dict, or JSON text) -> {key: Spec}; raises ValueError with
    one line naming the key (units.py turns it into a UnitError)."""
    if isinstance(v, str):
        import json

        try:
            v = json.loads(v)
        except ValueError:
            raise ValueError("must be a JSON object of key -> spec, got %r" % (v,)) from None
    if not isinstance(v, dict):
        raise ValueError("must be a dict of key -> spec, got %r" % (v,))
    out = {}
    for key, d in v.items():
        if isinstance(d, str):
            d = {"type": d}
        if not isinstance(d, dict):
            raise ValueError("key '%s': spec must be a dict or a type name, got %r" % (key, d))
        s = Spec()
        for k, x in d.items():
            if k not in SPEC_KEYS:
                raise ValueError(
                    "key '%s': unknown spec field '%s' (use %s)" % (key, k, ", ".join(SPEC_KEYS))
                )
            if k == "type":
                if x not in TYPE_NAMES:
                    raise ValueError(
                        "key '%s': type must be one of %s, got %r"
                        % (key, ", ".join(TYPE_NAMES), x)
                    )
                x = TYPE_NAMES.index(x)
            elif k == "enum":
                x = tuple(x)
            elif k == "regex":
                import re

                try:
                    s.rx = re.compile(x)
                except Exception as e:  # noqa: BLE001 - MicroPython's re raises ValueError
                    raise ValueError("key '%s': bad regex %r: %s" % (key, x, e)) from None
            setattr(s, k, x)
        if s.default is not None:
            err = check_value(unit, key, s, s.default)
            if err is not None:
                raise ValueError("key '%s': default: %s" % (key, err.split(": ", 1)[1]))
            s.default = _coerce(s, s.default)
        out[key] = s
    return out


def show(spec, v):
    """How a value is shown: '***' for a secret, else repr."""
    return repr(MASK) if spec is not None and spec.secret else repr(v)


def masked(schema, values):
    """A copy of values with secrets as '***'."""
    out = {}
    for k, v in values.items():
        s = schema.get(k)
        out[k] = MASK if s is not None and s.secret and v is not None else v
    return out


def _coerce(spec, v):
    if spec.type == T_FLOAT:
        return float(v)
    if spec.type == T_LIST:
        return list(v)
    return v


def _is_type(t, v):
    if isinstance(v, bool):
        return t == T_BOOL
    if t == T_INT:
        return isinstance(v, int)
    if t == T_FLOAT:
        return isinstance(v, (int, float))
    if t == T_STR:
        return isinstance(v, str)
    if t == T_LIST:
        return isinstance(v, (list, tuple))
    if t == T_DICT:
        return isinstance(v, dict)
    return False


def _expected(spec):
    text = "must be " + _ARTICLE[spec.type]
    lo, hi = spec.min, spec.max
    if spec.type >= T_STR and (lo is not None or hi is not None):
        text += " of length"
    if lo is not None and hi is not None:
        text += " in %r..%r" % (lo, hi)
    elif lo is not None:
        text += " >= %r" % (lo,)
    elif hi is not None:
        text += " <= %r" % (hi,)
    if spec.regex is not None:
        text += " matching %r" % (spec.regex,)
    if spec.enum is not None:
        text += " in (%s)" % ", ".join(repr(x) for x in spec.enum)
    return text


def check_value(unit, key, spec, v):
    """One value against its Spec -> None, or a one-line error."""
    head = "config %s: '%s' " % (unit, key)
    got = ", got " + show(spec, v)
    if not _is_type(spec.type, v):
        return head + _expected(spec) + got
    size = None if spec.type == T_BOOL else v if spec.type <= T_FLOAT else len(v)
    if size is None:
        pass
    elif (spec.min is not None and size < spec.min) or (spec.max is not None and size > spec.max):
        return head + _expected(spec) + got
    if spec.rx is not None and not spec.rx.match(v):
        return head + _expected(spec) + got
    if spec.enum is not None and v not in spec.enum:
        return head + _expected(spec) + got
    if spec.validate is not None:
        from kernel.service import resolve

        try:
            r = resolve(spec.validate)(v)
        except Exception as e:  # noqa: BLE001 - a failing check is an error line, not a crash
            if spec.secret:  # its text might quote the value
                return head + "failed its check (%s)%s" % (type(e).__name__, got)
            return head + "failed its check (%s: %s)%s" % (type(e).__name__, e, got)
        if r is False or (isinstance(r, str) and spec.secret):
            return head + "failed its check" + got
        if isinstance(r, str):
            return head + r + got
    return None


def not_a_dict(unit, values):
    """None when `values` is a dict (key -> value), else the one-line error saying so."""
    if isinstance(values, dict):
        return None
    return "config %s: expected a dict of key -> value, got %s %s" % (
        unit,
        type(values).__name__,
        repr(values)[:40],
    )


def check(unit, schema, values, full=None):
    """Errors of `values` (key -> value) against `schema`; with `full` (the config they would
    give), also the required keys missing from it. -> list of one-line errors."""
    bad = not_a_dict(unit, values)
    if bad is not None:
        return [bad]
    errors = []
    for k in sorted(values):  # sorted: the same order on every port
        v = values[k]
        s = schema.get(k)
        if s is None:
            errors.append(
                "config %s: unknown key '%s' (keys: %s)" % (unit, k, ", ".join(sorted(schema)))
            )
            continue
        err = check_value(unit, k, s, v)
        if err is not None:
            errors.append(err)
    if full is not None:
        for k in sorted(schema):
            if schema[k].required and full.get(k) is None:
                errors.append("config %s: '%s' is required (it has no default)" % (unit, k))
    return errors


def coerce(schema, values):
    """values with floats for float keys and lists for list keys (after check())."""
    return {k: _coerce(schema[k], v) for k, v in values.items()}


def parse_text(spec, text):
    """A value from text by the key's type ('8081' for an int, 'true', JSON for lists and
    dicts); text that does not parse stays text, so check_value names what was expected."""
    t = spec.type
    s = text.strip()
    try:
        if t == T_INT:
            return int(s)
        if t == T_FLOAT:
            return float(s)
        if t == T_BOOL:
            w = s.lower()
            if w in ("true", "yes", "on", "1"):
                return True
            if w in ("false", "no", "off", "0"):
                return False
            return text
        if t == T_LIST or t == T_DICT:
            import json

            return json.loads(s)
    except ValueError:
        return text
    return text
