# kernel/supervisor: supervision groups with Erlang/OTP's strategies and restart intensity.
#
# Owns: Group: ordered children (services and groups), a strategy (one_for_one,
# one_for_all, rest_for_one), and an intensity/period sliding window (default 1 in 5 s, as
# OTP). A service's own restart policy and start limit act first; a service that still ends
# in `failed` counts as one failure of its group. Within the window the group applies its
# strategy (stop the affected running children, newest first, then start them again in
# order, whatever their own restart policy, which governs only their own restarts); past it the
# group escalates: it stops all its children, goes `failed`, and counts as one failure of its
# parent. A top-level group that escalates stays failed and the rest of the system runs on
# (services outside any group answer only to their own restart policy).
# Not here: one service's restarts (kernel/manager.py), dependency order (kernel/job.py).
from micropython import const

from kernel import params, units
from kernel import service as S
from kernel.units import UnitError

ONE_FOR_ONE = const(0)
ONE_FOR_ALL = const(1)
REST_FOR_ONE = const(2)
STRATEGY_NAMES = ("one_for_one", "one_for_all", "rest_for_one")


class Group:
    """A supervisor: restarts its children by strategy, escalates past its intensity."""

    state = S.ACTIVE  # ACTIVE or FAILED (service states, for display)
    cause = None
    restarts = 0  # strategy restarts done
    group = None  # the parent Group, None at the top

    def __init__(self, mgr, name):
        self.mgr = mgr
        self.name = name
        self.strategy = ONE_FOR_ONE
        self.intensity = params.SUP_INTENSITY
        self.period_ms = params.SUP_PERIOD_MS
        self.children = []  # Services and Groups, in start order
        self.failures = []  # uptime ms of the failures inside the window

    def state_name(self):
        return S.STATE_NAMES[self.state]

    def adopt(self, child):
        if child.group is self:
            return
        if child.group is not None:
            child.group.children.remove(child)
        child.group = self
        self.children.append(child)

    def services(self):
        """Every service under this group, depth first, in start order."""
        out = []
        for c in self.children:
            if isinstance(c, Group):
                out.extend(c.services())
            else:
                out.append(c)
        return out

    def _trim(self, now):
        f = self.failures
        while f and now - f[0] >= self.period_ms:
            f.pop(0)

    def budget(self):
        """Failures the group can still absorb in the current window."""
        self._trim(self.mgr.now())
        return max(0, self.intensity - len(self.failures))

    def child_failed(self, child, cause):
        """A child ended failed: restart by strategy, or escalate past the intensity."""
        if self.state == S.FAILED:
            return
        now = self.mgr.now()
        self._trim(now)
        self.failures.append(now)
        if len(self.failures) > self.intensity:
            self.escalate(
                "%s failed %d times in %d ms (intensity %d)"
                % (child.name, len(self.failures), self.period_ms, self.intensity)
            )
            return
        i = self.children.index(child)
        if self.strategy == ONE_FOR_ONE:
            affected = [child]
        elif self.strategy == ONE_FOR_ALL:
            affected = list(self.children)
        else:
            affected = self.children[i:]
        self.restarts += 1
        why = "%s failed (%s): %s restarts %s" % (
            child.name,
            cause,
            STRATEGY_NAMES[self.strategy],
            " ".join(c.name for c in affected),
        )
        self.cause = why
        self.mgr.event(self.name, "restarting", why)
        self.mgr.sched.spawn(self._cycle(affected, child), "sup-" + self.name[:20])

    async def _cycle(self, affected, failed):
        mgr = self.mgr
        svcs = []
        for c in affected:
            svcs.extend(c.services() if isinstance(c, Group) else (c,))
        running = [s for s in svcs if s.state != S.INACTIVE and s.state != S.FAILED]
        if running:
            await mgr.stop_job(running, "group %s restart" % self.name).wait()
        for c in affected:
            if isinstance(c, Group):
                c.state = S.ACTIVE
                c.failures = []
        mgr.start_job([s.name for s in svcs], "group %s restart" % self.name)

    def escalate(self, why):
        """Stop every child, go failed, and tell the parent (nothing above the top)."""
        self.state = S.FAILED
        self.cause = why
        self.mgr.event(self.name, "failed", why)
        self.mgr.sched.spawn(self._escalate(why), "sup-" + self.name[:20])

    async def _escalate(self, why):
        running = [s for s in self.services() if s.state != S.INACTIVE and s.state != S.FAILED]
        if running:
            await self.mgr.stop_job(running, "group %s failed" % self.name).wait()
        if self.group is not None:
            self.group.child_failed(self, why)


def group_of(mgr, name):
    """The group `name`, made with OTP's defaults on first mention."""
    g = mgr.groups.get(name)
    if g is None:
        g = mgr.groups[name] = Group(mgr, name)
    return g


def configure(mgr, name, strategy=None, intensity=None, period_sec=None, parent=None):
    """Create or change group `name` -> Group; errors name the field (UnitError)."""
    g = group_of(mgr, units.check_name(name))
    if strategy is not None:
        if strategy not in STRATEGY_NAMES:
            raise UnitError(
                "group %s: 'strategy' must be one of %s, got %r"
                % (name, ", ".join(STRATEGY_NAMES), strategy)
            )
        g.strategy = STRATEGY_NAMES.index(strategy)
    if intensity is not None:
        if not isinstance(intensity, int) or intensity < 0:
            raise UnitError(
                "group %s: 'intensity' must be an int >= 0, got %r" % (name, intensity)
            )
        g.intensity = intensity
    if period_sec is not None:
        g.period_ms = units._ms(name, "period", period_sec)
    if parent is not None:
        p = group_of(mgr, parent)
        q = p
        while q is not None:
            if q is g:
                raise UnitError("group %s: 'parent' %s would make a loop" % (name, parent))
            q = q.group
        p.adopt(g)
    return g
