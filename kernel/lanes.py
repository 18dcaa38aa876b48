# kernel/lanes: deadlines as FIFO lanes, one lane per delay. Time only moves forward, so
# items pushed with the same delay come due in the order they were pushed: each lane is
# sorted by construction. push, remove and pop are O(1); the earliest item is the first of
# the lanes' heads, O(lanes): a handful, one per distinct delay (a probe's period, timeout,
# initial delay). For the health monitor's probes this replaced the pairing heap
# (kernel/sleepq.py), whose melds in Python cost most of a probe run (tools/bench_health.py).
# A lane is a circular doubly linked list (head.prev is the tail), so moving a lane's head to
# its tail with the same delay is one store (the monitor's fused probe run does it inline).
# Items are objects with the fields lane, due, prev, next; an item is on a lane iff
# item.lane is not None. No allocation except a lane's first use.
# Not here: what being due means (kernel/health.py).


class Lane:
    """Items pushed with one delay, oldest (earliest due) first, circular: head.prev is the
    tail."""

    def __init__(self, delay):
        self.delay = delay
        self.head = None


class Lanes:
    """Items by due time (plain ints that do not wrap: monitor ms)."""

    def __init__(self):
        self.by_delay = {}  # delay -> Lane
        self.lanes = []  # the same Lanes, for iteration without the dict
        self.n = 0  # items on lanes
        self.limit = -1  # due_lane(): how far its lane runs, or the earliest due time

    def lane(self, delay):
        """The Lane of `delay` (made on first use)."""
        lane = self.by_delay.get(delay)
        if lane is None:
            lane = self.by_delay[delay] = Lane(delay)
            self.lanes.append(lane)
        return lane

    def push(self, x, now, delay, slack=0):
        """x is due at now + delay, or up to `slack` ms earlier to be due with the item
        before it (so that one wake runs both); never before it (now may go back when a
        pause was accounted)."""
        if x.lane is not None:
            self.remove(x)
        lane = self.by_delay.get(delay)
        if lane is None:
            lane = self.lane(delay)
        due = now + delay
        h = lane.head
        if h is None:
            lane.head = x.prev = x.next = x
        else:
            t = h.prev
            if due - t.due <= slack:
                due = t.due  # with it (or now went back: a pause was accounted meanwhile)
            x.prev = t
            x.next = h
            t.next = x
            h.prev = x
        x.due = due
        x.lane = lane
        self.n += 1

    def remove(self, x):
        lane = x.lane
        if lane is None:
            return
        n = x.next
        if n is x:
            lane.head = None
        else:
            p = x.prev
            p.next = n
            n.prev = p
            if lane.head is x:
                lane.head = n
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

    def due_lane(self, now):
        """The lane whose head is due first, if it is due by `now`; then self.limit is the
        time up to which that lane's items come before every other lane's: min(now, the
        other heads' due times). Else None, and self.limit is the earliest due time (-1: no
        item is on a lane)."""
        best = None
        bd = 0
        second = now
        for lane in self.lanes:
            h = lane.head
            if h is None:
                continue
            d = h.due
            if best is None or d < bd:
                if best is not None and bd < second:
                    second = bd
                best = lane
                bd = d
            elif d < second:
                second = d
        if best is None or bd > now:
            self.limit = -1 if best is None else bd
            return None
        self.limit = second
        return best
