# Tests for kernel/configsave and the secrets of kernel/configstore on the unix port: a
# secret set at runtime is sealed in memory (every layer and version holds ciphertext) and in
# the saved versions on disk; a reboot with the same key file reads it back through
# kernel.secret(); another key, a damaged key file or a damaged state file gives one-line
# errors, never a crash; a sealed value in a config file is taken as it is.
import os

import _hal
from svcfakes import World

from kernel import configs as C
from kernel import configstore as CS
from kernel import svc, traps, vault

SCHEMA = {
    "port": {"type": "int", "default": 8080, "min": 1, "max": 65535},
    "token": {"type": "str", "secret": True},
}
PLAIN = "t0p-s3cret-value"


def _dir():
    import binascii

    d = "/tmp/multios-cfgsave-%s" % binascii.hexlify(_hal.entropy_bytes(6)).decode()
    os.mkdir(d)
    return d


def forever():
    async def run():
        while True:
            await traps.sleep_ms(1000)

    return run


def boot(d, entropy=None):
    """One 'boot': the key from d/secret.key, a fresh manager and store saving under d/state."""
    vault.open_key(d + "/secret.key", entropy)
    w = World()
    st = CS.Store(w.m)
    st.config_dir = d + "/config"
    st.state_dir = d + "/state"
    st.cmdline = {}
    w.add(name="web", exec=forever(), config=SCHEMA, config_reload="none")
    return w, st


def _everything(e):
    """Every value the store keeps for a service, for scanning."""
    out = []
    for layer in e.layers:
        out.extend(layer.values())
    for v in e.versions:
        out.extend(v.values.values())
        out.extend(v.runtime.values())
        out.append(v.diff)
    return out


def test_a_runtime_secret_is_sealed_in_memory_and_on_disk_and_survives_a_reboot():
    d = _dir()
    w, st = boot(d)
    assert st.update("web", {"token": PLAIN, "port": 81}) == 2
    e = st.entry("web")
    held = _everything(e)
    assert PLAIN not in held and PLAIN not in repr(held)
    sealed = [x for x in held if isinstance(x, vault.Sealed)]
    assert sealed and all(PLAIN.encode() not in x.blob for x in sealed)
    with open(d + "/state/web.json", "rb") as f:
        disk = f.read()
    assert PLAIN.encode() not in disk and b'"token": "sealed:' in disk and b'"port": 81' in disk
    assert os.listdir(d + "/state") == ["web.json"]  # the temporary file was renamed over

    w, st = boot(d)  # the same key file, a new VM
    e = st.entry("web")
    cur = e.current()
    assert cur.number == 2 and cur.reason == "update" and cur.values["port"] == 81
    assert [v.number for v in e.versions] == [1, 2]
    assert cur.diff == [("port", 8080, 81), ("token", None, "***")]
    assert vault.unseal(cur.values["token"]) == PLAIN
    assert st.source_of(e, "token") == "runtime"
    assert st.update("web", {"port": 82}) == 3  # the history goes on
    assert [x[2] for x in w.events if x[2] == "config error"] == []


def test_kernel_secret_reads_it_back_after_a_reboot_and_nothing_shows_it():
    import kernel

    d = _dir()
    CS.Store.config_dir = d + "/config"
    got = []

    async def body():
        got.append(kernel.secret("token"))
        got.append(kernel.service_config()["token"])
        while True:
            await traps.sleep_ms(1000)

    for n in range(2):  # two boots over one disk and key file
        vault.open_key(d + "/secret.key")
        kernel.reset()
        svc.manager().config_state_dir = d + "/state"
        kernel.create_service({"name": "s", "exec": body, "config": SCHEMA})
        CS.store().cmdline = {}
        if n == 0:
            kernel.update_config("s", {"token": PLAIN})
        kernel.start_service("s")
        sched = svc.manager().sched
        sched.run_until(sched.spawn(_sleep(10), "t"))
    assert got[-2:] == [PLAIN, "***"]
    text = repr(kernel.config_history("s")) + repr(kernel.load_config("s"))
    text += "\n".join(kernel.journal_lines()) + repr(kernel.service_status("s"))
    assert PLAIN not in text and "***" in text, text


