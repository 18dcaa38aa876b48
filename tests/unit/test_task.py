# Tests for kernel/task: Task fields and TaskQueue.
from kernel.clock import VirtualClock
from kernel.errors import KernelPanic
from kernel.sched import Scheduler
from kernel.task import DONE, FAILED, READY, STATE_NAMES, Task, TaskQueue


class FakeTask:
    queue = None
    name = "fake"

    def __init__(self, n):
        self.n = n
        self.next = None


def test_taskqueue_fifo_and_remove():
    q = TaskQueue()
    ts = [FakeTask(i) for i in range(4)]
    for t in ts:
        q.push(t)
    assert len(q) == 4 and [t.n for t in q] == [0, 1, 2, 3]
    assert q.remove(ts[2]) and not q.remove(ts[2])
    assert q.remove(ts[3])  # the tail
    q.push(ts[3])
    assert [q.pop().n for _ in range(3)] == [0, 1, 3]
    assert q.pop() is None and q.tail is None


def test_taskqueue_refuses_a_task_already_queued():
    q1 = TaskQueue()
    q2 = TaskQueue()
    t = FakeTask(1)
    q1.push(t)
    try:
        q2.push(t)
        assert False
    except KernelPanic as e:
        assert "already queued" in str(e)


def test_task_fields_and_budget():
    s = Scheduler(VirtualClock())

    async def f():
        return 1

    t = s.spawn(f(), "svc", budget_ms=50)
    assert t.name == "svc" and t.state == READY and t.state_name() == "ready"
    assert t.wd_ms == 50
    s.set_foreground(t, True)
    assert t.wd_ms == 0  # foreground: no watchdog
    s.set_foreground(t, False)
    assert t.wd_ms == 50
    t.set_budget(0)
    assert t.wd_ms == 0
    assert not t.done()
    try:
        t.result()
        assert False
    except RuntimeError:
        pass


def test_default_name_from_coroutine():
    s = Scheduler(VirtualClock())

    async def worker():
        pass

    t = s.spawn(worker())
    assert t.name.startswith("worker#")


def test_state_names_and_running():
    s = Scheduler(VirtualClock())
    seen = []

    async def f():
        seen.append(s.cur.state_name())
        return 5

    t = s.spawn(f())
    s.run_until(t)
    assert seen == ["running"]
    assert t.state == DONE and STATE_NAMES[t.state] == "done"
    assert t.result() == 5 and t.exception() is None


def test_failed_task_result_reraises():
    s = Scheduler(VirtualClock())
    s.on_failure = lambda t: None

    async def f():
        raise ValueError(3)

    t = s.spawn(f())
    s.run_until(t)
    assert t.state == FAILED and t.done()
    assert isinstance(t.exception(), ValueError)


def test_spawn_refuses_non_coroutines():
    s = Scheduler(VirtualClock())
    try:
        s.spawn(42)
        assert False
    except TypeError:
        pass


def test_task_is_a_kernel_task_type():
    assert Task.__name__ == "Task"
