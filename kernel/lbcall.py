# kernel/lbcall: the call path every client should use, kernel.request(): pick an instance
# through the service's pool, take the breakers' permits, count it active, run the
# fault-injection call hook, and on the way out record outcome and latency for the balancer
# and both breakers.
#
#     async with kernel.request("web", key=client_ip) as inst:   # picks, counts it active
#         reply = await fetch(inst.endpoint)                      # an exception = failure
#
# Owns: Request (the async context manager; also `await request(..).call(fn)`, which
# retries fn itself), the retry loop and CallNotPermitted's reasons.
# Per attempt: pick (available() filter) -> pool.breaker.allow() -> inst.breaker.allow()
# (refused: that instance is excluded and another picked) -> active += 1 -> await hook(inst)
# -> the body -> exactly one record(ok, dur_ms) on each breaker that allowed it (release()
# instead, when a breaker has one, for a cancelled call or a permit no call used).
# A body cannot run twice in Python: in the `async with` form `retries` covers refused
# permits and the hook's errors (injected faults); call(fn) retries fn's failures as well.
# timeout_ms bounds the whole request from its start: the hook's wait and call(fn) are cut
# at it (kernel.TimeoutError); an `async with` body that ran past it counts as a failure and
# raises kernel.TimeoutError at exit.
# Not here: selection (kernel/balancer.py), breaker logic (kernel/breakers.py).
from micropython import const

from kernel import balancer as B
from kernel import params
from kernel.errors import CallNotPermitted, CancelledError, TimeoutError

_OK = const(0)
_FAILED = const(1)
_CANCELLED = const(2)


def _release(b):
    rel = getattr(b, "release", None)
    if rel is not None:
        rel()


def why_none(p, tok=-1):
    """Why a pool found no instance, one line (CallNotPermitted); tok: the request's."""
    b = p.breaker
    if b is not None and not b.available():
        return "service breaker open"
    if not p.members:
        return "no instances registered"
    n = {}
    for m in p.members:
        ib = m.inst.breaker
        if m.draining:
            k = "draining"
        elif ib is not None and not ib.available():
            k = "breaker open"
        elif m.tried == tok:
            k = "failed this request"
        elif not m.inst.ready and not p.panic:
            k = "not ready"
        else:
            k = "refused by " + p.strategy()
        n[k] = n.get(k, 0) + 1
    parts = ", ".join("%d %s" % (v, k) for k, v in sorted(n.items()))
    return "no instance may take the call (%d instances: %s)" % (len(p.members), parts)


