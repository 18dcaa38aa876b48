# kernel/job: one start or stop of a set of services, in dependency waves.
#
# Owns: Job: the services of one request, the ordering edges among them (kernel/deps.py) and
# the count of what each still waits for. A service is launched as soon as everything it is
# ordered after has settled, so independent services start (or stop) concurrently; a stop
# job runs the edges backwards (stop order is the reverse of start order). When a start
# fails, what *requires* it fails with result `dependency`; what is only ordered after it
# still starts (systemd). Linear in services + edges; no recursion (a worklist), so a chain
# of 10,000 simple services does not overflow the stack.
# Jobs, a base class of the Manager, starts and stops jobs and tells them when a service
# settles. Not here: what launching or stopping one service does (kernel/manager.py).
from micropython import const

from kernel import deps
from kernel import service as S
from kernel.heap import presize
from kernel.sync import Event

_PENDING = const(0)
_LAUNCHED = const(1)
_SETTLED = const(2)
_JOB_SLOTS = const(15)  # Job.__init__ sets 13 attributes; then told (boot), _blame (a failure)
# A job of one service (every start_service, stop_service): no edges among its members and
# one order. Shared by all such jobs, never changed (tuples: a write would raise): building
# them was ~1.3 KB of garbage per start on ARM (kernel/deps.py's index, rows and sort).
_ONE = (((0, 0), ()), (0,), (0,))


def _self_ordered(svc):
    # A unit ordered after (or requiring, or before) itself: a cycle of one, which the
    # graph reports.
    u = svc.unit
    return svc.name in u.after or svc.name in u.requires or svc.name in u.before


class Job:
    """Start (stop=False) or stop (stop=True) the services `svcs` in dependency waves."""

    told = None  # boot's subscriber printing this job's lines (kernel/svc.py)
    _blame = None  # i -> index of the failed requirement that failed i (made when needed)

    def __init__(self, mgr, svcs, stop, why):
        presize(self, _JOB_SLOTS)  # one table, not seven on the way (kernel/heap.py)
        self.mgr = mgr
        self.svcs = svcs
        self.stop = stop
        self.why = why  # shown in causes: 'boot', 'start web', ...
        if len(svcs) == 1 and not _self_ordered(svcs[0]):
            succ, pend, order = _ONE
        else:
            succ, pend, order = self._graph(mgr, svcs, stop)
        self.succ = succ
        self.pend = pend
        self.order = order  # start order (indexes); a stop runs its reverse
        self.mark = bytearray(len(svcs))
        self.left = len(svcs)
        self.failed = []  # names that did not reach the wanted state
        self.done = Event()
        self._todo = []  # indexes ready to launch; ~i: i fails for a failed requirement
        self._busy = False

    @staticmethod
    def _graph(mgr, svcs, stop):
        names = [s.name for s in svcs]
        succ, pend = deps.build(mgr.unit_of, names)
        order = deps.toposort(succ, pend)
        if len(order) < len(names):
            if not stop:
                raise deps.CycleError(deps.find_cycle(names, succ, order))
            succ, pend = deps.rows(len(names), (), ())  # a stop must not hang on a cycle
            order = list(range(len(names)))
        if stop:
            succ, pend = deps.reverse(succ, len(names))
        return succ, pend, order

    def run(self):
        """Launch everything that waits for nothing; the rest follows as services settle."""
        for i in self.order if not self.stop else reversed(self.order):
            if self.pend[i] == 0:
                self._todo.append(i)
        self._drain()
        return self

    def wait(self):
        """Await until every service of the job has settled."""
        return self.done.wait()

    def settled(self, i, ok, cause=None):
        """Service i reached the wanted state (ok) or cannot (not ok)."""
        if self.mark[i] == _SETTLED:
            return
        self.mark[i] = _SETTLED
        self.left -= 1
        if not ok:
            self.failed.append(self.svcs[i].name)
        start, adj = self.succ
        for k in range(start[i], start[i + 1]):
            e = adj[k]
            j = e >> 1
            if self.mark[j] != _PENDING:
                continue
            if not ok and e & 1 and not self.stop:
                self.mark[j] = _LAUNCHED
                self._todo.append(~j)  # fails with result `dependency`, blaming i
                if self._blame is None:
                    self._blame = {}
                self._blame[j] = i
                continue
            self.pend[j] -= 1
            if self.pend[j] == 0:
                self._todo.append(j)
        self._drain()

    def _drain(self):
        if self._busy:
            return
        self._busy = True
        try:
            todo = self._todo
            k = 0
            while k < len(todo):
                i = todo[k]
                k += 1
                if i < 0:
                    i = ~i
                    self.mgr.dep_failed(self.svcs[i], self.svcs[self._blame.pop(i)], self, i)
                    self.settled(i, False)
                elif self.mark[i] == _PENDING:
                    self.mark[i] = _LAUNCHED
                    if self.stop:
                        self.mgr.stop_one(self.svcs[i], self, i)
                    else:
                        self.mgr.start_one(self.svcs[i], self, i)
        finally:
            self._busy = False
            self._todo = []
        if self.left == 0 and not self.done.state:
            self.done.set()
            self.mgr.job_done(self)


class Jobs:
    """The Manager's side of jobs: a base class of kernel.manager.Manager (it uses the
    Manager's services, unit_of(), launch(), stop() and fail())."""

    def start_job(self, names, why):
        """Start names and what they pull in, in dependency waves -> the running Job.
        Raises CycleError / UnitError before anything starts."""
        order = deps.closure(self.unit_of, names)
        return self._job([self.services[n] for n in order], False, why)

    def stop_job(self, svcs, why):
        """Stop svcs, dependents first -> the running Job."""
        return self._job(svcs, True, why)

    def _job(self, svcs, stop, why):
        job = Job(self, svcs, stop, why)
        self.jobs.append(job)
        return job.run()

    def job_done(self, job):
        if job in self.jobs:
            self.jobs.remove(job)

    def dependents(self, name):
        """name and what requires it, transitively (what a stop of name takes down); through
        the Manager's reverse index, so O(what it returns), not O(units)."""
        rev = self.required_by
        out = [name]
        seen = {name}
        i = 0
        while i < len(out):
            for d in rev.get(out[i], ()):
                if d not in seen:
                    seen.add(d)
                    out.append(d)
            i += 1
        return out

    def _wait(self, svc, job, i):
        if svc.waiters is None:
            svc.waiters = []
        svc.waiters.append((job, i))

    def _settle(self, svc, ok):
        # Tell the jobs waiting on svc: start jobs get ok; stop jobs wait until it stopped.
        w = svc.waiters
        if w is None:
            return
        svc.waiters = None
        stopped = svc.state == S.INACTIVE or svc.state == S.FAILED
        for job, i in w:
            if not job.stop:
                job.settled(i, ok)
            elif stopped:
                job.settled(i, True)
            else:
                self._wait(svc, job, i)

    def start_one(self, svc, job, i):
        st = svc.state
        if st == S.ACTIVE or st == S.RELOADING:
            job.settled(i, True)
            return
        self._wait(svc, job, i)
        if st == S.INACTIVE or st == S.FAILED:
            self.launch(svc, True, job.why)

    def dep_failed(self, svc, req, job, i):
        if svc.state == S.ACTIVE:
            return
        self.fail(svc, S.DEPENDENCY, "requires %s, which failed" % req.name)

    def stop_one(self, svc, job, i):
        st = svc.state
        if st == S.INACTIVE or st == S.FAILED:
            job.settled(i, True)
            return
        self._wait(svc, job, i)
        if st != S.DEACTIVATING:
            self.stop(svc, job.why)
