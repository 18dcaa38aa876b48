# Tests for kernel/lanes: FIFO lanes per delay give items in due order with O(1) push,
# remove and pop; a push whose `now` went back keeps its lane's order.
from kernel.lanes import Lanes


class It:
    lane = None
    due = 0
    prev = None
    next = None

    def __init__(self, n):
        self.n = n


def drain(q):
    out = []
    while True:
        x = q.first()
        if x is None:
            return out
        q.remove(x)
        out.append((x.due, x.n))


def test_items_come_out_in_due_order_across_lanes():
    q = Lanes()
    items = [It(i) for i in range(6)]
    q.push(items[0], 0, 1000)
    q.push(items[1], 0, 300)
    q.push(items[2], 100, 1000)
    q.push(items[3], 100, 300)
    q.push(items[4], 200, 0)
    q.push(items[5], 250, 300)
    assert q.n == 6 and len(q.lanes) == 3
    assert drain(q) == [(200, 4), (300, 1), (400, 3), (550, 5), (1000, 0), (1100, 2)]
    assert q.n == 0 and q.first() is None


def test_remove_from_anywhere_and_push_again_moves_an_item():
    q = Lanes()
    items = [It(i) for i in range(5)]
    for i, x in enumerate(items):
        q.push(x, i, 10)
    q.remove(items[2])  # middle
    q.remove(items[0])  # head
    q.remove(items[4])  # tail
    q.remove(items[4])  # not on a lane: nothing
    assert [n for _, n in drain(q)] == [1, 3]
    a, b = It("a"), It("b")
    q.push(a, 0, 10)
    q.push(b, 0, 20)
    q.push(a, 15, 10)  # pushed again: leaves its place first
    assert drain(q) == [(20, "b"), (25, "a")] and q.n == 0


def test_a_push_with_an_earlier_now_keeps_the_lane_sorted():
    q = Lanes()
    a, b = It("a"), It("b")
    q.push(a, 500, 100)
    q.push(b, 400, 100)  # now went back (a pause was accounted): not before a
    assert drain(q) == [(600, "a"), (600, "b")]


def test_push_and_pop_allocate_nothing_once_the_lane_exists():
    import micropython

    q = Lanes()
    items = [It(i) for i in range(50)]
    for x in items:
        q.push(x, 0, 7)
    micropython.heap_lock()
    try:
        for k in range(200):
            x = q.first()
            q.remove(x)
            q.push(x, k, 7)
    finally:
        micropython.heap_unlock()
    assert q.n == 50


def test_a_push_with_slack_joins_the_item_before_it_never_passes_it():
    q = Lanes()
    a, b, c, d = It("a"), It("b"), It("c"), It("d")
    q.push(a, 0, 1000, 50)
    q.push(b, 30, 1000, 50)  # due 1030, within 50 ms of a's 1000: due with a
    q.push(c, 100, 1000, 50)  # 1100: 100 ms after, stays
    q.push(d, 120, 1000)  # no slack: 1120 as asked
    assert [x.due for x in (a, b, c, d)] == [1000, 1000, 1100, 1120]
    assert drain(q) == [(1000, "a"), (1000, "b"), (1100, "c"), (1120, "d")]