class Request:
    """One call through the balancer (kernel.request)."""

    def __init__(self, service, key=None, timeout_ms=None, retries=0):
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(
                "request %s: 'retries' must be an int >= 0, got %r" % (service, retries)
            )
        self.bal = B.balancer()
        self.pool = self.bal.pool(service)
        self.service = service
        self.key = key
        self.timeout_ms = timeout_ms
        self.left = retries  # retries not used yet
        self.tok = 0  # this request's exclusion token (members it failed on carry it)
        self.m = None  # the Member of the current attempt
        self.ib = None  # the breakers that allowed it
        self.sb = None
        self.t0 = 0  # uptime ms the attempt began
        self.start = 0  # uptime ms the request began
        self.exc = None  # the last failed attempt's exception

    def remaining_ms(self):
        """ms left of timeout_ms (None without one)."""
        if self.timeout_ms is None:
            return None
        return max(0, self.timeout_ms - (self.bal.now() - self.start))

    def _permit(self):
        p = self.pool
        tok = self.tok
        sb = p.breaker
        taken = False
        while True:
            m = p.pick(self.key, tok)
            if m is None:
                if taken:
                    _release(sb)
                if self.exc is not None:  # every instance left failed: its error, not ours
                    raise self.exc
                p.denied += 1
                raise CallNotPermitted(self.service, why_none(p, tok))
            if sb is not None and not taken:
                if not sb.allow():
                    p.denied += 1
                    raise CallNotPermitted(self.service, "service breaker open")
                taken = True
            ib = m.inst.breaker
            if ib is not None and not ib.allow():
                m.tried = tok  # refused its permit: another instance
                continue
            m.active += 1
            self.m = m
            self.ib = ib
            self.sb = sb if taken else None
            self.t0 = self.bal.now()
            return m

    def _finish(self, outcome):
        m = self.m
        self.m = None
        dur = self.bal.now() - self.t0
        m.active -= 1
        if outcome == _CANCELLED:
            m.cancelled += 1
            for b in (self.ib, self.sb):
                if b is not None:
                    _release(b)
        else:
            ok = outcome == _OK
            if ok:
                m.successes += 1
            else:
                m.failures += 1
            if m.hist is None:
                from kernel.mseries import HISTOGRAM, Metric

                m.hist = Metric(self.service + "." + m.name, HISTOGRAM, 1)
                m.ewma16 = dur << 4
            else:
                m.ewma16 += ((dur << 4) - m.ewma16) >> params.LB_EWMA_SHIFT
            m.hist.observe(dur)
            for b in (self.ib, self.sb):
                if b is not None:
                    b.record(ok, dur)
        self.bal.finished(self.pool, m)
        return m

    async def _bounded(self, aw):
        left = self.remaining_ms()
        if left is None:
            return await aw
        from kernel.asyncio import wait_for_ms

        return await wait_for_ms(aw, left)

    async def _enter(self):
        p = self.pool
        if self.tok == 0:
            p.token = self.tok = (p.token + 1) & params.COUNTER_MASK or 1
            self.start = self.bal.now()
        while True:
            m = self._permit()
            hook = B._hook
            if hook is None:
                return m.inst
            try:
                await self._bounded(hook(m.inst))
            except CancelledError:
                self._finish(_CANCELLED)
                raise
            except Exception as e:  # noqa: BLE001 - an injected error is a failed call
                self._fail_or_raise(e)
                continue
            return m.inst

    def _fail_or_raise(self, e):
        # A failed attempt: record it; retry on another instance while retries last, else
        # raise e on to the caller.
        m = self._finish(_FAILED)
        if self.left <= 0:
            raise e
        self.left -= 1
        self.exc = e
        m.tried = self.tok

    async def __aenter__(self):
        return await self._enter()

    async def __aexit__(self, et, ev, tb):
        if self.m is None:
            return False
        if et is None:
            late = self.remaining_ms() == 0
            self._finish(_FAILED if late else _OK)
            if late:
                raise TimeoutError(
                    "request %s: took over timeout_ms %d" % (self.service, self.timeout_ms)
                )
        elif issubclass(et, CancelledError):
            self._finish(_CANCELLED)
        else:
            self._finish(_FAILED)
        return False

    async def call(self, fn):
        """await fn(inst) on a picked instance -> its value; a failure (fn raised, or ran
        past timeout_ms) is recorded and retried on another instance while retries last."""
        while True:
            inst = await self._enter()
            try:
                r = await self._bounded(fn(inst))
            except CancelledError:
                self._finish(_CANCELLED)
                raise
            except Exception as e:  # noqa: BLE001 - a failed call is data: recorded, maybe retried
                self._fail_or_raise(e)
                continue
            self._finish(_OK)
            return r


def request(service, key=None, timeout_ms=None, retries=0):
    """The call path to service: `async with kernel.request("web", key=ip) as inst:` picks
    an instance (strategy, breakers, panic, draining), counts it active, and records the
    outcome (an exception in the body is a failure) and latency for the balancer and the
    breakers; `await kernel.request(..).call(fn)` also retries fn's failures. Raises
    kernel.CallNotPermitted (one line: service, why) when no instance may take the call."""
    return Request(service, key, timeout_ms, retries)
