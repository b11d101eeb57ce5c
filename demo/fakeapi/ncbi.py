"""Fake NCBI: E-utilities (efetch, esearch, elink) and the PMC ID Converter.

Shapes: E-utilities JSON ``header``/``esearchresult``/``linksets`` as eutils answers with
``retmode=json`` (NBK25499); 429 JSON body without Retry-After (api-notes 3.1); ID converter JSON
with integer ``pmid`` and 400 for >200 ids or a mismatched ``idtype`` (api-notes 3.7).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

from demo.fakeapi.catalog import Catalog, FakeWork
from demo.fakeapi.pubmed import XML_HEAD, article_set
from demo.fakeapi.reply import HTML, JSON_UTF8, XML, Reply, Request, json_reply, text_reply

MAX_IDCONV_IDS = 200
_TERM = re.compile(r'"?([^"\[\]]+?)"?\s*\[([A-Za-z ]+)\]')
_OR = re.compile(r"\s+OR\s+")


def _terms(term: str) -> list[tuple[str, str]]:
    """(value, field) of each OR-ed ``value[field]`` (quoted or not: ``123[uid] OR "10.1/x"[doi]``)."""
    return [pair for part in _OR.split(term) for pair in _TERM.findall(part)]


_PMID = re.compile(r"^\d+$")
_PMCID = re.compile(r"^(PMC)?\d+$", re.I)


def rate_limit_body(count: int, limit: float) -> Reply:
    """NCBI's 429: a JSON body and no Retry-After header (bioutils#16, feynman#237)."""
    return json_reply(
        429,
        {
            "error": "API rate limit exceeded",
            "api-key": "127.0.0.1",
            "count": str(count),
            "limit": str(int(limit)),
        },
        content_type=JSON_UTF8,
    )


