# kernel/faultlog: the fault journal, a bounded ring of what the fault engine saw and did.
#
# Owns: FaultLog: one entry per line, (ms, name, text): uptime ms, the service or instance,
# and the text (a detection, escalation, recovery, outcome or injection, made by
# kernel/faults.py and kernel/inject.py with ints only, so that a replay formats the same
# bytes everywhere). The ring keeps the last params.FAULT_JOURNAL entries.
# Not here: the service manager's journal (kernel/journal.py; the engine writes there too).


def format_entry(e):
    """'[   12.345] web@1: detected failures: 3 failures in 60000 ms (last: exception)'"""
    ms, name, text = e
    return "[%5d.%03d] %s: %s" % (ms // 1000, ms % 1000, name, text)


class FaultLog:
    """The last `size` fault journal entries."""

    def __init__(self, size):
        self.ring = [None] * size
        self.count = 0  # entries ever added

    def add(self, ms, name, text):
        self.ring[self.count % len(self.ring)] = (ms, name, text)
        self.count += 1

    def entries(self, name=None):
        """The entries kept, oldest first; of `name` and its instances `name@*` when given."""
        n = len(self.ring)
        out = []
        for k in range(max(0, self.count - n), self.count):
            e = self.ring[k % n]
            if name is None or e[1] == name or e[1].startswith(name + "@"):
                out.append(e)
        return out

    def lines(self, name=None):
        return [format_entry(e) for e in self.entries(name)]
