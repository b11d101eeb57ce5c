"""The one HTTP layer for every source: sessions, timeouts, pacing, retries, redaction, sleeping.

Only GET and form POST are sent, and every request is a read, so retrying is always safe
(the invariant habanero's retry.py states for the same reason).

Public API
----------
- ``sleep(seconds)``: the only place this project sleeps. Tests monkeypatch ``pipeline.http.sleep``
  to record the schedule instead of sleeping; limiter waits and retry waits both go through it.
- ``monotonic()``: the clock the limiters schedule on (tests may replace it with a fake clock).
- ``redact_url(url, secrets)``: the URL with secret query values removed.
- ``encode_query(params)`` / ``build_url(url, params)``: the exact query string put on the wire
  (each value percent-encoded once), so clients can size batches by URL length.
- ``retry_after_seconds(value)`` / ``backoff_delay(retry)``: pure schedule helpers.
- ``check_json(answer)`` / ``check_xml(answer)``: reusable ``check`` callbacks for errors in a 200.
- ``RateLimiter``, ``limiter_for(key, bucket, rate)``: process-wide pacing per (host, bucket);
  ``SourceHttp.pace_key(host)`` names the host (``openalex@api.openalex.org``).
- ``reset_host_state()``: forget limiters, concurrency gates and the circuit breaker (tests).
- ``HttpAnswer``, ``TransientBody``, ``SourceHttp(source, settings, ...)``: ``.get()`` / ``.post()``.
- ``MAX_BODY_BYTES`` / ``read_body(resp, limit)`` / ``ResponseTooLarge``: every body is streamed and
  refused past a cap (64 MiB unless ``SourceHttp(max_body_bytes=...)`` says otherwise), so a
  hostile or broken server cannot make the process hold an unbounded answer in memory.
- ``Deadline`` / ``DeadlineExceeded``: one total deadline per request (``Settings.request_deadline``,
  ENRICH_REQUEST_DEADLINE) over connect, headers and body, redirects included; a trickle is cut.
- Redirects are followed only within the request's own scheme and host:port (``SourceHttp._follow``):
  keys and contact addresses never reach another host; a redirect elsewhere, or a 404 after one,
  is a ``failed`` FetchError naming both URLs.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import requests
import tenacity
import urllib3
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from requests.utils import requote_uri
from urllib3.exceptions import NewConnectionError

from pipeline.config import Settings
from pipeline.errors import Deferred, FetchError, RetriesExhausted, Unreachable

log = logging.getLogger(__name__)

Params = Mapping[str, str] | Sequence[tuple[str, str]] | None

# Statuses retried for every source: 429 (throttled), 502/503/504 (gateway/overload), as in
# habanero retry.py and dlt's DEFAULT_RETRY_STATUS minus 500.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# 500 is decided per source: OpenAlex documents 500 as "retry with backoff"
# (developers.openalex.org/api-reference/errors), so its client adds it; from Crossref a 500
# usually means a request it cannot parse (habanero deliberately does not retry it), so the
# Crossref client leaves it out and the 500 comes back as an answer.
RETRY_STATUSES_WITH_500 = RETRY_STATUSES | {500}

BACKOFF_BASE = 1.0  # seconds: the first retry waits up to this, doubling per retry (full jitter)
# A Retry-After of 0, a negative or a garbage value, and an unlucky jitter draw, all wait at least
# this long: "retry now" from a throttling server is not a reason to hammer it.
BACKOFF_FLOOR = 0.5
# A host never answered yet that refuses the connection or cannot be resolved is tried twice, this
# far apart, then declared unreachable for the rest of the process (an offline laptop ends fast).
UNREACHABLE_ATTEMPTS = 2
UNREACHABLE_RETRY_DELAY = 0.5

SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token"})
# Characters left literal in query values. Everything else, including a DOI's own `&#?;<>()[]`
# and `|`, is percent-encoded exactly once (api-notes 2.5, 4.2; rcrossref#254). `,` stays literal
# because it is Crossref's filter separator; `:` and `/` are harmless in a query.
QUERY_SAFE = ":/,*"

# The largest body read from any answer, after content decoding (so a gzip bomb is capped by what
# it expands to). The biggest legitimate answers are 200-record efetch sets and 100-work OpenAlex
# lists, a few MB each; 64 MiB is ten times that with room to spare. Read at call time, so tests
# (and a user patching the module) can lower it; ``SourceHttp(max_body_bytes=...)`` overrides it.
MAX_BODY_BYTES = 64 * 1024 * 1024
BODY_CHUNK = 64 * 1024


def sleep(seconds: float) -> None:
    """Sleep through the project's one seam (tests replace this to record instead)."""
    if seconds > 0:
        time.sleep(seconds)


def monotonic() -> float:
    """The pacing clock (a seam: tests replace it with a fake clock)."""
    return time.monotonic()


# -- URLs and redaction ------------------------------------------------------------------------


