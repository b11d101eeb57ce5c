"""Fake Crossref REST API: ``/works/{doi}`` and ``/works?filter=doi:…,doi:…``.

Message fields follow CrossRef/rest-api-doc ``api_format.md``; errors, pools and headers follow
../shared/docs/api-notes.md section 2 (404 ``Resource not found.``, HTML 429, x-rate-limit-*).
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

from demo.fakeapi.catalog import (
    Author,
    Catalog,
    FakeUpdate,
    FakeWork,
    inline_markup,
    normalise_doi,
    strip_markup,
)
from demo.fakeapi.reply import HTML, Reply, Request, json_reply, text_reply
from demo.fakeapi.search import BibliographicIndex

MAX_ROWS = 1000  # CR-doc
_INDEXED = datetime(2026, 11, 20, 3, 14, 15, tzinfo=UTC)
_LICENSE_URLS = {
    "cc-by": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-nc": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc-by-nc-nd": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
}
_FILTER_PART = re.compile(r"^([a-z][a-z0-9-]*):(.*)$", re.S)
TOO_MANY_HTML = (
    "<html><head><title>429 Too Many Requests</title></head><body>"
    "<h1>Too Many Requests</h1><p>You have sent too many requests in a given amount of time.</p>"
    "</body></html>"
)


def not_found() -> Reply:
    """Crossref's 404: a plain-text body, not JSON (rest-api-doc#486)."""
    return text_reply(404, "Resource not found.")


def too_many_requests(retry_after: float | None = None) -> Reply:
    """Crossref's 429 comes as an HTML page (rest-api-doc#159, #237)."""
    reply = text_reply(429, TOO_MANY_HTML, HTML)
    if retry_after is not None:
        reply.headers["Retry-After"] = str(int(retry_after))
    return reply


def _validation_failure(kind: str, value: str, message: str) -> Reply:
    return json_reply(
        400,
        {
            "status": "failed",
            "message-type": "validation-failure",
            "message": [{"type": kind, "value": value, "message": message}],
        },
    )


# ---------------------------------------------------------------------------------------------
# The work message
# ---------------------------------------------------------------------------------------------


def _date_parts(iso: str, precision: int = 3) -> dict:
    parts = [int(p) for p in iso.split("-")[:precision]]
    return {"date-parts": [parts]}


def _stamp(when: datetime) -> dict:
    return {
        "date-parts": [[when.year, when.month, when.day]],
        "date-time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timestamp": int(when.timestamp() * 1000),
    }


def _jats(text: str) -> str:
    """PubMed-style inline tags -> JATS (``<i>`` -> ``<jats:italic>``), the rest escaped."""
    return inline_markup(text, {"i": "jats:italic", "sup": "jats:sup", "sub": "jats:sub"})


def jats_abstract(w: FakeWork) -> str | None:
    """The abstract as the JATS string Crossref ships (sections when the abstract is labelled)."""
    if not w.abstract:
        return None
    paragraphs = w.abstract.split("\n")
    if w.abstract_labels:
        return "".join(
            f"<jats:sec><jats:title>{label.title()}</jats:title><jats:p>{_jats(p)}</jats:p></jats:sec>"
            for label, p in zip(w.abstract_labels, paragraphs, strict=False)
        )
    body = "".join(f"<jats:p>{_jats(p)}</jats:p>" for p in paragraphs)
    return f"<jats:title>Abstract</jats:title>{body}"


def _authors(w: FakeWork) -> list[dict]:
    out = []
    for i, a in enumerate(w.authors):
        entry: dict = {}
        if a.orcid:
            entry["ORCID"] = f"https://orcid.org/{a.orcid}"
            entry["authenticated-orcid"] = i == 0
        entry.update(
            {
                "given": a.given,
                "family": a.family,
                "sequence": "first" if i == 0 else "additional",
                "affiliation": [_affiliation(a, with_ror=i % 2 == 0)] if a.affiliation else [],
            }
        )
        out.append(entry)
    return out


