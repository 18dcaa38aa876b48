# kernel/vault: the machine's secrets key, and sealing config secrets with it.
#
# Owns: the 32-byte key: read at boot from params.SECRET_KEY_PATH once that file exists; else
# made by the first seal from the HAL's entropy (hal.entropy_bytes: RDRAND on x86_64,
# getrandom() on the unix port, timer-interrupt jitter on ARM, which is not cryptographic)
# and written there power-safely (a temporary file, closed, renamed over: littlefs renames
# atomically); with no filesystem it lives in RAM for this boot only. seal(value) -> Sealed,
# unseal(Sealed) -> value, and a Sealed's text form in JSON files ('sealed:' + base64).
# A sealed blob: version (1 byte), key id (4), IV (16), AES-256-CTR ciphertext of the value's
# JSON (cryptolib, mbedTLS), HMAC-SHA-256 tag (16) of all before it, with a key derived from
# the same key. A new random IV per seal, so equal values seal differently (same() compares).
# Invariants: a Sealed never shows its value (repr and str are '***'); a wrong or missing key
# or a damaged blob raises VaultError (a ValueError, one line), never returns garbage; an
# existing key file is never overwritten (a damaged one refuses sealing until moved away);
# only sealing makes a key, reading never does.
# Not here: which config keys are secret (kernel/configs.py), where sealed values live
# (kernel/configstore.py, kernel/configsave.py).
import os

from micropython import const

from kernel import params

KEY_B = const(32)
IV_B = const(16)
TAG_B = const(16)
KID_B = const(4)
VERSION = b"\x01"
MAGIC = b"MSK1"  # the key file: MAGIC + the key
PREFIX = "sealed:"  # a Sealed in JSON: PREFIX + base64(blob)
MODE_CTR = const(6)  # cryptolib's AES mode number for CTR

# Where the key came from (status()).
NONE = const(0)  # no key yet: the first seal makes one (in the key file, if there is one)
FILE = const(1)  # read from the key file
NEW = const(2)  # made from entropy at this boot and written to the key file
RAM = const(3)  # made from entropy, kept in RAM only (no filesystem, or it failed)
BAD = const(4)  # the key file exists but cannot be used: nothing is sealed or unsealed
STATE_NAMES = ("none", "file", "new", "ram", "bad")


class VaultError(ValueError):
    """A secret that cannot be sealed or read: one line."""


class Sealed:
    """A value encrypted with the machine's key; shown as '***'."""

    def __init__(self, blob):
        self.blob = blob  # bytes: version, key id, IV, ciphertext, tag

    def __repr__(self):
        return "'***'"

    def __str__(self):
        return "***"

    def __eq__(self, other):
        return isinstance(other, Sealed) and same(self, other)

    def key_id(self):
        return _hex(self.blob[1 : 1 + KID_B])

    def text(self):
        import binascii

        return PREFIX + binascii.b2a_base64(self.blob).decode().strip()


class Key:
    """The key and what is derived from it, once."""

    def __init__(self, key):
        import hashlib

        self.key = key
        self.kid = hashlib.sha256(b"multios-kid\0" + key).digest()[:KID_B]
        self.pads = pads(hashlib.sha256(b"multios-mac\0" + key).digest())

    def tag(self, data):
        return hmac(self.pads, data)[:TAG_B]


def pads(mac_key):
    """HMAC-SHA-256's inner and outer padded keys for mac_key (at most 64 bytes)."""
    k = mac_key + bytes(64 - len(mac_key))
    return bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)


def hmac(p, data):
    """HMAC-SHA-256 (RFC 2104) of data with the pads p -> 32 bytes."""
    import hashlib

    h = hashlib.sha256(p[0])
    h.update(data)
    inner = h.digest()
    h = hashlib.sha256(p[1])
    h.update(inner)
    return h.digest()


class Vault:
    """The key of this boot and where it came from."""

    def __init__(self):
        self.state = NONE
        self.k = None  # the Key, or None
        self.path = None  # the key file, or None (no filesystem)
        self.reason = "no key yet"  # one line: where the key is (or why there is none)
        self.entropy = None  # entropy(n) -> n bytes; None: the HAL's
        self.log = None  # log(text) is told when a key is made


vault = Vault()


def _hex(b):
    import binascii

    return binascii.hexlify(b).decode()


def _entropy(n):
    if vault.entropy is not None:
        return vault.entropy(n)
    import hal

    return hal.entropy_bytes(n)


