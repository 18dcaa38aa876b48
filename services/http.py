# services/http: an example HTTP/1.1 service on kernel streams (a unit like any other).
#
# Owns: the request parser (request line, headers, Content-Length body), keep-alive, the
# router (GET /, /health, /metrics, /services) and the answers to abuse: a malformed request
# gets 400, an oversized line, head or body 413, a head that does not arrive within
# params.HTTP_HEAD_TIMEOUT_MS (slowloris) 408, an idle keep-alive connection is closed after
# params.HTTP_IDLE_MS, and at most params.HTTP_CONN_MAX connections are served at once (the
# others wait in the listen backlog until one ends).
# Every connection is its own task; each ends by closing its socket whatever happened.
# Not here: sockets and streams (kernel/streams.py), the services' state (kernel.svc).
import json

import kernel
from kernel import params, streams
from kernel.errors import TimeoutError

REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Content Too Large",
    500: "Internal Server Error",
}

# timeouts: heads that did not arrive within params.HTTP_HEAD_TIMEOUT_MS (answered 408).
stats = {"requests": 0, "connections": 0, "open": 0, "errors": 0, "timeouts": 0}
ROUTES = {}  # path -> fn() -> (status, content type, body bytes)
_heap = [-1, 0]  # gc.mem_free() as last sampled (-1: not yet), and when it goes stale
_sampling = [False]  # a sampler task is on its way


class HttpError(Exception):
    def __init__(self, status):
        super().__init__(status)
        self.status = status


def route(path):
    def add(fn):
        ROUTES[path] = fn
        return fn

    return add


async def _timed(aw, ms):
    import kernel.asyncio as asyncio  # noqa: PLR0402

    return await asyncio.wait_for_ms(aw, ms)


async def read_head(r):
    """The request line and headers -> (method, target, version, {name: value}), or None
    when the peer closed before sending anything. HttpError for a bad or oversized head."""
    total = 0
    line = await r.readline(params.HTTP_LINE_MAX + 1)
    if not line:
        return None
    head = []
    while True:
        total += len(line)
        if len(line) > params.HTTP_LINE_MAX or total > params.HTTP_HEADER_MAX:
            raise HttpError(413)
        if not line.endswith(b"\n"):
            raise HttpError(400)  # the peer closed in the middle of a line
        line = line.rstrip(b"\r\n")
        if not line:
            break
        head.append(line)
        line = await r.readline(params.HTTP_LINE_MAX + 1)
    if not head:
        raise HttpError(400)
    parts = head[0].split()
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
        raise HttpError(400)
    headers = {}
    for h in head[1:]:
        k, colon, v = h.partition(b":")
        if not colon or not k.strip():
            raise HttpError(400)
        headers[k.strip().lower().decode()] = v.strip().decode()
    try:
        return parts[0].decode(), parts[1].decode(), parts[2].decode(), headers
    except UnicodeError:
        raise HttpError(400) from None


def response(status, ctype, body, keep):
    head = "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n" % (
        status,
        REASONS.get(status, "Error"),
        ctype,
        len(body),
        "keep-alive" if keep else "close",
    )
    return head.encode() + body


async def refuse(w, status, body):
    """Answer status and drop the rest of the request: the close that follows then ends the
    connection with a FIN after the answer, where unread input would make it a reset."""
    w.write(response(status, "text/plain", body, False))
    await w.drain()
    w.discard()


async def serve(r, w):
    """One connection: requests until the peer or the rules close it."""
    stats["connections"] += 1
    stats["open"] += 1
    first = True
    try:
        while True:
            ms = params.HTTP_HEAD_TIMEOUT_MS if first else params.HTTP_IDLE_MS
            try:
                req = await _timed(read_head(r), ms)
            except TimeoutError:
                if first:
                    stats["timeouts"] += 1
                    await refuse(w, 408, b"request timeout\n")
                return
            except HttpError as e:
                stats["errors"] += 1
                await refuse(w, e.status, b"%d\n" % e.status)
                return
            if req is None:
                return
            first = False
            method, target, version, headers = req
            n = headers.get("content-length", "0")
            if not n.isdigit() or int(n) > params.HTTP_BODY_MAX:
                stats["errors"] += 1
                await refuse(w, 413 if n.isdigit() else 400, b"body\n")
                return
            if int(n):
                await r.readexactly(int(n))
            conn = headers.get("connection", "").lower()
            keep = conn != "close" and (version == "HTTP/1.1" or conn == "keep-alive")
            status, ctype, body = dispatch(method, target)
            stats["requests"] += 1
            w.write(response(status, ctype, body if method != "HEAD" else b"", keep))
            await w.drain()
            if not keep:
                return
    except (OSError, EOFError):
        return  # the peer went away: nothing to answer
    finally:
        stats["open"] -= 1
        w.close()