def _affiliation(a: Author, *, with_ror: bool) -> dict:
    """``{"name": …}``, with the publisher-asserted ROR id on some (as recent deposits have)."""
    aff: dict = {"name": a.affiliation}
    if with_ror and a.institution and a.institution.ror:
        ror = f"https://ror.org/{a.institution.ror}"
        aff["id"] = [{"id": ror, "id-type": "ROR", "asserted-by": "publisher"}]
    return aff


def _references(w: FakeWork, catalog: Catalog) -> list[dict]:
    """Deposited references: catalog works with DOI, plus one unstructured-only textbook."""
    if not w.references:
        return []
    out = []
    for n, wid in enumerate(w.references, start=1):
        ref = catalog.by_openalex(wid)
        entry: dict = {"key": f"e_1_2_8_{n + 1}_1"}
        if ref is not None and ref.doi:
            # publisher-asserted DOIs keep the depositor's case, e.g. 10.1182/BLOOD-2016-08-733196
            if n % 2:
                entry.update({"doi-asserted-by": "crossref", "DOI": ref.doi})
            else:
                entry.update({"doi-asserted-by": "publisher", "DOI": ref.doi.upper()})
        if ref is not None:
            first_page = (ref.pages or "").split("-")[0] or None
            entry.update(
                {
                    "first-page": first_page,
                    "volume": ref.volume,
                    "author": ref.authors[0].family if ref.authors else None,
                    "year": str(ref.year),
                    "journal-title": ref.venue_abbrev,
                    "article-title": ref.plain_title,
                }
            )
        out.append({k: v for k, v in entry.items() if v is not None})
    out.append(
        {
            "key": f"e_1_2_8_{len(out) + 2}_1",
            "unstructured": "Doe J. Principles of haematology. 2nd ed. Fakeville: Fake Press; 2010.",
        }
    )
    return out


def _issn_fields(w: FakeWork) -> tuple[list[str], list[dict]]:
    printed, electronic = w.issns
    types = [{"type": "print", "value": printed}] if printed else []
    if electronic:
        types.append({"type": "electronic", "value": electronic})
    return [t["value"] for t in types], types


def work_message(w: FakeWork, catalog: Catalog) -> dict:
    """One Crossref work message (``message`` of ``/works/{doi}``)."""
    refs = _references(w, catalog)
    issns, issn_types = _issn_fields(w)
    year, month = int(w.date[:4]), int(w.date[5:7] or 1)
    msg: dict = {
        "indexed": _stamp(indexed(w)),
        "reference-count": len(refs),
        "publisher": w.publisher,
        "issue": w.issue,
        "license": _license(w),
        "funder": [
            {"DOI": fundref, "name": name, "doi-asserted-by": "publisher", "award": [award]}
            for name, fundref, award in w.funders
        ],
        "content-domain": {"domain": [], "crossmark-restriction": False},
        "short-container-title": [w.venue_abbrev] if w.venue_abbrev else [],
        "published-print": {"date-parts": [[year, month]]},
        "abstract": jats_abstract(w),
        "DOI": (w.doi or "").lower(),
        "type": w.crossref_type,
        "created": _stamp(datetime.fromisoformat(w.date).replace(tzinfo=UTC)),
        "page": w.pages,
        "source": "Crossref",
        "is-referenced-by-count": w.cited_by.crossref,
        "title": [strip_markup(w.title)] if w.title else [],
        "prefix": (w.doi or "").split("/")[0],
        "volume": w.volume,
        "author": _authors(w),
        "member": "311",
        "published-online": _date_parts(w.date),
        "reference": refs,
        "container-title": [w.venue] if w.venue else [],
        "original-title": [],
        "language": w.language,
        "deposited": _stamp(_INDEXED),
        "score": 1,
        "resource": {"primary": {"URL": f"https://example.org/doi/{w.doi}"}},
        "subtitle": [],
        "short-title": [],
        "issued": _date_parts(w.date),
        "references-count": len(refs),
        "journal-issue": {"issue": w.issue, "published-print": {"date-parts": [[year, month]]}},
        "URL": f"https://doi.org/{w.doi}",
        "alternative-id": [(w.doi or "").split("/", 1)[-1]],
        "link": [
            {
                "URL": f"https://example.org/doi/pdf/{w.doi}",
                "content-type": "unspecified",
                "content-version": "vor",
                "intended-application": "similarity-checking",
            }
        ],
        "relation": _relation(w),
        "updated-by": [_update_entry(u) for u in w.updates if u.notice_doi],
        "update-to": [
            {
                "updated": _stamp(_day(date)),
                "DOI": doi,
                "type": kind,
                "source": "publisher",
                "label": kind.replace("_", " ").capitalize(),
            }
            for kind, doi, date in w.update_to
        ],
        "ISSN": issns,
        "issn-type": issn_types,
        "subject": ["Hematology"],
        "published": _date_parts(w.date),
    }
    # Crossref omits absent fields rather than sending null (and update lists when empty)
    empty_dropped = ("reference", "updated-by", "update-to")
    return {k: v for k, v in msg.items() if v is not None and not (k in empty_dropped and not v)}