def open_key(path=params.SECRET_KEY_PATH, entropy=None, log=None):
    """This boot's key from `path`, when that file exists; else the first seal makes one
    (from entropy(n), default the HAL's) and writes it there (path None: no filesystem, a RAM
    key). log(text) hears when it does. Never raises: a damaged file leaves the vault BAD,
    with why. Returns the vault."""
    vault.__init__()
    vault.path, vault.entropy, vault.log = path, entropy, log
    if path is None:
        vault.reason = "no key yet (no filesystem: the first secret makes one in RAM)"
        return vault
    try:
        with open(path, "rb") as f:
            data = f.read(len(MAGIC) + KEY_B + 1)
    except OSError:
        vault.reason = "no key yet (the first secret makes %s)" % path
        return vault
    if len(data) != len(MAGIC) + KEY_B or data[: len(MAGIC)] != MAGIC:
        vault.state = BAD
        vault.reason = (
            "key file %s is damaged (%d bytes, expected %d starting %s): secrets cannot be"
            " read or set; move it away to make a new key (what it sealed is then lost)"
            % (path, len(data), len(MAGIC) + KEY_B, MAGIC.decode())
        )
        return vault
    vault.k = Key(data[len(MAGIC) :])
    vault.state = FILE
    vault.reason = "key %s from %s" % (_hex(vault.k.kid), path)
    return vault


def _make():
    """A new key from entropy: written to the key file (NEW), or kept in RAM (RAM)."""
    key = _entropy(KEY_B)
    vault.k = Key(key)
    path = vault.path
    if path is None:
        vault.state = RAM
        vault.reason = "key %s in RAM for this boot only (no filesystem)" % _hex(vault.k.kid)
    else:
        try:
            _write_key(path, key)
            vault.state = NEW
            vault.reason = "new key %s in %s" % (_hex(vault.k.kid), path)
        except OSError as e:
            from kernel.storage import errno_name

            vault.state = RAM
            vault.reason = "key %s in RAM for this boot only: cannot write %s (%s)" % (
                _hex(vault.k.kid),
                path,
                errno_name(e),
            )
    if vault.log is not None:
        vault.log("secrets: " + vault.reason)


def _write_key(path, key):
    d = path.rsplit("/", 1)[0]
    if d:
        try:
            os.mkdir(d)
        except OSError:
            pass  # there already (or the open below says why not)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(MAGIC + key)  # on the disk at close: littlefs commits the file there
    os.rename(tmp, path)  # atomic on littlefs: no key file, or the whole of it


def _key(make):
    """This boot's Key; make: a missing one is made (sealing), else VaultError (reading)."""
    if vault.state == BAD:
        raise VaultError("secrets: " + vault.reason)
    if vault.state == NONE:
        if not make:
            raise VaultError("no key on this machine (%s)" % (vault.path or "no filesystem"))
        _make()
    return vault.k


def status():
    """One line: where this boot's key is."""
    return "%s (%s)" % (vault.reason, STATE_NAMES[vault.state])


def seal(value):
    """value (JSON-able) -> Sealed with this boot's key. Raises VaultError with no key."""
    import json

    import cryptolib

    k = _key(True)
    iv = _entropy_iv()
    ct = cryptolib.aes(k.key, MODE_CTR, iv).encrypt(json.dumps(value).encode())
    head = VERSION + k.kid + iv + ct
    return Sealed(head + k.tag(head))


def _entropy_iv():
    import hal

    return hal.random_bytes(IV_B)  # unique per seal is what CTR needs: the PRNG gives that


def unseal(s):
    """Sealed -> its value. Raises VaultError (one line) for another key or a damaged blob."""
    import json

    import cryptolib

    why = check(s)
    if why is not None:
        raise VaultError(why)
    k = vault.k
    b = s.blob
    n = 1 + KID_B + IV_B
    text = cryptolib.aes(k.key, MODE_CTR, b[1 + KID_B : n]).decrypt(b[n:-TAG_B])
    return json.loads(text)


def check(s):
    """None when Sealed s can be unsealed with this boot's key, else why not (one line)."""
    b = s.blob
    try:
        k = _key(False)
    except VaultError as e:
        if vault.state == BAD:
            return str(e)
        return "sealed with key %s, %s" % (s.key_id(), e)
    if len(b) < 1 + KID_B + IV_B + TAG_B or b[:1] != VERSION:
        return "damaged sealed value (%d bytes)" % len(b)
    if b[1 : 1 + KID_B] != k.kid:
        return "sealed with key %s, this machine's key is %s (%s)" % (
            s.key_id(),
            _hex(k.kid),
            vault.path or "in RAM",
        )
    if not _equal(k.tag(b[:-TAG_B]), b[-TAG_B:]):
        return "damaged sealed value (its tag does not match)"
    return None


def same(a, b):
    """True when Sealed a and b hold equal values (False if either cannot be read)."""
    if a.blob == b.blob:
        return True
    try:
        return unseal(a) == unseal(b)
    except VaultError:
        return False


def _equal(a, b):
    d = len(a) ^ len(b)
    for x, y in zip(a, b):
        d |= x ^ y
    return d == 0


def is_text(v):
    return isinstance(v, str) and v.startswith(PREFIX)


def from_text(v):
    """'sealed:<base64>' -> Sealed; VaultError if it does not decode."""
    import binascii

    try:
        return Sealed(binascii.a2b_base64(v[len(PREFIX) :]))
    except ValueError:
        raise VaultError("damaged sealed value (not base64)") from None
