"""The PubMed client: NCBI E-utilities (efetch, esearch, elink) and the PMC ID converter.

Builds requests, batches them, reconciles every answer against what was asked and returns the
raw bodies untouched; parsing into records is ``pipeline.normalise.pubmed``'s job.

How an identifier becomes a PubMed record (../shared/docs/api-notes.md section 3):

- ``pmid``  -> efetch.
- ``pmcid`` -> PMC ID converter (``idtype=pmcid``) -> PMID -> efetch.
- ``doi``   -> PMC ID converter (``idtype=doi``); the converter only knows articles in PMC
  (api-notes 3.7), so DOIs it did not resolve go to esearch ``"<doi>"[doi]``, several OR-ed in one
  term; the hits are efetched and mapped back to their DOI through the record's own
  ``ArticleIdList``/``ELocationID`` (never its ReferenceList). One OR-ed search replaces up to 20
  single searches; the price is that a hit proves nothing about *which* DOI it matched until its
  record is read, which efetch does anyway. Whether PubMed drops an unknown phrase from an OR or
  empties the whole answer is undocumented, so a DOI is ``not_found`` only when esearch names it
  in ``phrasesnotfound``/``quotedphrasesnotfound`` or a search for it alone finds nothing; any
  other DOI an OR-ed search leaves unexplained is asked again alone.

Limits (each a constant below, with its source):

- efetch: GET up to 200 ids, POST above (api-notes 3.3; NBK25499 "Efetch", rentrez#89).
- PMC ID converter: at most 200 ids of ONE type per call, always with ``idtype`` (a mixed or
  untyped call answers HTTP 400, api-notes 3.7). ``pmid`` comes back as a JSON integer.
- elink: repeated ``id=`` parameters give one linkset per id (NBK25499 "ELink"); no documented
  maximum, so modest batches (api-notes 3.4).
- Pacing: 3 requests/s keyless, 10/s with ``NCBI_API_KEY`` (api-notes 3.1), one limiter per host;
  the converter host is paced on the same budget (api-notes 3.7). ``tool``, ``email`` and the key go
  on every request; the key only through ``secret_params`` so it never reaches a stored URL.
- NCBI answers errors inside HTTP 200 (api-notes 3.6): the ``check`` callbacks below turn those into
  ``TransientBody`` so the HTTP layer retries them like a 503. NCBI's 429 has a JSON body and no
  Retry-After (api-notes 3.1): pacing is the defence, the backoff schedule is the HTTP layer's.
"""

from __future__ import annotations

import json
import logging
import re
import xml.etree.ElementTree as StdET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from pipeline.config import TOOL, Settings
from pipeline.errors import FetchError, Unreachable
from pipeline.http import (
    RETRY_STATUSES_WITH_500,
    HttpAnswer,
    SourceHttp,
    TransientBody,
    build_url,
    encode_query,
    looks_like_html,
    redact_text,
    xml_refusal,
)
from pipeline.records import FetchBatch, Identifier, LedgerEntry, RawResponse
from pipeline.sources._common import raw_response

log = logging.getLogger(__name__)

SOURCE = "pubmed"

# efetch: NCBI advises POST above ~200 UIDs (api-notes 3.3). 200 per request is the default because
# it is the largest batch that still goes as a plain GET, a 200-record PubmedArticleSet is a few MB
# (well inside the 30 s read timeout) and a failed request then costs at most 200 ids one retry.
EFETCH_BATCH = 200
# Identifiers resolved together (PMCID/DOI -> PMID): converter calls and OR-ed esearch packs are
# filled across this many ids, not per efetch batch, so a run's partial batches come once per
# window instead of once per 200 ids (2,000 mixed ids: 44 NCBI calls -> the floor's count).
RESOLVE_WINDOW = 1000
GET_MAX_IDS = 200  # above this many ids a request goes as POST with the ids in the form body
MAX_GET_QUERY = 4000  # characters of encoded query; longer goes as POST (a long GET answers 414)
IDCONV_BATCH = 200  # PMC ID converter maximum per call (its API page; api-notes 3.7)
# The converter documents GET only, so its batches are also cut at this many characters of ids
# (a ~4 kB URL; 200 typical 30-character DOIs would make a 6-7 kB one).
IDCONV_MAX_IDS_CHARS = 4000
# elink has no documented maximum (api-notes 3.4, UNCONFIRMED). 200 repeated ids are ~2.6 kB of
# query, so the call still goes as a plain GET (MAX_GET_QUERY), one efetch group's PMIDs fit one
# call (the count is asked right after its records, see ``fetch(cited_in=True)``) and a failed
# call costs at most 200 counts one retry, as for efetch. 100 cost a run one more call per 200 ids.
ELINK_BATCH = 200
ESEARCH_DOI_BATCH = 20  # DOIs OR-ed in one esearch term
ESEARCH_MAX_TERM = 1500  # characters of the (unencoded) term, so the GET stays reasonable
ESEARCH_RETMAX_PER_DOI = 5  # a DOI can match a few records (errata, duplicates)
# 500/502 proxy errors are documented as transient (api-notes 3.6), so 500 is retried here too.
RETRY_STATUSES = RETRY_STATUSES_WITH_500
# NCBI's limit is per IP across E-utilities and the converter (api-notes 3.1, 3.7): one limiter.
NCBI_HOST_KEY = "ncbi"
SCHEME_ORDER = ("pmid", "pmcid", "doi")  # resolution order; also groups a run into full batches

