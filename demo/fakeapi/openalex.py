"""Fake OpenAlex: ``/works/{id}`` singletons and ``/works?filter=`` lists, 2025-26 work schema.

Shapes follow developers.openalex.org (get, filtering, page-through-results, selecting-fields,
errors, authentication) as summarised in ../shared/docs/api-notes.md section 1.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from datetime import UTC, datetime, timedelta

from demo.fakeapi.catalog import CURRENT_YEAR, Catalog, FakeWork, normalise_doi, strip_markup
from demo.fakeapi.reply import Reply, Request, json_reply

ORG = "https://openalex.org/"
MAX_OR_VALUES = 100  # OA-dev llm-quick-reference
MAX_PER_PAGE = 100
LIST_COST_USD = 0.0001  # $0.10 per 1,000 list calls (OA-dev authentication)

_FILTER_PART = re.compile(r"^([a-z_.]+):(.*)$", re.S)
_W_ID = re.compile(r"^[Ww]\d+$")
_OA_TYPES = {"article": "article", "review": "review", "letter": "letter"}


def _invalid(message: str, status: int = 400) -> Reply:
    return json_reply(status, {"error": "Invalid query parameters error.", "message": message})


def not_found() -> Reply:
    """OpenAlex's 404 for an unknown entity (a JSON error object)."""
    return json_reply(
        404,
        {
            "error": "404 Not Found",
            "message": "The requested URL was not found on the server. If you entered the URL "
            "manually please check your spelling and try again.",
        },
    )


# ---------------------------------------------------------------------------------------------
# The work object
# ---------------------------------------------------------------------------------------------


def _source(w: FakeWork) -> dict:
    return {
        "id": ORG + w.source_id,
        "display_name": w.venue,
        "issn_l": w.issn_l,
        "issn": [i for i in w.issns if i],
        "is_oa": w.license is not None,
        "is_in_doaj": w.license is not None,
        "is_core": True,
        "host_organization": ORG + "P4310320595",
        "host_organization_name": w.publisher,
        "host_organization_lineage": [ORG + "P4310320595"],
        "host_organization_lineage_names": [w.publisher],
        "type": "journal",
    }


def _locations(w: FakeWork) -> list[dict]:
    primary = {
        "id": f"doi:{w.doi}" if w.doi else f"pmid:{w.pmid}",
        "is_oa": w.license is not None,
        "landing_page_url": f"https://doi.org/{w.doi}" if w.doi else None,
        "pdf_url": None,
        "source": _source(w),
        "license": w.license,
        "license_id": f"https://openalex.org/licenses/{w.license}" if w.license else None,
        "version": "publishedVersion",
        "is_accepted": True,
        "is_published": True,
        "raw_source_name": w.venue,
        "raw_type": "journal-article",
    }
    out = [primary]
    out += [_preprint_location(doi) for doi in w.preprints]
    if w.pmcid:
        out.append(_repository_location(w, f"pmcid:{w.pmcid}", "PubMed Central", "S2764455111"))
    if w.pmid:
        out.append(_repository_location(w, f"pmid:{w.pmid}", "PubMed", "S4306525036"))
    return out


def _preprint_location(doi: str) -> dict:
    """A preprint server's copy of the work (OpenAlex keeps it as a location of the same work)."""
    return {
        "id": f"doi:{doi}",
        "is_oa": True,
        "landing_page_url": f"https://doi.org/{doi}",
        "pdf_url": None,
        "source": {
            "id": ORG + "S4306402567",
            "display_name": "bioRxiv (Cold Spring Harbor Laboratory)",
            "issn_l": None,
            "issn": None,
            "is_oa": True,
            "is_in_doaj": False,
            "is_core": False,
            "host_organization": ORG + "I2750212522",
            "host_organization_name": "Cold Spring Harbor Laboratory",
            "host_organization_lineage": [ORG + "I2750212522"],
            "host_organization_lineage_names": ["Cold Spring Harbor Laboratory"],
            "type": "repository",
        },
        "license": "cc-by",
        "license_id": "https://openalex.org/licenses/cc-by",
        "version": "submittedVersion",
        "is_accepted": False,
        "is_published": False,
        "raw_source_name": "bioRxiv",
        "raw_type": "posted-content",
    }