def indexed(w: FakeWork) -> datetime:
    """When Crossref last indexed the work: its last metadata change."""
    return w.last_modified


def _day(iso: str) -> datetime:
    return datetime.fromisoformat(iso[:10]).replace(tzinfo=UTC)


def _update_entry(u: FakeUpdate) -> dict:
    """One ``updated-by`` entry, as Crossref shows publisher and Retraction Watch notices."""
    entry: dict = {
        "updated": _stamp(_day(u.date)),
        "DOI": u.notice_doi,
        "type": u.kind,
        "source": u.source,
        "label": u.label,
    }
    if u.record_id:
        entry["record-id"] = u.record_id
    return entry


def _relation(w: FakeWork) -> dict:
    relation: dict = {}
    if w.preprints:
        relation["has-preprint"] = [
            {"id-type": "doi", "id": d, "asserted-by": "object"} for d in w.preprints
        ]
    if w.preprint_of:
        relation["is-preprint-of"] = [
            {"id-type": "doi", "id": d, "asserted-by": "subject"} for d in w.preprint_of
        ]
    return relation


def _license(w: FakeWork) -> list[dict]:
    if not w.license:
        return []
    start = datetime.fromisoformat(w.date).replace(tzinfo=UTC)
    return [
        {
            "start": _stamp(start),
            "content-version": "vor",
            "delay-in-days": 0,
            "URL": _LICENSE_URLS.get(w.license, "https://creativecommons.org/licenses/by/4.0/"),
        }
    ]


MESSAGE_FIELDS = frozenset(
    {
        "indexed", "reference-count", "publisher", "issue", "license", "funder", "content-domain",
        "short-container-title", "published-print", "abstract", "DOI", "type", "created", "page",
        "source", "is-referenced-by-count", "title", "prefix", "volume", "author", "member",
        "published-online", "reference", "container-title", "original-title", "language",
        "deposited", "score", "resource", "subtitle", "short-title", "issued", "references-count",
        "journal-issue", "URL", "relation", "ISSN", "issn-type", "subject", "published",
        "update-policy", "link", "alternative-id", "archive", "article-number", "assertion",
        "editor",
        "updated-by", "update-to",
    }
)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