# Changed since a date: esearch over asked PMIDs (``<pmid>[uid] OR ...``) limited to records
# modified since (``datetype=mdat``, ``mindate``/``maxdate`` as YYYY/MM/DD; NBK25499 "ESearch").
# 200 PMIDs per search: the OR-ed term is ~3.4 kB, so it goes as POST like a long efetch.
MODIFIED_BATCH = 200

EFETCH = "efetch.fcgi"
ESEARCH = "esearch.fcgi"
ELINK = "elink.fcgi"


# --------------------------------------------------------------------------------------------
# Body checks: errors inside HTTP 200 (api-notes 3.6). Raised as TransientBody -> retried.
# --------------------------------------------------------------------------------------------


def _one_line(text: object, limit: int = 200) -> str:
    return re.sub(r"\s+", " ", str(text)).strip()[:limit]


def parse_xml(text: str) -> StdET.Element:
    """Parse XML with entity expansion and external references forbidden (defusedxml).

    Raises ``xml.etree.ElementTree.ParseError`` for malformed or truncated XML and
    ``defusedxml.DefusedXmlException`` for a body that declares entities.
    """
    return SafeET.fromstring(text.encode("utf-8"))


def check_efetch(answer: HttpAnswer) -> None:
    """Raise TransientBody unless a 200 efetch body is a complete ``<PubmedArticleSet>``.

    Error shapes seen from NCBI: an HTML maintenance page, a truncated body, a bare
    ``<ERROR>...</ERROR>`` and ``<eFetchResult><ERROR>...</ERROR></eFetchResult>``.
    An empty ``<PubmedArticleSet/>`` is a valid answer (none of the PMIDs exist).
    """
    text = answer.text
    if looks_like_html(answer):
        raise TransientBody("efetch: HTML page instead of XML")
    try:
        root = parse_xml(text)
    except DefusedXmlException as exc:
        raise TransientBody(f"efetch: XML refused: {xml_refusal(exc)}") from None
    except StdET.ParseError as exc:
        raise TransientBody(f"efetch: unparseable XML ({_one_line(exc, 80)})") from None
    error = root if root.tag == "ERROR" else root.find("ERROR")
    if error is not None:
        raise TransientBody(f"efetch: NCBI error: {_one_line(''.join(error.itertext()))}")
    if root.tag != "PubmedArticleSet":
        raise TransientBody(f"efetch: unexpected XML root <{root.tag}>")


def _json_body(answer: HttpAnswer, endpoint: str) -> dict[str, Any]:
    if looks_like_html(answer):
        raise TransientBody(f"{endpoint}: HTML page instead of JSON")
    try:
        data = answer.json()
    except ValueError:
        raise TransientBody(f"{endpoint}: truncated or malformed JSON") from None
    except RecursionError:
        raise TransientBody(f"{endpoint}: JSON nested too deeply to parse") from None
    if not isinstance(data, dict):
        raise TransientBody(f"{endpoint}: JSON is not an object")
    # {"error":"API rate limit exceeded",...}, {"error":"/lbsm/eutils_lb -> Neg",...}
    # (api-notes 3.1, 3.6)
    for key in ("error", "ERROR"):
        if data.get(key):
            raise TransientBody(f"{endpoint}: NCBI error: {_one_line(data[key])}")
    return data


def check_esearch(answer: HttpAnswer) -> None:
    """Raise TransientBody for an esearch 200 that is not a usable ``esearchresult``.

    ``errorlist.phrasesnotfound`` is NOT an error: it is how a zero-hit search looks.
    ``esearchresult.ERROR`` (e.g. "Search Backend failed: ...") is.
    """
    result = _json_body(answer, "esearch").get("esearchresult")
    if not isinstance(result, dict):
        raise TransientBody("esearch: no esearchresult")
    if result.get("ERROR"):
        raise TransientBody(f"esearch: NCBI error: {_one_line(result['ERROR'])}")
    if not isinstance(result.get("idlist"), list):
        raise TransientBody("esearch: no idlist")


def check_elink(answer: HttpAnswer) -> None:
    """Raise TransientBody for an elink 200 without a ``linksets`` list."""
    if not isinstance(_json_body(answer, "elink").get("linksets"), list):
        raise TransientBody("elink: no linksets")


def check_idconv(answer: HttpAnswer) -> None:
    """Raise TransientBody for a converter 200 without a ``records`` list."""
    data = _json_body(answer, "idconv")
    if data.get("status") == "error" or not isinstance(data.get("records"), list):
        raise TransientBody("idconv: no records")


# --------------------------------------------------------------------------------------------
# Reading answers for reconciliation (the normaliser reads them again for the data).
# --------------------------------------------------------------------------------------------

