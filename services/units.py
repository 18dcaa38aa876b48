# services/units: the frozen unit files of this firmware (the boards have no filesystem).
#
# Owns: UNITS (dicts, or unit files as text in systemd's INI spelling or JSON) and GROUPS
# (supervision groups: name, strategy, intensity, period in s). install() registers them
# with the kernel; boot then starts the enabled ones in dependency order.
# Not here: the services' code (services/heartbeat.py, services/pair.py).
GROUPS = (("pair", "one_for_all", 1, 5),)

UNITS = (
    {
        "name": "heartbeat",
        "exec": "services.heartbeat:main",
        "enabled": True,
        "liveness": {"check": "process", "period_sec": 5},
        "readiness": {"check": "ttl", "ttl_sec": 3, "period_sec": 5},
        "config": {"period_ms": {"type": "int", "default": 1000, "min": 10, "max": 60000}},
        "on_config": "services.heartbeat:on_config",
    },
    {"name": "netd", "description": "Network", "exec": "services.netd:main", "enabled": True},
    {
        "name": "http",
        "description": "HTTP service",
        "exec": "services.http:main",
        "wants": ["netd"],
        "after": ["netd"],
        "enabled": True,
        # 0: params.HTTP_PORT on the boards, an ephemeral port on the unix port
        "config": {"port": {"type": "int", "default": 0, "min": 0, "max": 65535}},
    },
    """
[Unit]
Name=pair-store
Description=Pair store
[Service]
Type=notify
ExecStart=services.pair:store
TimeoutStartSec=2
Group=pair
Readiness={"check": "command", "exec": "services.pair:stored", "period_sec": 2}
[Install]
WantedBy=multi-user
""",
    """{"name": "pair-ticker", "description": "Pair ticker", "exec": "services.pair:ticker",
        "requires": ["pair-store"], "watchdog_sec": 3, "group": "pair", "enabled": true}""",
)


def install(kernel, units=UNITS, groups=GROUPS, say=None):
    """Register groups and units; a bad unit is reported (say, log) and skipped."""
    for name, strategy, intensity, period in groups:
        kernel.create_group(name, strategy, intensity, period)
    for u in units:
        try:
            made = kernel.create_service(u)  # a Service, or a template's Unit
            getattr(made, "unit", made).origin = "frozen"  # built into the firmware
        except ValueError as e:  # UnitError: one line naming the field
            kernel.log("units: %s" % e, "error")
            if say is not None:
                say("[FAILED] %s" % e)
