# kernel/configapi: the kernel's config API (re-exported by `kernel`): validate, update, load,
# history, rollback, kind templates, and a service's own config and secrets.
#
# Owns: the public functions only; each goes to the Store of the kernel's service manager
# (kernel/configstore.store()). service_config() and secret() find the calling service from
# the current task.
# Invariants: every error is a ConfigError of one-line messages; nothing is applied when any
# value is bad; a secret is unsealed only for its own service.
# Not here: layers and versions (kernel/configstore.py), checks (kernel/configs.py).
from kernel import configs as C
from kernel import vault
from kernel.configstore import store

ConfigError = C.ConfigError


def validate_config(name, config):
    """Errors (one line each) `config` (key -> value) would give service `name`; [] if none."""
    return store().validate(name, config)


def update_config(name, updates):
    """Validate, then apply `updates` as a new version -> its number. Raises ConfigError
    (nothing applied) when any value is bad. Unchanged values make no new version."""
    return store().update(name, updates)


def load_config(name):
    """The effective config of `name`, secrets as '***'."""
    e = store().entry(name)
    return C.masked(e.schema, e.current().values)


def config_version(name):
    return store().entry(name).current().number


def config_history(name):
    """[{version, ms, reason, diff: [(key, old, new)]}], oldest first (secrets masked)."""
    return [
        {"version": v.number, "ms": v.ms, "reason": v.reason, "diff": v.diff}
        for v in store().entry(name).versions
    ]


def rollback_config(name, version):
    """Make a new version equal to `version`'s runtime settings, and apply it -> number."""
    return store().rollback(name, version)


def set_kind_config(kind, values):
    """A config template for every service of unit `kind` (above defaults, below files)."""
    store().set_kind(kind, values)


def service_config():
    """Inside a service: its effective config (secrets as '***': use kernel.secret(key))."""
    name = _caller()
    return load_config(name)


def secret(key):
    """Inside a service: the value of its config key `key` (meant for secrets), unsealed.
    Raises ConfigError (one line) when a secret cannot be read (another key, no key)."""
    name = _caller()
    e = store().entry(name)
    if key not in e.schema:
        raise C.ConfigError(["config %s: unknown key '%s'" % (name, key)], False)
    v = e.current().values.get(key)
    if isinstance(v, vault.Sealed):
        try:
            return vault.unseal(v)
        except vault.VaultError as err:
            raise C.ConfigError(
                ["config %s: secret '%s' cannot be read: %s" % (name, key, err)], False
            ) from None
    if v is None and e.schema[key].secret and vault.vault.state == vault.BAD:
        raise C.ConfigError(
            ["config %s: secret '%s' cannot be read: %s" % (name, key, vault.status())], False
        )
    return v


def _caller():
    import kernel
    from kernel import svc

    t = kernel.current()
    s = svc.manager().by_task.get(t.id) if t is not None else None
    if s is None:
        raise RuntimeError("config: call it from a service's own task")
    return s.name
