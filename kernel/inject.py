# kernel/inject: seeded, replayable fault injection.
#
# Owns: Injector (one per fault engine, made at the first injection) and the kinds:
# crash (the service's task raises InjectedFault at its await point, as a crash would),
# hang (its next step never yields: the step watchdog's case; on the virtual clock the step
# is charged past the budget, on the HAL's clock it spins until the watchdog hits),
# memory (its next step allocates until MemoryError, frees it, and raises it in the
# service), flap (its instance's health flips between critical and passing every
# period_ms), and, in the request path through the balancer's call hook
# (balancer.set_call_hook), slow (a call waits `ms` more) and error (a call fails with
# InjectedFault), each for `rate_pm` per mille of the calls (default all).
# crash, hang and memory act once; slow, error and flap last until clear_fault(id) or
# for_sec. Every injection and clearing is a fault journal line.
# Invariants: the only randomness is the injector's Rng, seeded from the clock's seed (a
# virtual clock's: a scenario's seed), so a replay picks the same calls; option values are
# ints; a bad target, kind or option is a one-line ValueError and nothing is injected.
# Not here: scenarios (kernel/scenario.py), detecting what the faults do (kernel/faults.py).
import gc

from micropython import const

from kernel import backoff, params
from kernel import service as S
from kernel.errors import Watchdog
from kernel.task import SLEEPING, WAITING

CRASH = const(0)
HANG = const(1)
SLOW = const(2)
ERROR = const(3)
MEMORY = const(4)
FLAP = const(5)
KIND_NAMES = ("crash", "hang", "slow", "error", "memory", "flap")
OPTIONS = (
    (),
    (),
    ("ms", "rate_pm", "for_sec"),
    ("rate_pm", "for_sec"),
    ("chunk_b",),
    ("period_ms", "for_sec"),
)  # options each kind takes (ints; for_sec in seconds)
_ONCE = (CRASH, HANG, MEMORY)


class InjectedFault(Exception):
    """What an injected crash raises in a service and an injected error in a call."""


class Injected:
    """One injected fault while it lasts."""

    fired = 0  # calls slowed or failed, flips made
    until = None  # uptime ms it is cleared at (for_sec), or None

    def __init__(self, fid, target, kind, opts):
        self.id = fid
        self.target = target
        self.kind = kind
        self.opts = opts
        self.ms = opts.get("ms", params.FAULT_SLOW_MS)
        self.rate_pm = opts.get("rate_pm", 1000)

    def describe(self):
        o = " ".join("%s=%d" % (k, self.opts[k]) for k in sorted(self.opts))
        return "%s #%d%s" % (KIND_NAMES[self.kind], self.id, " " + o if o else "")


def _err(kind, msg):
    return ValueError("fault %s: %s" % (kind, msg))


def _poke(sched, t):
    # Make a parked task step next (its trap's wait is abandoned, as cancel() does).
    if t.state == SLEEPING or t.state == WAITING:
        sched._unpark(t)
        sched._ready(t)


def _handover(t, orig, exc):
    # Raise exc in the service's own coroutine at its await point; it normally ends there
    # (its runner tells the manager). If it goes on instead, it steps as before.
    try:
        r = orig.throw(exc)
    except StopIteration as e:
        return e.value
    t.coro = orig
    yield r  # never resumed: the task steps orig from its next step


def _hang(t, orig, clock):
    burn = getattr(clock, "burn", None)
    try:
        if burn is not None:  # the virtual clock: this step runs past the budget ...
            burn(t.wd_ms * 1000 + 1000)
            yield  # ... and the scheduler's verdict (_overrun) closes us here
        while True:
            pass  # the HAL's clock: never yields; its watchdog raises Watchdog in here
    except Watchdog as e:
        return (yield from _handover(t, orig, e))
    except GeneratorExit:
        orig.close()  # dropped by the watchdog: the runner sees it (result watchdog)
        raise


