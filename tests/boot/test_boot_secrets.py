# Boot tests of config secrets on every board: the first secret set makes the secrets key on
# the disk and is kept sealed (shown as ***); a power-off and a new boot on the same image
# read it back through kernel.secret() in the service, and no byte of the disk image holds
# the plain value; a boot with the key file gone gives the service a one-line error, never a
# crash, and setting the secret again makes a new key.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from console import Console, new_image  # noqa: E402

SECRET = "S3cr3t-Value-42"
MODULE = (
    "import kernel\n"
    "seen = []\n"
    "async def main():\n"
    "    try:\n"
    "        seen.append(kernel.secret('token'))\n"
    "    except ValueError as e:\n"
    "        seen.append('error: %s' % e)\n"
    "    while True:\n"
    "        await kernel.sleep_ms(1000)\n"
)
UNIT = '{"exec": "vaulty:main", "config": {"token": {"type": "str", "secret": true}}}'


def write(c, path, text):
    assert c.cmd("py f = open(%r, 'w'); f.write(%s); f.close()" % (path, text)) == []


def seen(c):
    """What the service got from kernel.secret('token') (or the error) when it started."""
    c.cmd("svc start vaulty")
    return c.cmd("py print('\\n'.join(__import__('vaulty').seen))")


def test_a_secret_survives_a_power_off_sealed_and_a_lost_key_is_one_line(board, tmp_path):
    img = new_image(str(tmp_path / "disk.img"))
    c = Console(board, "secrets-1-" + board, disk=img)
    try:
        lines = c.boot()
        assert not [ln for ln in lines if "secrets" in ln], lines  # no key before a secret
        c.cmd("mkdir /lib /etc /etc/units")
        write(c, "/lib/vaulty.py", repr(MODULE))
        write(c, "/etc/units/vaulty.json", repr(UNIT))
        assert c.cmd("svc daemon-reload")[-1].startswith("svc daemon-reload: 1 unit file")
        assert c.cmd("config set vaulty token " + SECRET) == [
            "vaulty: config v2: token None -> '***'"
        ]
        assert c.cmd("config get vaulty token") == ["***"]
        made = [ln for ln in c.cmd("log") if " info: secrets: new key " in ln]
        assert len(made) == 1 and made[0].endswith(" in /etc/secret.key"), made
        assert any("secret.key" in x for x in c.cmd("ls /etc")), "no key file"
        assert seen(c) == [SECRET]
        assert c.poweroff() == 0
    finally:
        c.close()
    with open(img, "rb") as f:
        disk = f.read()
    assert SECRET.encode() not in disk  # not in the config state, the journal, anywhere
    assert b"sealed:" in disk

    c = Console(board, "secrets-2-" + board, disk=img)
    try:
        lines = c.boot()
        assert not [ln for ln in lines if "secrets:" in ln], lines  # the key is read back
        assert c.cmd("config get vaulty") == [
            "vaulty: config v2",
            "  token            = ***  (runtime)",
        ]
        assert seen(c) == [SECRET]
        saved = c.cmd("py open('/var/lib/config/vaulty.json').read()")[-1]
        assert '"token": "sealed:' in saved and SECRET not in saved, saved
        assert c.cmd("py import os; os.rename('/etc/secret.key', '/etc/old.key')") == []
        c.send("reboot\r")
        c.expect("[  OK  ] Started heartbeat.")
        c.expect("multios> ")
        out = seen(c)
        assert len(out) == 1 and out[0].startswith(
            "error: config vaulty: secret 'token' cannot be read: sealed with key "
        ), out
        assert out[0].endswith(", no key on this machine (/etc/secret.key)"), out
        assert c.cmd("config get vaulty token") == ["***"]
        assert c.cmd("config set vaulty token again-" + SECRET) == [
            "vaulty: config v3: token '***' -> '***'"
        ]
        c.cmd("svc stop vaulty")
        assert seen(c)[-1] == "again-" + SECRET  # sealed with the new key
        assert c.poweroff() == 0
    finally:
        c.close()
    with open(img, "rb") as f:
        assert SECRET.encode() not in f.read()