_ARTICLE_PATHS = (
    # (record element, PMID path, DOI paths); reference lists and comments are NOT looked at,
    # their ArticleIds name other works.
    (
        "PubmedArticle",
        "MedlineCitation/PMID",
        (
            "PubmedData/ArticleIdList/ArticleId[@IdType='doi']",
            "MedlineCitation/Article/ELocationID[@EIdType='doi']",
        ),
    ),
    (
        "PubmedBookArticle",
        "BookDocument/PMID",
        (
            "BookDocument/ArticleIdList/ArticleId[@IdType='doi']",
            "PubmedBookData/ArticleIdList/ArticleId[@IdType='doi']",
        ),
    ),
)


def efetch_ids(text: str) -> dict[str, frozenset[str]]:
    """PMID -> lower-cased DOIs of every record in an efetch answer (books included).

    Example payload (trimmed)::

        <PubmedArticleSet>
          <PubmedArticle><MedlineCitation><PMID Version="1">23193287</PMID>...
            <Article><ELocationID EIdType="doi" ValidYN="Y">10.1093/nar/gks1195</ELocationID>
          ...</MedlineCitation><PubmedData><ArticleIdList>
            <ArticleId IdType="pubmed">23193287</ArticleId>
            <ArticleId IdType="doi">10.1093/nar/gks1195</ArticleId></ArticleIdList>
          </PubmedData></PubmedArticle>
          <PubmedBookArticle><BookDocument><PMID Version="1">20301295</PMID>...
        </PubmedArticleSet>

    -> ``{"23193287": frozenset({"10.1093/nar/gks1195"}), "20301295": frozenset()}``
    """
    root = parse_xml(text)
    found: dict[str, frozenset[str]] = {}
    for tag, pmid_path, doi_paths in _ARTICLE_PATHS:
        for record in root.iter(tag):
            pmid = (record.findtext(pmid_path) or "").strip()
            if pmid:
                dois = {
                    (el.text or "").strip().lower() for p in doi_paths for el in record.findall(p)
                }
                found[pmid] = frozenset(d for d in dois if d)
    return found


def idconv_pmids(text: str, idtype: str) -> dict[str, str | None]:
    """Requested id (normalised) -> PMID (or None when the converter did not know it).

    Example payload (trimmed)::

        {"status": "ok", "records": [
          {"requested-id": "PMC3531190", "pmcid": "PMC3531190", "pmid": 23193287,
           "doi": "10.1093/nar/gks1195"},
          {"requested-id": "PMC0000000", "status": "error",
           "errmsg": "Identifier not found in PMC"}]}

    -> ``{"PMC3531190": "23193287", "PMC0000000": None}``. ``pmid`` is a JSON integer (api-notes
    3.7); a record with no pmid (``errmsg``, or a bare echo of the DOI) maps to None.
    """
    out: dict[str, str | None] = {}
    for rec in json.loads(text).get("records", []):
        key = rec.get("requested-id") or rec.get(idtype)
        if key is None:
            continue
        pmid = rec.get("pmid")
        ok = rec.get("status") != "error" and pmid not in (None, "", 0)
        out[_normalise(idtype, str(key))] = str(pmid) if ok else None
    return out


def esearch_pmids(text: str) -> list[str]:
    """The PMIDs an esearch answer lists.

    Example payload (trimmed)::

        {"header": {"type": "esearch", "version": "0.3"},
         "esearchresult": {"count": "1", "retmax": "1", "retstart": "0", "idlist": ["23193287"],
                           "querytranslation": "\\"10.1093/nar/gks1195\\"[doi]"}}
    """
    return [str(x) for x in json.loads(text)["esearchresult"]["idlist"]]


def esearch_not_found(text: str) -> frozenset[str]:
    """The lower-cased DOIs an esearch answer explicitly says it could not find.

    Example payload (trimmed)::

        {"esearchresult": {"count": "1", "idlist": ["9873310"],
          "errorlist": {"phrasesnotfound": ["\"10.9999/x\"[doi]"], "fieldsnotfound": []},
          "warninglist": {"quotedphrasesnotfound": ["\"10.9999/y\""]}}}

    -> ``frozenset({"10.9999/x", "10.9999/y"})``
    """
    result = json.loads(text)["esearchresult"]
    entries = [
        *(result.get("errorlist") or {}).get("phrasesnotfound", []),
        *(result.get("warninglist") or {}).get("quotedphrasesnotfound", []),
    ]
    return frozenset(_phrase_value(str(e)) for e in entries)


def _phrase_value(entry: str) -> str:
    entry = re.sub(r"\[doi\]\s*$", "", entry.strip(), flags=re.IGNORECASE)
    return entry.strip().strip('"').strip().lower()


