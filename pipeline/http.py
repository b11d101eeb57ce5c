"""The one HTTP layer for every source: sessions, timeouts, pacing, retries, redaction, sleeping.

INTERFACE SKELETON (v0): the public names and signatures below are the agreed interface that the
source clients code against. The bodies are minimal (no retries, no pacing) until the HTTP layer
is built out; keep the signatures stable.

Public API
----------
- ``sleep(seconds)``: the only place this project sleeps. Tests monkeypatch ``pipeline.http.sleep``
  to record the schedule instead of sleeping.
- ``redact_url(url, secrets)``: the URL with secret query values removed.
- ``HttpAnswer``: one final answer (after retries/redirects).
- ``TransientBody``: raised by a ``check`` callback to say "this 200 is really a server error".
- ``SourceHttp(source, settings, ...)``: one per source; ``.get()`` / ``.post()``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests

from pipeline.config import Settings
from pipeline.errors import RetriesExhausted, Unreachable

Params = Mapping[str, str] | Sequence[tuple[str, str]] | None


def sleep(seconds: float) -> None:
    """Sleep through the project's one seam (tests replace this to record instead)."""
    if seconds > 0:
        time.sleep(seconds)


SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token"})


def redact_url(url: str, secrets: Sequence[str] = ()) -> str:
    """Drop secret query parameters (api_key, token, ...) and any literal secret value from a URL."""
    parts = urlsplit(url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SECRET_PARAMS
    ]
    out = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe=":/|,*"), ""))
    for s in secrets:
        if s:
            out = out.replace(s, "REDACTED")
    return out


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
        retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504}),
        classify_429: Callable[[requests.Response], Exception | None] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.rate = rate
        self.concurrency = concurrency
        self.retry_statuses = retry_statuses
        self.classify_429 = classify_429
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self._lock = threading.Lock()
        self.requests_made = 0  # every request sent, retries included

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
        """GET with pacing and retries."""
        return self._send(
            "GET",
            url,
            params=params,
            data=None,
            check=check,
            secret_params=secret_params,
            bucket=bucket,
            headers=headers,
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
        return self._send(
            "POST",
            url,
            params=None,
            data=data,
            check=check,
            secret_params=secret_params,
            bucket=bucket,
            headers=headers,
        )

    # -- skeleton body: one attempt, no pacing (replaced by the real layer) -------------------
    def _send(self, method, url, *, params, data, check, secret_params, bucket, headers):
        params = list(params.items()) if isinstance(params, Mapping) else list(params or [])
        if secret_params:
            if data is not None:
                data = (list(data.items()) if isinstance(data, Mapping) else list(data)) + list(
                    secret_params.items()
                )
            else:
                params += list(secret_params.items())
        with self._lock:
            self.requests_made += 1
        try:
            resp = self.session.request(
                method,
                url,
                params=params or None,
                data=data,
                headers=headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            )
        except requests.ConnectionError as exc:
            raise Unreachable(f"{self.source}: {type(exc).__name__}", attempts=1) from None
        answer = HttpAnswer(
            status=resp.status_code,
            url=redact_url(resp.url, self.settings.secrets),
            headers=dict(resp.headers),
            content_type=resp.headers.get("Content-Type", ""),
            text=resp.text,
            attempts=1,
            redirects=tuple(r.status_code for r in resp.history),
        )
        if resp.status_code in self.retry_statuses:
            raise RetriesExhausted(
                f"{self.source}: HTTP {resp.status_code}", http_status=resp.status_code, attempts=1
            )
        if check is not None and resp.status_code == 200:
            check(answer)
        return answer