def encode_query(params: Params) -> str:
    """The query string as sent: ``[("filter", "doi:10.1/a|10.2/b")]`` -> ``filter=doi:10.1/a%7C10.2/b``."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params or [])
    return "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe=QUERY_SAFE)}" for k, v in items)


def build_url(url: str, params: Params) -> str:
    """``url`` with ``params`` appended, encoded exactly as ``SourceHttp.get`` sends them."""
    query = encode_query(params)
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


def redact_url(url: str, secrets: Sequence[str] = (), *, names: Sequence[str] = ()) -> str:
    """Drop secret query parameters (api_key, token, ...) and any literal secret value from a URL.

    The rest of the URL is kept byte for byte (no re-encoding), so the stored URL is the one sent.
    """
    parts = urlsplit(url)
    drop = SECRET_PARAMS | {n.lower() for n in names}
    kept = [
        seg
        for seg in parts.query.split("&")
        if seg and unquote(seg.split("=", 1)[0]).lower() not in drop
    ]
    out = urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), ""))
    return redact_text(out, secrets)


def redact_text(text: str, secrets: Sequence[str] = ()) -> str:
    """Replace every secret value (raw or percent-encoded) in a message with ``REDACTED``."""
    for s in secrets:
        if s:
            text = text.replace(s, "REDACTED").replace(quote(s, safe=""), "REDACTED")
    return re.sub(r"((?:api_?key|token)=)[^&\s'\"]+", r"\1REDACTED", text, flags=re.IGNORECASE)


# Every secret a SourceHttp of this process was given, for the log filter below.
_KNOWN_SECRETS: set[str] = set()


class RedactingFilter(logging.Filter):
    """Scrub secrets from log records of libraries that print request lines: urllib3 logs
    ``"GET /works?...&api_key=KEY HTTP/1.1" 200`` at DEBUG, which reaches any handler once an
    application (or a Prefect worker) turns the root logger to DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's problem, not ours
            return True
        clean = redact_text(message, tuple(_KNOWN_SECRETS))
        if clean != message:
            record.msg, record.args = clean, ()
        return True


for _name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response"):
    logging.getLogger(_name).addFilter(RedactingFilter())


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # a garbage port in a Location header: an origin of its own
        port = -1
    return scheme, (parts.hostname or "").lower(), port or {"http": 80, "https": 443}.get(scheme)


def host_of(url: str) -> str:
    """``https://api.crossref.org/works?x`` -> ``api.crossref.org``."""
    return urlsplit(url).netloc.lower()


# -- schedule helpers ----------------------------------------------------------------------------


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for: ``"120"`` -> 120.0; an HTTP date -> seconds
    from now (0 when past); negative -> 0; absent or garbage -> None (no hint)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# Jitter draws from a generator of its own: the process-wide ``random`` state belongs to the
# caller (a library must not advance a seeded sequence from a background thread).
_JITTER = random.Random()


def backoff_delay(retry: int, *, cap: float, base: float = BACKOFF_BASE) -> float:
    """Exponential backoff with full jitter for the ``retry``-th retry (1-based), at least the floor.

    AWS "Exponential Backoff And Jitter": uniform(0, min(cap, base * 2**(retry-1))).
    """
    ceiling = min(cap, base * 2 ** max(0, retry - 1))
    return max(BACKOFF_FLOOR, _JITTER.uniform(0.0, ceiling))


# -- pacing --------------------------------------------------------------------------------------


WINDOW_MARGIN = (
    0.05  # seconds beyond the one-second window (20 ms still drew a 429 in half the runs)
)
# Each 429 a limiter's host sends doubles that limiter's margin, up to this: a send can reach the
# server later than we stamped it (a busy CPU descheduling the thread between pacing and the
# socket write: 19 429s per 20,000 ids with the load average at 5 on 2 cores), and a bounce
# costs a backoff of seconds while a wider margin costs milliseconds.
MAX_WINDOW_MARGIN = 0.4
# ... and each run of this many answers in a row without a 429 halves it again, down to
# WINDOW_MARGIN. A stray bounce early in a long run used to keep the wider margin to the end:
# after two NCBI 429s, 200 ms per window of 3 requests is 15% slower (bench enrich, 20,000 ids:
# 1.23x the floor). If bounces persist, this costs at most one 429 per this many requests.
CALM_AFTER = 60


class RateLimiter:
    """Evenly spaced request slots on the monotonic clock, shared by every thread.

    Each caller reserves the next free slot (``max(now, last + 1/rate)``) under a lock and sleeps
    until it, so N requests take (N-1)/rate seconds however many threads send them; waiting for
    the answer does not push the next slot back (unlike "sleep 1/rate after each request").
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, got {rate}")
        self._lock = threading.Lock()
        self._interval = 1.0 / rate
        self._next: float | None = None
        self._sent: deque[float] = deque(maxlen=2 * self._window_size())
        self.margin = WINDOW_MARGIN
        self._calm = 0  # answers without a 429 since the margin last changed

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    def _window_size(self) -> int:
        """Requests the APIs' one-second window admits at this rate."""
        return max(1, int(self.rate + 1e-9))

    def set_rate(self, rate: float) -> None:
        """Change the pace (configuration or a server's advertised limit); ignores rate <= 0."""
        if rate > 0:
            with self._lock:
                if self._next is not None:  # re-space the slot already promised
                    self._next += 1.0 / rate - self._interval
                self._interval = 1.0 / rate

    def widen(self) -> None:
        """The server bounced a request (429): double the window margin, up to MAX_WINDOW_MARGIN."""
        with self._lock:
            self.margin = min(MAX_WINDOW_MARGIN, self.margin * 2)
            self._calm = 0

    def calm(self) -> None:
        """The server answered without a 429: after CALM_AFTER such answers in a row, halve the
        window margin (never below WINDOW_MARGIN)."""
        with self._lock:
            if self.margin <= WINDOW_MARGIN:
                return
            self._calm += 1
            if self._calm >= CALM_AFTER:
                self.margin = max(WINDOW_MARGIN, self.margin / 2)
                self._calm = 0

    def reserve(self) -> float:
        """Claim the next slot; return how long to wait for it (0 when it is now)."""
        with self._lock:
            now = monotonic()
            slot = now if self._next is None else max(now, self._next)
            self._next = slot + self._interval
            return slot - now

    def acquire(self) -> float:
        """Wait (through ``pipeline.http.sleep``) until this caller's slot, and until the request
        ``rate`` sends back is over a second old (see ``_window_wait``); returns the send's stamp
        (for ``written``)."""
        wait = self.reserve()
        if wait > 0:
            sleep(wait)
        extra, stamp = self._window_wait()
        if extra > 0:
            sleep(extra)
        return stamp

    def written(self, stamp: float, at: float) -> None:
        """The send stamped ``stamp`` was written to its socket at ``at``: the window counts it
        from then. Between the slot and the write the thread still has to get a connection (or
        open one) and serialise the request, and with normalising and loading holding the GIL
        that took up to 35 ms more; a late write followed by one on time is what a sliding
        window sees as one request too many."""
        with self._lock:
            if at <= stamp:
                return
            for k in range(len(self._sent) - 1, -1, -1):
                if self._sent[k] == stamp:
                    self._sent[k] = at
                    return

    def _window_wait(self) -> tuple[float, float]:
        """The APIs count requests in a sliding one-second window. Slots exactly 1/rate apart draw
        a 429 whenever a send lands a little earlier, relative to its slot, than the one ``rate``
        sends before it (sleep overshoot, GIL hand-over): measured 10 429s per 2,000 ids at NCBI's
        3/s. So a send also waits until the one ``rate`` back, on actual send times, is
        ``1 s + margin`` old (0 429s, and PubMed's wall 20.2 -> 15.4 s: no retries). The margin
        starts at WINDOW_MARGIN and widens with each 429 (see ``widen``).

        Returns (seconds still to wait, the send's stamp)."""
        with self._lock:
            size = self._window_size()
            if self._sent.maxlen != 2 * size:
                self._sent = deque(self._sent, maxlen=2 * size)
            now = monotonic()
            # the size-th latest send: ``written`` can move a stamp past later ones
            latest = sorted(self._sent)[-size:]
            full = len(latest) == size
            extra = max(0.0, latest[0] + 1.0 + self.margin - now) if full else 0.0
            stamp = now + extra
            self._sent.append(stamp)
            if self._next is not None:
                self._next = max(self._next, stamp + self._interval)
            return extra, stamp


