# services/scenarios: fault scenarios frozen into the firmware, so `fault run NAME` works
# where there is no filesystem (and gives the same journal on every board and the unix port).
#
# Owns: SCENARIOS, name -> a scenario (kernel/scenario.py's format: a list of {at_sec,
# target, kind, options}). `demo` declares a template web@ with two instances and a db
# with a standby, then crashes, hangs, flaps and starves them of memory, then calls web
# through the balancer while one instance fails half its calls and another is slow, so that
# each of its detectors and recoveries shows in the journal: failures -> restart, then
# scale_up; flapping -> restart_with_delay; an exception type -> failover to the standby;
# latency -> restart.
# Not here: playing them (kernel/scenario.py), the shell verb (services/faultsh.py).

_WEB = {
    "exec": "services.faultdemo:web",
    "restart_sec": 0.5,
    "jitter": "full",  # restart delays drawn from the seeded RNG: another seed, other times
    "max_instances": 3,
    "detectors": {
        "failures": {"count": 2, "window_sec": 30},
        "flapping": {"changes": 4, "window_sec": 10},
        "latency": {"p99_ms": 150, "for_sec": 2},
    },
    "escalation": {
        "failures": ["restart", "scale_up"],
        "flapping": ["restart_with_delay"],
        "latency": ["restart"],
    },
    "escalation_tries": 1,
    "escalation_window_sec": 60,
}
_DB = {
    "exec": "services.faultdemo:web",
    "restart_sec": 1,
    "standby": "db-standby",
    "detectors": {"exception": {"types": ["InjectedFault"]}},
    "escalation": {"exception": ["failover"]},
}

DEMO = [
    {"at_sec": 0, "target": "web@", "kind": "unit", "options": _WEB},
    {"at_sec": 0, "target": "db", "kind": "unit", "options": _DB},
    {"at_sec": 0, "target": "db-standby", "kind": "unit", "options": {"exec": _DB["exec"]}},
    {"at_sec": 0, "target": "web@1", "kind": "start"},
    {"at_sec": 0, "target": "web@2", "kind": "start"},
    {"at_sec": 0, "target": "db", "kind": "start"},
    {"at_sec": 5, "target": "web@1", "kind": "crash"},
    {"at_sec": 10, "target": "web@1", "kind": "hang"},
    {"at_sec": 15, "target": "db", "kind": "crash"},
    {"at_sec": 20, "target": "web@2", "kind": "flap", "options": {"period_ms": 400, "for_sec": 2}},
    {"at_sec": 30, "target": "web@2", "kind": "memory", "options": {"chunk_b": 16384}},
    {"at_sec": 33, "target": "web@2", "kind": "crash"},
    {"at_sec": 36, "target": "web@1", "kind": "crash"},
    {"at_sec": 38, "target": "web@1", "kind": "crash"},
    {"at_sec": 40, "target": "web", "kind": "load", "options": {"rate": 10, "for_sec": 10}},
    {"at_sec": 41, "target": "web@2", "kind": "error", "options": {"rate_pm": 500, "for_sec": 4}},
    {"at_sec": 42, "target": "web@3", "kind": "slow", "options": {"ms": 200, "for_sec": 5}},
]

SCENARIOS = {"demo": DEMO}
