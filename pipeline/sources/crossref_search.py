"""Crossref's bibliographic search: candidate works for one reference string.

Request (CR-doc "Queries", "Field queries"; api-notes section 2):
``GET /works?query.bibliographic=<string>&rows=5&select=DOI,title,...&mailto=...``.
``query.bibliographic`` searches titles, authors, ISSNs and publication years together and is
the field Crossref recommends for citation look-ups; ``rows=5`` because a right answer below the
fifth is rare and every extra item is bytes to read; ``select`` asks only for the fields
validation reads (``score`` included: Crossref lists it among the selectable fields).

Pacing: a search is a list query, so it shares the Crossref client's "list" bucket (polite pool
3/s, public 1/s, adapted from ``x-rate-limit-*``), retries and 429 semantics (``SourceHttp``).
A 429/5xx/timeout that outlasts the retries is a fault (``SearchFault``), never "nothing found".

The answer: ``{"status": "ok", "message-type": "work-list", "message": {"items": [{"DOI":
"10.1111/ele.14024", "score": 35.3, "title": ["The forecast trap"], "author": [{"family":
"Boettiger", ...}], "issued": {"date-parts": [[2022, 5, 30]]}, ...}]}}`` (habanero's recorded
answers). An item without a DOI, a title or with HTML in its title is read field by field: an odd
field costs that field, never the search.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass

from pipeline.config import Settings
from pipeline.errors import FetchError
from pipeline.http import HttpAnswer, SourceHttp, TransientBody, check_json
from pipeline.records import Candidate
from pipeline.sources.crossref import LIST_BUCKET, CrossrefClient

log = logging.getLogger(__name__)

ROWS = 5
SELECT = (
    "DOI,title,author,editor,issued,published-print,published-online,container-title,"
    "short-container-title,volume,issue,page,type,score"
)
# A search answer of 5 selected items is a few kB; 1 MiB is a broken or hostile server.
MAX_SEARCH_BYTES = 1 << 20
_TAG = re.compile(r"<[^>]{0,200}>")


@dataclass(frozen=True, slots=True)
class SearchAnswer:
    """Candidates for one string, the request's URL (no secrets) and the body as received."""

    candidates: tuple[Candidate, ...]
    url: str
    body: str
    requests: int


class SearchFault(Exception):
    """The search could not be answered (after retries): ``status`` failed or pending."""

    def __init__(self, message: str, *, status: str, http_status: int | None, requests: int):
        super().__init__(message)
        self.status = status
        self.http_status = http_status
        self.requests = requests


def check_search(answer: HttpAnswer) -> None:
    """A 200 search must be ``{"message": {"items": [...]}}``, else TransientBody (retried)."""
    check_json(answer)
    body = answer.json()
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("items"), list):
        raise TransientBody("a 200 search answer without message.items[]")


class CrossrefSearch:
    """``query.bibliographic`` searches, paced and retried as Crossref list queries."""

    def __init__(self, settings: Settings, *, http: SourceHttp | None = None) -> None:
        self.base = settings.crossref_url.rstrip("/")
        if http is None:
            http = CrossrefClient._make_http(settings)
            http.max_body_bytes = MAX_SEARCH_BYTES
        self.http = http
        self._polite = [("mailto", settings.mailto)] if settings.mailto else []

    def search(self, query: str, *, rows: int = ROWS) -> SearchAnswer:
        """Candidates for ``query``, best first as Crossref ranks them. Raises SearchFault."""
        params = [("query.bibliographic", query), ("rows", str(rows)), ("select", SELECT)]
        try:
            answer = self.http.get(
                f"{self.base}/works", params + self._polite, check=check_search, bucket=LIST_BUCKET
            )
        except FetchError as exc:
            raise SearchFault(
                str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                status=exc.status,
                http_status=exc.http_status,
                requests=exc.attempts,
            ) from None
        made = answer.attempts  # this request's own attempts (threads share the session)
        if answer.status != 200:
            raise SearchFault(
                f"crossref search: HTTP {answer.status}",
                status="failed",
                http_status=answer.status,
                requests=made,
            )
        items = answer.json()["message"]["items"]
        candidates = tuple(c for c in (candidate_from_item(i) for i in items) if c is not None)
        return SearchAnswer(candidates, answer.url, answer.text, made)


def candidate_from_item(item: object) -> Candidate | None:
    """One ``message.items[]`` entry as a Candidate; None when it names no DOI."""
    if not isinstance(item, dict):
        return None
    doi = item.get("DOI")  # as sent: a SICI DOI's "<...>" is part of it, not markup
    if not isinstance(doi, str) or not doi.strip():
        return None
    people = item.get("author") or item.get("editor") or []
    return Candidate(
        source="crossref",
        doi=doi.strip().lower(),
        title=_first(item.get("title")),
        authors=tuple(n for n in (_family(p) for p in _list(people)) if n),
        years=_years(item),
        containers=tuple(
            dict.fromkeys(
                t
                for key in ("container-title", "short-container-title")
                for t in (_text(v) for v in _list(item.get(key)))
                if t
            )
        ),  # fmt: skip
        volume=_text(item.get("volume")),
        issue=_text(item.get("issue")),
        page=_text(item.get("page")),
        type=_text(item.get("type")),
        score=_number(item.get("score")),
    )


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _text(value: object) -> str | None:
    """A string field without HTML (``<i>``, ``<sub>``, entities), on one line; else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    clean = " ".join(html.unescape(_TAG.sub("", value)).split())
    return clean or None


def _first(value: object) -> str | None:
    for v in _list(value):
        t = _text(v)
        if t:
            return t
    return _text(value)


def _family(person: object) -> str | None:
    if not isinstance(person, dict):
        return None
    return _text(person.get("family")) or _text(person.get("name"))


def _years(item: dict) -> tuple[int, ...]:
    out: list[int] = []
    for key in ("issued", "published-print", "published-online"):
        parts = item.get(key, {}).get("date-parts") if isinstance(item.get(key), dict) else None
        try:
            year = int(parts[0][0])
        except (TypeError, ValueError, IndexError, KeyError):
            continue
        if 1000 < year < 3000 and year not in out:
            out.append(year)
    return tuple(out)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None