def _repository_location(w: FakeWork, loc_id: str, name: str, sid: str) -> dict:
    is_pmc = name == "PubMed Central"
    url = (
        f"https://www.ncbi.nlm.nih.gov/pmc/articles/{w.pmcid}"
        if is_pmc
        else f"https://pubmed.ncbi.nlm.nih.gov/{w.pmid}"
    )
    return {
        "id": loc_id,
        "is_oa": is_pmc,
        "landing_page_url": url,
        "pdf_url": None,
        "source": {
            "id": ORG + sid,
            "display_name": name,
            "issn_l": None,
            "issn": None,
            "is_oa": is_pmc,
            "is_in_doaj": False,
            "is_core": False,
            "host_organization": ORG + "I1299303238",
            "host_organization_name": "National Institutes of Health",
            "host_organization_lineage": [ORG + "I1299303238"],
            "host_organization_lineage_names": ["National Institutes of Health"],
            "type": "repository",
        },
        "license": w.license if is_pmc else None,
        "license_id": None,
        "version": "publishedVersion" if is_pmc else None,
        "is_accepted": is_pmc,
        "is_published": is_pmc,
        "raw_source_name": w.venue,
        "raw_type": None,
    }


def _authorships(w: FakeWork) -> list[dict]:
    out = []
    last = len(w.authors) - 1
    for i, a in enumerate(w.authors[:100]):  # OpenAlex truncates to the first 100 authors
        inst = a.institution
        insts = []
        if inst:
            insts.append(
                {
                    "id": ORG + (inst.openalex_id or "I0"),
                    "display_name": inst.name,
                    "ror": f"https://ror.org/{inst.ror}" if inst.ror else None,
                    "country_code": inst.country_code,
                    "type": inst.type,
                    "lineage": [ORG + (inst.openalex_id or "I0")],
                }
            )
        out.append(
            {
                "author_position": "first" if i == 0 else ("last" if i == last else "middle"),
                "author": {
                    "id": ORG + (a.openalex_id or f"A{i}"),
                    "display_name": a.display_name,
                    "orcid": f"https://orcid.org/{a.orcid}" if a.orcid else None,
                },
                "institutions": insts,
                "countries": [inst.country_code] if inst and inst.country_code else [],
                "is_corresponding": i == 0,
                "raw_author_name": a.display_name,
                "raw_affiliation_strings": [a.affiliation] if a.affiliation else [],
                "affiliations": [
                    {
                        "raw_affiliation_string": a.affiliation,
                        "institution_ids": [i["id"] for i in insts],
                    }
                ]
                if a.affiliation
                else [],
            }
        )
    return out


def inverted_index(text: str | None) -> dict[str, list[int]] | None:
    """``"a b a"`` -> ``{"a": [0, 2], "b": [1]}`` (OpenAlex ships abstracts only this way)."""
    if not text:
        return None
    index: dict[str, list[int]] = {}
    for pos, word in enumerate(strip_markup(text).split()):
        index.setdefault(word, []).append(pos)
    return index


def _counts_by_year(w: FakeWork) -> list[dict]:
    """Last 10 years only, newest first, zero years left out (as the real API does)."""
    years = sorted((y for y in w.counts_by_year if y > CURRENT_YEAR - 10), reverse=True)
    return [
        {"year": y, "cited_by_count": w.counts_by_year[y]} for y in years if w.counts_by_year[y]
    ]


def _topic(w: FakeWork) -> dict:
    return {
        "id": ORG + "T10500",
        "display_name": "CAR-T cell therapy research",
        "score": 0.9987,
        "subfield": {"id": ORG + "subfields/2730", "display_name": "Oncology"},
        "field": {"id": ORG + "fields/27", "display_name": "Medicine"},
        "domain": {"id": ORG + "domains/4", "display_name": "Health Sciences"},
    }


