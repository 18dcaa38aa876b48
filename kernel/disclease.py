# kernel/disclease: external instances in discovery: registered, renewed, leased for
# ttl_sec, deregistered.
#
# Owns: Leases, a base class of kernel/discovery.py's Registry (it uses the attributes that
# Registry.__init__ sets and its add / remove / set_status / changed): register() and
# deregister() for endpoints the service manager does not keep (registered again with other
# kind, tags, meta or endpoint: the same Instance updated, EV_UPDATED; with only its lease
# renewed: no change), and the lease task that ends leases nobody renewed (critical, not
# ready: EV_EXPIRED). Leases pause while the console's
# foreground code starves the kernel, as probe deadlines do.
# Not here: the manager's own instances (kernel/discovery.py).
from kernel import events as E
from kernel import params
from kernel.discinst import Instance, service_of


class Leases:
    """External instances and their leases (the Registry's lower half)."""

    def register(self, name, service=None, kind=None, tags=(), meta=None, endpoint=None,
                 ttl_sec=None):  # fmt: skip
        from kernel import units

        name = units.check_name(name)
        tags = units._list(name, "tags", tags)
        if meta is not None and not isinstance(meta, dict):
            raise ValueError("instance %s: 'meta' must be a dict, got %r" % (name, meta))
        ttl_ms = 0 if ttl_sec is None else units._ms(name, "ttl_sec", ttl_sec)
        if endpoint is not None:  # as a unit's: 'host:port' or {"host": .., "port": int}
            endpoint = units._endpoint(name, "endpoint", endpoint)
        inst = self.by_name.get(name)
        if inst is not None and inst.svc is not None:
            raise ValueError(
                "instance %s: kept by the service manager (stop the service to replace it)" % name
            )
        service = service or service_of(name)
        fresh = inst is None
        if not fresh and inst.service != service:
            self.remove(inst)  # another service's instance now: leave, then appear again
            fresh = True
        if fresh:
            inst = Instance(name, service)
        updated = not fresh and (
            inst.kind != kind
            or inst.tags != tags
            or inst.meta != meta
            or inst.endpoint != endpoint
        )
        inst.kind = kind
        inst.tags = tags
        inst.meta = meta
        inst.endpoint = endpoint
        self._lease(inst, ttl_ms)  # a renewal: its lease only, no change
        if fresh:
            inst.health = "passing"
            inst.ready = True
            inst.note = "registered"
            self.add(inst)
            return inst
        if updated:  # its fields changed: EV_UPDATED, stamped like any change (watches wake)
            self.changed(inst, E.EV_UPDATED)
        self.set_status(inst, "passing", True, "registered")  # a lapsed lease comes back
        return inst

    def deregister(self, name):
        inst = self.by_name.get(name)
        if inst is None:
            return False
        if inst.svc is not None:
            raise ValueError("instance %s: kept by the service manager (stop the service)" % name)
        self.remove(inst)
        return True

    def _lease(self, inst, ttl_ms):
        if ttl_ms <= 0:
            if inst.expires is not None:
                self.leased.remove(inst)
                inst.expires = None
            inst.ttl_ms = 0
            return
        inst.ttl_ms = ttl_ms
        if inst.expires is None:
            self.leased.append(inst)
        inst.expires = self.now() + ttl_ms
        if self.next_expiry is None or inst.expires < self.next_expiry:
            self.next_expiry = inst.expires
        t = self.ttl_task
        if t is None or t.done():
            self.ttl_task = t = self.mgr.sched.spawn(self._ttl_loop(), "disc-ttl")
            t.quiet = True

    def expire(self, now):
        """End the leases that ran out by `now` (uptime ms): not ready, critical."""
        nxt = None
        for inst in self.leased:
            if inst.expires <= now:
                if inst.ready:
                    inst.health = "critical"
                    inst.ready = False
                    inst.note = "ttl %d ms expired" % inst.ttl_ms
                    self.changed(inst, E.EV_EXPIRED)
            elif nxt is None or inst.expires < nxt:
                nxt = inst.expires
        self.next_expiry = nxt

    async def _ttl_loop(self):
        from kernel.traps import sleep_ms

        due = None
        while self.leased:
            now = self.now()
            if due is not None and now - due > params.SVC_STARVE_MS:
                for inst in self.leased:  # starved by foreground code: leases pause too
                    inst.expires += now - due
                if self.next_expiry is not None:
                    self.next_expiry += now - due
            if self.next_expiry is not None and self.next_expiry <= now:
                self.expire(now)
            due = self.next_expiry
            if due is None:  # every lease ran out: sleep until one is renewed
                due = now + params.SVC_TIMER_MAX_MS
            await sleep_ms(min(max(due - self.now(), 0), params.SVC_TIMER_MAX_MS))
        self.ttl_task = None