# The limiter pacing the request this thread is about to send (see PacedAdapter), then, once its
# slot is taken, where to report the time its bytes were written (see _WriteStamped).
_PACING = threading.local()


class PacedAdapter(requests.adapters.HTTPAdapter):
    """Takes the request's pacing slot as late as possible: when requests hands the prepared
    request to the transport, not before ``Session.request`` builds it; and tells the limiter
    when the request was actually written to its socket (``RateLimiter.written``).

    The limiter stamps a send when it grants the slot, and the APIs count a request when it
    arrives. Under load (normalising and loading share the GIL with the fetch threads) building
    the request after the slot delayed the write by up to 43 ms (p95 9 ms), out of a total 54-78
    ms between slot and write: a late send followed by one on time looked like 4 requests in
    0.97 s to a 3/s sliding window (bench enrich: an NCBI 429 in 6 runs of 17, in 1 of 15 since).
    The rest of that delay (getting a connection, urllib3 serialising the request) is after the
    slot, so the write's own time corrects the stamp."""

    def init_poolmanager(self, *args, **kwargs) -> None:  # noqa: D102 - requests' signature
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PacedHTTPPool, "https": _PacedHTTPSPool}

    def send(self, request, *args, **kwargs):  # noqa: D102 - requests' signature
        limiter = getattr(_PACING, "limiter", None)
        if limiter is None:
            return super().send(request, *args, **kwargs)
        _PACING.limiter = None  # the first hop only: a redirect is not paced again
        stamp = limiter.acquire()
        _PACING.written = lambda at: limiter.written(stamp, at)
        try:
            return super().send(request, *args, **kwargs)
        finally:
            _PACING.written = None


class _WriteStamped:
    """A urllib3 connection that reports when the paced request's bytes went to the socket, and
    that the request's Deadline can cut."""

    def request(self, *args, **kwargs) -> None:  # noqa: D102 - urllib3's signature
        deadline = getattr(_PACING, "deadline", None)
        if deadline is not None:
            deadline.attach(self)  # its socket is what the deadline cuts
        super().request(*args, **kwargs)
        report = getattr(_PACING, "written", None)
        if report is not None:
            _PACING.written = None
            report(monotonic())


class _WriteStampedHTTP(_WriteStamped, urllib3.connection.HTTPConnection):
    pass


class _WriteStampedHTTPS(_WriteStamped, urllib3.connection.HTTPSConnection):
    pass


class _PacedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _WriteStampedHTTP


class _PacedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _WriteStampedHTTPS


class ConcurrencyGate:
    """At most ``limit`` requests in flight to one host; the limit can change while in use."""

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self._limit = max(1, int(limit))
        self._in_flight = 0

    @property
    def limit(self) -> int:
        return self._limit

    def resize(self, limit: int) -> None:
        with self._cond:
            self._limit = max(1, int(limit))
            self._cond.notify_all()

    def __enter__(self) -> ConcurrencyGate:
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()


@dataclass
class HostState:
    """What the process knows about one host: ever answered? declared unreachable?"""

    answered: bool = False
    down: bool = False


_REGISTRY_LOCK = threading.Lock()
_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_GATES: dict[str, ConcurrencyGate] = {}
_HOSTS: dict[str, HostState] = {}


def limiter_for(host: str, bucket: str, rate: float) -> RateLimiter:
    """The process-wide limiter for (host, bucket), created at ``rate`` on first use.

    Two SourceHttp objects for one host share it, so parallel tasks stay under one limit
    (keyless OpenAlex and NCBI limits are per IP: api-notes 1.7, 3.1).
    """
    with _REGISTRY_LOCK:
        lim = _LIMITERS.get((host, bucket))
        if lim is None:
            lim = _LIMITERS[(host, bucket)] = RateLimiter(rate)
        return lim