def _ids(w: FakeWork) -> dict:
    ids = {"openalex": ORG + w.openalex_id}
    if w.doi:
        ids["doi"] = f"https://doi.org/{w.doi}"
    if int(w.openalex_id[1:]) < 4_000_000_000:  # MAG-era works keep their MAG id (W = MAG id)
        ids["mag"] = w.openalex_id[1:]
    if w.pmid:
        ids["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{w.pmid}"
    if w.pmcid:
        ids["pmcid"] = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{w.pmcid}"
    return ids


def _biblio(w: FakeWork) -> dict:
    first, _, last = (w.pages or "").partition("-")
    return {
        "volume": w.volume,
        "issue": w.issue,
        "first_page": first or None,
        "last_page": last or first or None,
    }


def _open_access(w: FakeWork) -> dict:
    if w.license:
        status, url = "gold", f"https://doi.org/{w.doi}" if w.doi else None
    elif w.pmcid:
        status, url = "green", f"https://www.ncbi.nlm.nih.gov/pmc/articles/{w.pmcid}"
    else:
        status, url = "closed", None
    return {
        "is_oa": status != "closed",
        "oa_status": status,
        "oa_url": url,
        "any_repository_has_fulltext": w.pmcid is not None,
    }


def _funding(w: FakeWork) -> tuple[list[dict], list[dict]]:
    funders, awards = [], []
    for n, (name, _fundref, award) in enumerate(w.funders):
        fid = f"{ORG}F43200{n:05d}"
        funders.append({"id": fid, "display_name": name, "ror": None})
        awards.append(
            {
                "id": f"{ORG}G{n}{w.openalex_id[1:]}",
                "display_name": None,
                "funder_award_id": award,
                "funder_id": fid,
                "funder_display_name": name,
                "doi": None,
            }
        )
    return funders, awards


def work_object(w: FakeWork) -> dict:
    """One OpenAlex work in the 2025-26 schema (ids as URLs, ``primary_location.source``...)."""
    locations = _locations(w)
    funders, awards = _funding(w)
    title = strip_markup(w.title)
    authorships = _authorships(w)
    insts = {i["id"] for a in authorships for i in a["institutions"]}
    return {
        "id": ORG + w.openalex_id,
        "doi": f"https://doi.org/{w.doi}" if w.doi else None,
        "title": title,
        "display_name": title,
        "publication_year": w.year,
        "publication_date": w.date,
        "ids": _ids(w),
        "language": w.language,
        "primary_location": locations[0],
        "type": _OA_TYPES.get(w.type, "article"),
        "indexed_in": [s for s, ok in (("crossref", w.doi), ("pubmed", w.pmid)) if ok],
        "open_access": _open_access(w),
        "authorships": authorships,
        "institutions_distinct_count": len(insts),
        "countries_distinct_count": len({c for a in authorships for c in a["countries"]}),
        "corresponding_author_ids": [ORG + w.authors[0].openalex_id]
        if w.authors and w.authors[0].openalex_id
        else [],
        "corresponding_institution_ids": [],
        "apc_list": None,
        "apc_paid": None,
        "fwci": round(w.cited_by.openalex / 10, 3),
        "has_fulltext": w.pmcid is not None,
        "cited_by_count": w.cited_by.openalex,
        "citation_normalized_percentile": None,
        "cited_by_percentile_year": None,
        "biblio": _biblio(w),
        "is_retracted": w.is_retracted,
        "is_paratext": False,
        "is_xpac": False,
        "primary_topic": _topic(w),
        "topics": [_topic(w)],
        "keywords": [
            {"id": f"{ORG}keywords/{k.lower().replace(' ', '-')}", "display_name": k, "score": 0.5}
            for k in w.keywords
        ],
        "concepts": [],
        "mesh": [
            {
                "descriptor_ui": ui,
                "descriptor_name": term,
                "qualifier_ui": "",
                "qualifier_name": None,
                "is_major_topic": major,
            }
            for ui, term, major in w.mesh
        ],
        "locations_count": len(locations),
        "locations": locations,
        "best_oa_location": next((loc for loc in locations if loc["is_oa"]), None),
        "sustainable_development_goals": [],
        "awards": awards,
        "funders": funders,
        "has_content": {"pdf": False, "grobid_xml": False},
        "content_urls": None,
        "referenced_works_count": len(w.references),
        "referenced_works": [ORG + r for r in w.references],
        "related_works": [],
        "abstract_inverted_index": inverted_index(w.abstract),
        "cited_by_api_url": f"https://api.openalex.org/works?filter=cites:{w.openalex_id}",
        "counts_by_year": _counts_by_year(w),
        "updated_date": w.updated_date,
        "created_date": f"{w.date}T00:00:00",
    }


WORK_FIELDS = frozenset(
    work_object(FakeWork("W1", None, None, None, "", 2000, "2000-01-01", "", "", "")).keys()
)


def _select(obj: dict, fields: list[str] | None) -> dict:
    return obj if fields is None else {f: obj[f] for f in fields}


def parse_select(raw: str | None) -> tuple[list[str] | None, Reply | None]:
    """``select=id,doi`` -> field list; nested (``open_access.is_oa``) or unknown -> 400."""
    if raw is None:
        return None, None
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    for f in fields:
        if "." in f:
            return None, _invalid(f"select does not support nested fields: {f}")
        if f not in WORK_FIELDS:
            return None, _invalid(
                f"{f} is not a valid select field. Valid fields for select are: "
                + ", ".join(sorted(WORK_FIELDS))
            )
    return fields, None


# ---------------------------------------------------------------------------------------------
# Budget: list calls cost credits (one each), singletons are free
# ---------------------------------------------------------------------------------------------


def seconds_to_midnight(now: datetime | None = None) -> int:
    """OpenAlex budgets reset at 00:00 UTC; ``X-RateLimit-Reset`` counts seconds until then."""
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - now).total_seconds())