def dispatch(method, target):
    path = target.split("?", 1)[0]
    fn = ROUTES.get(path)
    if fn is None:
        return 404, "text/plain", b"not found\n"
    if method not in ("GET", "HEAD"):
        return 405, "text/plain", b"method not allowed\n"
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - a broken page is a 500, never a dead server
        kernel.log("http: %s failed: %r" % (path, e), "error")
        return 500, "text/plain", b"internal error\n"


def _services():
    return [
        {"name": s.name, "state": s.state_name(), "sub": s.sub_name(), "result": s.result_name()}
        for s in kernel.list_services()
    ]


@route("/")
def page_index():
    rows = "".join(
        "<tr><td>%s</td><td>%s</td></tr>" % (s["name"], s["state"]) for s in _services()
    )
    body = (
        "<!doctype html><title>MultiOS</title><h1>MultiOS</h1>"
        "<p>up %d s</p><table>%s</table>" % (kernel.uptime_ms() // 1000, rows)
    )
    return 200, "text/html", body.encode()


@route("/health")
def page_health():
    svcs = _services()
    ok = all(s["state"] != "failed" for s in svcs)
    body = {
        "status": "ok" if ok else "degraded",
        "services": {s["name"]: s["state"] for s in svcs},
    }
    return 200, "application/json", json.dumps(body).encode()


@route("/services")
def page_services():
    return 200, "application/json", json.dumps(_services()).encode()


async def _sample_heap():
    # gc.mem_free() walks the whole heap's block table, ~140 ms on the ARM board under load:
    # in a step of its own (its own watchdog budget), never in a request's.
    import gc

    try:
        _heap[0] = gc.mem_free()
        _heap[1] = kernel.deadline(params.HTTP_HEAP_SAMPLE_MS)
    finally:
        _sampling[0] = False


def heap_free():
    """gc.mem_free() as sampled at most params.HTTP_HEAP_SAMPLE_MS ago (-1 before the first
    sample); an older one starts a new sample in a task of its own."""
    if (_heap[0] < 0 or kernel.remaining_ms(_heap[1]) == 0) and not _sampling[0]:
        _sampling[0] = True
        kernel.spawn(_sample_heap(), "http-heap", params.HTTP_HEAP_SAMPLE_BUDGET_MS)
    return _heap[0]


@route("/metrics")
def page_metrics():
    lines = [
        "# TYPE multios_uptime_seconds gauge",
        "multios_uptime_seconds %d" % (kernel.uptime_ms() // 1000),
        "# TYPE multios_heap_free_bytes gauge",
        "multios_heap_free_bytes %d" % heap_free(),
        "# TYPE multios_http_requests_total counter",
        "multios_http_requests_total %d" % stats["requests"],
        "# TYPE multios_http_connections_open gauge",
        "multios_http_connections_open %d" % stats["open"],
        "# TYPE multios_service_up gauge",
    ]
    for s in _services():
        lines.append('multios_service_up{name="%s"} %d' % (s["name"], s["state"] == "active"))
    try:
        import _net

        for k, v in _net.counters().items():
            lines.append("multios_net_%s %d" % (k, v))
        for k, v in _net.mem().items():
            lines.append('multios_lwip_used{pool="%s"} %d' % (k, v))
    except ImportError:
        pass
    return 200, "text/plain; version=0.0.4", ("\n".join(lines) + "\n").encode()


def default_port():
    """params.HTTP_PORT on the boards; an ephemeral port on the unix port (tests), which
    uses the host's own sockets and must not take the host's port 80."""
    import sys

    return 0 if sys.platform == "linux" else params.HTTP_PORT


async def main(port=None):
    """Serve HTTP on port until stopped: None takes the unit's config `port` (`config set
    http port 8080`, or `http.port=8080` on the boot command line), 0 default_port()."""
    if port is None:
        port = kernel.service_config().get("port", 0)
    port = port or default_port()
    if streams.socket is None:
        kernel.log("http: no network stack on this board: not serving", "warn")
        while True:
            await kernel.sleep_ms(params.SVC_TIMER_MAX_MS)
    heap_free()  # the first sample, before any scrape
    srv = await streams.start_server(
        serve, "0.0.0.0", port, params.HTTP_CONN_MAX, limit=params.HTTP_CONN_MAX
    )
    kernel.log("http: listening on port %d" % port)
    try:
        await srv.task
    finally:
        srv.close()
