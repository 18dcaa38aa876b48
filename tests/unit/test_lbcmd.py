# Tests for services/lbcmd (the shell's `lb list`, `lb stats`, `lb strategy`, `lb help`),
# on the kernel's default scheduler with a virtual clock.
from shellfakes import FakeConsole, FakeHal, cmd

import kernel
import services.lbcmd  # noqa: F401 - registers `lb`
from kernel.clock import VirtualClock
from services.commands import COMMANDS
from services.shell import Shell


def setup():
    kernel.reset(VirtualClock(0, 0))
    for n in ("web@1", "web@2"):
        kernel.register_instance(n, meta={"weight": 3 if n == "web@1" else 1})
    kernel.register_instance("db@1")
    con = FakeConsole()
    return Shell(con, kernel, FakeHal(), ns={}), con


def test_lb_list_and_stats_show_pools_and_counters():
    sh, con = setup()
    for _ in range(3):
        kernel.select_instance("web")

    async def call():
        async with kernel.request("web"):
            await kernel.sleep_ms(12)

    kernel.scheduler().run_until(kernel.spawn(call(), "c"))
    out = cmd(sh, con, "lb list")
    assert out[0].split() == ["SERVICE", "STRATEGY", "INST", "READY", "PANIC", "PICKS"]
    assert out[1].split() == ["db", "round_robin", "1", "1", "no", "0"]
    assert out[2].split() == ["web", "round_robin", "2", "2", "no", "4"]
    assert out[3] == "2 services"
    out = cmd(sh, con, "lb stats web")
    assert out[0] == "web: round_robin (panic_threshold=50, drain_sec=5)"
    assert out[1] == "  panic no, 0 picks found nothing, 0 calls refused"
    assert out[2].split()[:4] == ["INSTANCE", "PICKS", "ACTIVE", "OK"]
    assert out[3].split() == ["web@1", "2", "0", "0", "0", "-", "-", "-", "3", "yes", "-"]
    assert out[4].split() == ["web@2", "2", "0", "1", "0", "12.0", "12.0", "12.0", "1", "yes", "-"]
    assert cmd(sh, con, "lb stats nothing")[-1] == "  no instances registered"


def test_lb_strategy_shows_sets_and_reports_bad_input_in_one_line():
    sh, con = setup()
    assert cmd(sh, con, "lb strategy web") == [
        "web: round_robin (panic_threshold=50, drain_sec=5)"
    ]
    out = cmd(sh, con, "lb strategy web weighted_round_robin slow_start_sec=10 drain_sec=500ms")
    assert out == [
        "web: weighted_round_robin (slow_start_sec=10, panic_threshold=50, drain_sec=0.5)"
    ]
    picks = [kernel.select_instance("web").name[4:] for _ in range(8)]
    assert picks == ["1", "1", "2", "1"] * 2  # smooth WRR over weights 3 and 1
    out = cmd(sh, con, "lb strategy web maglev table_size=100")
    assert out == [
        "lb strategy: balancer web: 'table_size' must be a prime (e.g. 65537, 4093), got '100';"
        " kept weighted_round_robin"
    ]
    out = cmd(sh, con, "lb strategy web rr")
    assert len(out) == 1 and "unknown strategy 'rr' (expected one of round_robin," in out[0]
    assert cmd(sh, con, "lb strategy web maglev 4093") == [
        "lb strategy: options are KEY=VALUE, got '4093' (usage: lb strategy NAME [STRATEGY"
        " [KEY=VALUE ...]])"
    ]
    assert kernel.lb_stats("web")["strategy"] == "weighted_round_robin"
    assert cmd(sh, con, "lb strategy") == [
        "lb strategy: usage: lb strategy NAME [STRATEGY [KEY=VALUE ...]]"
    ]


def test_lb_help_verbs_and_completion():
    sh, con = setup()
    out = cmd(sh, con, "lb help")
    assert [line.split()[1] for line in out] == ["list", "stats", "strategy", "help"]
    assert cmd(sh, con, "lb") == out
    assert cmd(sh, con, "lb frob") == ["lb: unknown verb 'frob' (try 'lb help')"]
    assert cmd(sh, con, "lb help stats")[0].split()[:3] == ["lb", "stats", "NAME"]
    assert cmd(sh, con, "help lb") == [
        "usage: lb VERB ... (lb help: list the verbs)",
        "  the load balancer's pools and strategies",
    ]
    c = COMMANDS["lb"].complete
    assert c("st") == ["stats", "strategy"] and c("stats w") == ["stats web"]
    assert c("strategy web ma") == ["strategy web maglev"]
