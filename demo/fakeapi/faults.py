"""Injected faults and per-source rate limits, both thread-safe.

A fault is armed with ``FakeApi.inject(source, kind, times=…, match=…, **opts)`` and fires on the
next ``times`` requests to ``source`` whose path+query contains ``match``. Kinds that only change
the answer are built here (``fault_reply``); kinds that break the connection (``reset``,
``truncated``) or delay it (``timeout``, ``slow``, ``trickle_headers``, ``trickle_body``) are
carried out by the server. ``redirect`` answers a 3xx whose Location is another host (``to``)
or another path (``path``), the query kept by default (as the issue's hostile server did, so an
``api_key`` in it would follow).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlencode

from demo.fakeapi import crossref, openalex
from demo.fakeapi.reply import HTML, JSON_UTF8, XML, Reply, json_reply, text_reply

SOURCES = ("openalex", "crossref", "eutils", "idconv", "doira")
REPLY_KINDS = frozenset(
    {"429", "budget429", "html429", "html200", "ncbi_error_json", "ncbi_error_xml", "redirect"}
    | {"400", "401", "403", "404", "500", "502", "503", "504"}
)
CONNECTION_KINDS = frozenset(
    {"reset", "truncated", "timeout", "slow", "trickle_headers", "trickle_body"}
)
KINDS = REPLY_KINDS | CONNECTION_KINDS
# "timeout" holds the answer back longer than any sane client read timeout, then drops the
# connection; "slow" answers normally after its delay.
DEFAULT_DELAYS = {"timeout": 60.0, "slow": 1.0}
# "trickle_headers" sends the status line and headers one byte every ``interval`` seconds (a
# stalled proxy), "trickle_body" the body; each read gets its byte long before a read timeout.
DEFAULT_TRICKLE_INTERVAL = 5.0

_MAINTENANCE = (
    "<!DOCTYPE html><html><head><title>Service temporarily unavailable</title></head><body>"
    "<h1>We'll be back soon</h1><p>The service is down for scheduled maintenance.</p>"
    "</body></html>"
)
_GATEWAY = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


@dataclass
class Fault:
    """One armed fault; ``times=None`` keeps it armed for good."""

    source: str
    kind: str
    times: int | None = 1
    match: str | None = None
    opts: dict = field(default_factory=dict)
    fired: int = 0

    def matches(self, source: str, target: str) -> bool:
        return source == self.source and (self.match is None or self.match in target)

    @property
    def spent(self) -> bool:
        return self.times is not None and self.fired >= self.times


class FaultBook:
    """The armed faults; ``take`` hands each matching request at most one fault."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Arm ``fault`` (after validating its source and kind)."""
        if fault.source not in SOURCES:
            raise ValueError(f"unknown source {fault.source!r}; expected one of {SOURCES}")
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; expected one of {sorted(KINDS)}")
        if fault.times is not None and fault.times < 1:
            raise ValueError("times must be >= 1 or None (persistent)")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, source: str, targets: tuple[str, ...]) -> Fault | None:
        """The first armed fault matching any of ``targets`` (raw and decoded path+query)."""
        with self._lock:
            for fault in self._faults:
                if not fault.spent and any(fault.matches(source, t) for t in targets):
                    fault.fired += 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[Fault]:
        """Faults that still have shots left."""
        with self._lock:
            return [f for f in self._faults if not f.spent]


class RateLimiter:
    """Requests per second per key, over a sliding one-second window."""

    def __init__(self, limits: dict[str, float] | None = None, window: float = 1.0):
        self.limits = dict(limits or {})
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int, float | None]:
        """Record one arrival: (allowed, arrivals in the window including this one, limit).

        Rejected arrivals are not counted, so a client that backs off recovers after a second.
        """
        limit = self.limits.get(key)
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if limit is not None and len(hits) + 1 > limit:
                return False, len(hits) + 1, limit
            hits.append(now)
            return True, len(hits), limit


