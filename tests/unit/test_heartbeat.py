# Tests for services/heartbeat with its frozen unit (services/units.py): ready from its start,
# then one beat per period.
from shellfakes import run_for

import kernel
from kernel.clock import VirtualClock
from services import heartbeat, units


def _unit():
    for u in units.UNITS:
        if u["name"] == "heartbeat":
            return dict(u)
    raise AssertionError("no heartbeat unit")


def test_ready_from_its_start_then_beats_each_period():
    kernel.reset(VirtualClock(0, 0))
    kernel.create_service(_unit())
    kernel.start_service("heartbeat")
    run_for(20)  # well before its first beat (1 s)
    inst = kernel.instance("heartbeat")
    assert (inst.health, inst.ready) == ("passing", True), (inst.health, inst.ready)
    assert heartbeat.beats == 0
    run_for(3000)
    assert heartbeat.beats == 3
    assert kernel.instance("heartbeat").ready
