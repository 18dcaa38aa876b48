# kernel/lanes: deadlines as FIFO lanes, one lane per delay. Time only moves forward, so
# items pushed with the same delay come due in the order they were pushed: each lane is
# sorted by construction. push, remove and pop are O(1); the earliest item is the first of
# the lanes' heads, O(lanes): a handful, one per distinct delay (a probe's period, timeout,
# initial delay). For the health monitor's probes this replaced the pairing heap
# (kernel/sleepq.py), whose melds in Python cost most of a probe run (tools/bench_health.py).
# Items are objects with the fields lane, due, prev, next (defaults on their class);
# an item is on a lane iff item.lane is not None. No allocation except a lane's first use.
# Not here: what being due means (kernel/health.py).


class Lane:
    """Items pushed with one delay, oldest (earliest due) first, doubly linked."""

    def __init__(self):
        self.head = None
        self.tail = None


class Lanes:
    """Items by due time (plain ints that do not wrap: monitor ms)."""

    def __init__(self):
        self.by_delay = {}  # delay -> Lane
        self.lanes = []  # the same Lanes, for iteration without the dict
        self.n = 0  # items on lanes

    def push(self, x, now, delay):
        """x is due at now + delay (now must not go backwards between pushes)."""
        if x.lane is not None:
            self.remove(x)
        lane = self.by_delay.get(delay)
        if lane is None:
            lane = self.by_delay[delay] = Lane()
            self.lanes.append(lane)
        t = lane.tail
        due = now + delay
        if t is not None and due < t.due:
            due = t.due  # now went back (a pause was accounted meanwhile): keep the order
        x.due = due
        x.lane = lane
        x.next = None
        x.prev = t
        if t is None:
            lane.head = x
        else:
            t.next = x
        lane.tail = x
        self.n += 1

    def remove(self, x):
        lane = x.lane
        if lane is None:
            return
        p = x.prev
        n = x.next
        if p is None:
            lane.head = n
        else:
            p.next = n
        if n is None:
            lane.tail = p
        else:
            n.prev = p
        x.lane = x.prev = x.next = None
        self.n -= 1

    def first(self):
        """The item due first, or None."""
        best = None
        for lane in self.lanes:
            h = lane.head
            if h is not None and (best is None or h.due < best.due):
                best = h
        return best