def _journal_key(name: str | None) -> str:
    """A journal name compared as PubMed does: lower case, letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def _ids_param(req: Request) -> list[str]:
    """Every id from (possibly repeated, comma-joined) ``id=`` parameters, order kept."""
    return [i.strip() for v in req.all("id") for i in v.split(",") if i.strip()]


def _eutils_error_xml(message: str, root: str = "eFetchResult") -> Reply:
    return text_reply(
        200, f"{XML_HEAD.splitlines()[0]}\n<{root}><ERROR>{message}</ERROR></{root}>\n", XML
    )


class EutilsApi:
    """Answers ``/eutils/{efetch,esearch,elink}.fcgi``."""

    source = "eutils"

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def handle(self, req: Request) -> Reply:
        """Route one request by utility name."""
        name = req.path.strip("/")
        routes = {
            "ecitmatch.cgi": self._ecitmatch,
            "efetch.fcgi": self._efetch,
            "esearch.fcgi": self._esearch,
            "elink.fcgi": self._elink,
        }
        if name not in routes:
            return text_reply(404, "<html><body><h1>404 Not Found</h1></body></html>", HTML)
        if (req.get("db") or "pubmed") != "pubmed":
            return _eutils_error_xml(f"Database {req.get('db')} is not supported by this fake")
        return routes[name](req)

    def rate_limited(self, req: Request, *, count: int = 4, limit: float = 3, **_: object) -> Reply:
        """The answer when more than ``limit`` requests arrived within one second."""
        return rate_limit_body(count, limit)

    def _pubmed_work(self, pmid: str) -> FakeWork | None:
        work = self.catalog.by_pmid(pmid) if _PMID.match(pmid) else None
        return work if work is not None and work.in_pubmed else None

    def _efetch(self, req: Request) -> Reply:
        ids = _ids_param(req)
        if not ids:
            return _eutils_error_xml("Empty id list - nothing todo")
        seen: dict[str, FakeWork] = {}
        for pmid in ids:  # efetch answers in the order asked, each record once
            work = self._pubmed_work(pmid)
            if work is not None:
                seen.setdefault(work.pmid or "", work)
        return text_reply(200, article_set(list(seen.values()), self.catalog), XML)

    def _ecitmatch(self, req: Request) -> Reply:
        """``bdata=journal|year|volume|page|author|key|`` lines (``\\r``-joined) -> the same lines
        with the PMID, ``NOT_FOUND``, ``NOT_FOUND;INVALID_JOURNAL`` or ``AMBIGUOUS (n citations)``
        appended, as text/plain whatever ``retmode`` says (NBK25499 "ECitMatch"). Like the real
        one it matches on the fields only, never on a title."""
        lines = []
        for line in (req.get("bdata") or "").replace("\n", "\r").split("\r"):
            fields = line.split("|")
            if len(fields) < 6:
                continue
            result = self._cite(*fields[:4])
            lines.append("|".join(fields[:6]) + "|" + result)
        return text_reply(200, "\n".join(lines) + "\n")

    def _cite(self, journal: str, year: str, volume: str, page: str) -> str:
        wanted = _journal_key(journal)
        works = [w for w in self.catalog if w.in_pubmed and w.pmid]
        known = [
            w
            for w in works
            if wanted and wanted in {_journal_key(w.venue), _journal_key(w.venue_abbrev)}
        ]
        if not known:
            return "NOT_FOUND;INVALID_JOURNAL"
        hits = [
            w for w in known
            if (not year or str(w.year) == year.strip())
            and (not volume or (w.volume or "") == volume.strip())
            and (not page or (w.pages or "").split("-")[0] == page.strip())
        ]  # fmt: skip
        if len(hits) == 1:
            return hits[0].pmid or "NOT_FOUND"
        return f"AMBIGUOUS ({len(hits)} citations)" if hits else "NOT_FOUND"

    def _esearch(self, req: Request) -> Reply:
        term = req.get("term") or ""
        hits: dict[str, FakeWork] = {}
        not_found: list[str] = []
        for value, field in _terms(term):
            work = self._search_one(value.strip(), field.strip().lower())
            if work is None:
                not_found.append(f"{value.strip()}[{field.strip()}]")
            else:
                hits[work.pmid or ""] = work
        if (req.get("datetype") or "").lower() == "mdat":
            hits = {p: w for p, w in hits.items() if _modified_within(w, req)}
        # real esearch sorts newest first; PMIDs grow over time, so descending PMID approximates it
        idlist = sorted(hits, key=int, reverse=True)
        retstart = int(req.get("retstart") or 0)
        retmax = int(req.get("retmax") or 20)
        page = idlist[retstart : retstart + retmax]
        result: dict = {
            "count": str(len(idlist)),
            "retmax": str(len(page)),
            "retstart": str(retstart),
            "idlist": page,
            "translationset": [],
            "querytranslation": " OR ".join(
                f"{v.strip()}[{f.strip().lower()}]" for v, f in _terms(term)
            )
            if idlist
            else "",
        }
        if not_found:
            result["errorlist"] = {"phrasesnotfound": not_found, "fieldsnotfound": []}
        if not idlist:
            result["warninglist"] = {
                "phrasesignored": [],
                "quotedphrasesnotfound": [],
                "outputmessages": ["No items found."],
            }
        return json_reply(
            200, {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}
        )

    def _search_one(self, value: str, field: str) -> FakeWork | None:
        if field in ("doi", "aid", "lid", "location id"):
            work = self.catalog.by_doi(value)
        elif field in ("pmid", "uid"):
            work = self.catalog.by_pmid(value) if _PMID.match(value) else None
        elif field in ("pmc", "pmcid"):
            work = self.catalog.by_pmcid(value)
        else:
            work = None
        return work if work is not None and work.in_pubmed and work.pmid else None

    def _elink(self, req: Request) -> Reply:
        linkname = req.get("linkname") or "pubmed_pubmed_citedin"
        linksets = []
        # NBK25499: each id= parameter gives its own linkset; a comma-joined list is merged
        for param in req.all("id"):
            ids = [i.strip() for i in param.split(",") if i.strip()]
            if ids:
                linksets.append(self._linkset(ids, linkname))
        if not linksets:
            return json_reply(
                200,
                {
                    "header": {"type": "elink", "version": "0.3"},
                    "ERROR": "Empty id list - nothing todo",
                },
            )
        return json_reply(
            200, {"header": {"type": "elink", "version": "0.3"}, "linksets": linksets}
        )

    def _linkset(self, ids: list[str], linkname: str) -> dict:
        links: set[str] = set()
        for pmid in ids:
            work = self._pubmed_work(pmid)
            if work is not None:
                links.update(self._links(work, linkname))
        linkset: dict = {"dbfrom": "pubmed", "ids": ids}
        if links:  # a linkset without links has no linksetdbs key at all
            ordered = sorted(links, key=int, reverse=True)
            linkset["linksetdbs"] = [{"dbto": "pubmed", "linkname": linkname, "links": ordered}]
        return linkset

    def _links(self, work: FakeWork, linkname: str) -> list[str]:
        if linkname == "pubmed_pubmed_citedin":
            return list(work.cited_by.pubmed)
        if linkname == "pubmed_pubmed_refs":
            refs = (self.catalog.by_openalex(r) for r in work.references)
            return [r.pmid for r in refs if r is not None and r.pmid]
        return []


def _modified_within(w: FakeWork, req: Request) -> bool:
    """``datetype=mdat&mindate=YYYY/MM/DD&maxdate=...``: inclusive days, both or none given."""
    day = w.last_modified.date().isoformat().replace("-", "/")
    low, high = req.get("mindate") or "", req.get("maxdate") or ""
    return (not low or day >= _full_day(low)) and (not high or day <= _full_day(high, last=True))


def _full_day(value: str, *, last: bool = False) -> str:
    """ "2026", "2026/11" or "2026/11/01" as a day (the period's first, or ``last`` day)."""
    parts = value.strip().split("/")
    filler = ["12", "31"] if last else ["01", "01"]
    return "/".join(parts + filler[len(parts) - 1 :])


class IdconvApi:
    """Answers the PMC ID Converter (``/idconv/?ids=…&idtype=…&format=json``)."""

    source = "idconv"

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def rate_limited(self, req: Request, *, count: int = 4, limit: float = 3, **_: object) -> Reply:
        """The converter is paced like E-utilities; answer NCBI's 429."""
        return rate_limit_body(count, limit)

    def handle(self, req: Request) -> Reply:
        """Convert up to 200 ids of one type; only works in PMC are matched."""
        ids = [i.strip() for i in (req.get("ids") or "").split(",") if i.strip()]
        idtype = (req.get("idtype") or "").lower() or _guess_idtype(ids)
        error = _validate(ids, idtype)
        if error:
            return self._bad_request(req, *error)
        records = [self._record(i, idtype) for i in ids]
        return json_reply(
            200,
            {
                "status": "ok",
                "responseDate": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "request": _echo(req),
                "records": records,
            },
        )

    def _bad_request(self, req: Request, code: str, message: str) -> Reply:
        return json_reply(
            400,
            {
                "status": "error",
                "http_status": "400",
                "responseDate": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "request": _echo(req),
                "errors": [{"message": message, "code": code}],
            },
        )

    def _record(self, requested: str, idtype: str) -> dict:
        lookup = {
            "pmid": self.catalog.by_pmid,
            "pmcid": self.catalog.by_pmcid,
            "doi": self.catalog.by_doi,
        }[idtype]
        work = lookup(requested)
        if work is None or not work.in_pubmed:
            return {"requested-id": requested, "status": "error", "errmsg": "invalid article id"}
        if work.pmcid is None:  # the converter only knows articles that are in PMC
            return {
                "requested-id": requested,
                "status": "error",
                "errmsg": "Identifier not found in PMC",
            }
        record: dict = {"pmcid": work.pmcid}
        if work.pmid:
            record["pmid"] = int(work.pmid)  # a JSON integer, unlike everywhere else
        if work.doi:
            record["doi"] = work.doi
        record["requested-id"] = requested
        return record


def _guess_idtype(ids: list[str]) -> str:
    """Without ``idtype`` only PMCIDs are recognised; anything else is taken as PMIDs."""
    if ids and all(i.upper().startswith("PMC") for i in ids):
        return "pmcid"
    return "pmid"


def _validate(ids: list[str], idtype: str) -> tuple[str, str] | None:
    """(code, message) for a request the converter rejects with HTTP 400."""
    if not ids:
        return "missing_ids", "Query param `ids` is required."
    if len(ids) > MAX_IDCONV_IDS:
        return "too_many_ids", f"Query param `ids` accepts at most {MAX_IDCONV_IDS} values."
    checks = {
        "pmid": (lambda v: bool(_PMID.match(v)), "invalid_pmids", "PubMed IDs (Positive Integers)"),
        "pmcid": (lambda v: bool(_PMCID.match(v)), "invalid_pmcids", "PMC IDs"),
        "doi": (lambda v: v.startswith("10."), "invalid_dois", "DOIs"),
    }
    if idtype not in checks:
        return "invalid_idtype", f"Query param `idtype` must be one of {', '.join(checks)}, mid."
    ok, code, what = checks[idtype]
    if not all(ok(i) for i in ids):
        return code, f"All values of query param `ids` must be {what}."
    return None


def _echo(req: Request) -> str:
    """The converter echoes the query, values percent-encoded and joined with ``;``."""
    return ";".join(f"{k}={quote(v, safe='')}" for k, v in req.query if k != "api_key")
