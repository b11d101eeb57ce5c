"""The loopback server: one ``ThreadingHTTPServer`` answering as OpenAlex, Crossref and NCBI.

    with FakeApi(seed_catalog(), rate_limits={"eutils": 3}) as api:
        env = api.env()  # the ENRICH_*_URL values
        api.inject("crossref", "503", times=2)
        ...
        assert api.stats["crossref"]["by_status"][503] == 2

Every request goes: record -> concurrency -> rate limit (counted on arrival) -> latency -> URL
length -> injected fault -> route -> send.
Nothing is logged (``log_message`` is silenced), so API keys never reach a log; the stats keep
requests with ``api_key`` values masked, and ``api_keys(source)`` says which keys were sent.
"""

from __future__ import annotations

import copy
import socket
import struct
import sys
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_plus, urlencode

from demo.fakeapi.catalog import Catalog, FakeWork
from demo.fakeapi.crossref import CrossrefApi
from demo.fakeapi.doira import DoiRaApi
from demo.fakeapi.faults import (
    CONNECTION_KINDS,
    DEFAULT_DELAYS,
    DEFAULT_TRICKLE_INTERVAL,
    SOURCES,
    Fault,
    FaultBook,
    RateLimiter,
    fault_reply,
)
from demo.fakeapi.ncbi import EutilsApi, IdconvApi
from demo.fakeapi.openalex import OpenAlexApi
from demo.fakeapi.reply import HTML, Reply, Request, json_reply, parse_query, text_reply

ENV_NAMES = {
    "openalex": "ENRICH_OPENALEX_URL",
    "crossref": "ENRICH_CROSSREF_URL",
    "eutils": "ENRICH_EUTILS_URL",
    "idconv": "ENRICH_IDCONV_URL",
    "doira": "ENRICH_DOIRA_URL",
}
SECRET_PARAMS = frozenset({"api_key", "apikey"})
# The real hosts, whose length counts towards a URL limit (the fake's own prefix differs).
REAL_BASES = {
    "openalex": "https://api.openalex.org",
    "crossref": "https://api.crossref.org",
    "eutils": "https://eutils.ncbi.nlm.nih.gov/entrez/eutils",
    "idconv": "https://pmc.ncbi.nlm.nih.gov/tools/idconv/api/v1/articles",
    "doira": "https://doi.org",
}
DEFAULT_URL_LIMITS = {"openalex": 4094}  # pyalex#85: longer OpenAlex URLs fail
_TOO_LONG = (
    "<html><head><title>414 Request-URI Too Large</title></head><body>"
    "<center><h1>414 Request-URI Too Large</h1></center></body></html>"
)


STATS_PATH = "/_fakeapi/stats"  # GET: api.stats as JSON (not counted in the stats)
# POST ?kind=title|retract|preprint|cite&ids=W1,W2: change works (FakeApi.change), for a server
# run in another process (bench refresh); not counted in the stats.
CHANGE_PATH = "/_fakeapi/change"


