# services/netcmds: the shell's network commands: ifconfig, ping, netstat, wget.
#
# Owns: their parsing and output. ping and wget are coroutines run in a nested kernel loop
# from the console's foreground (so every service keeps running and Ctrl-C stops them); they
# wait on the stack's events, never spin. Importing this module registers the commands.
# Not here: the interface (services/netd.py), streams (kernel/streams.py).
import errno
import struct
import time

import kernel
from kernel import netwait, params
from services import netd
from services.commands import register

try:
    import _net
except ImportError:
    _net = None

_ICMP_ECHO = 8
_ICMP_REPLY = 0
_PING_ID = 0x4D4F  # "MO"
_PING_DATA = b"multios-ping-0123456789abcdef!!!"  # 32 bytes with the header's 8: 40


def _run(sh, coro):
    # A coroutine from a shell command: a nested loop in the foreground (Ctrl-C stops it).
    import kernel.asyncio as asyncio  # noqa: PLR0402

    if sh.task is not None:
        sh.kernel.set_foreground(sh.task, True)
    try:
        return asyncio.run(coro)
    except KeyboardInterrupt:
        sh.println("^C")
    finally:
        if sh.task is not None:
            sh.kernel.set_foreground(sh.task, False)
    return None


def streams_missing():
    from kernel import streams

    return streams.socket is None


def _mac(b):
    return ":".join("%02x" % x for x in b)


@register("ifconfig", "ifconfig", "the network interface: address, MAC, link, packet counters")
def cmd_ifconfig(sh, arg):
    n = netd.lan()
    if n is None:
        sh.println("ifconfig: no network interface on this board")
        return
    info = _net.info() if _net is not None else ("?", True, True, 0)
    sh.println(
        "en0: %s %s, link %s, mac %s"
        % (
            info[0],
            "up" if n.active() else "down",
            "up" if info[2] else "down",
            _mac(n.config("mac")),
        )
    )
    addr, mask = n.ipconfig("addr4")
    dhcp = n.ipconfig("has_dhcp4")
    import network

    sh.println(
        "  inet %s/%d gw %s dns %s (%s)"
        % (
            addr,
            netd.prefix_len(mask),
            n.ipconfig("gw4"),
            network.ipconfig("dns"),
            "dhcp" if dhcp else "static",
        )
    )
    if _net is not None:
        c = _net.counters()
        for d in ("rx", "tx"):
            sh.println(
                "  %s: %d packets, %d bytes, %d drops, %d errors"
                % (d, c[d + "_packets"], c[d + "_bytes"], c[d + "_drops"], c[d + "_errors"])
            )


def checksum(data):
    """The Internet checksum (RFC 1071) of bytes."""
    if len(data) & 1:
        data = data + b"\x00"
    s = 0
    for i in range(0, len(data), 2):
        s += (data[i] << 8) | data[i + 1]
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def echo_request(seq):
    """One ICMP echo request with id _PING_ID and sequence number seq."""
    hdr = struct.pack("!BBHHH", _ICMP_ECHO, 0, 0, _PING_ID, seq)
    c = checksum(hdr + _PING_DATA)
    return struct.pack("!BBHHH", _ICMP_ECHO, 0, c, _PING_ID, seq) + _PING_DATA


def parse_reply(data):
    """(seq, ttl) of an echo reply to us (with or without its IP header), or None."""
    ttl = 0
    if len(data) >= 20 and data[0] >> 4 == 4:
        ttl = data[8]
        data = data[(data[0] & 15) * 4 :]
    if len(data) < 8:
        return None
    typ, _, _, ident, seq = struct.unpack("!BBHHH", data[:8])
    if typ != _ICMP_REPLY or ident != _PING_ID:
        return None
    return seq, ttl


def _parse_ping(arg):
    words = arg.split()
    count = params.PING_COUNT
    host = None
    while words:
        w = words.pop(0)
        if w == "-c" and words and words[0].isdigit():
            count = int(words.pop(0))
        elif host is None and not w.startswith("-"):
            host = w
        else:
            return None, 0
    return host, count