def elink_citedin(text: str) -> dict[str, int]:
    """PMID -> number of citing PMIDs, one linkset per id (repeated ``id=``).

    Example payload (trimmed)::

        {"header": {"type": "elink", "version": "0.3"},
         "linksets": [{"dbfrom": "pubmed", "ids": ["23193287"],
                       "linksetdbs": [{"dbto": "pubmed", "linkname": "pubmed_pubmed_citedin",
                                       "links": ["38785209", "38773515"]}]},
                      {"dbfrom": "pubmed", "ids": ["9999999"]}]}

    -> ``{"23193287": 2, "9999999": 0}`` (no ``linksetdbs``: nobody in PMC cites it).
    """
    out: dict[str, int] = {}
    for linkset in json.loads(text).get("linksets", []):
        links = [
            link
            for db in linkset.get("linksetdbs", [])
            if db.get("linkname") == "pubmed_pubmed_citedin"
            for link in db.get("links", [])
        ]
        for pmid in linkset.get("ids", []):
            out[str(pmid)] = len(links)
    return out


def _normalise(scheme: str, value: str) -> str:
    value = value.strip()
    if scheme == "doi":
        return value.lower()
    if scheme == "pmcid":
        return value.upper()
    return value


# --------------------------------------------------------------------------------------------
# Per-identifier bookkeeping
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Track:
    """What is known so far about one identifier asked for (mutable; private)."""

    ident: Identifier
    pmids: list[str] = field(default_factory=list)
    verify: bool = False  # PMIDs from an OR-ed esearch: only a record carrying this DOI counts
    recheck: bool = False  # an OR-ed esearch neither found it nor named it: search it alone
    status: str | None = None  # set once settled
    error: str | None = None
    http_status: int | None = None
    attempts: int = 0
    fallback: FetchError | None = None  # a converter fault for a DOI sent on to esearch
    seen: set[int] = field(default_factory=set)  # requests already counted in attempts

    def touch(self, req: int, attempts: int, http_status: int | None) -> None:
        if req not in self.seen:
            self.seen.add(req)
            self.attempts += attempts
        if http_status is not None:
            self.http_status = http_status

    def settle(self, status: str, error: str | None = None) -> None:
        if status == "not_found" and self.fallback is not None:
            # The converter never answered for this DOI: PubMed records can lack a DOI that PMC
            # has, so esearch/efetch alone do not prove absence. Keep the converter's fault.
            status, error = self.fallback.status, f"{error}; converter: {_one_line(self.fallback)}"
        self.status, self.error = status, error

    def fault(self, req: int, exc: FetchError, secrets: Sequence[str]) -> None:
        self.touch(req, exc.attempts, exc.http_status)
        self.settle(exc.status, _redact(str(exc), secrets))


@dataclass(frozen=True, slots=True)
class _Answered:
    """The outcome of one request for the ids it carried: an answer, or the fault."""

    req: int
    attempts: int
    http_status: int | None
    fault: FetchError | None = None


def _redact(text: str, secrets: Sequence[str]) -> str:
    return redact_text(_one_line(text, 300), secrets)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------