def _stats_json(stats: dict[str, dict]) -> dict:
    """JSON-safe stats: status keys become strings, ``received`` tuples become lists."""
    return {
        source: {**st, "by_status": {str(k): v for k, v in st["by_status"].items()}}
        for source, st in stats.items()
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a hung client never blocks interpreter exit
    block_on_close = False
    request_queue_size = 128  # benchmarks open many connections at once
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        """A client that drops its connection (killed by a crash test, timed out on purpose) is
        normal here; anything else is still reported."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _new_stats() -> dict:
    return {
        "requests": 0,
        "by_status": {},
        "429s": 0,
        "bytes_sent": 0,
        "received": [],
        "faults": 0,
        "max_in_flight": 0,
    }


class FakeApi:
    """A loopback fake of OpenAlex, Crossref, E-utilities and the PMC ID converter.

    Args:
        catalog: the works every source answers from (``seed_catalog()``, ``generate_catalog(n)``).
        latency: seconds added before every answer.
        rate_limits: requests per second over a sliding one-second window, per bucket:
            ``openalex``, ``crossref`` (singletons), ``crossref_list``, ``eutils``, ``idconv``,
            or ``ncbi`` (one window shared by E-utilities and the converter, as NCBI counts per
            IP); ``<bucket>_keyed`` counts requests that carry ``api_key=``. Over the limit each
            source answers its own real 429.
        concurrency: the most requests a source serves at once; more get its 429 (Crossref's
            ``x-concurrency-limit``). ``stats[source]["max_in_flight"]`` is recorded regardless.
        url_limits: the longest URL a source accepts, counted as if sent to the real host
            (default ``{"openalex": 4094}``); longer answers 414.
        openalex_budget: the daily credit budget; each OpenAlex list call costs one credit,
            singletons are free; once spent, lists answer the budget-exhausted 429.
        host, port: where to bind (loopback, port 0 = ephemeral).
    """

    def __init__(
        self,
        catalog: Catalog | Iterable[FakeWork],
        *,
        latency: float = 0.0,
        rate_limits: dict[str, float] | None = None,
        concurrency: dict[str, int] | None = None,
        url_limits: dict[str, int] | None = None,
        openalex_budget: int = 10_000,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.catalog = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
        self.latency = latency
        self.apis = {
            "openalex": OpenAlexApi(self.catalog, daily_budget=openalex_budget),
            "crossref": CrossrefApi(self.catalog),
            "eutils": EutilsApi(self.catalog),
            "idconv": IdconvApi(self.catalog),
            "doira": DoiRaApi(self.catalog),
        }
        self.limiter = RateLimiter(rate_limits)
        self.concurrency = dict(concurrency or {})
        self.url_limits = dict(DEFAULT_URL_LIMITS if url_limits is None else url_limits)
        self._in_flight = dict.fromkeys(SOURCES, 0)
        self.faults = FaultBook()
        self._host, self._port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._stats = {s: _new_stats() for s in SOURCES}
        self._keys: dict[str, list[str]] = {s: [] for s in SOURCES}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> FakeApi:
        """Bind (port 0 = ephemeral) and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fakeapi", kwargs={"poll_interval": 0.01}
        )
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; delayed answers are cut short."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addresses -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeApi is not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (``GET {url}/_fakeapi/stats`` returns the stats as JSON)"""
        return f"http://{self._host}:{self.port}"

    @property
    def base_urls(self) -> dict[str, str]:
        """Per source: the base URL a client appends its paths to."""
        return {
            "openalex": f"{self.url}/openalex",
            "crossref": f"{self.url}/crossref",
            "eutils": f"{self.url}/eutils/",
            "idconv": f"{self.url}/idconv/",
            "doira": f"{self.url}/doira/doiRA/",
        }

    def env(self) -> dict[str, str]:
        """The ``ENRICH_*_URL`` variables pointing at this server."""
        return {ENV_NAMES[s]: url for s, url in self.base_urls.items()}

    # -- faults and observations ---------------------------------------------------------------

    def inject(
        self,
        source: str,
        kind: str,
        *,
        times: int | None = 1,
        match: str | None = None,
        **opts: object,
    ) -> Fault:
        """Arm a fault for the next ``times`` requests to ``source`` (None = until cleared).

        ``kind``: 429 (opts ``retry_after``), budget429, html429, 400, 401, 403, 404, 500, 502,
        503, 504 (5xx take ``retry_after`` too), reset, truncated (opts ``mode``:
        length|chunked), slow (opts ``delay``, then a normal answer), timeout (opts ``delay``,
        default 60 s, then the connection is dropped unanswered), html200, ncbi_error_json,
        ncbi_error_xml (opts ``message``), redirect (opts ``to`` another origin, ``path``,
        ``status``, ``keep_query``), trickle_headers / trickle_body (opts ``interval``, default
        5 s: one byte at a time).
        ``match``: a substring of the request's path+query (raw or percent-decoded).
        """
        return self.faults.add(Fault(source, kind, times, match, dict(opts)))

    def clear_faults(self) -> None:
        """Disarm every fault."""
        self.faults.clear()

    @property
    def stats(self) -> dict[str, dict]:
        """A snapshot per source: requests, by_status, 429s, bytes_sent, faults, max_in_flight,
        received.

        ``received`` lists ``(method, path, query)``; ``api_key`` values are masked as ``***``.
        """
        with self._lock:
            return copy.deepcopy(self._stats)

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {s: _new_stats() for s in SOURCES}

    def change(self, kind: str, ids: Iterable[str]) -> int:
        """Change works (by W-id) as a source would between two fetches; returns how many:
        ``title`` a corrected title, ``retract`` a Retraction Watch retraction notice,
        ``preprint`` a new preprint, ``cite`` one more citation (no metadata change)."""
        changed = 0
        for wid in ids:
            w = self.catalog.by_openalex(wid)
            if w is None:
                continue
            key = w.openalex_id.lower()
            if kind == "title":
                w.retitle(w.title.rstrip(".") + " (corrected)")
            elif kind == "retract":
                w.retract(f"10.5555/retraction.{key}", source="retraction-watch", record_id=key[1:])
            elif kind == "preprint":
                w.add_preprint(f"10.1101/{key}")
            elif kind == "cite":
                w.add_citations(openalex=1, crossref=1)
            else:
                raise ValueError(f"unknown change {kind!r}")
            changed += 1
        return changed

    def api_keys(self, source: str) -> list[str]:
        """API keys received by ``source`` (``api_key`` parameter or Bearer header), in order."""
        with self._lock:
            return list(self._keys[source])

    # -- used by the handler -------------------------------------------------------------------

    def _record_request(self, req: Request) -> None:
        masked = "&".join(f"{k}={'***' if k in SECRET_PARAMS else v}" for k, v in req.query)
        keys = [v for k, v in req.query if k in SECRET_PARAMS]
        auth = req.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            keys.append(auth[7:].strip())
        with self._lock:
            st = self._stats[req.source]
            st["requests"] += 1
            st["received"].append((req.method, req.raw_path, masked))
            self._keys[req.source].extend(keys)

    def _record_answer(self, source: str, status: int | None, sent: int) -> None:
        with self._lock:
            st = self._stats[source]
            if status is not None:
                st["by_status"][status] = st["by_status"].get(status, 0) + 1
                st["429s"] += status == 429
            st["bytes_sent"] += sent

    def _wait(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        if seconds > 0:
            self._stopping.wait(seconds)

    def _limit_key(self, req: Request) -> str:
        """The rate-limit bucket: Crossref lists and keyed NCBI calls have their own limits."""
        limits = self.limiter.limits
        if req.source == "crossref" and CrossrefApi.is_list(req) and "crossref_list" in limits:
            return "crossref_list"
        # NCBI counts per IP across E-utilities and the converter: "ncbi" shares one window
        key = "ncbi" if req.source in ("eutils", "idconv") and "ncbi" in limits else req.source
        if req.get("api_key") and f"{key}_keyed" in limits:
            return f"{key}_keyed"
        return key

    def _too_long(self, req: Request) -> bool:
        limit = self.url_limits.get(req.source)
        return limit is not None and len(REAL_BASES[req.source]) + req.target_length > limit

    def _enter(self, source: str) -> bool:
        """Count one request in flight; True when that exceeds the source's concurrency limit."""
        with self._lock:
            self._in_flight[source] += 1
            now = self._in_flight[source]
            st = self._stats[source]
            st["max_in_flight"] = max(st["max_in_flight"], now)
        limit = self.concurrency.get(source)
        return limit is not None and now > limit

    def _leave(self, source: str) -> None:
        with self._lock:
            self._in_flight[source] -= 1

    def _answer(self, req: Request, *, crowded: bool = False) -> tuple[Reply | None, Fault | None]:
        """The reply to send (None = break the connection) and the fault that shaped it."""
        api = self.apis[req.source]
        # The window counts a request when it arrives, as a server's limiter does, not after the
        # simulated latency: waking from that wait took up to 68 ms more than asked (30 ms) in
        # the enrichment bench, and that jitter is the fake's own, not the client's sending. (Most
        # of it was the collector pausing the process; __main__ keeps the catalog out of it.)
        hit = None if crowded else self.limiter.hit(self._limit_key(req))
        self._wait(self.latency)
        if crowded:  # over x-concurrency-limit: Crossref answers its usual 429
            return api.rate_limited(req, count=0, limit=0), None
        allowed, count, limit = hit
        if not allowed:
            return api.rate_limited(req, count=count, limit=limit), None
        if self._too_long(req):
            return text_reply(414, _TOO_LONG, HTML), None
        fault = self._take_fault(req)
        if fault is not None and fault.kind not in CONNECTION_KINDS:
            return fault_reply(api, req, fault), fault
        if fault is not None and fault.kind in ("timeout", "slow"):
            self._wait(float(fault.opts.get("delay", DEFAULT_DELAYS[fault.kind])))
        if fault is not None and fault.kind in ("reset", "timeout"):
            return None, fault
        reply = api.handle(req)
        if req.source == "eutils":  # E-utilities report the per-second budget (api-notes 3.1)
            eff = int(limit or (10 if req.get("api_key") else 3))
            reply.headers.setdefault("X-RateLimit-Limit", str(eff))
            reply.headers.setdefault("X-RateLimit-Remaining", str(max(eff - count, 0)))
        return reply, fault

    def _take_fault(self, req: Request) -> Fault | None:
        """The armed fault this request draws, matched on its path+query, encoded or decoded."""
        target = f"{req.raw_path}?{urlencode(req.query)}"
        fault = self.faults.take(req.source, (target, unquote_plus(target)))
        if fault is not None:  # counted now: a delayed fault may never get to answer
            with self._lock:
                self._stats[req.source]["faults"] += 1
        return fault


def _handler_for(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        fake = api

    return Handler


class _Handler(BaseHTTPRequestHandler):
    """Parses the request, asks ``fake`` for the answer, and writes (or breaks) it."""

    fake: FakeApi
    protocol_version = "HTTP/1.1"  # keep-alive, so clients reuse connections as in production
    server_version = "fakeapi/1.0"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
        # client's delayed ACK stalls every keep-alive answer by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Silenced: request lines carry API keys, which must never reach a log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool = False) -> None:
        if self.path.split("?")[0] == STATS_PATH:  # for a server run in another process
            self._send(json_reply(200, _stats_json(self.fake.stats)), head=head)
            return
        if self.path.split("?")[0] == CHANGE_PATH:
            query = dict(parse_query(self.path.partition("?")[2]))
            ids = [i for i in query.get("ids", "").split(",") if i]
            try:
                changed = self.fake.change(query.get("kind", ""), ids)
            except ValueError as exc:
                self._send(json_reply(400, {"error": str(exc)}), head=head)
                return
            self._send(json_reply(200, {"changed": changed}), head=head)
            return
        req = self._parse()
        if req is None:
            self._send(text_reply(404, "Not Found"), head=head)
            return
        self.fake._record_request(req)
        crowded = self.fake._enter(req.source)
        try:
            self._respond(req, head, crowded)
        finally:
            self.fake._leave(req.source)

    def _respond(self, req: Request, head: bool, crowded: bool) -> None:
        try:
            reply, fault = self.fake._answer(req, crowded=crowded)
        except Exception as exc:  # a bug in the fake must show up as a 500, not a hang
            reply, fault = text_reply(500, f"fakeapi error: {type(exc).__name__}: {exc}"), None
        if self.fake._stopping.is_set():
            self.close_connection = True
            return
        # Stats are recorded before writing: a client that has read its answer may look at the
        # stats at once, before this thread would get to run again.
        if reply is None:
            self.fake._record_answer(req.source, None, 0)
            self._reset()
            return
        truncated = fault is not None and fault.kind == "truncated"
        size = len(reply.body) // 2 if truncated else (0 if head else len(reply.body))
        self.fake._record_answer(req.source, reply.status, size)
        if truncated:
            self._send_truncated(reply, str(fault.opts.get("mode", "length")))
        elif fault is not None and fault.kind in ("trickle_headers", "trickle_body"):
            interval = float(fault.opts.get("interval", DEFAULT_TRICKLE_INTERVAL))
            self._send_trickled(reply, fault.kind == "trickle_headers", interval)
        else:
            self._send(reply, head=head)

    def _parse(self) -> Request | None:
        path, _, qs = self.path.partition("?")
        source, _, rest = path.lstrip("/").partition("/")
        if source not in SOURCES:
            return None
        query = parse_query(qs)
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            query += parse_query(self.rfile.read(length).decode("utf-8", "replace"))
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return Request(
            method=self.command,
            source=source,
            raw_path="/" + rest,
            target_length=len(self.path) - len(source) - 1,
            query=query,
            headers={k.lower(): v for k, v in self.headers.items()},
            base=f"http://{host}/{source}",
        )

    def _head(self, reply: Reply, length: int | None) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()

    def _send(self, reply: Reply, *, head: bool = False) -> None:
        try:
            self._head(reply, len(reply.body))
            if not head:
                self.wfile.write(reply.body)
        except OSError:  # the client went away; nothing to tell it
            self.close_connection = True

    def _send_truncated(self, reply: Reply, mode: str) -> None:
        """Half the body, then close: with the full Content-Length or as an unfinished chunk."""
        half = reply.body[: len(reply.body) // 2]
        try:
            if mode == "chunked":
                reply.headers["Transfer-Encoding"] = "chunked"
                self._head(reply, None)
                self.wfile.write(f"{len(reply.body):x}\r\n".encode() + half)
            else:
                self._head(reply, len(reply.body))
                self.wfile.write(half)
            self.wfile.flush()
        except OSError:
            pass
        self._reset()

    def _send_trickled(self, reply: Reply, headers: bool, interval: float) -> None:
        """The answer one byte every ``interval`` seconds: its status line and headers
        (``headers``), or its body after headers sent at once. Ends when the client hangs up
        or the server stops."""
        phrase = self.responses.get(reply.status, ("",))[0]
        lines = [f"HTTP/1.1 {reply.status} {phrase}", f"Content-Type: {reply.content_type}",
                 f"Content-Length: {len(reply.body)}"]  # fmt: skip
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        slow, fast = (head, reply.body) if headers else (reply.body, b"")
        self.close_connection = True
        try:
            if not headers:
                self.wfile.write(head)
                self.wfile.flush()
            for i in range(len(slow)):
                self.wfile.write(slow[i : i + 1])
                self.wfile.flush()
                self.fake._wait(interval)
                if self.fake._stopping.is_set():
                    return
            self.wfile.write(fast)
            self.wfile.flush()
        except OSError:  # the client gave up: what a deadline is for
            pass

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0), so the client sees a reset, not a clean EOF."""
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