def gate_for(host: str, limit: int) -> ConcurrencyGate:
    """The process-wide concurrency gate for ``host``, created with ``limit`` on first use."""
    with _REGISTRY_LOCK:
        gate = _GATES.get(host)
        if gate is None:
            gate = _GATES[host] = ConcurrencyGate(limit)
        return gate


def host_state(host: str) -> HostState:
    """The circuit-breaker state of ``host``."""
    with _REGISTRY_LOCK:
        return _HOSTS.setdefault(host, HostState())


def decode_body(resp: requests.Response) -> str:
    """The body as text. Without a declared charset, requests falls back to ISO-8859-1 for text/*
    (RFC 2616), which turns NCBI's UTF-8 XML into mojibake (``©`` -> ``Â©``); JSON and XML are
    UTF-8 by their own specs (RFC 8259, XML 1.0 section 4.3.3), so that is the default here."""
    if "charset=" not in resp.headers.get("Content-Type", "").lower():
        resp.encoding = "utf-8"
    text = resp.text
    if (
        "\ufffd" in text
        and resp.encoding
        and resp.encoding.lower().replace("_", "-")
        in (
            "utf-8",
            "utf8",
        )
    ):
        bad = _invalid_utf8_bytes(resp.content)
        if bad:
            log.warning(
                "%s: body is not valid UTF-8 (%d invalid sequence%s replaced by U+FFFD)",
                _short_url(redact_text(resp.url or "", ())),
                bad,
                "" if bad == 1 else "s",
            )
    return text


def _invalid_utf8_bytes(content: bytes) -> int:
    """How many invalid UTF-8 sequences ``content`` holds (0 when it decodes cleanly): each one
    becomes a U+FFFD that was not in the body itself."""
    try:
        content.decode("utf-8")
        return 0
    except UnicodeDecodeError:
        replaced = content.decode("utf-8", "replace").count("\ufffd")
        return replaced - content.decode("utf-8", "ignore").count("\ufffd")


class ResponseTooLarge(FetchError):
    """An answer's body exceeded the size cap; it was refused unread past the cap (-> failed).

    Not retried: a server that sends 200 MB once will send it again.
    """

    status = "failed"


class Deadline:
    """One request's total deadline (``Settings.request_deadline``), from before it connects to
    the last byte of its body, across redirects.

    The read timeout bounds each wait for a byte, never the whole answer: a server (or a proxy)
    that trickles its status line and headers a byte every 5 s, or its body a byte a second, held
    a request, and the run, for as long as it kept dripping (12 minutes and counting in the
    issue's test). A blocked ``recv`` cannot be interrupted from its own thread, so a timer cuts
    the request from outside: when it fires it shuts down the socket of the connection the
    request is using (``attach``, called by the connection as it sends), which makes the
    blocked read return at once.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = threading.Event()
        self._lock = threading.Lock()
        self._conn = None
        self._done = False
        self._started = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def attach(self, conn) -> None:
        """The urllib3 connection the request is on now (each redirect hop may take another).
        The first attach starts the clock: the wait for a pacing slot, before it, is not the
        server's time."""
        with self._lock:
            self._conn = conn
            if not self._started and not self._done:
                self._started = True
                self._timer.start()
        if self.fired.is_set():
            _shutdown_socket(getattr(conn, "sock", None))

    def _fire(self) -> None:
        with self._lock:
            if self._done:  # the request ended as the timer fired: its connection is pooled
                return
            self.fired.set()
            conn = self._conn
        _shutdown_socket(getattr(conn, "sock", None))

    def cancel(self) -> None:
        """The request is over (answered or failed): the deadline no longer applies."""
        with self._lock:
            self._done = True
            self._timer.cancel()


def _shutdown_socket(sock) -> None:
    """Shut a socket down from another thread (a blocked recv in its owner returns at once)."""
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class DeadlineExceeded(FetchError):
    """No complete answer within the request deadline (-> ``failed``; not retried: a server
    that trickles once trickles again, and each try would cost the whole deadline)."""

    status = "failed"


def read_body(
    resp: requests.Response,
    limit: int,
    *,
    source: str = "http",
    deadline: Deadline | None = None,
) -> bytes:
    """Read a streamed response's body, refusing it past ``limit`` bytes (after decoding).

    A declared ``Content-Length`` over the cap is refused before reading a byte; otherwise the
    body is read in BODY_CHUNK pieces and the connection dropped as soon as the total passes the
    cap, so memory stays within about ``limit`` plus one chunk whatever the server sends.
    The body is stored on the response, so ``resp.text`` / ``resp.content`` work afterwards.
    When ``deadline`` fires during the read (it shuts the socket down), DeadlineExceeded.
    """
    declared = resp.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        resp.close()
        raise ResponseTooLarge(
            f"{source}: response body refused: Content-Length {int(declared):,} bytes is over "
            f"the {limit:,}-byte cap",
            http_status=resp.status_code,
        )
    chunks: list[bytes] = []
    total = 0
    cut = deadline.fired if deadline is not None else threading.Event()
    try:
        for chunk in resp.iter_content(chunk_size=BODY_CHUNK):
            total += len(chunk)
            if total > limit:
                resp.close()
                raise ResponseTooLarge(
                    f"{source}: response body refused: over the {limit:,}-byte cap "
                    f"(stopped reading at {total:,} bytes)",
                    http_status=resp.status_code,
                )
            chunks.append(chunk)
            if cut.is_set():
                break
    except Exception:
        if not cut.is_set():
            raise
    if cut.is_set():
        resp.close()
        raise DeadlineExceeded(
            f"{source}: body still arriving at the {deadline.seconds:g} s request deadline "
            f"({total:,} bytes read; ENRICH_REQUEST_DEADLINE)",
            http_status=resp.status_code,
        )
    body = b"".join(chunks)
    del chunks
    resp._content = body  # what requests itself does once a streamed body is consumed
    resp._content_consumed = True
    return body