class PubMedClient:
    """PubMed via E-utilities and the PMC ID converter (see the module docstring).

    ``fetch`` and ``fetch_counts`` take mixed pmid/pmcid/doi identifiers and yield one FetchBatch
    per group of up to ``efetch_batch`` identifiers, each carrying every raw answer that led to it
    and exactly one ledger outcome per identifier.
    """

    source = SOURCE
    schemes = frozenset({"pmid", "pmcid", "doi"})

    def __init__(
        self,
        settings: Settings,
        *,
        http: SourceHttp | None = None,
        idconv_http: SourceHttp | None = None,
        efetch_batch: int = EFETCH_BATCH,
        elink_batch: int = ELINK_BATCH,
        esearch_batch: int = ESEARCH_DOI_BATCH,
        resolve_window: int = RESOLVE_WINDOW,
    ) -> None:
        self.settings = settings
        self._http = http or self._make_http(settings)
        # The converter lives on another host (pmc.ncbi.nlm.nih.gov); clients give it the
        # E-utilities budget (api-notes 3.7), so both share one limiter (NCBI_HOST_KEY).
        self._idconv_http = idconv_http or self._make_http(settings)
        self.efetch_batch = efetch_batch
        self.elink_batch = elink_batch
        self.esearch_batch = esearch_batch
        self.resolve_window = max(resolve_window, efetch_batch)
        self._eutils = settings.eutils_url.rstrip("/") + "/"
        self._req = 0  # request counter, to count each request once per identifier

    @staticmethod
    def _make_http(settings: Settings) -> SourceHttp:
        return SourceHttp(
            SOURCE,
            settings,
            rate=settings.effective_ncbi_rps,
            retry_statuses=RETRY_STATUSES,
            host_key=NCBI_HOST_KEY,
            window_429=True,  # NCBI's 429 means over 3 (10) per second, with no Retry-After
        )

    @property
    def requests_made(self) -> int:
        """HTTP requests sent by this client so far, retries included."""
        https = {id(h): h for h in (self._http, self._idconv_http)}
        return sum(h.requests_made for h in https.values())

    # -- public entry points ------------------------------------------------------------------

    def fetch(self, ids: Sequence[Identifier], *, cited_in: bool = False) -> Iterator[FetchBatch]:
        """Full PubMed records (efetch XML) for mixed pmid/pmcid/doi identifiers.

        ``cited_in``: each batch also carries the cited-in counts (elink, as ``fetch_counts``)
        of the PMIDs whose records it fetched, asked right after them: the count reuses that
        resolution instead of resolving every identifier again (PMC ID converter, esearch,
        efetch), and starts as soon as the PMIDs exist. A failed elink costs only the counts
        (the outcomes are the records'): those works stay uncounted for ``fetch_counts``.

        Raises ValueError at once (before any request) for an identifier of another scheme.
        """
        tracks = self._tracks(ids)
        return self._run(tracks, self._fetch_counted_group if cited_in else self._fetch_group)

    def fetch_counts(self, ids: Sequence[Identifier]) -> Iterator[FetchBatch]:
        """Cited-in counts (elink ``pubmed_pubmed_citedin``, PMC citers only, api-notes 3.4).

        PMCIDs and DOIs are resolved to PMIDs first, as in ``fetch``. Raises ValueError at once
        for an identifier of another scheme.
        """
        tracks = self._tracks(ids)
        return self._run(tracks, self._counts_group)

    def fetch_modified(self, since: Sequence[tuple[Identifier, date]]) -> Iterator[FetchBatch]:
        """Which PMIDs were modified on or after their date (their record's last fetch): one
        esearch per MODIFIED_BATCH PMIDs, endpoint "esearch_modified"; the answer lists the
        modified ones. PMIDs are grouped by date so a batch's ``mindate`` (its earliest) is at
        most a little earlier than each one's own; a record modified in that gap is fetched
        again once, nothing is missed. Every PMID gets one outcome (``ok`` once asked)."""
        pairs = sorted({(Identifier(i.scheme, i.value), d) for i, d in since}, key=lambda p: p[1])
        bad = sorted({i.scheme for i, _ in pairs} - {"pmid"})
        if bad:
            raise ValueError(f"pubmed cannot check modification of {', '.join(bad)} identifiers")
        return self._modified_stream(pairs)

    def _modified_stream(self, pairs: list[tuple[Identifier, date]]) -> Iterator[FetchBatch]:
        for chunk in _chunks(pairs, MODIFIED_BATCH):
            before = self.requests_made
            raws: list[RawResponse] = []
            tracks = [_Track(i) for i, _ in chunk]
            params = [
                ("db", "pubmed"),
                ("term", " OR ".join(f"{t.ident.value}[uid]" for t in tracks)),
                ("datetype", "mdat"),
                ("mindate", chunk[0][1].strftime("%Y/%m/%d")),
                ("maxdate", (_now().date() + timedelta(days=1)).strftime("%Y/%m/%d")),
                ("retmode", "json"),
                ("retmax", str(len(tracks))),
                *self._identity(),
            ]
            requested = tuple(t.ident for t in tracks)
            answered, _ = self._call(
                self._http, "esearch_modified", self._eutils + ESEARCH, params, requested, raws,
                check=check_esearch,
            )  # fmt: skip
            for t in tracks:
                if answered.fault is not None:
                    t.fault(answered.req, answered.fault, self.settings.secrets)
                else:
                    t.touch(answered.req, answered.attempts, answered.http_status)
                    t.settle("ok")
            yield self._batch(tracks, raws, self.requests_made - before)

    # -- orchestration ------------------------------------------------------------------------

    def _tracks(self, ids: Sequence[Identifier]) -> list[_Track]:
        unique = list(dict.fromkeys(Identifier(i.scheme, i.value) for i in ids))
        bad = sorted({i.scheme for i in unique} - self.schemes)
        if bad:
            raise ValueError(f"pubmed cannot look up scheme(s) {', '.join(bad)}")
        # Grouping by scheme keeps each batch full (200 PMIDs, then 200 PMCIDs, ...).
        unique.sort(key=lambda i: SCHEME_ORDER.index(i.scheme))
        return [_Track(i) for i in unique]

    def _run(
        self, tracks: list[_Track], work: Callable[[list[_Track], list[RawResponse]], None]
    ) -> Iterator[FetchBatch]:
        """Resolve a window of ids at a time, then ``work`` (efetch or elink) each subgroup of up
        to ``efetch_batch`` PMIDs and yield it as a batch. The window's resolution answers (and
        its ids settled by resolution alone) travel with its first batch."""
        for window in _chunks(tracks, self.resolve_window):
            before = self.requests_made
            raws: list[RawResponse] = []
            self._resolve(list(window), raws)
            for group in self._subgroups(window):
                work(group, raws)
                yield self._batch(group, raws, self.requests_made - before)
                before, raws = self.requests_made, []

    def _subgroups(self, window: Sequence[_Track]) -> list[list[_Track]]:
        """The window's open tracks in groups of at most ``efetch_batch`` PMIDs (one efetch call
        each), the tracks resolution settled joined to the first group."""
        groups: list[list[_Track]] = [[]]
        pmids: set[str] = set()  # distinct: an OR-ed search gives every DOI of its pack its hits
        for t in window:
            if t.status is not None:
                continue
            new = set(t.pmids) - pmids
            if groups[-1] and len(pmids) + len(new) > self.efetch_batch:
                groups.append([])
                pmids, new = set(), set(t.pmids)
            groups[-1].append(t)
            pmids |= new
        groups[0][:0] = [t for t in window if t.status is not None]
        return groups

    def _fetch_group(self, group: list[_Track], raws: list[RawResponse]) -> None:
        for _ in range(2):  # the second round: DOIs an OR-ed search left unexplained, alone
            open_ = [t for t in group if t.status is None]
            results = self._efetch(_pmids_of(open_), raws)
            for t in open_:
                _decide_fetched(t, results, self.settings.secrets)
                _keep_matches(t, results)
            self._search_alone([t for t in group if t.recheck], raws)

    def _fetch_counted_group(self, group: list[_Track], raws: list[RawResponse]) -> None:
        """Records, then the cited-in counts of the PMIDs they came back under (one elink call
        per efetch group); the elink answers travel in the same batch, outcomes unchanged."""
        self._fetch_group(group, raws)
        self._elink(_pmids_of([t for t in group if t.status == "ok"]), raws)

    def _counts_group(self, group: list[_Track], raws: list[RawResponse]) -> None:
        # efetch only to map OR-ed search hits to their DOIs; unexplained DOIs are asked alone.
        searched = [t for t in group if t.status is None and t.verify]
        results = self._efetch(_pmids_of(searched), raws)
        for t in searched:
            _narrow_to_matches(t, results, self.settings.secrets)
        self._search_alone([t for t in group if t.recheck], raws)
        open_ = [t for t in group if t.status is None]
        counted = self._elink(_pmids_of(open_), raws)
        for t in open_:
            _decide_counted(t, counted, self.settings.secrets)

    def _batch(self, group: Sequence[_Track], raws: list[RawResponse], made: int) -> FetchBatch:
        now = _now()
        outcomes = tuple(
            LedgerEntry(
                source=SOURCE,
                scheme=t.ident.scheme,
                value=t.ident.value,
                status=t.status or "failed",  # never reached: every path settles
                http_status=t.http_status,
                attempts=t.attempts,
                last_error=t.error,
                last_attempt_at=now,
            )
            for t in group
        )
        return FetchBatch(SOURCE, tuple(raws), outcomes, requests_made=made)

    # -- resolution: PMCID / DOI -> PMID -------------------------------------------------------

    def _resolve(self, group: list[_Track], raws: list[RawResponse]) -> None:
        for t in group:
            if t.ident.scheme == "pmid":
                t.pmids = [t.ident.value]
        for idtype in ("pmcid", "doi"):
            tracks = [t for t in group if t.ident.scheme == idtype]
            for batch in _idconv_batches(tracks):
                self._convert(batch, idtype, raws)
        unresolved = [
            t for t in group if t.ident.scheme == "doi" and t.status is None and not t.pmids
        ]
        for pack in _search_packs(unresolved, self.esearch_batch):
            self._search(pack, raws)
        self._search_alone([t for t in group if t.recheck], raws)

    def _search_alone(self, tracks: list[_Track], raws: list[RawResponse]) -> None:
        for t in tracks:
            t.recheck, t.verify, t.pmids = False, False, []
            self._search([t], raws)

    def _convert(self, tracks: list[_Track], idtype: str, raws: list[RawResponse]) -> None:
        # One type per call, idtype always sent: mixed/untyped calls answer 400 (api-notes 3.7).
        params = [
            ("ids", ",".join(t.ident.value for t in tracks)),
            ("idtype", idtype),
            ("format", "json"),
            ("versions", "no"),
            *self._identity(),
        ]
        requested = tuple(t.ident for t in tracks)
        answered, text = self._call(
            self._idconv_http,
            "idconv",
            self.settings.idconv_url,
            params,
            requested,
            raws,
            check=check_idconv,
            post_ok=False,
        )
        for t in tracks:
            t.touch(answered.req, answered.attempts, answered.http_status)
        if answered.fault is not None:
            self._converter_fault(tracks, answered)
            return
        answers = idconv_pmids(text, idtype)
        for t in tracks:
            key = _normalise(idtype, t.ident.value)
            if answers.get(key):
                t.pmids = [str(answers[key])]
            elif idtype == "pmcid" and key in answers:
                # PMC knows every PMCID: errmsg means no such PMCID, no pmid means no PubMed record.
                t.settle("not_found", "PMC ID converter: no PMID for this PMCID")
            elif idtype == "pmcid":
                t.settle("failed", "PMC ID converter answer has no record for this PMCID")
            # a DOI it did not resolve goes on to esearch (the converter only knows PMC)

    def _converter_fault(self, tracks: list[_Track], got: _Answered) -> None:
        assert got.fault is not None
        for t in tracks:
            if t.ident.scheme == "doi":
                t.fallback = got.fault  # esearch may still find it; never not_found on its own
            else:
                t.fault(got.req, got.fault, self.settings.secrets)

    def _search(self, pack: list[_Track], raws: list[RawResponse]) -> None:
        term = " OR ".join(_doi_term(t.ident.value) for t in pack)
        params = [
            ("db", "pubmed"),
            ("term", term),
            ("retmode", "json"),
            ("retmax", str(len(pack) * ESEARCH_RETMAX_PER_DOI)),
            *self._identity(),
        ]
        got = self._call(
            self._http,
            "esearch",
            self._eutils + ESEARCH,
            params,
            tuple(t.ident for t in pack),
            raws,
            check=check_esearch,
        )
        answered, text = got
        if answered.fault is not None:
            for t in pack:
                t.fault(answered.req, answered.fault, self.settings.secrets)
            return
        hits, absent = esearch_pmids(text), esearch_not_found(text)
        for t in pack:
            t.touch(answered.req, answered.attempts, answered.http_status)
            if t.ident.value.lower() in absent or (len(pack) == 1 and not hits):
                t.settle("not_found", "not in PMC (ID converter) and no esearch hit for [doi]")
            elif hits:
                t.pmids, t.verify = list(hits), len(pack) > 1
            else:
                # Whether PubMed drops an unknown phrase from an OR or empties the whole answer
                # is not documented: a DOI it did not name as not found is asked again alone.
                t.recheck = True

    # -- efetch and elink --------------------------------------------------------------------

    def _efetch(
        self, pmids: list[str], raws: list[RawResponse]
    ) -> dict[str, tuple[_Answered, frozenset[str] | None]]:
        """PMID -> (the request that carried it, its DOIs if the answer had it else None)."""
        out: dict[str, tuple[_Answered, frozenset[str] | None]] = {}
        for batch in _chunks(pmids, self.efetch_batch):
            params = [
                ("db", "pubmed"),
                ("id", ",".join(batch)),
                ("retmode", "xml"),
                *self._identity(),
            ]
            requested = tuple(Identifier("pmid", p) for p in batch)
            answered, text = self._call(
                self._http,
                "efetch",
                self._eutils + EFETCH,
                params,
                requested,
                raws,
                check=check_efetch,
            )
            found = efetch_ids(text) if answered.fault is None else {}
            for p in batch:
                out[p] = (answered, found.get(p))
        return out

    def _elink(
        self, pmids: list[str], raws: list[RawResponse]
    ) -> dict[str, tuple[_Answered, int | None]]:
        """PMID -> (the request that carried it, its cited-in count if the answer had it)."""
        out: dict[str, tuple[_Answered, int | None]] = {}
        for batch in _chunks(pmids, self.elink_batch):
            # Repeated id= (not comma-joined) gives one linkset per id (NBK25499 "ELink").
            params = [
                ("dbfrom", "pubmed"),
                ("db", "pubmed"),
                ("linkname", "pubmed_pubmed_citedin"),
                ("retmode", "json"),
                *(("id", p) for p in batch),
                *self._identity(),
            ]
            requested = tuple(Identifier("pmid", p) for p in batch)
            answered, text = self._call(
                self._http,
                "elink_citedin",
                self._eutils + ELINK,
                params,
                requested,
                raws,
                check=check_elink,
            )
            counts = elink_citedin(text) if answered.fault is None else {}
            for p in batch:
                out[p] = (answered, counts.get(p))
        return out

    # -- one request ----------------------------------------------------------------------------

    def _identity(self) -> list[tuple[str, str]]:
        """tool and email on every NCBI request (api-notes 3.1); the key goes in secret_params."""
        pairs = [("tool", TOOL)]
        if self.settings.mailto:
            pairs.append(("email", self.settings.mailto))
        return pairs

    def _call(
        self,
        http: SourceHttp,
        endpoint: str,
        url: str,
        params: list[tuple[str, str]],
        requested: tuple[Identifier, ...],
        raws: list[RawResponse],
        *,
        check: Callable[[HttpAnswer], None],
        post_ok: bool = True,
    ) -> tuple[_Answered, str]:
        """Send one request (GET, or POST for long id lists); never raises a FetchError.

        Returns the answer's bookkeeping and body; a fault comes back in ``_Answered.fault``.
        A 200 becomes a RawResponse; any other final status is a fault for its ids.
        """
        self._req += 1
        req = self._req
        long = len(requested) > GET_MAX_IDS or len(encode_query(params)) > MAX_GET_QUERY
        post = post_ok and long
        try:
            answer = self._send(http, url, params, post=post, check=check)
        except FetchError as exc:
            # An Unreachable host is marked down by the HTTP layer's circuit breaker, which then
            # refuses every later request to it without sending (status pending, attempts 0).
            level = logging.DEBUG if isinstance(exc, Unreachable) else logging.WARNING
            log.log(
                level, "pubmed %s failed: %s", endpoint, _redact(str(exc), self.settings.secrets)
            )
            return _Answered(req, exc.attempts, exc.http_status, exc), ""
        if answer.status != 200:
            error = FetchError(
                f"{endpoint}: HTTP {answer.status} {_one_line(answer.text, 160)}",
                http_status=answer.status,
                attempts=answer.attempts,
            )
            return _Answered(req, answer.attempts, answer.status, error), ""
        # A POST's URL carries no ids: append its form (never secrets) so it says what was asked.
        stored_url = build_url(answer.url, params) if post else answer.url
        raws.append(_raw(endpoint, answer, stored_url, requested))
        return _Answered(req, answer.attempts, answer.status), answer.text

    def _send(
        self,
        http: SourceHttp,
        url: str,
        params: list[tuple[str, str]],
        *,
        post: bool,
        check: Callable[[HttpAnswer], None],
    ) -> HttpAnswer:
        secret = {"api_key": self.settings.ncbi_api_key} if self.settings.ncbi_api_key else None
        if post:
            return http.post(url, params, check=check, secret_params=secret)
        return http.get(url, params, check=check, secret_params=secret)


