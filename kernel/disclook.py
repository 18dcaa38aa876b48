# kernel/disclook: discovery's pattern lookups and Consul-style blocking watches.
#
# Owns: Lookups, a base class of kernel/discovery.py's Registry (it uses the attributes
# that Registry.__init__ sets): compiled patterns (kept per pattern text), the scan behind
# an uncached lookup, the instances of a service, watch() (returns at once when an instance
# matching the pattern changed after the caller's index, else parks until one does or the
# timeout) and the registry's stats.
# Not here: the exact lookup and the result cache (kernel/discovery.py, Registry.get and
# lookup: the hot paths stay on the class itself), matching (kernel/discpat.py).
from kernel import params
from kernel.discpat import EXACT, NAME, compile_pattern, matches
from kernel.names import lookup as name_get


class _Watch:
    """One blocked watch(): its pattern and the queue its task parks on."""

    def __init__(self, m):
        from kernel.task import TaskQueue

        self.m = m
        self.q = TaskQueue()


class Lookups:
    """Pattern scans, watches and stats (the Registry's lower half)."""

    def pattern(self, pattern):
        m = self.compiled.get(pattern)
        if m is None:
            m = compile_pattern(pattern)
            if len(self.compiled) >= params.DISC_CACHE_MAX:
                self.compiled.clear()
            self.compiled[pattern] = m
        return m

    def _find(self, m, ready):
        if m[1] == EXACT and m[0] == NAME:
            inst = name_get(self.by_name, m[2])
            return () if inst is None or (ready is not None and inst.ready != ready) else (inst,)
        return self._scan(m, ready)

    def _scan(self, m, ready):
        # Its own function: a generator expression in lookup() would make `m` and `ready`
        # closure cells, allocated on every call, cache hits included.
        return tuple(
            i
            for i in self.by_name.values()
            if (ready is None or i.ready == ready) and matches(m, i)
        )

    def of_service(self, service):
        """The instances of `service` (a list kept by the registry: do not change it)."""
        return self.by_service.get(service, ())

    # ---- watches ----

    def changed_since(self, m, index):
        if index <= 0 or index > self.index or index < self.gone_floor:
            return True  # 0, another boot's index, or tombstones dropped: answer now
        for inst in self.by_name.values():
            if inst.index > index and matches(m, inst):
                return True
        for inst in self.gone:
            if inst.index > index and matches(m, inst):
                return True
        return False

    async def watch(self, pattern, index=0, timeout_ms=None):
        from kernel.errors import TimeoutError
        from kernel.traps import park

        m = self.pattern(pattern)
        if not self.changed_since(m, index):
            w = _Watch(m)
            self.watches.append(w)
            try:
                await park(w.q, -1 if timeout_ms is None else max(0, int(timeout_ms)))
            except TimeoutError:
                pass
            finally:
                self.watches.remove(w)
        return self.index, self.lookup(pattern)

    def stats(self):
        return {
            "instances": len(self.by_name),
            "index": self.index,
            "watches": len(self.watches),
            "leased": len(self.leased),
            "lookups": self.lookups,
            "cache_hits": self.hits,
        }