class CrossrefApi:
    """Answers ``/crossref/...`` requests; polite pool when ``mailto`` is given."""

    source = "crossref"

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.index = BibliographicIndex(catalog)

    @staticmethod
    def is_list(req: Request) -> bool:
        """List queries (``/works?…``) have their own, lower rate limit."""
        return _route_path(req).rstrip("/") == "/works"

    def handle(self, req: Request) -> Reply:
        """Route one request and add the pool's rate-limit headers."""
        path = _route_path(req)
        if path.rstrip("/") == "/works":
            reply = self._list(req)
        elif path.startswith("/works/") and path.endswith("/agency"):
            reply = self._agency(req)
        elif path.startswith("/works/"):
            reply = self._single(req)
        else:
            reply = not_found()
        reply.headers.update(pool_headers(req, is_list=self.is_list(req)))
        return reply

    def rate_limited(self, req: Request, *, retry_after: float | None = None, **_: object) -> Reply:
        """The answer when the pool's per-second limit is exceeded."""
        reply = too_many_requests(retry_after)
        reply.headers.update(pool_headers(req, is_list=self.is_list(req)))
        return reply

    def _work(self, raw_doi: str) -> FakeWork | None:
        work = self.catalog.by_doi(raw_doi)
        return work if work is not None and work.in_crossref else None

    def _single(self, req: Request) -> Reply:
        # percent-decoded exactly once (rcrossref#254); the DOI's own slash may come unencoded
        work = self._work(_route_path(req)[len("/works/") :])
        if work is None:
            return not_found()
        return json_reply(
            200,
            {
                "status": "ok",
                "message-type": "work",
                "message-version": "1.0.0",
                "message": work_message(work, self.catalog),
            },
        )

    def _agency(self, req: Request) -> Reply:
        work = self._work(_route_path(req)[len("/works/") : -len("/agency")])
        if work is None:
            return not_found()
        return json_reply(
            200,
            {
                "status": "ok",
                "message-type": "work-agency",
                "message-version": "1.0.0",
                "message": {"DOI": work.doi, "agency": {"id": "crossref", "label": "Crossref"}},
            },
        )

    def _list(self, req: Request) -> Reply:
        fields, error = _parse_select(req.get("select"))
        if error:
            return error
        dois, dates, error = _parse_filter(req.get("filter"))
        if error:
            return error
        rows, offset, cursor, error = _paging(req)
        if error:
            return error
        query = req.get("query.bibliographic") or req.get("query")
        if query is not None:
            return self._search(query, rows, offset, fields)
        if dois is None:
            works = [w for w in self.catalog if w.in_crossref and w.doi]
        else:
            found = (self._work(d) for d in dois)
            works = sorted(
                {w.openalex_id: w for w in found if w}.values(), key=self.catalog.position
            )
        works = [w for w in works if _indexed_within(w, dates)]
        page = works[offset : offset + rows]
        items = [_select(work_message(w, self.catalog), fields) for w in page]
        message: dict = {
            "facets": {},
            "total-results": len(works),
            "items": items,
            "items-per-page": rows,
            "query": {"start-index": offset, "search-terms": None},
        }
        if cursor:
            # Crossref keeps handing out a cursor; clients stop on a short page
            message["next-cursor"] = _encode_cursor(offset + rows)
        return json_reply(
            200,
            {
                "status": "ok",
                "message-type": "work-list",
                "message-version": "1.0.0",
                "message": message,
            },
        )

    def _search(self, query: str, rows: int, offset: int, fields: list[str] | None) -> Reply:
        """``query.bibliographic``: works ranked by relevance, each item with its ``score``."""
        found = self.index.search(query, offset + rows)[offset:]
        items = []
        for work, score in found:
            msg = work_message(work, self.catalog)
            msg["score"] = score
            items.append(_select(msg, fields))
        message = {
            "facets": {},
            "total-results": len(found),
            "items": items,
            "items-per-page": rows,
            "query": {"start-index": offset, "search-terms": query},
        }
        return json_reply(
            200,
            {
                "status": "ok",
                "message-type": "work-list",
                "message-version": "1.0.0",
                "message": message,
            },
        )


def _route_path(req: Request) -> str:
    """The decoded path without the version prefix (``/v1/works`` is ``/works``)."""
    path = req.path
    return path[3:] if path.startswith("/v1/") else path


def is_polite(req: Request) -> bool:
    """A ``mailto`` parameter or a ``mailto:`` in the User-Agent selects the polite pool."""
    return bool(req.get("mailto")) or "mailto:" in req.headers.get("user-agent", "")