class Budget:
    """A daily credit budget, thread-safe. One list call costs one credit."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self._lock = threading.Lock()

    def charge(self, credits: int) -> bool:
        """Spend ``credits`` if they are left; False when the budget cannot cover them."""
        with self._lock:
            if self.used + credits > self.limit:
                return False
            self.used += credits
            return True

    def headers(self, *, used: int, required: int) -> dict[str, str]:
        """The X-RateLimit-* headers every OpenAlex answer carries."""
        remaining = max(self.limit - self.used, 0)
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Credits-Used": str(used),
            "X-RateLimit-Credits-Required": str(required),
            "X-RateLimit-Reset": str(seconds_to_midnight()),
            "X-RateLimit-Limit-USD": f"{self.limit * LIST_COST_USD:.4f}",
            "X-RateLimit-Remaining-USD": f"{remaining * LIST_COST_USD:.4f}",
            "X-RateLimit-Cost-USD": f"{used * LIST_COST_USD:.4f}",
            "X-RateLimit-Cost-Required-USD": f"{required * LIST_COST_USD:.4f}",
        }


def budget_exhausted(budget: Budget, retry_after: float | None = None) -> Reply:
    """The daily-budget 429: Remaining 0 < Credits-Required, Retry-After until midnight UTC."""
    reply = json_reply(
        429,
        {
            "error": "Rate limit exceeded",
            "message": "Insufficient budget. This request costs $0.0001 but you only have "
            "$0.0000 remaining. Resets at midnight UTC.",
        },
    )
    reply.headers.update(budget.headers(used=0, required=1))
    reply.headers["X-RateLimit-Remaining"] = "0"
    reply.headers["X-RateLimit-Remaining-USD"] = "0.0000"
    wait = retry_after if retry_after is not None else max(seconds_to_midnight(), 3600)
    reply.headers["Retry-After"] = str(int(wait))
    return reply


def throttled(retry_after: float | None = 1) -> Reply:
    """The per-second 429 (max 100 req/s): temporary, honour Retry-After."""
    reply = json_reply(
        429,
        {"error": "Rate limit exceeded", "message": "Too many requests per second. Slow down."},
    )
    if retry_after is not None:
        reply.headers["Retry-After"] = str(int(retry_after))
    return reply


# ---------------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------------


class OpenAlexApi:
    """Answers ``/openalex/...`` requests from a catalog, charging list calls to a budget."""

    source = "openalex"

    def __init__(self, catalog: Catalog, *, daily_budget: int = 10_000):
        self.catalog = catalog
        self.budget = Budget(daily_budget)

    def handle(self, req: Request) -> Reply:
        """Route one request; every answer carries the rate-limit headers."""
        is_list = req.raw_path.rstrip("/") == "/works"
        if is_list:
            if not self.budget.charge(1):
                return budget_exhausted(self.budget)  # carries its own headers
            reply = self._list(req)
        elif req.raw_path.startswith("/works/"):
            reply = self._single(req)
        else:
            reply = not_found()
        reply.headers.update(self.budget.headers(used=int(is_list), required=int(is_list)))
        return reply

    def rate_limited(self, req: Request, *, retry_after: float | None = 1, **_: object) -> Reply:
        """The answer when the per-second limit is exceeded."""
        reply = throttled(retry_after)
        reply.headers.update(self.budget.headers(used=0, required=0))
        return reply

    # -- singletons ------------------------------------------------------------------------

    def _single(self, req: Request) -> Reply:
        ident = req.path[len("/works/") :]
        if "," in ident or "&" in ident:  # OA-old get-a-single-work: illegal characters -> 403
            return _invalid(f"'{ident}' contains an illegal character", status=403)
        fields, error = parse_select(req.get("select"))
        if error:
            return error
        last = ident.rstrip("/").rsplit("/", 1)[-1]
        if _W_ID.match(last) and (last == ident or "openalex.org/" in ident.lower()):
            target = self.catalog.merged_target(last)
            if target:  # OA-dev errors: a merged entity answers 301 to the surviving id
                return self._redirect(req, target)
        work = self._resolve(ident)
        if work is None or not work.in_openalex:
            return not_found()
        return json_reply(200, _select(work_object(work), fields))

    def _redirect(self, req: Request, target: str) -> Reply:
        query = "&".join(f"{k}={v}" for k, v in req.query)
        location = f"{req.base}/works/{target}" + (f"?{query}" if query else "")
        reply = json_reply(301, {"redirect": location})
        reply.headers["Location"] = location
        return reply

    def _resolve(self, ident: str) -> FakeWork | None:
        """Every singleton id form: W…, URLs, ``doi:``, ``pmid:``, ``pmcid:`` (or bare number)."""
        low = ident.lower()
        # clients that do not encode the path may collapse "https://" to "https:/"
        low_url = low.replace("https:/", "https://").replace("https:///", "https://")
        if "doi.org/" in low_url:
            return self.catalog.by_doi(ident[low.index("doi.org/") + len("doi.org/") :])
        if "openalex.org/" in low_url or _W_ID.match(ident):
            return self.catalog.by_openalex(ident)
        if low.startswith("doi:"):
            return self.catalog.by_doi(ident[4:])
        if low.startswith("10."):
            return self.catalog.by_doi(ident)
        if low.startswith("pmid:"):
            return self.catalog.by_pmid(ident[5:])
        if low.startswith("pmcid:"):
            return self.catalog.by_pmcid(ident[6:])
        return None

    # -- lists -----------------------------------------------------------------------------

    def _list(self, req: Request) -> Reply:
        started = time.perf_counter()
        fields, error = parse_select(req.get("select"))
        if error:
            return error
        works, error = self._filtered(req.get("filter"))
        if error:
            return error
        page_info, error = _paging(req, len(works))
        if error:
            return error
        offset, per_page, page, next_cursor = page_info
        results = [_select(work_object(w), fields) for w in works[offset : offset + per_page]]
        meta = {
            "count": len(works),
            "db_response_time_ms": int((time.perf_counter() - started) * 1000) + 7,
            "page": page,
            "per_page": per_page,
            "next_cursor": next_cursor,
            "groups_count": None,
            "cost_usd": LIST_COST_USD,
        }
        return json_reply(200, {"meta": meta, "results": results, "group_by": []})

    def _filtered(self, raw: str | None) -> tuple[list[FakeWork], Reply | None]:
        """Apply ``filter=a:x|y,b:z`` (comma = AND, pipe = OR) to the catalog."""
        selected: set[str] | None = None
        for key, values in _split_filter(raw or ""):
            if isinstance(values, Reply):
                return [], values
            if len(values) > MAX_OR_VALUES:
                return [], _invalid(
                    f"Maximum number of values exceeded for {key}. Decrease values to "
                    f"{MAX_OR_VALUES} or below, or consider using a different query."
                )
            matched = self._match(key, values)
            if isinstance(matched, Reply):
                return [], matched
            selected = matched if selected is None else selected & matched
        pool = (
            self.catalog.works
            if selected is None
            else [w for w in (self.catalog.by_openalex(i) for i in selected) if w is not None]
        )
        works = [w for w in pool if w.in_openalex]
        works.sort(key=self.catalog.position)
        return works, None

    def _match(self, key: str, values: list[str]) -> set[str] | Reply:
        lookups = {
            "doi": self.catalog.by_doi,
            "ids.pmid": self.catalog.by_pmid,
            "pmid": self.catalog.by_pmid,
            "ids.pmcid": self.catalog.by_pmcid,
            "pmcid": self.catalog.by_pmcid,
            "openalex": self.catalog.by_openalex,
            "ids.openalex": self.catalog.by_openalex,
            "openalex_id": self.catalog.by_openalex,
        }
        if key == "cites":
            cited = {v.rsplit("/", 1)[-1].upper() for v in values}
            return {w.openalex_id for w in self.catalog if cited & set(w.references)}
        if key not in lookups:
            return _invalid(f"{key} is not a valid field. Valid fields are: {', '.join(lookups)}")
        found = (lookups[key](_filter_value(key, v)) for v in values if v)
        return {w.openalex_id for w in found if w is not None}


def _filter_value(key: str, value: str) -> str:
    return normalise_doi(value) if key == "doi" else value


def _split_filter(raw: str) -> list[tuple[str, list[str] | Reply]]:
    """``doi:a|b,type:article`` -> ``[("doi", ["a", "b"]), ("type", ["article"])]``.

    A comma-separated part that is not ``name:value`` means a comma sat inside a value, which the
    real API answers with 403 (openalexR#254).
    """
    out: list[tuple[str, list[str] | Reply]] = []
    for part in raw.split(","):
        if not part:
            continue
        m = _FILTER_PART.match(part)
        if not m:
            return [("", _invalid(f"Invalid query parameters error: '{part}'", status=403))]
        out.append((m.group(1), m.group(2).split("|")))
    return out


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw.removeprefix("offset:"))
    except (ValueError, UnicodeDecodeError):
        return None


def _paging(req: Request, total: int) -> tuple[tuple, Reply | None]:
    """(offset, per_page, page, next_cursor) from ``per_page``/``page``/``cursor``."""
    raw_per_page = req.get("per_page", req.get("per-page", "25"))
    try:
        per_page = int(raw_per_page or "25")
    except ValueError:
        return (), _invalid(f"per_page must be an integer: {raw_per_page}")
    if not 1 <= per_page <= MAX_PER_PAGE:
        return (), _invalid(f"per_page must be between 1 and {MAX_PER_PAGE}")
    cursor = req.get("cursor")
    if cursor is not None:
        offset = 0 if cursor == "*" else _decode_cursor(cursor)
        if offset is None:
            return (), _invalid(f"Invalid cursor: {cursor}")
        end = offset + per_page
        nxt = _encode_cursor(end) if end < total else None
        return (offset, per_page, None, nxt), None
    try:
        page = int(req.get("page", "1") or "1")
    except ValueError:
        return (), _invalid("page must be an integer")
    if page < 1 or page * per_page > 10_000:
        return (), _invalid("Basic paging only works for up to 10,000 results; use cursor paging")
    return ((page - 1) * per_page, per_page, page, None), None
