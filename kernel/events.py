# kernel/events: the service manager's and discovery's event codes, as const ints with a
# parallel tuple of names (STYLE: events are codes, not free text).
#
# Owns: EV_* codes, EVENT_NAMES, event_name(code) and event_code(name). The manager still
# tells its subscribers the names (`subscribe` keeps today's strings); watches, discovery's
# listeners and new code use the codes. A name this table does not know maps to EV_OTHER,
# a hook's failure ("post_start failed") to EV_HOOK_FAILED, "alert firing" and "alert
# resolved" to EV_ALERT.
# Not here: who emits them (kernel/manager.py, kernel/svc.py, kernel/discovery.py,
# kernel/health.py, kernel/configstore.py: "config", kernel/alerting.py: "alert ...").
from micropython import const

EV_OTHER = const(0)  # a name not in this table
EV_STARTING = const(1)
EV_STARTED = const(2)
EV_STOPPING = const(3)
EV_STOPPED = const(4)
EV_EXITED = const(5)
EV_FINISHED = const(6)
EV_FAILED = const(7)
EV_RESTARTING = const(8)
EV_KILLED = const(9)
EV_WATCHDOG = const(10)
EV_RELOADING = const(11)
EV_RELOADED = const(12)
EV_RELOAD_FAILED = const(13)
EV_ENABLED = const(14)
EV_DISABLED = const(15)
EV_HOOK_FAILED = const(16)  # pre_stop / post_start / post_stop raised
EV_REGISTERED = const(17)  # an instance appeared in discovery
EV_DEREGISTERED = const(18)  # an instance left discovery
EV_HEALTH = const(19)  # an instance's health (passing / warning / critical) changed
EV_READY = const(20)  # an instance entered the ready set
EV_NOT_READY = const(21)  # an instance left the ready set
EV_BREAKER = const(22)  # an instance's circuit breaker changed (the balancer's)
EV_LIVENESS = const(23)  # a liveness (or startup) probe failed past its threshold
EV_EXPIRED = const(24)  # an external instance's ttl_sec ran out
EV_UPDATED = const(25)  # an external instance re-registered with other kind/tags/meta/endpoint
EV_CONFIG = const(26)  # a service's config changed: a version applied or rolled back to
EV_ALERT = const(27)  # an alert of a service fired or resolved (kernel/alerting.py)
EVENT_NAMES = (
    "other",
    "starting",
    "started",
    "stopping",
    "stopped",
    "exited",
    "finished",
    "failed",
    "restarting",
    "killed",
    "watchdog",
    "reloading",
    "reloaded",
    "reload failed",
    "enabled",
    "disabled",
    "hook failed",
    "registered",
    "deregistered",
    "health",
    "ready",
    "not ready",
    "breaker",
    "liveness",
    "expired",
    "updated",
    "config",
    "alert",
)
_CODES = {n: i for i, n in enumerate(EVENT_NAMES)}  # name -> code, built once
# The words the emitters tell subscribers, where one code covers several.
_CODES["alert firing"] = EV_ALERT
_CODES["alert resolved"] = EV_ALERT


def event_name(code):
    """The name of event code `code` ('started' for EV_STARTED)."""
    if 0 <= code < len(EVENT_NAMES):
        return EVENT_NAMES[code]
    return "event %d" % code


def event_code(name):
    """The code of an event name as subscribers receive it (EV_OTHER when unknown)."""
    c = _CODES.get(name)
    if c is not None:
        return c
    if name.endswith(" failed"):
        return EV_HOOK_FAILED
    return EV_OTHER
