"""OpenAlex client: works by DOI, PMID, PMCID and OpenAlex id, batched where the API allows.

Requests (api-notes section 1; developers.openalex.org):
- lists: ``/works?filter=doi:a|b|...&per_page=100&cursor=*``; up to 100 values per OR filter
  (llm-quick-reference; pyalex#85), the URL kept under the ~4,094-character limit (pyalex#85);
  filters ``doi``, ``ids.pmid``, ``ids.pmcid``, ``openalex``. A list call costs $0.0001.
- singletons: ``/works/doi:<doi>``, ``/works/pmid:N``, ``/works/W..``, ``/works/pmcid:PMC..``
  (that spelling is UNCONFIRMED, so a 404 is re-asked as ``pmcid:<digits>``). Singletons are free.
- ``OPENALEX_API_KEY`` goes as ``api_key=`` (the documented way) through ``secret_params``, so it
  never reaches a stored URL; ``mailto`` is ignored since Feb 2026 and only rides in the UA.

Reconciliation: OR filters drop unknown or merged values silently (openalexR#310; paperus v0.1.5).
A complete, error-free list answer (every page read, ``meta.count`` results seen) over values in
their canonical spelling is the evidence of absence: a DOI or PMID missing from it is ``not_found``
without another request (``settled_by_list``). Re-asked as singletons, before ``not_found``, are
only the values a filter is known or suspected to mishandle (SETTLED_BY_LIST): W ids (a merged id
is absent from ``filter=openalex:`` yet answers 301 as a singleton), PMCIDs (their filter spelling
is UNCONFIRMED), and DOIs with characters outside ``_common.PLAIN_DOI``. These re-asks stay
singletons: a filter is what mishandles them, so no batched form is more trustworthy (and
singletons are free). A singleton for a merged work answers 301 and requests follows it to the
surviving work.
Budget: a 429 whose X-RateLimit-* headers show the daily budget spent raises BudgetExhausted;
lists then fall back to (free) singletons, and if those are refused too the rest are ``pending``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

import requests

from pipeline.config import Settings
from pipeline.errors import BudgetExhausted, FetchError
from pipeline.http import (
    RETRY_STATUSES_WITH_500,
    HttpAnswer,
    SourceHttp,
    TransientBody,
    build_url,
    check_json,
    retry_after_seconds,
)
from pipeline.normalise.change import OPENALEX_CHANGE_FIELDS
from pipeline.records import CitingAsk, FetchBatch, Identifier, LedgerEntry, RawResponse
from pipeline.sources._common import (
    ledger_entry,
    pack,
    plain_doi,
    raw_response,
    unique_identifiers,
)

log = logging.getLogger(__name__)

SOURCE = "openalex"
SCHEMES = frozenset({"doi", "pmid", "pmcid", "openalex"})
# The OR-filter attribute per scheme (developers.openalex.org/guides/filtering; api-notes 1.4).
FILTERS = {"doi": "doi", "pmid": "ids.pmid", "pmcid": "ids.pmcid", "openalex": "openalex"}
MAX_OR_VALUES = 100  # developers.openalex.org llm-quick-reference (older docs: 50)
PER_PAGE = 100  # 1-100 in the 2026 docs; 200 is UNCONFIRMED, so never more
# pyalex#85 measured ~4,094 characters; keep room for a long next_cursor on later pages.
MAX_URL_CHARS = 3800
# `,` is the AND separator and `|` the OR separator of a filter: a value carrying either cannot
# ride in one (openalexR#254: a comma gives 403). `&` and the rest are fine once percent-encoded
# (pyalex#41). Such values are looked up singly.
NOT_FILTERABLE = re.compile(r"[,|]")
# The schemes whose absence from a complete list answer settles them (DOIs: only those
# ``_common.plain_doi`` accepts); PMIDs are digits. Not W ids (a merged W id is missing from
# ``filter=openalex:`` but answers 301 as a singleton: developers.openalex.org errors) nor PMCIDs
# (the spelling the ``ids.pmcid`` filter matches is UNCONFIRMED, api-notes 1.1: a wrong guess
# would drop every PMCID silently).
SETTLED_BY_LIST = frozenset({"doi", "pmid"})
MAX_PAGES = 20  # a runaway-cursor guard: 100 values matching 2,000 works is already absurd
# Counts, plus the fields of a change key (pipeline.normalise.change): the same answer says
# whether the record changed since it was fetched, at no extra request.
COUNT_FIELDS = ",".join(
    dict.fromkeys(
        ("id", "doi", "ids", "cited_by_count", "counts_by_year", "updated_date",
         *OPENALEX_CHANGE_FIELDS)
    )
)  # fmt: skip
# Who cites a work: ``filter=cites:W1|W2`` (an alias of referenced_works, as the answer's
# meta.x_query shows), root fields only; referenced_works only when several works are asked at
# once, to tell which of them each result cites.
CITES_FIELDS = "id,doi,ids"
CITES_OR_FIELDS = CITES_FIELDS + ",referenced_works"
# Small asks are packed into one OR-ed request while their citing works fit one page; a work
# with more is asked alone and paged up to its cap. Paging a work that no cap limits (a seed's
# subject) stops after this many pages (10,000 citing works) per refresh.
CITES_MAX_PAGES = 100
# A Retry-After this long on a 429 is the daily budget (one report: ~15 h; pyalex#111), not a
# per-second throttle, even when the X-RateLimit-* headers are missing.
BUDGET_RETRY_AFTER = 3600.0


def classify_openalex_429(resp: requests.Response) -> Exception | None:
    """Tell OpenAlex's two 429s apart (api-notes 1.3; pyalex#100, the official CLI).

    Budget spent -> BudgetExhausted (retrying is pointless until midnight UTC), e.g. headers
    ``X-RateLimit-Remaining-USD: 0.0000``, ``X-RateLimit-Cost-Required-USD: 0.0001``,
    ``Retry-After: 53578``. Per-second throttle (budget left) -> None: wait and retry.
    """
    h = resp.headers
    pairs = (
        (_num(h.get("X-RateLimit-Remaining-USD")), _num(h.get("X-RateLimit-Cost-Required-USD"))),
        (_num(h.get("X-RateLimit-Remaining")), _num(h.get("X-RateLimit-Credits-Required"))),
    )
    wait = retry_after_seconds(h.get("Retry-After"))
    spent = any(
        left is not None and ((need is not None and left < need) or left <= 0)
        for left, need in pairs
    )
    if spent or (wait is not None and wait >= BUDGET_RETRY_AFTER):
        reset = h.get("X-RateLimit-Reset")
        return BudgetExhausted(
            "openalex: daily budget exhausted (HTTP 429"
            + (f"; resets in {reset}s" if reset else "")
            + "); identifiers left pending until it resets at midnight UTC",
            retry_after=wait,
            http_status=429,
        )
    return None


def is_throttle_403(resp: requests.Response) -> bool:
    """OpenAlex's errors page lists 403 as "rate limit exceeded; slow down", while in practice
    a 403 also means bad query parameters (openalexR#254). Only the first is worth retrying:
    ``{"error": "Rate limit exceeded", "message": "..."}`` vs
    ``{"error": "Invalid query parameters error.", "message": "..."}``.
    """
    return resp.status_code == 403 and "rate limit" in resp.text[:2000].lower()


def _num(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def check_list(answer: HttpAnswer) -> None:
    """A 200 list answer must be complete JSON with ``results: [...]``, else TransientBody."""
    check_json(answer)
    body = answer.json()
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise TransientBody("a 200 list answer without results[]")


def check_work(answer: HttpAnswer) -> None:
    """A 200 singleton must be complete JSON with the work's ``id``, else TransientBody."""
    check_json(answer)
    body = answer.json()
    if not isinstance(body, dict) or not body.get("id"):
        raise TransientBody("a 200 work answer without an id")


def work_identifiers(work: object) -> set[Identifier]:
    """Every identifier an OpenAlex work states, normalised like ours.

    ``{"id": "https://openalex.org/W2741809807", "doi": "https://doi.org/10.7717/PEERJ.4375",
    "ids": {"pmid": "https://pubmed.ncbi.nlm.nih.gov/29456894",
    "pmcid": "https://www.ncbi.nlm.nih.gov/pmc/articles/5815332"}}`` ->
    doi:10.7717/peerj.4375, pmid:29456894, pmcid:PMC5815332, openalex:W2741809807.
    """
    if not isinstance(work, dict):  # a results[] entry may hold anything
        return set()
    ids = work.get("ids") if isinstance(work.get("ids"), dict) else {}  # a list, say: no ids
    out: set[Identifier] = set()
    for key, raw in (("openalex", work.get("id")), ("doi", work.get("doi")), *ids.items()):
        value = normalise_id(key, raw)
        if value:
            out.add(Identifier(key, value))
    return out


def normalise_id(scheme: str, raw: object) -> str | None:
    """One OpenAlex ``ids`` URL -> our normalised value (None for mag and unknown keys)."""
    if not isinstance(raw, str | int) or raw == "":
        return None
    text = str(raw).strip()
    if scheme == "doi":
        text = unquote(re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", text, flags=re.I))
        return text.lower() or None
    if scheme == "openalex":
        m = re.search(r"([WwAaSsIi]\d+)$", text)
        return m.group(1).upper() if m else None
    if scheme in ("pmid", "pmcid"):
        m = re.search(r"(\d+)/?$", text)
        if not m:
            return None
        return m.group(1) if scheme == "pmid" else f"PMC{m.group(1)}"
    return None


@dataclass
class _Run:
    """State of one fetch()/fetch_counts() call."""

    endpoint: str
    select: str | None
    lists_refused: bool = False  # list budget spent (or lists need a key): singletons only
    # Filters refused outright this run (ourresearch/OpenAlex#8: ids.pmid batches may 400); not
    # DOIs, whose 400 is more likely one odd value than the filter itself.
    refused_filters: set[str] = field(default_factory=set)
    refusal: FetchError | None = None  # singletons refused too: everything left is pending
    # Schemes whose filter found something this run. The ``ids.pmid`` batch filter is
    # UNCONFIRMED (api-notes 1.4: "test it first"): a filter that matched no spelling would answer
    # "0 results" for every batch, so its answers settle nothing until one of them found a PMID.
    confirmed: set[str] = field(default_factory=set)


@dataclass
class _ListResult:
    raws: list[RawResponse] = field(default_factory=list)
    found: set[Identifier] = field(default_factory=set)
    attempts: int = 0
    seen: int = 0
    complete: bool = False  # every page read and meta.count results seen
    rejected: HttpAnswer | None = None  # 400/403: the filter itself was refused
    error: FetchError | None = None


class OpenAlexClient:
    """Fetch works from OpenAlex; one FetchBatch per request batch (see module docstring)."""

    source = SOURCE
    schemes = SCHEMES

    def __init__(self, settings: Settings, *, http: SourceHttp | None = None) -> None:
        self.settings = settings
        self.base = settings.openalex_url.rstrip("/")
        # 500 is retried: OpenAlex documents it as "retry with backoff" (api-reference/errors).
        self.http = http or SourceHttp(
            SOURCE,
            settings,
            rate=settings.openalex_rps,
            retry_statuses=RETRY_STATUSES_WITH_500,
            classify_429=classify_openalex_429,
            is_transient=is_throttle_403,
        )
        key = settings.openalex_api_key
        self._secret = {"api_key": key} if key else {}

    @property
    def requests_made(self) -> int:
        return self.http.requests_made

    def fetch(self, ids: Sequence[Identifier]) -> Iterator[FetchBatch]:
        """Full work records; RawResponse.endpoint == "works"."""
        return self._run(ids, _Run("works", None))

    def fetch_counts(self, ids: Sequence[Identifier]) -> Iterator[FetchBatch]:
        """Citation counts only (``select=`` id, doi, ids, counts); endpoint == "counts"."""
        return self._run(ids, _Run("counts", COUNT_FIELDS))

    def fetch_citing(self, asks: Sequence[CitingAsk]) -> Iterator[FetchBatch]:
        """Who cites each asked W-id: ``filter=cites:...`` pages, endpoint "cites".

        Works expecting few citing works are OR-ed together (one page for many works); a work
        with more is asked alone and paged (cursor) until its cap. Every asked id gets one
        outcome: ``ok`` once its pages were read, the fault's status otherwise.
        """
        unique = unique_identifiers([a.ident for a in asks], frozenset({"openalex"}), self.source)
        by_id = {a.ident: a for a in asks}
        return self._cites_stream([by_id[i] for i in unique])

    def _cites_stream(self, asks: list[CitingAsk]) -> Iterator[FetchBatch]:
        for group in self.plan_citing(asks):
            yield self._cites_batch(group)

    def plan_citing(self, asks: Sequence[CitingAsk]) -> list[list[CitingAsk]]:
        """OR-groups of small asks whose expected citing works fit one page (and the URL its
        limit); every other ask alone."""
        groups: list[list[CitingAsk]] = []
        pack: list[CitingAsk] = []
        for ask in asks:
            if ask.expected > PER_PAGE:
                groups.append([ask])
                continue
            trial = [*pack, ask]
            fits = (
                sum(a.expected for a in trial) <= PER_PAGE
                and len(trial) <= MAX_OR_VALUES
                and len(self._cites_url(trial)) <= MAX_URL_CHARS
            )
            if pack and not fits:
                groups.append(pack)
                trial = [ask]
            pack = trial
        if pack:
            groups.append(pack)
        return groups

    def _cites_params(self, group: Sequence[CitingAsk], cursor: str) -> list[tuple[str, str]]:
        select = CITES_FIELDS if len(group) == 1 else CITES_OR_FIELDS
        values = "|".join(a.ident.value for a in group)
        return [("filter", f"cites:{values}"), ("per_page", str(PER_PAGE)), ("cursor", cursor),
                ("select", select)]  # fmt: skip

    def _cites_url(self, group: Sequence[CitingAsk]) -> str:
        params = self._cites_params(group, "*") + list(self._secret.items())
        return build_url(f"{self.base}/works", params)

    def _cites_batch(self, group: list[CitingAsk]) -> FetchBatch:
        before = self.http.requests_made
        requested = tuple(a.ident for a in group)
        limit = group[0].cap if len(group) == 1 else None
        raws: list[RawResponse] = []
        attempts, seen, cursor = 0, 0, "*"
        while cursor:
            try:
                answer = self.http.get(
                    f"{self.base}/works", self._cites_params(group, cursor),
                    check=check_list, secret_params=self._secret,
                )  # fmt: skip
            except FetchError as exc:
                faults = [self._fault(i, exc, attempts + exc.attempts) for i in requested]
                return self._batch(raws, faults, before)
            attempts += answer.attempts
            if answer.status != 200:
                error = _error_line(answer)
                outcomes = [
                    self._entry(i, "failed", http_status=answer.status, attempts=attempts,
                                error=error)
                    for i in requested
                ]  # fmt: skip
                return self._batch(raws, outcomes, before)
            raws.append(self._raw(answer, "cites", requested))
            body = answer.json()
            page = len(body.get("results") or [])
            seen += page
            cursor = _next_cursor(body, seen, page)
            if cursor and limit is not None and seen >= limit:
                break  # the cap is reached: the rest of the list is not wanted
            if cursor and len(raws) >= CITES_MAX_PAGES:
                log.warning("openalex: citing works of %s stopped after %d pages", requested[0],
                            CITES_MAX_PAGES)  # fmt: skip
                break
        outcomes = [self._entry(i, "ok", http_status=200, attempts=attempts) for i in requested]
        return self._batch(raws, outcomes, before)

    # -- planning --------------------------------------------------------------------------

    def _run(self, ids: Sequence[Identifier], run: _Run) -> Iterator[FetchBatch]:
        unique = unique_identifiers(ids, self.schemes, self.source)  # raises before any request
        return self._stream(unique, run)

    def _stream(self, unique: list[Identifier], run: _Run) -> Iterator[FetchBatch]:
        for scheme in ("openalex", "doi", "pmid", "pmcid"):
            mine = [i for i in unique if i.scheme == scheme]
            listed = [i for i in mine if not NOT_FILTERABLE.search(i.value)]
            for batch in self.plan_batches(listed, select=run.select):
                yield from self._list_batch(batch, run)
            for ident in mine:
                if NOT_FILTERABLE.search(ident.value):
                    yield self._single(ident, run)

    def _list_params(self, idents: Sequence[Identifier], select: str | None, cursor: str):
        scheme = idents[0].scheme
        params = [("filter", f"{FILTERS[scheme]}:{'|'.join(i.value for i in idents)}")]
        params += [("per_page", str(PER_PAGE)), ("cursor", cursor)]
        return params + ([("select", select)] if select else [])

    def plan_batches(
        self, idents: Sequence[Identifier], *, select: str | None = None
    ) -> list[list[Identifier]]:
        """Split one scheme's identifiers into OR batches of <= 100 values whose URL (api_key
        included) stays under MAX_URL_CHARS."""
        return pack(
            idents,
            most=MAX_OR_VALUES,
            fits=lambda trial: len(self._list_url(trial, select, "*")) <= MAX_URL_CHARS,
        )

    def _list_url(self, idents: Sequence[Identifier], select: str | None, cursor: str) -> str:
        params = self._list_params(idents, select, cursor) + list(self._secret.items())
        return build_url(f"{self.base}/works", params)

    # -- list batches ------------------------------------------------------------------------

    def _list_batch(self, idents: list[Identifier], run: _Run) -> Iterator[FetchBatch]:
        if run.lists_refused or idents[0].scheme in run.refused_filters:
            yield from (self._single(i, run) for i in idents)
            return
        before = self.http.requests_made
        res = self._list_pages(idents, run)
        missing = [i for i in idents if i not in res.found]
        outcomes = [
            self._entry(i, "ok", http_status=200, attempts=res.attempts)
            for i in idents
            if i in res.found
        ]
        retry_singly = missing
        if res.found:
            run.confirmed.add(idents[0].scheme)
        if res.complete:  # the answer is the evidence: only doubtful spellings are re-asked
            absent = [i for i in missing if self._settles(i, run)]
            outcomes += [self._absent(i, res.attempts) for i in absent]
            settled = set(absent)
            retry_singly = [i for i in missing if i not in settled]
        elif isinstance(res.error, BudgetExhausted):
            run.lists_refused = True
            log.warning("openalex: list budget spent; asking the rest one by one (free)")
        elif res.error is not None:
            outcomes += [self._fault(i, res.error, res.attempts) for i in missing]
            retry_singly = []
        elif res.rejected is not None:
            self._remember_refusal(res.rejected.status, idents[0].scheme, run)
            log.info(
                "openalex: %s filter refused with HTTP %d; asking its %d values singly",
                FILTERS[idents[0].scheme],
                res.rejected.status,
                len(missing),
            )
        if res.raws or outcomes:
            yield self._batch(res.raws, outcomes, before)
        answered = res.error is None and res.rejected is None  # the filter said "absent"
        yield from (self._single(i, run, prior=res.attempts, listed=answered) for i in retry_singly)

    @staticmethod
    def _remember_refusal(status: int, scheme: str, run: _Run) -> None:
        if status == 401:  # keyless cursor paging may need a key (api-notes 1.2, UNCONFIRMED)
            run.lists_refused = True
        elif status == 400 and scheme != "doi":
            run.refused_filters.add(scheme)

    def _list_pages(self, idents: list[Identifier], run: _Run) -> _ListResult:
        """Follow cursor pages (``cursor=*`` then meta.next_cursor) until the answer is complete."""
        res, cursor = _ListResult(), "*"
        wanted = set(idents)
        while cursor:
            try:
                answer = self.http.get(
                    f"{self.base}/works",
                    self._list_params(idents, run.select, cursor),
                    check=check_list,
                    secret_params=self._secret,
                )
            except FetchError as exc:
                res.error = exc
                res.attempts += exc.attempts
                return res
            res.attempts += answer.attempts
            if answer.status != 200:
                res.rejected = answer
                return res
            res.raws.append(self._raw(answer, run.endpoint, idents))
            body = answer.json()
            results = body.get("results") or []
            for work in results:
                res.found |= work_identifiers(work) & wanted
            res.seen += len(results)
            cursor = _next_cursor(body, res.seen, len(results))
            if cursor and len(res.raws) >= MAX_PAGES:  # <= 100 ids never need this many pages
                log.warning("openalex: stopped paging after %d pages", MAX_PAGES)
                return res
            if not cursor:
                res.complete = _counted(body, res.seen)
        return res

    @staticmethod
    def _settles(ident: Identifier, run: _Run) -> bool:
        """Whether a complete answer without ``ident`` settles it (``settled_by_list``), its
        filter being confirmed for PMIDs (``_Run.confirmed``)."""
        return settled_by_list(ident) and (ident.scheme != "pmid" or "pmid" in run.confirmed)

    def _absent(self, ident: Identifier, attempts: int) -> LedgerEntry:
        return self._entry(ident, "not_found", http_status=200, attempts=attempts,
                           error=ABSENT_FROM_LIST)  # fmt: skip

    # -- singletons --------------------------------------------------------------------------

    def singleton_paths(self, ident: Identifier) -> list[str]:
        """``/works/...`` paths to try in turn for one identifier (quoted once)."""
        v = quote(ident.value, safe="/")
        if ident.scheme == "doi":
            return [f"/works/doi:{v}"]
        if ident.scheme == "pmid":
            return [f"/works/pmid:{v}"]
        if ident.scheme == "pmcid":  # spelling UNCONFIRMED (api-notes 1.1): try both
            return [f"/works/pmcid:{v}", f"/works/pmcid:{v.removeprefix('PMC')}"]
        return [f"/works/{v}"]

    def _single(
        self, ident: Identifier, run: _Run, *, prior: int = 0, listed: bool = False
    ) -> FetchBatch:
        """One singleton lookup; ``listed``: a filter already answered without this value."""
        before = self.http.requests_made
        if run.refusal is not None:  # budget spent even for singletons: do not ask again
            return self._batch([], [self._fault(ident, run.refusal, prior)], before)
        raws: list[RawResponse] = []
        attempts = prior
        params = [("select", run.select)] if run.select else []
        for path in self.singleton_paths(ident):
            try:
                answer = self.http.get(
                    self.base + path, params, check=check_work, secret_params=self._secret
                )
            except FetchError as exc:
                if isinstance(exc, BudgetExhausted):
                    run.refusal = exc
                return self._batch(raws, [self._fault(ident, exc, attempts + exc.attempts)], before)
            attempts += answer.attempts
            if answer.status == 200:
                raws = [self._raw(answer, run.endpoint, (ident,))]  # a 404 spelling is moot
            elif answer.status == 404:
                raws.append(self._raw(answer, run.endpoint, (ident,)))
            if answer.status != 404:
                break
        entry = self._settle(ident, answer, attempts=attempts, listed=listed)
        return self._batch(raws, [entry], before)

    def _settle(
        self, ident: Identifier, answer: HttpAnswer, *, attempts: int, listed: bool
    ) -> LedgerEntry:
        status = answer.status
        if status == 200:
            if answer.redirects:
                log.info("openalex: %s merged, followed to %s", ident, answer.url)
            return self._entry(ident, "ok", http_status=200, attempts=attempts)
        if status == 404:
            return self._entry(ident, "not_found", http_status=404, attempts=attempts)
        # 400/403: OpenAlex refuses this id (e.g. an illegal character in the path, api-notes
        # 1.1). On its own that proves nothing (failed); after a filter that accepted the value
        # answered without it, the filter answer is the evidence of absence (not_found).
        error = _error_line(answer)
        if listed:
            error = f"absent from its filter answer; singleton refused ({error})"
        status_word = "not_found" if listed else "failed"
        return self._entry(ident, status_word, http_status=status, attempts=attempts, error=error)

    # -- records -------------------------------------------------------------------------------

    def _raw(self, answer: HttpAnswer, endpoint: str, requested) -> RawResponse:
        return raw_response(SOURCE, endpoint, answer, requested)

    def _entry(
        self,
        ident: Identifier,
        status: str,
        *,
        http_status: int | None,
        attempts: int,
        error: str | None = None,
    ) -> LedgerEntry:
        return ledger_entry(
            SOURCE,
            ident,
            status,
            http_status=http_status,
            attempts=attempts,
            error=error,
            secrets=self.settings.secrets,
        )

    def _fault(self, ident: Identifier, exc: FetchError, attempts: int) -> LedgerEntry:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return self._entry(
            ident, exc.status, http_status=exc.http_status, attempts=attempts, error=line
        )

    def _batch(self, raws, outcomes, before: int) -> FetchBatch:
        return FetchBatch(
            source=SOURCE,
            raws=tuple(raws),
            outcomes=tuple(outcomes),
            requests_made=self.http.requests_made - before,
        )


ABSENT_FROM_LIST = "absent from a complete filter answer (meta.count results, all pages read)"


def settled_by_list(ident: Identifier) -> bool:
    """Whether a complete OR-filter answer without ``ident`` proves OpenAlex lacks it (see
    SETTLED_BY_LIST and ``_common.plain_doi``); otherwise it is re-asked as a singleton."""
    if ident.scheme not in SETTLED_BY_LIST:
        return False
    return ident.scheme != "doi" or plain_doi(ident.value)


def _counted(body: dict, seen: int) -> bool:
    """Whether the last page closes an answer of ``meta.count`` results, all of them seen."""
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    count = meta.get("count")
    return isinstance(count, int) and not isinstance(count, bool) and count == seen


def _next_cursor(body: dict, seen: int, page_len: int) -> str | None:
    """meta.next_cursor while more results remain; None at the end.

    ``{"meta": {"count": 230, "next_cursor": "IlsxNjA5MzcyODAwMDAwLCAnaHR0cHM6Ly9vcGVuYWxleC5vcmcvVzI0ODg0OTk3NjQnXSI="}}``
    OpenAlex keeps handing out a cursor until a page comes back empty (guides/page-through-results);
    stopping once ``seen >= meta.count`` saves that last, empty (and billed) request.
    """
    meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
    cursor = meta.get("next_cursor")
    count = meta.get("count")
    if not cursor or page_len == 0:
        return None
    if isinstance(count, int) and seen >= count:
        return None
    return str(cursor)


def _error_line(answer: HttpAnswer) -> str:
    """``HTTP 403: <message>`` from an OpenAlex error body ``{"error": ..., "message": ...}``."""
    try:
        body = json.loads(answer.text)
        detail = body.get("message") or body.get("error") or ""
    except (ValueError, AttributeError):
        detail = answer.text
    return f"HTTP {answer.status}: {' '.join(str(detail).split())[:200]}"


__all__ = [
    "CITES_FIELDS",
    "COUNT_FIELDS",
    "MAX_OR_VALUES",
    "MAX_URL_CHARS",
    "OpenAlexClient",
    "classify_openalex_429",
    "normalise_id",
    "settled_by_list",
    "work_identifiers",
]
