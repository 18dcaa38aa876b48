# svcfakes: a small world for the service manager's unit tests: a scheduler on a virtual
# clock with no per-step cost (times are exact ms), a Manager on it, a record of events,
# and service bodies whose behaviour a test scripts. Nothing in the firmware imports this.
from kernel import traps
from kernel.clock import VirtualClock
from kernel.errors import CancelledError
from kernel.manager import Manager
from kernel.sched import Scheduler


class World:
    def __init__(self, seed=0, step_us=0):
        self.clock = VirtualClock(seed, step_us)  # step_us > 0: busy loops advance time
        self.sched = Scheduler(self.clock)
        self.m = Manager(self.sched)
        self.events = []  # (ms, name, event, cause)
        self.m.subscribers.append(self._seen)
        self.runs = {}  # name -> runs begun

    def _seen(self, name, event, cause):
        self.events.append((self.m.now(), name, event, cause))

    def add(self, **unit):
        return self.m.create(unit)

    def run_for(self, ms):
        """Let the kernel run `ms` of virtual time."""

        async def wait():
            await traps.sleep_ms(ms)

        self.sched.run_until(self.sched.spawn(wait(), "clock"))

    def times(self, name, event):
        return [e[0] for e in self.events if e[1] == name and e[2] == event]

    def seq(self, *names):
        """(name, event) in order, for the given names (all when none given)."""
        return [(e[1], e[2]) for e in self.events if not names or e[1] in names]

    def body(self, name, script):
        """An exec for unit `name`: run k does script[k] (the last entry repeats):
        ('ok', ms) sleeps then returns; ('exit', code) returns code at once after 1 ms;
        ('raise', ms) raises after ms; ('run', 0) runs forever; ('hang', 0) runs forever
        and ignores cancellation; ('ping', every) pings the watchdog every `every` ms."""
        world = self

        async def run():
            k = world.runs.get(name, 0)
            world.runs[name] = k + 1
            what, ms = script[min(k, len(script) - 1)]
            if what == "ok":
                await traps.sleep_ms(ms)
                return None
            if what == "exit":
                await traps.sleep_ms(1)
                return ms
            if what == "raise":
                await traps.sleep_ms(ms)
                raise ValueError("crash %d" % k)
            while True:
                try:
                    await traps.sleep_ms(ms or 1000)
                except CancelledError:
                    if what != "hang":  # 'hang' ignores a stop on purpose
                        raise
                if what == "ping":
                    world.m.by_task[world.sched.cur.id].notify_watchdog()

        return run