def _hog(t, orig, chunk, budget_ms):
    # Allocate chunks until one fails, halve the chunk, go on down to 16 bytes: the heap
    # fills in a few hundred allocations. Each failure collects the whole heap, which on an
    # emulated board takes longer than a step's budget: the watchdog is off for this step
    # (a memory fault is about MemoryError) and back on before the service hears of it.
    hog = []
    err = None
    try:
        while chunk >= 16:
            try:
                hog.append(bytearray(chunk))
            except MemoryError as e:
                err = e
                chunk //= 2
    except Watchdog as e:  # the board is slower than the fill: still the service's failure
        err = e
    # Free it before anything else allocates (the hand-over makes a generator): emptied, the
    # chunks are garbage even if a stale pointer on the C stack still names the list.
    hog.clear()
    hog = None
    gc.collect()
    t.set_budget(budget_ms)
    return (yield from _handover(t, orig, err))


class Injector:
    """The injected faults of one fault engine."""

    balancer = None  # a module with set_call_hook(fn) (tests: a fake); None: kernel.balancer

    def __init__(self, eng):
        self.eng = eng
        self.mgr = eng.mgr
        self.next_id = 1
        self.active = []  # Injected that last (slow, error, flap), by id
        seed = getattr(self.mgr.sched.clock, "seed", None)
        self.rng = backoff.Rng((seed() if seed is not None else 1) ^ 0x5EED)
        self.hooked = None  # the balancer module our call hook is set on

    def _options(self, kind, options):
        opts = {}
        allowed = OPTIONS[kind]
        for k in sorted(options):
            v = options[k]
            if k not in allowed:
                raise _err(
                    KIND_NAMES[kind],
                    "no option %r (options: %s)" % (k, ", ".join(allowed) or "none"),
                )
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise _err(KIND_NAMES[kind], "%s must be an int >= 0, got %r" % (k, v))
            if k == "rate_pm" and v > 1000:
                raise _err(KIND_NAMES[kind], "rate_pm must be 0..1000 (per mille), got %d" % v)
            opts[k] = v
        return opts

    def _service(self, kind, target):
        svc = self.mgr.get(target)  # UnitError (a ValueError) names an unknown unit
        if kind in _ONCE and svc.task is None:
            raise _err(KIND_NAMES[kind], "%s is not running (%s)" % (target, svc.state_name()))
        return svc

    def inject(self, target, kind, options):
        if kind not in KIND_NAMES:
            raise _err(kind, "no such kind (kinds: %s)" % ", ".join(KIND_NAMES))
        k = KIND_NAMES.index(kind)
        opts = self._options(k, options)
        svc = None if k == SLOW or k == ERROR else self._service(k, target)
        if k in _ONCE:
            t = svc.task
            if k == HANG and t.wd_ms == 0:
                raise _err(kind, "%s steps without a watchdog: it would hang the kernel" % target)
        elif len(self.active) >= params.FAULT_INJECTED_MAX:
            raise _err(kind, "%d faults injected already" % len(self.active))
        if k == SLOW or k == ERROR:
            self._balancer(kind)  # fails now, before anything is journaled
        f = Injected(self.next_id, target, k, opts)
        self.next_id += 1
        self.eng.log(target, "injected " + f.describe())
        sched = self.mgr.sched
        if k == CRASH:
            t.pending = InjectedFault("injected crash #%d" % f.id)
            _poke(sched, t)
        elif k == HANG:
            t.coro = _hang(t, t.coro, sched.clock)
            _poke(sched, t)
        elif k == MEMORY:
            t.coro = _hog(t, t.coro, opts.get("chunk_b", params.FAULT_MEMORY_CHUNK_B), t.budget_ms)
            t.set_budget(0)
            _poke(sched, t)
        else:
            self.active.append(f)
            if k == FLAP:
                sched.spawn(self._flap(f), "flap-" + target[:19]).quiet = True
            self._rehook()
            if "for_sec" in opts:
                f.until = self.mgr.now() + opts["for_sec"] * 1000
                sched.spawn(self._expire(f), "fault-%d" % f.id).quiet = True
        return f.id

    def clear(self, fid):
        for f in self.active:
            if f.id == fid:
                self.active.remove(f)
                self.eng.log(f.target, "cleared " + f.describe())
                if f.kind == FLAP:
                    self._settle(f.target)
                self._rehook()
                return True
        return False

    async def _expire(self, f):
        from kernel.traps import sleep_ms

        await sleep_ms(max(0, f.until - self.mgr.now()))
        self.clear(f.id)

    async def _flap(self, f):
        from kernel.traps import sleep_ms

        reg = self.eng.reg
        up = False
        period = f.opts.get("period_ms", params.FAULT_FLAP_PERIOD_MS)
        while f in self.active:
            inst = reg.by_name.get(f.target)
            if inst is not None:
                f.fired += 1
                reg.set_status(inst, "passing" if up else "critical", up, "injected flap")
            up = not up
            await sleep_ms(period)

    def _settle(self, name):
        # A flap ended: the instance's probes (or its state) say again what it is.
        inst = self.eng.reg.by_name.get(name)
        if inst is None:
            return
        mon = getattr(self.mgr, "monitor", None)
        pr = mon.probers.get(name) if mon is not None else None
        if pr is not None:
            pr.settle()
        elif inst.svc is not None and inst.svc.state == S.ACTIVE:
            self.eng.reg.set_status(inst, "passing", True, "active")

    # ---- the request path ----

    def _balancer(self, kind):
        bal = self.balancer
        if bal is None:
            try:
                from kernel import balancer as bal
            except (ImportError, AttributeError):  # `kernel`'s __getattr__ says AttributeError
                raise _err(kind, "needs the balancer's request path (kernel.balancer)") from None
        return bal

    def _rehook(self):
        # Our call hook is set while a slow or error fault is active, and only then.
        want = False
        for f in self.active:
            want = want or f.kind == SLOW or f.kind == ERROR
        if want and self.hooked is None:
            self.hooked = self._balancer("slow")
            self.hooked.set_call_hook(self.call_hook)
        elif not want and self.hooked is not None:
            self.hooked.set_call_hook(None)
            self.hooked = None

    async def call_hook(self, inst):
        """The balancer's call hook: slow or fail this call when a fault says so."""
        for f in self.active:
            k = f.kind
            if (k != SLOW and k != ERROR) or (f.target != inst.name and f.target != inst.service):
                continue
            if f.rate_pm < 1000 and self.rng.below(1000) >= f.rate_pm:
                continue
            f.fired += 1
            if k == SLOW:
                from kernel.traps import sleep_ms

                await sleep_ms(f.ms)
            else:
                raise InjectedFault("injected error #%d" % f.id)

    def listing(self):
        return [
            {
                "id": f.id,
                "target": f.target,
                "kind": KIND_NAMES[f.kind],
                "options": f.opts,
                "fired": f.fired,
                "until_ms": f.until,
            }  # fmt: skip
            for f in self.active
        ]


def injector(eng=None):
    """The Injector of `eng` (default: the kernel's fault engine), made on first use."""
    if eng is None:
        from kernel import faults

        eng = faults.engine()
    if eng.injector is None:
        eng.injector = Injector(eng)
    return eng.injector


# ---- the public API (re-exported by `kernel`) ----


def inject_fault(target, kind, **options):
    """Inject a fault of `kind` (crash, hang, slow, error, memory, flap) into service or
    instance `target` -> its id. Options (ints): slow ms, rate_pm, for_sec; error rate_pm,
    for_sec; memory chunk_b; flap period_ms, for_sec. Raises ValueError (one line)."""
    return injector().inject(target, kind, options)


def clear_fault(fid):
    """End injected fault `fid` -> True if it was active."""
    return injector().clear(fid)


def injected_faults():
    """The injected faults still active: [{id, target, kind, options, fired, until_ms}]."""
    return injector().listing()
