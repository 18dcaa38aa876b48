# services/netd: the network daemon: owns the interface (network.LAN) and its address.
#
# Owns: bringing the interface up, its address (DHCP from QEMU's user-mode network, or the
# static one the unit passes as args), the wake-up pump that lets tasks wait on sockets
# (kernel/netwait.py), and the state others read (`state`, `address`, `how`). It waits for
# the lease on the stack's own events (no polling) and then sleeps; a board without a NIC
# (make run NET=none) leaves it idle with state "none".
# Not here: sockets and streams (kernel/streams.py), the shell's net commands.
import kernel
from kernel import netwait, params

try:
    import network
except ImportError:
    network = None

STATE_NONE = "none"  # no interface on this board
STATE_DOWN = "down"
STATE_DHCP = "dhcp"  # waiting for a lease
STATE_UP = "up"

state = STATE_DOWN
address = None  # (addr, prefix, gw, dns) once up
how = None  # "dhcp" or "static"
nic = None


def prefix_len(mask):
    """'255.255.255.0' -> 24."""
    n = 0
    for part in mask.split("."):
        n += bin(int(part)).count("1")
    return n


def lan():
    """The interface object, or None on a board without one."""
    if network is None or not hasattr(network, "LAN"):
        return None
    try:
        return network.LAN()
    except OSError:
        return None


def _read_address(n):
    addr, mask = n.ipconfig("addr4")
    return (addr, prefix_len(mask), n.ipconfig("gw4"), network.ipconfig("dns"))


async def _idle():
    ev = kernel.Event()
    while True:
        await ev.wait()


async def main(addr4=None, gw4=None):
    """Brings the interface up (DHCP unless addr4 'a.b.c.d/n' is given) and holds it."""
    global state, address, how, nic
    nic = lan()
    if nic is None:
        state = STATE_NONE
        kernel.log("netd: no network interface on this board", "warn")
        await _idle()
    netwait.start()
    nic.active(True)
    if addr4 is not None:
        nic.ipconfig(addr4=addr4, gw4=gw4 or "0.0.0.0")
        how = "static"
    else:
        how = "dhcp"
        state = STATE_DHCP
    dl = kernel.deadline(params.NET_DHCP_TIMEOUT_MS)
    warned = False
    while not nic.isconnected():
        left = kernel.remaining_ms(dl)
        if left <= 0 and not warned:
            kernel.log(
                "netd: no DHCP lease after %d ms, still asking" % params.NET_DHCP_TIMEOUT_MS,
                "warn",
            )
            warned = True
        await netwait.wait(left if left > 0 else -1)
    state = STATE_UP
    address = _read_address(nic)
    kernel.log("netd: up %s/%d gw %s dns %s (%s)" % (address + (how,)))
    try:
        while True:
            await kernel.sleep_ms(params.SVC_TIMER_MAX_MS)
            now = _read_address(nic)
            if now != address:
                address = now
                kernel.log("netd: address now %s/%d gw %s dns %s" % now)
    finally:
        state = STATE_DOWN
        netwait.stop()