def reset_host_state() -> None:
    """Forget every limiter, gate and unreachable mark (tests; a long-lived process at midnight)."""
    with _REGISTRY_LOCK:
        _LIMITERS.clear()
        _GATES.clear()
        _HOSTS.clear()


# -- answers and body checks ---------------------------------------------------------------------


class TransientBody(Exception):
    """Raised by a ``check`` callback: a 200 whose body is an error page or truncated."""


@dataclass(frozen=True)
class HttpAnswer:
    """A final HTTP answer. ``url`` is redacted; ``redirects`` are the statuses followed (e.g. (301,))."""

    status: int
    url: str
    headers: Mapping[str, str]
    content_type: str
    text: str
    attempts: int
    redirects: tuple[int, ...] = field(default=())
    _parsed: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def json(self) -> Any:
        """The body parsed as JSON (raises as ``json.loads``), parsed once however many checks
        and readers ask: a 100-work OpenAlex page was parsed three times before normalising."""
        if "json" not in self._parsed:
            self._parsed["json"] = json.loads(self.text)
        return self._parsed["json"]


def looks_like_html(answer: HttpAnswer) -> bool:
    """True for an HTML page (a maintenance or rate-limit page served with 200).

    The body decides first: one that starts like HTML is HTML whatever its type says, and one
    that starts like JSON (``{``/``[``) or declares itself XML (``<?xml``) is not HTML even when a
    misconfigured server labels it ``text/html``. Otherwise the Content-Type decides.
    """
    head = answer.text.lstrip("\ufeff \t\r\n")[:200].lower()
    if head.startswith(("<!doctype html", "<html")):
        return True
    if head.startswith(("{", "[", "<?xml")):
        return False
    return "text/html" in answer.content_type.lower()


def check_json(answer: HttpAnswer) -> None:
    """Raise TransientBody unless the body is complete JSON (not HTML, not cut short).

    e.g. ``<html><body><h1>503 Service Unavailable</h1>...`` or ``{"meta": {"count": 2}, "resu``.
    """
    if looks_like_html(answer):
        raise TransientBody(f"HTML page instead of JSON ({answer.content_type or 'no type'})")
    try:
        answer.json()
    except json.JSONDecodeError as exc:
        raise TransientBody(f"truncated or invalid JSON: {exc.msg} at char {exc.pos}") from None
    except ValueError as exc:  # e.g. an integer literal over Python's 4,300-digit limit
        raise TransientBody(f"invalid JSON: {' '.join(str(exc).split())[:120]}") from None
    except RecursionError:
        raise TransientBody("invalid JSON: nested too deeply to parse") from None


def check_xml(answer: HttpAnswer) -> None:
    """Raise TransientBody unless the body is well-formed XML (not HTML, not cut short).

    e.g. ``<PubmedArticleSet><PubmedArticle><MedlineCitation>`` (truncated) is transient.
    """
    if looks_like_html(answer):
        raise TransientBody(f"HTML page instead of XML ({answer.content_type or 'no type'})")
    try:
        SafeET.fromstring(answer.text.encode("utf-8", "surrogatepass"))
    except SafeET.ParseError as exc:
        raise TransientBody(f"truncated or invalid XML: {exc}") from None
    except DefusedXmlException as exc:
        raise TransientBody(f"XML refused: {xml_refusal(exc)}") from None


def xml_refusal(exc: DefusedXmlException) -> str:
    """A one-line reason for a body defusedxml refused: entity declarations (billion laughs)
    or references to external entities / DTDs are never expanded or fetched."""
    name = type(exc).__name__
    if name == "EntitiesForbidden":
        return "it declares XML entities (entity expansion is forbidden: billion-laughs guard)"
    if name == "ExternalReferenceForbidden":
        return "it references an external entity or DTD (never fetched)"
    if name == "DTDForbidden":
        return "it carries a DTD (forbidden)"
    return f"{name}: {' '.join(str(exc).split())[:120]}"


# -- retry plumbing --------------------------------------------------------------------------------


class _Transient(Exception):
    """One failed attempt that may be retried (internal to SourceHttp)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.retry_after = retry_after
        self.unreachable = unreachable


_REASONS = (
    ("NameResolution", "name resolution failed"),
    ("Name or service not known", "name resolution failed"),
    ("Connection refused", "connection refused"),
    ("ConnectTimeout", "connect timeout"),
    ("Read timed out", "read timeout"),
    ("Connection reset", "connection reset"),
    ("RemoteDisconnected", "connection closed without an answer"),
    ("IncompleteRead", "body cut short"),
    ("InvalidChunkLength", "body cut short"),
)


def transport_reason(exc: BaseException) -> str:
    """A short, URL-free reason for a transport error, e.g. ``ConnectionError: connection refused``.

    requests' own messages repeat the whole URL (with its query) several times; the URL is
    logged once beside the reason instead.
    """
    text = f"{type(exc).__name__} {exc!r} {exc}"
    for needle, reason in _REASONS:
        if needle in text:
            return f"{type(exc).__name__}: {reason}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else 'no detail'}"


def _short_url(url: str, limit: int = 160) -> str:
    return url if len(url) <= limit else url[: limit - 3] + "..."


def _is_unreachable(exc: BaseException) -> bool:
    """Connection refused, DNS failure or connect timeout: the host was never reached.

    requests wraps these as ConnectionError(MaxRetryError(reason=NewConnectionError(...))); a reset
    mid-answer (ProtocolError, ChunkedEncodingError) is a different, transient fault.
    """
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        e = todo.pop()
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, NewConnectionError | ConnectionRefusedError | socket.gaierror):
            return True
        todo.extend([*e.args, getattr(e, "reason", None), e.__cause__, e.__context__])
    return False


_TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

_INTERVAL_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def advertised_rate(headers: Mapping[str, str]) -> float | None:
    """Crossref's ``x-rate-limit-limit: 10`` / ``x-rate-limit-interval: 1s`` -> 10.0 req/s."""
    limit, interval = headers.get("x-rate-limit-limit"), headers.get("x-rate-limit-interval")
    if not limit or not interval:
        return None
    m = _INTERVAL_RE.match(interval)
    try:
        n = float(limit)
    except ValueError:
        return None
    if m is None or n <= 0:
        return None
    seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    return n / seconds if seconds > 0 else None


