# kernel/sleepq: the sleep heap, tasks ordered by deadline (a ticks_ms value).
#
# Owns: a pairing heap linked through the tasks' ph_* fields (the algorithm of MicroPython's
# asyncio task.py, MIT, Damien P. George): push O(1), pop and remove amortised O(log n), no
# allocation. Keys compare with the clock's ticks_diff, so deadlines may wrap.
# Invariant: a task is in the heap iff task.timed. Not here: what waking means (sched.py).


class SleepQueue:
    """Tasks by deadline; peek() is the earliest."""

    def __init__(self, ticks_diff):
        self.heap = None  # root task, or None
        self.diff = ticks_diff

    def peek(self):
        return self.heap

    def push(self, t, deadline):
        t.ph_key = deadline
        t.ph_child = None
        t.ph_next = None
        t.timed = True
        self.heap = self._meld(t, self.heap)

    def pop(self):
        t = self.heap
        self.heap = self._pairing(t.ph_child)
        t.ph_child = None
        t.timed = False
        return t

    def remove(self, t):
        self.heap = self._delete(self.heap, t)
        t.timed = False

    def _meld(self, h1, h2):
        if h1 is None:
            return h2
        if h2 is None:
            return h1
        if self.diff(h1.ph_key, h2.ph_key) < 0:
            if h1.ph_child is None:
                h1.ph_child = h2
            else:
                h1.ph_child_last.ph_next = h2
            h1.ph_child_last = h2
            h2.ph_next = None
            h2.ph_rightmost_parent = h1
            return h1
        h1.ph_next = h2.ph_child
        h2.ph_child = h1
        if h1.ph_next is None:
            h2.ph_child_last = h1
            h1.ph_rightmost_parent = h2
        return h2

    def _pairing(self, child):
        heap = None
        while child is not None:
            n1 = child
            child = child.ph_next
            n1.ph_next = None
            if child is not None:
                n2 = child
                child = child.ph_next
                n2.ph_next = None
                n1 = self._meld(n1, n2)
            heap = self._meld(heap, n1)
        return heap

    def _delete(self, heap, node):
        if node is heap:
            child = heap.ph_child
            node.ph_child = None
            return self._pairing(child)
        parent = node  # find the parent: the rightmost sibling links to it
        while parent.ph_next is not None:
            parent = parent.ph_next
        parent = parent.ph_rightmost_parent
        if node is parent.ph_child and node.ph_child is None:
            parent.ph_child = node.ph_next
            node.ph_next = None
            return heap
        elif node is parent.ph_child:
            child = node.ph_child
            nxt = node.ph_next
            node.ph_child = None
            node.ph_next = None
            node = self._pairing(child)
            parent.ph_child = node
        else:
            n = parent.ph_child
            while node is not n.ph_next:
                n = n.ph_next
            child = node.ph_child
            nxt = node.ph_next
            node.ph_child = None
            node.ph_next = None
            node = self._pairing(child)
            if node is None:
                node = n
            else:
                n.ph_next = node
        node.ph_next = nxt
        if nxt is None:
            node.ph_rightmost_parent = parent
            parent.ph_child_last = node
        return heap