def fault_reply(api, req, fault: Fault) -> Reply:
    """The answer for a reply-type fault, shaped like ``api``'s source would send it."""
    kind, source, opts = fault.kind, fault.source, fault.opts
    if kind == "429":
        return api.rate_limited(req, retry_after=opts.get("retry_after"), count=4, limit=3)
    if kind == "budget429":
        return openalex.budget_exhausted(api.budget, opts.get("retry_after"))
    if kind == "html429":
        return crossref.too_many_requests(opts.get("retry_after"))
    if kind == "404":
        return _not_found(source)
    if kind in ("400", "401", "403"):
        return _client_error(source, int(kind))
    if kind == "html200":
        return text_reply(200, _MAINTENANCE, HTML)
    if kind == "redirect":
        return _redirect(req, opts)
    if kind == "ncbi_error_json":
        return _ncbi_error_json(req, opts.get("message"))
    if kind == "ncbi_error_xml":
        message = opts.get("message", "Unable to obtain query #1")
        return text_reply(
            200,
            f'<?xml version="1.0" ?>\n<eFetchResult><ERROR>{message}</ERROR></eFetchResult>\n',
            XML,
        )
    return _server_error(source, int(kind), opts.get("retry_after"))


def _redirect(req, opts: dict) -> Reply:
    """A 3xx (``status``, default 302) to ``to`` (an origin such as ``http://127.0.0.1:PORT``;
    default this server) + ``/<source>`` + ``path`` (default the request's own), with the query
    string kept unless ``keep_query=False``."""
    origin = str(opts.get("to") or req.base.rsplit("/", 1)[0]).rstrip("/")
    location = f"{origin}/{req.source}{opts.get('path') or req.raw_path}"
    if opts.get("keep_query", True) and req.query:
        location += "?" + urlencode(req.query)
    return Reply(int(opts.get("status", 302)), b"", "text/plain", {"Location": location})


def _not_found(source: str) -> Reply:
    if source == "openalex":
        return openalex.not_found()
    if source == "crossref":
        return crossref.not_found()
    return text_reply(404, "<html><body><h1>404 Not Found</h1></body></html>", HTML)


_CLIENT = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}


def _client_error(source: str, status: int) -> Reply:
    """OpenAlex and the converter answer JSON errors; Crossref validation JSON; E-utilities HTML."""
    if source == "openalex":
        return json_reply(status, {"error": _CLIENT[status], "message": f"{_CLIENT[status]}."})
    if source == "crossref":
        return json_reply(
            status,
            {
                "status": "failed",
                "message-type": "validation-failure",
                "message": [{"type": "bad-request", "value": "", "message": _CLIENT[status]}],
            },
        )
    if source == "idconv":
        return json_reply(
            status,
            {
                "status": "error",
                "http_status": str(status),
                "errors": [{"message": _CLIENT[status], "code": "bad_request"}],
            },
        )
    title = f"{status} {_CLIENT[status]}"
    return text_reply(status, f"<html><body><h1>{title}</h1></body></html>", HTML)


def _server_error(source: str, status: int, retry_after: float | None) -> Reply:
    """OpenAlex answers 500 in JSON; gateways in front of every API answer HTML pages."""
    if source == "openalex" and status == 500:
        reply = json_reply(500, {"error": "Internal Server Error", "message": "Please retry."})
    else:
        title = f"{status} {_GATEWAY[status]}"
        reply = text_reply(
            status,
            f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>",
            HTML,
        )
    if retry_after is not None:
        reply.headers["Retry-After"] = str(int(retry_after))
    return reply


def _ncbi_error_json(req, message: str | None) -> Reply:
    """An error inside an HTTP 200 (api-notes 3.6): esearch's ERROR, or a bare error object."""
    if req.path.strip("/") == "esearch.fcgi":
        body = {
            "header": {"type": "esearch", "version": "0.3"},
            "esearchresult": {
                "ERROR": message or "Search Backend failed: Database is not available"
            },
        }
    else:
        body = {"error": message or "/lbsm/eutils_lb -> Neg", "api-key": "127.0.0.1"}
    return json_reply(200, body, content_type=JSON_UTF8)