@dataclass(frozen=True)
class _Request:
    """One logical request (retried as a whole); ``url`` carries the encoded query."""

    method: str
    url: str
    form: list[tuple[str, str]] | None
    check: Callable[[HttpAnswer], None] | None
    secret_params: dict[str, str]
    bucket: str
    headers: Mapping[str, str] | None


# -- the client ------------------------------------------------------------------------------------


class SourceHttp:
    """HTTP for one source: a requests.Session with timeouts, a User-Agent with mailto, pacing
    shared by every thread of the process (one limiter per host and bucket), and retries.

    Args:
        source: "openalex" | "crossref" | "pubmed" (used in errors and logs).
        settings: timeouts, attempts, Retry-After cap, User-Agent, secrets to redact.
        rate: requests per second for the default bucket of this host.
        concurrency: at most this many requests in flight to this host (None: unlimited).
        retry_statuses: statuses retried (default 429, 502, 503, 504; add 500 per source).
        classify_429: optional callback(response) -> Exception | None; returning an exception
            (e.g. BudgetExhausted) stops retrying and raises it.
        session: injected requests.Session (tests); one is made otherwise.
        bucket_rates: rates of further buckets, e.g. ``{"list": 3.0}`` for Crossref lists.
        adapt_rate_headers: follow ``x-rate-limit-limit``/``-interval`` (per bucket) and
            ``x-concurrency-limit`` (per host) from every answer, as Crossref asks (api-notes 2.2).
        host_key: pace several hosts as one (NCBI's limit is per IP across E-utilities and the
            PMC converter); default: each URL's own host.
        is_transient: optional callback(response) -> bool for a status outside
            ``retry_statuses`` that is sometimes transient (OpenAlex documents a 403 "rate limit
            exceeded; slow down" beside its 403 for bad parameters); True retries it like a 503.
        max_body_bytes: refuse bodies larger than this (default: the module's MAX_BODY_BYTES,
            read at request time); a refused body raises ResponseTooLarge (-> ``failed``).
        deadline: the most a request may take, from before it connects to its last byte,
            redirects included (default ``settings.request_deadline``, ENRICH_REQUEST_DEADLINE,
            120 s); past it the request is cut and DeadlineExceeded raised (-> ``failed``).
        window_429: a 429 without Retry-After means "over the per-second window" (NCBI's does,
            api-notes 3.1): its first retry waits only for the limiter, not a backoff.

    ``get``/``post`` return an HttpAnswer for any non-retryable status (200, 301 followed, 400, 404...);
    they raise RetriesExhausted, Deferred, BudgetExhausted or Unreachable otherwise.
    ``check(answer)`` may raise TransientBody for an error inside a 200; it is retried like a 503.
    ``secret_params`` are sent but never appear in ``answer.url``. ``bucket`` picks a second
    limiter on the same host (Crossref "list" queries are paced apart from singletons).
    """

    def __init__(
        self,
        source: str,
        settings: Settings,
        *,
        rate: float,
        concurrency: int | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        classify_429: Callable[[requests.Response], Exception | None] | None = None,
        session: requests.Session | None = None,
        bucket_rates: Mapping[str, float] | None = None,
        adapt_rate_headers: bool = False,
        host_key: str | None = None,
        is_transient: Callable[[requests.Response], bool] | None = None,
        max_body_bytes: int | None = None,
        deadline: float | None = None,
        window_429: bool = False,
    ) -> None:
        self.source = source
        self.window_429 = window_429
        self.max_body_bytes = max_body_bytes
        self.deadline = deadline
        _KNOWN_SECRETS.update(settings.secrets)
        self.settings = settings
        self.rate = rate
        self.concurrency = concurrency
        self.retry_statuses = frozenset(retry_statuses)
        self.classify_429 = classify_429
        self.session = session or requests.Session()
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, PacedAdapter())
        self.session.headers["User-Agent"] = settings.user_agent
        self.bucket_rates = {"default": rate, **(bucket_rates or {})}
        self.adapt_rate_headers = adapt_rate_headers
        self.host_key = host_key
        self.is_transient = is_transient
        self._lock = threading.Lock()
        self._requests_made = 0

    @property
    def requests_made(self) -> int:
        """Every request sent by this object, retries included (thread-safe)."""
        with self._lock:
            return self._requests_made

    def get(
        self,
        url: str,
        params: Params = None,
        *,
        check: Callable[[HttpAnswer], None] | None = None,
        secret_params: Mapping[str, str] | None = None,
        bucket: str = "default",
        headers: Mapping[str, str] | None = None,
    ) -> HttpAnswer:
        """GET with pacing and retries. Query values are encoded once (``encode_query``)."""
        items = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        items += list((secret_params or {}).items())
        secret = dict(secret_params or {})
        return self._send(
            _Request("GET", build_url(url, items), None, check, secret, bucket, headers)
        )

    def post(
        self,
        url: str,
        data: Params,
        *,
        check: Callable[[HttpAnswer], None] | None = None,
        secret_params: Mapping[str, str] | None = None,
        bucket: str = "default",
        headers: Mapping[str, str] | None = None,
    ) -> HttpAnswer:
        """POST a form body (used for NCBI lists above 200 ids) with pacing and retries."""
        form = list(data.items()) if isinstance(data, Mapping) else list(data or [])
        form += list((secret_params or {}).items())
        secret = dict(secret_params or {})
        return self._send(_Request("POST", url, form, check, secret, bucket, headers))

    # -- internals -----------------------------------------------------------------------------

    def _secrets(self, secret_params: Mapping[str, str]) -> tuple[str, ...]:
        return (*self.settings.secrets, *(v for v in secret_params.values() if v))

    def _redact(self, url: str, req: _Request) -> str:
        return redact_url(url, self._secrets(req.secret_params), names=list(req.secret_params))

    def _send(self, req: _Request) -> HttpAnswer:
        host = host_of(req.url)
        state = host_state(host)
        safe_url = self._redact(req.url, req)
        if state.down:
            raise Unreachable(f"{self.source}: {host} was unreachable earlier in this run")
        counter = [0]

        def attempt() -> HttpAnswer:
            counter[0] += 1
            return self._attempt(req, counter[0])

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            stop=lambda rs: self._should_stop(rs, state),
            wait=lambda rs: self._wait_for(rs, state),
            sleep=lambda seconds: sleep(seconds),  # looked up at call time: tests record it
            before_sleep=lambda rs: self._log_retry(rs, safe_url),
            reraise=True,
        )
        try:
            return retrying(attempt)
        except _Transient as last:
            # an unreachable host is reported once by the caller's summary, not per request
            log.log(
                logging.DEBUG if last.unreachable else logging.WARNING,
                "%s: giving up after %d attempts (%s): %s",
                self.source,
                counter[0],
                last,
                _short_url(safe_url),
            )
            if last.unreachable:
                state.down = True
                raise Unreachable(
                    f"{self.source}: cannot reach {host} ({last})", attempts=counter[0]
                ) from None
            raise RetriesExhausted(
                f"{self.source}: {last} after {counter[0]} attempts",
                http_status=last.http_status,
                attempts=counter[0],
            ) from None

    def _should_stop(self, rs: tenacity.RetryCallState, state: HostState) -> bool:
        exc = rs.outcome.exception() if rs.outcome else None
        if rs.attempt_number >= self.settings.max_attempts or state.down:
            return True
        fast_fail = isinstance(exc, _Transient) and exc.unreachable and not state.answered
        return fast_fail and rs.attempt_number >= UNREACHABLE_ATTEMPTS

    def _wait_for(self, rs: tenacity.RetryCallState, state: HostState) -> float:
        exc = rs.outcome.exception() if rs.outcome else None
        if isinstance(exc, _Transient):
            if exc.unreachable and not state.answered:
                return UNREACHABLE_RETRY_DELAY
            if exc.retry_after is not None:
                return max(exc.retry_after, BACKOFF_FLOOR)
            if exc.http_status == 429 and self.window_429 and rs.attempt_number == 1:
                # A bounce off the per-second window: the limiter, its margin now widened, already
                # waits until the window has room. A backoff on top cost ~1 s per bounce, 8% of a
                # 2,000-id run (bench enrich). A second 429 in a row backs off.
                return 0.0
        return backoff_delay(rs.attempt_number, cap=self.settings.max_backoff)

    def _log_retry(self, rs: tenacity.RetryCallState, safe_url: str) -> None:
        exc = rs.outcome.exception() if rs.outcome else None
        wait = rs.next_action.sleep if rs.next_action else 0.0
        unreachable = isinstance(exc, _Transient) and exc.unreachable
        log.log(
            logging.DEBUG if unreachable else logging.INFO,
            "%s: attempt %d failed (%s); retrying in %.2fs: %s",
            self.source,
            rs.attempt_number,
            exc,
            wait,
            _short_url(safe_url),
        )

    def pace_key(self, host: str) -> str:
        """The registry key pacing ``host``: ``host_key`` if given, else ``source@host``.

        The source is part of the key so that sources never share a limit by accident when a
        loopback fake API serves them all from one host:port; real sources never share a host.
        """
        return self.host_key or f"{self.source}@{host}"

    def _limiter(self, host: str, bucket: str) -> RateLimiter:
        rate = self.bucket_rates.get(bucket, self.rate)
        return limiter_for(self.pace_key(host), bucket, rate)

    def _attempt(self, req: _Request, n: int) -> HttpAnswer:
        host, bucket = host_of(req.url), req.bucket
        gate = gate_for(self.pace_key(host), self.concurrency) if self.concurrency else None
        with gate if gate is not None else contextlib.nullcontext():
            _PACING.limiter = self._limiter(host, bucket)
            with self._lock:
                self._requests_made += 1
            deadline = _PACING.deadline = Deadline(self._deadline_seconds())
            try:
                resp = self._follow(req, n)
                # read inside the gate: the body is part of the request
                read_body(resp, self._body_limit(), source=self.source, deadline=deadline)
                text = decode_body(resp)
            except (ResponseTooLarge, DeadlineExceeded) as exc:
                exc.attempts = n
                log.warning("%s (%s)", exc, _short_url(self._redact(req.url, req)))
                raise
            except FetchError:
                raise
            except Exception as exc:
                raise self._transport_fault(req, exc, deadline, n) from None
            finally:
                _PACING.limiter = None  # unused when the request failed before sending
                _PACING.deadline = None
                deadline.cancel()
        host_state(host).answered = True
        self._adapt(resp, host, bucket, gate)
        return self._judge(req, resp, text, n)

    def _follow(self, req: _Request, n: int) -> requests.Response:
        """Send ``req``, following redirects only within its own scheme and host:port.

        OpenAlex answers 301 for a merged work, to the surviving work on the same host; that is
        followed. A redirect to any other host is not: the request carries the API key
        (``api_key=``, or Location echoing the query) and the user's contact address
        (``mailto=``, ``email=``, the User-Agent), and none of them may reach another host. It
        is ``failed`` (not retried, not ``not_found``), with both URLs, secrets removed.
        """
        method, url, data = req.method, req.url, req.form
        origin, history = _origin(req.url), []
        while True:
            resp = self.session.request(
                method,
                url,
                data=data,
                headers=dict(req.headers) if req.headers else None,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                stream=True,  # read_body enforces the size cap while reading
                allow_redirects=False,
            )
            if not resp.is_redirect:
                resp.history = history
                return resp
            status, location = resp.status_code, self.session.get_redirect_target(resp) or ""
            target = requote_uri(urljoin(resp.url, location))
            resp.close()
            if _origin(target) != origin:
                raise FetchError(
                    f"{self.source}: HTTP {status} redirect to another host not followed: "
                    f"{self._redact(url, req)} -> {self._redact(target, req)}",
                    http_status=status,
                    attempts=n,
                )
            history.append(resp)
            if len(history) > self.session.max_redirects:
                raise FetchError(
                    f"{self.source}: redirect loop (more than {self.session.max_redirects} "
                    "redirects)",
                    http_status=status,
                    attempts=n,
                )
            if status == 303 or (status in (301, 302) and method == "POST"):
                method, data = "GET", None  # what browsers and requests do
            url = target

    def _transport_fault(
        self, req: _Request, exc: Exception, deadline: Deadline, n: int
    ) -> Exception:
        """The error a failed send becomes: DeadlineExceeded when the deadline cut it, a
        retryable fault for a transport error (naming both URLs when it came after a
        redirect: never "unreachable", the host answered), else ``exc`` itself."""
        if deadline.fired.is_set():
            fault = DeadlineExceeded(
                f"{self.source}: no complete answer within the {deadline.seconds:g} s request "
                "deadline (ENRICH_REQUEST_DEADLINE)",
                attempts=n,
            )
            log.warning("%s (%s)", fault, _short_url(self._redact(req.url, req)))
            return fault
        if not isinstance(exc, _TRANSPORT_ERRORS):
            return exc
        message = redact_text(transport_reason(exc), self._secrets(req.secret_params))
        hop = getattr(getattr(exc, "request", None), "url", None)
        if hop and _origin(hop) == _origin(req.url) and hop != req.url:
            return _Transient(
                f"{message} after a redirect from {self._redact(req.url, req)} to "
                f"{self._redact(hop, req)}"
            )
        return _Transient(message, unreachable=_is_unreachable(exc))

    def _body_limit(self) -> int:
        return self.max_body_bytes if self.max_body_bytes is not None else MAX_BODY_BYTES

    def _deadline_seconds(self) -> float:
        return self.deadline if self.deadline is not None else self.settings.request_deadline

    def _adapt(self, resp: requests.Response, host: str, bucket: str, gate) -> None:
        if not self.adapt_rate_headers:
            return
        rate = advertised_rate(resp.headers)
        limiter = self._limiter(host, bucket)
        if rate is not None and abs(rate - limiter.rate) > 1e-9:
            log.info("%s: %s/%s now paced at %.3g req/s (server)", self.source, host, bucket, rate)
            limiter.set_rate(rate)
        conc = resp.headers.get("x-concurrency-limit", "")
        if gate is not None and conc.strip().isdigit() and int(conc) != gate.limit:
            gate.resize(int(conc))

    def _judge(self, req: _Request, resp: requests.Response, text: str, n: int) -> HttpAnswer:
        status = resp.status_code
        limiter = self._limiter(host_of(req.url), req.bucket)
        if status == 429:
            limiter.widen()
        else:
            limiter.calm()
        if status == 429 and self.classify_429 is not None:
            verdict = self.classify_429(resp)
            if verdict is not None:
                if isinstance(verdict, FetchError):
                    verdict.attempts = n
                    verdict.http_status = status
                raise verdict
        transient = status != 200 and self.is_transient is not None and self.is_transient(resp)
        if status in self.retry_statuses or transient:
            self._raise_status(status, resp.headers.get("Retry-After"), n)
        if status == 404 and resp.history:
            # a 404 of the URL we were sent to says nothing about the identifier asked
            raise FetchError(
                f"{self.source}: HTTP 404 after a redirect from {self._redact(req.url, req)} "
                f"to {self._redact(resp.url, req)}",
                http_status=404,
                attempts=n,
            )
        answer = HttpAnswer(
            status=status,
            url=self._redact(resp.url, req),
            headers=dict(resp.headers),
            content_type=resp.headers.get("Content-Type", ""),
            text=text,
            attempts=n,
            redirects=tuple(r.status_code for r in resp.history),
        )
        if req.check is not None and status == 200:
            try:
                req.check(answer)
            except TransientBody as exc:
                raise _Transient(f"HTTP 200 with {exc}", http_status=200) from None
            except DefusedXmlException as exc:  # (a ValueError: must come first)
                raise _Transient(
                    f"HTTP 200 with XML refused: {xml_refusal(exc)}", http_status=200
                ) from None
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
                # a check that trips over a hostile body must not take the whole run down
                detail = " ".join(str(exc).split())[:120] or "no detail"
                raise _Transient(
                    f"HTTP 200 with an unusable body ({type(exc).__name__}: {detail})",
                    http_status=200,
                ) from None
        return answer

    def _raise_status(self, status: int, retry_after_header: str | None, n: int) -> None:
        wait = retry_after_seconds(retry_after_header)
        if wait is not None and wait > self.settings.max_retry_after:
            raise Deferred(
                f"{self.source}: HTTP {status} asks to retry after {wait:.0f}s "
                f"(over the {self.settings.max_retry_after:.0f}s cap)",
                retry_after=wait,
                http_status=status,
                attempts=n,
            )
        raise _Transient(f"HTTP {status}", http_status=status, retry_after=wait)
