# shellfakes: a scripted console and small stand-ins for the kernel and HAL, for the shell's
# unit tests (test_shell*.py, test_lineedit.py, test_rawrepl.py, test_init.py).
#
# Owns: FakeConsole (bytes in, bytes out, any/read/write like hal's console), FakeHal (time,
# power, boot mode and repl that record what they were asked), FakeKernel (tasks, log, kill,
# uptime, foreground flags) and FakeTask; for the shell verbs' tests on the real kernel:
# cmd() (one line in, its output lines out), run_for() (the default scheduler's clock moves
# on) and forever() (a service body that never ends). Nothing in the firmware imports this
# file.


class FakeConsole:
    """A console whose input is scripted with send() and whose output is read with take()."""

    def __init__(self, data=b""):
        self.inbuf = bytearray(data)
        self.out = bytearray()

    def send(self, data):
        self.inbuf += data

    def any(self):
        return len(self.inbuf)

    def read(self, n):
        d = bytes(self.inbuf[:n])
        self.inbuf = self.inbuf[n:]
        return d

    def write(self, data):
        self.out += data

    def take(self):
        """Everything written since the last take()."""
        d = bytes(self.out)
        self.out = bytearray()
        return d


class FakeHal:
    def __init__(self, now=0, mode=0):
        self.now = now
        self.mode = mode
        self.calls = []  # ("poweroff", code) / ("reset",) / ("repl", globals-dict)

    def time(self):
        return self.now

    def boot_mode(self):
        return self.mode

    def set_boot_mode(self, m):
        self.mode = m

    def poweroff(self, code=0):
        self.calls.append(("poweroff", code))

    def reset(self):
        self.calls.append(("reset",))

    def info(self):
        return {"board": "fake"}

    def repl(self):
        self.calls.append(("repl",))

    def reset_request(self, max_ms):
        self.calls.append(("reset_request", max_ms))


class FakeTask:
    cpu_s = 0  # as kernel.task.Task: carried-over totals
    alloc_kb = 0

    def __init__(self, id, name, state="running", steps=0, cpu_us=0, alloc_b=0, reason=None):
        self.id = id
        self.name = name
        self.state = state
        self.steps = steps
        self.cpu_us = cpu_us
        self.alloc_b = alloc_b
        self.reason = reason

    def state_name(self):
        return self.state


class FakeKernel:
    def __init__(self, tasks=(), lines=(), uptime_ms=0):
        self._tasks = list(tasks)
        self.lines = list(lines)
        self.now_ms = uptime_ms
        self.killed = []
        self.foreground = []  # (task, flag) in call order

    def tasks(self):
        return self._tasks

    def kill(self, tid):
        self.killed.append(tid)
        return True

    def log_lines(self, n):
        return self.lines[-n:]

    def log(self, msg, level=None):
        self.lines.append(msg)

    def uptime_ms(self):
        return self.now_ms

    def set_foreground(self, task, flag):
        self.foreground.append((task, flag))

    async def wait_console(self):
        pass


def cmd(sh, con, line):
    """Run one shell line on sh; the lines it printed."""
    con.take()
    sh.execute(line)
    return con.take().decode().split("\r\n")[:-1]


def run_for(ms):
    """Run the kernel's default scheduler for ms of its clock (a VirtualClock in tests)."""
    import kernel
    from kernel import traps

    async def wait():
        await traps.sleep_ms(ms)

    kernel.scheduler().run_until(kernel.spawn(wait(), "clock"))


async def forever():
    """A service body that runs until it is stopped."""
    import kernel

    while True:
        await kernel.sleep_ms(1000)