def test_another_key_after_a_reboot_is_a_one_line_error_not_a_crash():
    import kernel

    d = _dir()
    w, st = boot(d, lambda n: b"a" * n)
    st.update("web", {"token": PLAIN})
    old = vault.vault.k.kid.hex()
    os.remove(d + "/secret.key")  # lost
    w, st = boot(d, lambda n: b"b" * n)
    e = st.entry("web")  # reads the saved versions: no crash
    why = "sealed with key %s, no key on this machine (%s/secret.key)" % (old, d)
    errs = [x[3] for x in w.events if x[2] == "config error"]
    assert errs == ["config web: secret 'token' cannot be read: " + why], errs
    assert e.current().values["port"] == 8080
    # kernel.secret() inside the service raises the same line as a ConfigError
    kernel.reset()
    svc.manager().config_state_dir = d + "/state"
    CS.Store.config_dir = d + "/config"
    caught = []

    async def body():
        try:
            kernel.secret("token")
        except kernel.ConfigError as err:
            caught.append(str(err))

    kernel.create_service({"name": "web", "exec": body, "config": SCHEMA})
    CS.store().cmdline = {}
    kernel.start_service("web")
    sched = svc.manager().sched
    sched.run_until(sched.spawn(_sleep(10), "t"))
    assert caught == ["config web: secret 'token' cannot be read: " + why], caught
    assert st.update("web", {"token": "new"}) > 2  # setting it again makes a new key
    assert vault.vault.state == vault.NEW
    w, st = boot(d, lambda n: b"c" * n)  # the next boot reads that key back
    assert vault.unseal(st.entry("web").current().values["token"]) == "new"
    assert [x for x in w.events if x[2] == "config error"] == []


def test_a_damaged_key_file_refuses_secrets_in_one_line_and_the_rest_works():
    d = _dir()
    with open(d + "/secret.key", "wb") as f:
        f.write(b"junk")
    w, st = boot(d)
    try:
        st.update("web", {"token": PLAIN})
    except C.ConfigError as e:
        assert str(e).startswith(
            "config web: 'token': secrets: key file %s/secret.key is damaged (4 bytes," % d
        ), e
        assert str(e).endswith("(kept previous config)") and "\n" not in str(e)
    else:
        raise AssertionError("a secret was set without a usable key")
    assert st.update("web", {"port": 90}) == 2  # non-secret keys are unaffected
    with open(d + "/secret.key", "rb") as f:
        assert f.read() == b"junk"


def test_damaged_saved_versions_are_skipped_with_one_line():
    d = _dir()
    w, st = boot(d)
    os.mkdir(d + "/state")
    with open(d + "/state/web.json", "w") as f:
        f.write("[{broken")
    assert st.entry("web").current().number == 1
    errs = [x[3] for x in w.events if x[2] == "config error"]
    assert errs == [
        "config web: %s/state/web.json is not a JSON list of versions (ignored)" % d
    ], errs
    w, st = boot(d)
    with open(d + "/state/web.json", "w") as f:
        f.write('[{"v": 4, "ms": 1, "reason": "update", "diff": [], "runtime": {"port": 0}}]')
    e = st.entry("web")
    assert e.current().number == 4 and e.current().values["port"] == 8080
    errs = [x[3] for x in w.events if x[2] == "config error"]
    assert errs == [
        "config web: 'port' must be an int in 1..65535, got 0 (saved value ignored)"
    ], errs


def test_a_sealed_value_in_a_config_file_is_taken_as_it_is():
    d = _dir()
    w, st = boot(d)
    text = vault.seal(PLAIN).text()
    os.mkdir(d + "/config")
    with open(d + "/config/web.json", "w") as f:
        f.write('{"token": "%s", "port": 99}' % text)
    e = st.entry("web")
    assert vault.unseal(e.current().values["token"]) == PLAIN
    assert st.source_of(e, "token") == "file" and e.current().values["port"] == 99


async def _sleep(ms):
    await traps.sleep_ms(ms)


def test_a_save_that_fails_is_one_journal_line_and_the_update_stands():
    d = _dir()
    w, st = boot(d)
    with open(d + "/state", "w") as f:
        f.write("a file where the directory should be")
    assert st.update("web", {"port": 81}) == 2
    assert st.entry("web").current().values["port"] == 81
    errs = [x[3] for x in w.events if x[2] == "config error"]
    assert len(errs) == 1 and errs[0].startswith(
        "config web: not saved to %s/state/web.json (" % d
    ), errs


def test_only_the_manager_init_marks_saves_versions():
    d = _dir()
    w, st = boot(d)
    assert CS.Store(World().m).state_dir is None  # another manager (a scenario): nowhere
    w.m.config_state_dir = d + "/state"
    assert CS.Store(w.m).state_dir == d + "/state"
