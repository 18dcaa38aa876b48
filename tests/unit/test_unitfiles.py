# Tests for kernel/unitfiles: unit files in /etc/units (on a RAM disk at /t) load in addition
# to and over frozen units, name their origin, are refused one line per bad file naming the
# file and the field; enable/disable choices survive a reload of the state file.
import os

from storagefakes import DiskHal, RamDisk

import kernel
from kernel import storage, svc, unitfiles

MNT = "/t"
UNITS = MNT + "/etc/units"
STATE = MNT + "/var/lib/svc/enabled.json"


def _setup(files):
    storage.mount_root(DiskHal(RamDisk()), None, path=MNT)
    os.mkdir(MNT + "/etc")
    os.mkdir(UNITS)
    for name, text in files.items():
        with open(UNITS + "/" + name, "w") as f:
            f.write(text)
    kernel.reset()
    return svc.manager()


def test_files_load_override_frozen_and_name_their_origin():
    m = _setup(
        {
            "web.json": '{"exec": "services.heartbeat:main", "description": "from disk"}',
            "heartbeat.service": "[Service]\nExecStart=services.heartbeat:main\n"
            "Description=disk heartbeat\n",
            "job@.service": "[Service]\nExecStart=services.heartbeat:main\n",
        }
    )
    try:
        kernel.create_service({"name": "heartbeat", "exec": "services.heartbeat:main"})
        assert svc.service("heartbeat").unit.origin == "api"  # made at run time
        lines = []
        assert unitfiles.load(m, lines.append, UNITS) == (3, 0)
        assert lines == []
        assert svc.service("web").unit.description == "from disk"
        assert svc.service("web").unit.origin == UNITS + "/web.json"
        hb = svc.service("heartbeat").unit
        assert hb.description == "disk heartbeat" and hb.origin == UNITS + "/heartbeat.service"
        assert svc.service("job@7").unit.origin == UNITS + "/job@.service"
    finally:
        os.umount(MNT)


def test_a_bad_file_is_refused_in_one_line_and_the_rest_loads():
    m = _setup(
        {
            "bad.json": '{"exec": "services.heartbeat:main", "restart": "sometimes"}',
            "good.json": '{"exec": "services.heartbeat:main"}',
            "other.json": '{"name": "different", "exec": "services.heartbeat:main"}',
            "empty.ini": "",  # e.g. written with no close(): littlefs shows 0 bytes until then
            "junk.ini": "garbage\n[Unit\nname=\n",
            "ctl.ini": "".join(chr(i) for i in range(1, 128)),
        }
    )
    try:
        lines = []
        assert unitfiles.load(m, lines.append, UNITS) == (1, 5)
        assert len(lines) == 5, lines
        assert lines[0].startswith("[FAILED] units: /t/etc/units/bad.json: unit bad: 'restart'")
        assert lines[1].startswith("[FAILED] units: /t/etc/units/ctl.ini: unit: line 1: expected")
        assert lines[2] == (
            "[FAILED] units: /t/etc/units/empty.ini: unit empty: 'exec' is not set: "
            "give 'module:function' or a callable"
        )
        assert lines[3] == (
            "[FAILED] units: /t/etc/units/junk.ini: unit: line 1: expected Key=value, "
            "got 'garbage'"
        )
        assert lines[4].startswith("[FAILED] units: /t/etc/units/other.json: unit ")
        assert "'name'" in lines[4]
        assert svc.service("good").unit.origin == UNITS + "/good.json"
        for name in ("empty", "junk", "ctl"):
            try:
                svc.service(name)
            except Exception:  # noqa: BLE001 - any refusal; the point: no such service
                continue
            raise AssertionError("refused unit %s registered" % name)
    finally:
        os.umount(MNT)


def test_enable_choices_are_saved_and_win_over_the_unit():
    m = _setup({"web.json": '{"exec": "services.heartbeat:main", "enabled": true}'})
    try:
        unitfiles.load(m, None, UNITS)
        unitfiles.save_enabled("web", False, STATE)
        unitfiles.save_enabled("gone", True, STATE)
        assert unitfiles.read_state(STATE) == {"web": False, "gone": True}
        assert svc.service("web").is_enabled()
        kernel.reset()  # a new boot: units again, then the saved choices
        m = svc.manager()
        unitfiles.load(m, None, UNITS)
        assert unitfiles.load_enabled(m, STATE) == 1  # 'gone' is no unit: skipped
        assert not svc.service("web").is_enabled()
    finally:
        os.umount(MNT)


def test_origin_says_frozen_for_the_firmwares_units_and_api_for_create_service():
    from services import units as frozen

    kernel.reset()
    frozen.install(kernel)
    kernel.create_service({"name": "mine", "exec": "services.heartbeat:main"})
    assert svc.service("heartbeat").unit.origin == "frozen"
    assert svc.service("mine").unit.origin == "api"