def pool_headers(req: Request, *, is_list: bool) -> dict[str, str]:
    """x-rate-limit-* as observed live since 2025-12-01 (api-notes 2.2)."""
    polite = is_polite(req)
    limit = (3 if is_list else 10) if polite else (1 if is_list else 5)
    return {
        "x-rate-limit-limit": str(limit),
        "x-rate-limit-interval": "1s",
        "x-concurrency-limit": "3" if polite else "1",
        "x-api-pool": "polite-array" if polite else "public-array",
        "Access-Control-Allow-Origin": "*",
    }


def _select(msg: dict, fields: list[str] | None) -> dict:
    return msg if fields is None else {k: v for k, v in msg.items() if k in fields}


def _parse_select(raw: str | None) -> tuple[list[str] | None, Reply | None]:
    if raw is None:
        return None, None
    fields = [f for f in raw.split(",") if f]
    for f in fields:
        if f not in MESSAGE_FIELDS:
            return None, _validation_failure(
                "select-field-not-available", f, f"Field {f} specified in select is not valid."
            )
    return fields, None


DATE_FILTERS = ("from-index-date", "until-index-date")


def _parse_filter(raw: str | None) -> tuple[list[str] | None, dict[str, str], Reply | None]:
    """``doi:A,doi:B,from-index-date:2026-11-01`` -> ``([A, B], {"from-index-date": ...})``:
    the same filter repeated is ORed, different filters are ANDed (CR-doc)."""
    if not raw:
        return None, {}, None
    dois: list[str] = []
    dates: dict[str, str] = {}
    for part in raw.split(","):
        m = _FILTER_PART.match(part)
        if m is None:
            if dois:  # a comma inside a DOI: glue it back to the previous value
                dois[-1] += "," + part
                continue
            bad = _validation_failure("filter-not-valid", part, f"Filter {part} is invalid")
            return None, {}, bad
        name, value = m.groups()
        if name in DATE_FILTERS:
            dates[name] = value
            continue
        if name != "doi":
            return (
                None,
                {},
                _validation_failure(
                    "filter-not-available",
                    name,
                    f"Filter {name} specified but there is no such filter for this route. "
                    "Valid filters for this route are: doi, " + ", ".join(DATE_FILTERS),
                ),
            )
        dois.append(normalise_doi(value))
    return (dois or None), dates, None


def _indexed_within(w: FakeWork, dates: dict[str, str]) -> bool:
    """``from-index-date``/``until-index-date``: inclusive days (CR-doc "Notes on dates")."""
    day = indexed(w).date().isoformat()
    since, until = dates.get("from-index-date"), dates.get("until-index-date")
    return (since is None or day >= since[:10]) and (until is None or day <= until[:10])


def _int(req: Request, name: str, default: int) -> int | None:
    try:
        return int(req.get(name) or default)
    except ValueError:
        return None


def _paging(req: Request) -> tuple[int, int, str | None, Reply | None]:
    rows = _int(req, "rows", 20)
    if rows is None or not 0 <= rows <= MAX_ROWS:
        value = req.get("rows") or ""
        return (
            0,
            0,
            None,
            _validation_failure(
                "integer-not-valid",
                value,
                f"Integer specified as {value} but must be a positive integer less than or equal "
                f"to {MAX_ROWS}.",
            ),
        )
    cursor = req.get("cursor")
    if cursor is not None:
        offset = 0 if cursor == "*" else _decode_cursor(cursor)
        if offset is None:
            return 0, 0, None, _validation_failure("cursor-not-valid", cursor, "Invalid cursor")
        return rows, offset, cursor, None
    offset = _int(req, "offset", 0)
    if offset is None or not 0 <= offset <= 10_000:
        return (
            0,
            0,
            None,
            _validation_failure(
                "integer-not-valid", req.get("offset") or "", "Offset must be 0..10000"
            ),
        )
    return rows, offset, None, None


def _encode_cursor(offset: int) -> str:
    # real cursors can contain "+" and "/", which clients must URL-encode (CR-doc)
    return "DnF1ZXJ5VGhlbkZldGNo+" + base64.b64encode(f"o{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.b64decode(cursor.split("+", 1)[1]).decode()
        return int(raw[1:])
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