async def ping(out, host, count):
    """Send count echo requests to host, print each reply and a summary; -> received."""
    import socket

    try:
        addr = socket.getaddrinfo(host, 0)[0][-1]
    except OSError as e:
        why = unresolved(e)
        if why is None:
            raise
        out("ping: cannot resolve host %r (%s)" % (host, why))
        return 0
    ip = addr[0]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 1)
    s.setblocking(False)
    out("PING %s (%s): %d data bytes" % (host, ip, len(_PING_DATA) + 8))
    times = []
    sent = 0
    try:
        for seq in range(1, count + 1):
            t0 = time.ticks_us()
            try:
                s.sendto(echo_request(seq), addr)
            except OSError as e:  # no interface up, no route: said once, not raised
                out("ping: %s: %s" % (ip, sock_error(e)))
                break
            sent += 1
            dl = kernel.deadline(params.PING_TIMEOUT_MS)
            got = None
            while got is None and kernel.remaining_ms(dl) > 0:
                try:
                    data = s.recv(256)
                except OSError as e:
                    if e.errno != errno.EAGAIN:
                        raise
                    await netwait.wait(kernel.remaining_ms(dl))
                    continue
                r = parse_reply(data)
                if r is not None and r[0] == seq:
                    got = r
            if got is None:
                out("request timeout for icmp_seq=%d" % seq)
            else:
                us = time.ticks_diff(time.ticks_us(), t0)
                times.append(us)
                out(
                    "%d bytes from %s: icmp_seq=%d ttl=%d time=%d.%03d ms"
                    % (len(_PING_DATA) + 8, ip, seq, got[1], us // 1000, us % 1000)
                )
            if seq < count:
                await kernel.sleep_ms(params.PING_INTERVAL_MS)
    finally:
        s.close()
    out("--- %s ping statistics ---" % host)
    lost = (sent - len(times)) * 100 // sent if sent else 0
    out("%d packets transmitted, %d received, %d%% packet loss" % (sent, len(times), lost))
    if times:
        avg = sum(times) // len(times)
        out("rtt min/avg/max = %s/%s/%s ms" % (_ms(min(times)), _ms(avg), _ms(max(times))))
    return len(times)


def _ms(us):
    return "%d.%03d" % (us // 1000, us % 1000)


@register("ping", "ping [-c N] HOST", "send ICMP echo requests to HOST and show the round trips")
def cmd_ping(sh, arg):
    if _net is None and netd.lan() is None and streams_missing():
        sh.println("ping: no network stack on this board")
        return
    host, count = _parse_ping(arg)
    if host is None or count < 1:
        sh.println("ping: usage: ping [-c N] HOST, e.g. ping 10.0.2.2")
        return
    _run(sh, ping(sh.println, host, count))


def unresolved(e):
    """What getaddrinfo's failure says ('addrinfo error -2'), or None for another OSError:
    lwIP raises its negative status (OSError(-2)), the unix port '[addrinfo error -2]'."""
    a = e.args[0] if e.args else None
    if isinstance(a, int) and a < 0:
        return "addrinfo error %d" % a
    if isinstance(a, str) and a.startswith("[addrinfo error"):
        return a[1:-1]
    return None


def sock_error(e):
    """An OSError of a socket call as its errno name, with a hint when there is no route:
    'EHOSTUNREACH (no route to the host: is an interface up? see 'ifconfig')'."""
    code = e.args[0] if e.args else None
    if not isinstance(code, int):
        return str(e)
    name = errno.errorcode.get(code, "errno %d" % code)
    if code == errno.EHOSTUNREACH:
        return name + " (no route to the host: is an interface up? see 'ifconfig')"
    return name


def split_url(url):
    """'http://host[:port]/path' -> (host, port, path); ValueError otherwise."""
    if not url.startswith("http://"):
        raise ValueError("only http:// URLs")
    rest = url[7:]
    hostport, slash, path = rest.partition("/")
    host, colon, port = hostport.partition(":")
    if not host:
        raise ValueError("no host in the URL")
    if not colon:
        return host, 80, "/" + path
    n = int(port) if port.isdigit() else 0
    if not 0 < n < 65536:
        raise ValueError("the port must be a number in 1..65535, got %r" % port)
    return host, n, "/" + path


async def wget(out, url):
    """GET url and print the status line, headers and (the start of) the body. The body
    ends at Content-Length, the last chunk, or the end of the stream."""
    from kernel import streams

    host, port, path = split_url(url)
    r, w = await streams.open_connection(host, port)
    try:
        w.write(
            b"GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: multios-wget\r\nConnection: close\r\n\r\n"
            % (path.encode(), host.encode())
        )
        await w.drain()
        length = -1
        chunked = False
        while True:
            line = await r.readline()
            if not line:
                raise OSError(errno.ECONNRESET)
            line = line.rstrip(b"\r\n")
            if not line:
                break
            out(line.decode())
            k, _, v = line.partition(b":")
            k = k.strip().lower()
            if k == b"content-length":
                length = int(v)
            elif k == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
        if chunked:
            parts = []
            while True:
                n = int((await r.readline()).split(b";")[0].strip(), 16)
                if n == 0:
                    break
                parts.append(await r.readexactly(n))
                await r.readexactly(2)
            body = b"".join(parts)
        elif length >= 0:
            body = await r.readexactly(length)
        else:
            body = await r.read(-1)
    finally:
        w.close()
    out("")
    text = body[: params.WGET_BODY_MAX].decode()
    for line in text.split("\n"):
        out(line.rstrip("\r"))
    if len(body) > params.WGET_BODY_MAX:
        out("... (%d bytes in all)" % len(body))
    return len(body)


@register("wget", "wget URL", "fetch http://HOST[:PORT]/PATH and print the response")
def cmd_wget(sh, arg):
    if streams_missing():
        sh.println("wget: no network stack on this board")
        return
    url = arg.strip()
    try:
        host = split_url(url)[0]
    except ValueError as e:
        sh.println("wget: %s, e.g. wget http://10.0.2.100/" % e)
        return
    import kernel.asyncio as asyncio  # noqa: PLR0402

    async def go():
        try:
            await asyncio.wait_for_ms(wget(sh.println, url), params.WGET_TIMEOUT_MS)
        except asyncio.TimeoutError:
            sh.println("wget: no complete response within %d ms" % params.WGET_TIMEOUT_MS)
        except OSError as e:
            why = unresolved(e)
            if why is not None:
                sh.println("wget: cannot resolve host %r (%s)" % (host, why))
            else:
                sh.println("wget: %s: %s" % (url, sock_error(e)))

    _run(sh, go())


@register("netstat", "netstat", "the sockets: protocol, addresses, state, owner")
def cmd_netstat(sh, arg):
    if _net is None:
        sh.println("netstat: no network stack on this board")
        return
    from kernel import streams

    sh.println(NETSTAT_FORMAT % ("PROTO", "LOCAL", "REMOTE", "STATE", "SENDQ", "OWNER"))
    for proto, st, lip, lport, rip, rport, q in _net.pcbs():
        owner = streams.owners.get(lport, "-") if proto == "tcp" else "-"
        sh.println(
            NETSTAT_FORMAT % (proto, "%s:%d" % (lip, lport), "%s:%d" % (rip, rport), st, q, owner)
        )
    sh.println("net wake-ups: %d" % netwait.events)


NETSTAT_FORMAT = "%-5s %-21s %-21s %-11s %5s %s"