# --------------------------------------------------------------------------------------------
# Deciding outcomes (pure functions over the bookkeeping)
# --------------------------------------------------------------------------------------------


def _raw(
    endpoint: str, answer: HttpAnswer, url: str, requested: tuple[Identifier, ...]
) -> RawResponse:
    return raw_response(SOURCE, endpoint, answer, requested, url=url)


def _pmids_of(tracks: Sequence[_Track]) -> list[str]:
    return list(dict.fromkeys(p for t in tracks for p in t.pmids))


def _doi_term(doi: str) -> str:
    # Quoted so SICI DOIs' brackets and parentheses stay one phrase; a DOI with a quote in it
    # cannot be quoted and goes unquoted.
    return f'"{doi}"[doi]' if '"' not in doi else f"{doi}[doi]"


def _idconv_batches(tracks: list[_Track]) -> Iterator[list[_Track]]:
    batch: list[_Track] = []
    length = 0
    for t in tracks:
        cost = len(t.ident.value) + 1
        if batch and (len(batch) >= IDCONV_BATCH or length + cost > IDCONV_MAX_IDS_CHARS):
            yield batch
            batch, length = [], 0
        batch.append(t)
        length += cost
    if batch:
        yield batch


def _search_packs(tracks: list[_Track], size: int) -> Iterator[list[_Track]]:
    """Pack DOIs into OR-ed terms of at most ``size`` DOIs and ESEARCH_MAX_TERM characters.

    A DOI with a quote or square brackets goes alone: it cannot be quoted, and brackets break
    PubMed's query parser (ms609/citation-bot#724), which must not sink its pack-mates.
    """
    pack: list[_Track] = []
    length = 0
    for t in tracks:
        if any(c in t.ident.value for c in '"[]'):
            yield [t]
            continue
        cost = len(_doi_term(t.ident.value)) + len(" OR ")
        if pack and (len(pack) >= size or length + cost > ESEARCH_MAX_TERM):
            yield pack
            pack, length = [], 0
        pack.append(t)
        length += cost
    if pack:
        yield pack


