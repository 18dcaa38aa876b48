# Tests for kernel/units: dicts, INI and JSON units; one-line errors naming the field;
# templates and instances; OTP aliases.
from kernel import units
from kernel.units import UnitError


def err(src):
    try:
        units.parse(src)
    except UnitError as e:
        return str(e)
    raise AssertionError("no error for %r" % (src,))


def test_dict_unit_with_defaults_and_ms_fields():
    u = units.parse(
        {
            "name": "web",
            "exec": "services.heartbeat:main",
            "restart_sec": 0.5,
            "stop_timeout": "250ms",
            "watchdog_sec": "2s",
            "requires": "db, cache",
        }
    )
    assert u.name == "web" and u.exec == "services.heartbeat:main"
    assert u.restart == units.ON_FAILURE  # the default, as systemd recommends
    assert u.restart_ms == 500 and u.stop_timeout_ms == 250 and u.watchdog_ms == 2000
    assert u.requires == ("db", "cache")
    assert u.burst == 5 and u.interval_ms == 10000  # start limit default 5 in 10 s
    assert units.Unit.stop_timeout_ms == 3000  # default stop timeout 3 s
    assert "burst" not in u.__dict__  # defaults stay on the class: idle units are small


def test_bad_units_are_one_line_naming_the_field():
    assert err({"name": "web", "restart": "sometimes"}) == (
        "unit web: 'restart' must be one of no, on-failure, on-abnormal, on-watchdog, always, "
        "temporary, transient, permanent, got 'sometimes'"
    )
    assert err({"name": "web", "type": "forking"}).startswith(
        "unit web: 'type' must be one of simple, notify, oneshot, got 'forking'"
    )
    assert err({"name": "web", "restart_sec": "soon"}).startswith("unit web: 'restart_sec' must")
    assert err({"name": "web", "requires": 5}) == (
        "unit web: 'requires' must be a list of names, got 5"
    )
    assert err({"name": "web", "exec": "nocolon"}).startswith("unit web: 'exec' must be")
    assert err({"name": "web", "colour": "red"}) == "unit web: unknown field 'colour'"
    assert err({"name": "web", "enabled": "maybe"}).startswith("unit web: 'enabled' must")
    assert err({"name": "web", "start_limit_burst": -1}).startswith(
        "unit web: 'start_limit_burst' must be an int"
    )
    assert err({"name": "a b"}).startswith("unit 'a b': 'name' must be")
    assert err({"exec": "a:b"}).startswith("unit: 'name' must be a non-empty string")
    for e in (err({"name": "w", "restart": "x"}), err("Name=w\nBogus")):
        assert "\n" not in e


def test_a_unit_without_exec_is_refused_when_parsed_not_when_started():
    for src in ({"name": "x"}, "[Unit]\nDescription=nothing to run\n", "", '{"name": "x"}'):
        try:
            units.parse(src, "x")
        except UnitError as e:
            assert str(e) == "unit x: 'exec' is not set: give 'module:function' or a callable"
        else:
            raise AssertionError("a unit without exec was taken: %r" % (src,))


def test_otp_aliases():
    for alias, policy in (
        ("permanent", units.ALWAYS),
        ("transient", units.ON_FAILURE),
        ("temporary", units.NO),
    ):
        assert units.parse({"name": "x", "exec": "m:f", "restart": alias}).restart == policy


def test_ini_in_systemd_spelling():
    u = units.parse("""
# a comment
[Unit]
Name=web
Description=Web server
After=db
After=cache
Requires=db
[Service]
Type=notify
ExecStart=services.web:main
Restart=on-abnormal
RestartSec=2
TimeoutStopSec=1
WatchdogSec=500ms
StartLimitBurst=3
StartLimitIntervalSec=20
[Install]
WantedBy=multi-user
""")
    assert u.name == "web" and u.description == "Web server" and u.label() == "Web server"
    assert u.after == ("db", "cache") and u.requires == ("db",)
    assert u.type == units.NOTIFY and u.restart == units.ON_ABNORMAL
    assert u.restart_ms == 2000 and u.stop_timeout_ms == 1000 and u.watchdog_ms == 500
    assert u.burst == 3 and u.interval_ms == 20000 and u.enabled is True


def test_json_unit_and_bad_json():
    u = units.parse('{"name": "j", "exec": "m:f", "enabled": true, "tags": ["a", "b"]}')
    assert u.enabled is True and u.tags == ("a", "b")
    assert err("{nope}").startswith("unit ?: bad JSON")  # (MicroPython's json is lenient)


def test_template_and_instances():
    t = units.parse(
        {
            "name": "web@",
            "description": "Web %i",
            "exec": "m:f",
            "args": ["%i"],
            "requires": ["db@%i"],
        }
    )
    assert t.is_template()
    assert units.template_of("web@2") == "web@" and units.template_of("web") is None
    u = units.instance(t, "2")
    assert u.name == "web@2" and u.description == "Web 2"
    assert u.args == ("2",) and u.requires == ("db@2",)
    assert not u.is_template()
    assert units.parse({"name": "web@.service", "exec": "m:f"}).name == "web@"
