# Tests for kernel/vault on the unix port: cryptolib's AES (mbedTLS) against NIST and RFC
# vectors, the key made once from the HAL's entropy and read back at the next boot, sealed
# values that never hold or show the plain value, and a wrong, damaged or missing key as a
# one-line VaultError, never garbage and never a crash.
import os

import _hal

from kernel import vault

KEY_HEX = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"
PLAIN_HEX = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"


def _dir(tag):
    """A new directory of this test's own under /tmp (a random name: no getpid here)."""
    import binascii

    d = "/tmp/multios-vault-%s-%s" % (tag, binascii.hexlify(_hal.entropy_bytes(6)).decode())
    os.mkdir(d)
    return d


def test_cryptolib_aes_matches_nist_sp800_38a_and_hmac_rfc4231():
    import binascii

    import cryptolib

    k = binascii.unhexlify(KEY_HEX)
    pt = binascii.unhexlify(PLAIN_HEX)
    ctr = cryptolib.aes(k, 6, binascii.unhexlify("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"))
    assert binascii.hexlify(ctr.encrypt(pt)) == (
        b"601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
    )
    cbc = cryptolib.aes(k, 2, bytes(range(16)))
    assert binascii.hexlify(cbc.encrypt(pt)) == (
        b"f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
    )
    assert binascii.hexlify(cryptolib.aes(k, 1).encrypt(pt)) == (
        b"f3eed1bdb5d2a03c064b5a7e3db181f8591ccb10d410ed26dc5ba74a31362870"
    )
    mac = vault.hmac(vault.pads(b"Jefe"), b"what do ya want for nothing?")
    assert binascii.hexlify(mac) == (
        b"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_hal_entropy_bytes_come_from_the_board_not_the_prng():
    a = _hal.entropy_bytes(32)
    _hal.random_seed(1)
    b = _hal.random_bytes(32)
    _hal.random_seed(1)
    assert len(a) == 32 and a != _hal.entropy_bytes(32)  # getrandom(): never the same twice
    assert _hal.random_bytes(32) == b  # the PRNG repeats from a seed; entropy does not
    assert len(_hal.entropy_bytes(5)) == 5 and _hal.entropy_bytes(0) == b""


def test_the_first_secret_makes_a_key_from_entropy_and_the_next_boot_reads_it():
    d = _dir("boot")
    path = d + "/sub/secret.key"  # its directory is made too
    asked = []
    said = []

    def entropy(n):
        asked.append(n)
        return bytes(range(n))

    v = vault.open_key(path, entropy, said.append)
    assert v.state == vault.NONE and asked == [] and "sub" not in os.listdir(d)  # nothing yet
    s0 = vault.seal("first")
    assert v.state == vault.NEW and asked == [32]
    assert said == ["secrets: new key %s in %s" % (v.k.kid.hex(), path)]
    with open(path, "rb") as f:
        assert f.read() == b"MSK1" + bytes(range(32))
    assert "secret.key.tmp" not in os.listdir(d + "/sub")  # renamed over, nothing left
    s = vault.seal({"user": "svc", "password": "hunter2"})
    text = s.text()
    v = vault.open_key(path, entropy, said.append)  # the next boot: the same key, no entropy
    assert vault.unseal(s0) == "first" and vault.seal(1) and asked == [32] and len(said) == 1
    assert v.state == vault.FILE
    assert vault.status().startswith("key %s from %s" % (v.k.kid.hex(), path))
    assert vault.unseal(vault.from_text(text)) == {"user": "svc", "password": "hunter2"}


def test_sealed_values_hold_no_plain_text_and_show_as_stars():
    vault.open_key(None, lambda n: b"k" * n)  # no filesystem: a RAM key
    a = vault.seal("hunter2")
    assert vault.vault.state == vault.RAM
    b = vault.seal("hunter2")
    assert b"hunter2" not in a.blob and "hunter2" not in a.text()
    assert a.blob != b.blob  # a new IV each time...
    assert a == b and not (a != b) and a != vault.seal("other")  # ...still equal values
    assert repr(a) == "'***'" and str(a) == "***" and "%s %r" % (a, [a]) == "*** ['***']"
    assert repr({"token": a}) == "{'token': '***'}"
    assert vault.unseal(a) == "hunter2" and vault.unseal(vault.seal(8081)) == 8081


def test_wrong_or_missing_key_and_damage_are_one_line_errors():
    d = _dir("wrong")
    path = d + "/secret.key"
    vault.open_key(path, lambda n: b"a" * n)
    s = vault.seal("hunter2")
    kid = s.key_id()
    os.remove(path)  # the key file lost
    v = vault.open_key(path, lambda n: b"b" * n)
    missing = "sealed with key %s, no key on this machine (%s)" % (kid, path)
    assert vault.check(s) == missing and v.state == vault.NONE  # reading makes no key
    try:
        vault.unseal(s)
    except vault.VaultError as e:
        assert str(e) == missing
    else:
        raise AssertionError("unsealed without a key")
    t = vault.seal("hunter2")  # the first seal of this boot makes another key
    assert v.state == vault.NEW
    for bad, text in (
        (s, "sealed with key %s, this machine's key is %s (%s)" % (kid, v.k.kid.hex(), path)),
        (vault.Sealed(s.blob[:10]), "damaged sealed value (10 bytes)"),
    ):
        try:
            vault.unseal(bad)
        except vault.VaultError as e:
            assert isinstance(e, ValueError) and str(e) == text and "\n" not in str(e), e
        else:
            raise AssertionError("unsealed with the wrong key")
    flipped = vault.Sealed(t.blob[:-20] + bytes((t.blob[-20] ^ 1,)) + t.blob[-19:])
    assert vault.check(flipped) == "damaged sealed value (its tag does not match)"
    assert vault.check(t) is None and not vault.same(s, t)
    for text in ("sealed:!!!", "sealed:" + t.text()[7:30]):  # not base64 / cut short
        try:
            why = vault.check(vault.from_text(text))
        except vault.VaultError as e:
            why = str(e)
        assert why.startswith("damaged sealed value ("), why


def test_a_damaged_key_file_is_never_replaced_and_refuses_sealing():
    d = _dir("damaged")
    path = d + "/secret.key"
    with open(path, "wb") as f:
        f.write(b"MSK1short")
    v = vault.open_key(path, lambda n: b"c" * n)
    assert v.state == vault.BAD
    for fn in (lambda: vault.seal("x"), lambda: vault.unseal(vault.Sealed(b"\x01" * 40))):
        try:
            fn()
        except vault.VaultError as e:
            assert str(e) == (
                "secrets: key file %s is damaged (9 bytes, expected 36 starting MSK1): secrets"
                " cannot be read or set; move it away to make a new key (what it sealed is then"
                " lost)" % path
            )
        else:
            raise AssertionError("sealed without a usable key")
    with open(path, "rb") as f:
        assert f.read() == b"MSK1short"  # left for the operator


def test_an_unwritable_key_file_falls_back_to_a_ram_key():
    said = []
    v = vault.open_key("/proc/nonexistent-dir/secret.key", lambda n: b"d" * n, said.append)
    assert vault.unseal(vault.seal([1, 2])) == [1, 2]
    assert v.state == vault.RAM
    head = "key %s in RAM for this boot only: cannot write /proc/nonexistent-dir/secret.key ("
    assert v.reason.startswith(head % v.k.kid.hex()) and v.reason.endswith(")"), v.reason
    assert said == ["secrets: " + v.reason]