def _decide_fetched(
    t: _Track, results: dict[str, tuple[_Answered, frozenset[str] | None]], secrets: Sequence[str]
) -> None:
    """ok if its record came back; a fault keeps its fault status; not_found only when answered."""
    faults = []
    found = False
    for p in t.pmids:
        answered, dois = results[p]
        t.touch(answered.req, answered.attempts, answered.http_status)
        if answered.fault is not None:
            faults.append(answered)
        elif dois is not None and (not t.verify or t.ident.value.lower() in dois):
            found = True
    if found:
        t.settle("ok")
    elif faults:
        t.fault(faults[0].req, faults[0].fault, secrets)  # type: ignore[arg-type]
    elif t.verify:
        t.recheck = True  # hits of an OR-ed search, none of them this DOI's record: ask alone
    else:
        t.settle("not_found", f"efetch answered without PMID {', '.join(t.pmids)}")


def _keep_matches(t: _Track, results: dict[str, tuple[_Answered, frozenset[str] | None]]) -> None:
    """Once a DOI found by an OR-ed search is ``ok``: keep only the hits whose record carries
    it (its pack-mates' records are not its own, and must not be counted as its)."""
    if t.status == "ok" and t.verify:
        t.pmids = [p for p in t.pmids if t.ident.value.lower() in (results[p][1] or ())]


def _narrow_to_matches(
    t: _Track, results: dict[str, tuple[_Answered, frozenset[str] | None]], secrets: Sequence[str]
) -> None:
    """For counts: keep only the esearch hits whose record carries this DOI."""
    _decide_fetched(t, results, secrets)
    _keep_matches(t, results)
    if t.status == "ok" and t.verify:
        t.status, t.error, t.verify = None, None, False


def _decide_counted(
    t: _Track, counted: dict[str, tuple[_Answered, int | None]], secrets: Sequence[str]
) -> None:
    faults = []
    found = False
    for p in t.pmids:
        answered, count = counted[p]
        t.touch(answered.req, answered.attempts, answered.http_status)
        if answered.fault is not None:
            faults.append(answered)
        elif count is not None:
            found = True
    if found:
        t.settle("ok")
    elif faults:
        t.fault(faults[0].req, faults[0].fault, secrets)  # type: ignore[arg-type]
    else:
        # An answer without this id's linkset proves nothing about the work: retry later.
        t.settle("failed", f"elink answered without a linkset for PMID {', '.join(t.pmids)}")
