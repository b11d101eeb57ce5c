"""Crossref client: works by DOI, as batched filter lists or ``/works/{doi}`` singletons.

Requests (api-notes section 2; CrossRef/rest-api-doc):
- lists: ``/works?filter=doi:A,doi:B,...&rows=50`` (the same filter name repeated is ORed; a
  Crossref staff member confirmed it but warned about URL size: rest-api-doc#301).
- singletons: ``/works/{doi}`` with the DOI percent-encoded once; its own ``/`` stays literal
  (rest-api-doc#543). 404 with the text/plain body ``Resource not found.`` means ``not_found``.
- polite pool: ``mailto=`` in the query and ``mailto:`` in the User-Agent (either suffices).

Batch size, and why 50: the polite pool allows 3 list requests/s but 10 singletons/s, with 3 in
flight (api-notes 2.2; the list/singleton split is UNCONFIRMED, so both are adapted from
``x-rate-limit-*`` headers). A list of B DOIs costs one list slot, so lists beat singletons once
B/3 > 1/10 per DOI, i.e. from B >= 4 (LIST_BREAK_EVEN); at B = 50 a list carries 15x more DOIs per
second than singletons (150/s vs 10/s), so 1,000 DOIs take 20 list requests (~6.3 s at 3/s)
instead of 1,000 singletons (~100 s). We stop at 50, not 100 or more, because no maximum is
documented, 50 is what long-running clients use (ezpaarse ``crossref-paquet-size: 50``), 50
full records (reference lists included) already make a multi-megabyte answer, and 50 typical
DOIs keep the URL near 2,000 characters, well under common 4-8 kB proxy limits (MAX_URL_CHARS).

Reconciliation: a complete list answer (``message.total-results`` equal to the items returned,
all on its one page) settles the DOIs missing from it as ``not_found`` with no further request,
when their spelling is one a ``doi:`` filter finds (``_common.plain_doi``). A DOI of another
spelling missing from it is re-asked as a singleton before it is ``not_found`` (a filter can choke
on odd DOIs: rcrossref#254), and so is every DOI missing from an answer that is not complete (a
total above the items returned). A later run asks a ``not_found`` DOI again when another source
resolved its work (warehouse.planning), which also covers Crossref's transient misses (api-notes
4.8). A 400 or 500 for a whole list is
read as "this filter chokes" and its DOIs are asked singly. 500 is not retried: from Crossref it
usually means a request it cannot parse (habanero retry.py); a 429 comes with an HTML body
(rest-api-doc#159) and is retried through the HTTP layer.

Registration agencies: given a ``DoiRaClient`` (``agencies=``, as ``enrich run`` does), ``fetch``
first asks doi.org which agency registered each DOI, 100 DOIs a request. Every other route than
``/agency`` answers 404 for a DOI another agency registered (rest-api-doc), so a DOI doi.org says
is DataCite's (mEDRA's, JaLC's...) is ``not_in_source`` with the agency named, and costs Crossref
nothing. Everything else is asked as before: Crossref's DOIs, and the DOIs doi.org does not know
("DOI does not exist", "Invalid DOI": they ride in a list, whose complete answer settles them at
no extra request, so a DOI Crossref knows but the handle system missed is never lost), says
"Unknown" about, or could not answer for (a failed lookup is never a verdict). A DOI doi.org says
is Crossref's but a complete list answer lacks is asked singly all the same
(``_settled_by_list``). The lookups are interleaved with the lists: each lookup's Crossref DOIs
fill the next lists, so Crossref starts after the first lookup rather than the last. DOIs of the
few prefixes whose agency never changes (``doira.PREFIX_AGENCIES``: Zenodo, figshare, Dryad) are
decided without a lookup.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from urllib.parse import quote

from pipeline.config import Settings
from pipeline.errors import FetchError
from pipeline.http import (
    RETRY_STATUSES,
    HttpAnswer,
    SourceHttp,
    TransientBody,
    build_url,
    check_json,
)
from pipeline.normalise.change import CROSSREF_CHANGE_FIELDS
from pipeline.records import AGENCY_NOTE, FetchBatch, Identifier, LedgerEntry, RawResponse
from pipeline.sources._common import (
    ledger_entry,
    pack,
    plain_doi,
    raw_response,
    unique_identifiers,
)
from pipeline.sources.doira import DoiRaClient, Lookup, is_crossref, is_other_agency

log = logging.getLogger(__name__)

SOURCE = "crossref"
SCHEMES = frozenset({"doi"})
BATCH_SIZE = 50  # see the module docstring
LIST_BREAK_EVEN = 4  # fewer DOIs than this go as singletons: no slower, and no re-asks
MAX_URL_CHARS = 4000  # no documented limit; stay under the 4 kB many proxies allow
LIST_BUCKET = "list"  # paced apart from singletons (polite: 3/s vs 10/s)
# Counts, plus the fields of a change key (pipeline.normalise.change): the same answer says
# whether the record changed since it was fetched (a new retraction in updated-by, a new
# preprint relation, a corrected title), at no extra request.
COUNT_FIELDS = ",".join(
    dict.fromkeys(
        ("DOI", "is-referenced-by-count", "references-count", "indexed", *CROSSREF_CHANGE_FIELDS)
    )
)
# Without a contact address we are in the public pool: 5 singletons/s, 1 list/s, 1 in flight
# (api-notes 2.2, live headers 2026-09). Assumed until the first answer's headers say otherwise.
PUBLIC_RPS, PUBLIC_LIST_RPS, PUBLIC_CONCURRENCY = 5.0, 1.0, 1


def check_list(answer: HttpAnswer) -> None:
    """A 200 list must be ``{"status": "ok", "message": {"items": [...]}}``, else TransientBody."""
    check_json(answer)
    body = answer.json()
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict) or not isinstance(message.get("items"), list):
        raise TransientBody("a 200 work-list without message.items[]")


def check_work(answer: HttpAnswer) -> None:
    """A 200 singleton must be ``{"status": "ok", "message": {"DOI": ...}}``, else TransientBody."""
    check_json(answer)
    body = answer.json()
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, dict) or not message.get("DOI"):
        raise TransientBody("a 200 work answer without message.DOI")


def work_doi(item: object) -> str | None:
    """The lower-cased DOI of one ``message.items[]`` entry: ``{"DOI": "10.7717/peerj.4375"}``."""
    doi = item.get("DOI") if isinstance(item, dict) else None  # a list may hold anything
    return doi.strip().lower() if isinstance(doi, str) and doi.strip() else None


class CrossrefClient:
    """Fetch works from Crossref by DOI; one FetchBatch per request batch."""

    source = SOURCE
    schemes = SCHEMES

    def __init__(
        self,
        settings: Settings,
        *,
        http: SourceHttp | None = None,
        agencies: DoiRaClient | None = None,
    ) -> None:
        self.settings = settings
        self.base = settings.crossref_url.rstrip("/")
        self.http = http or self._make_http(settings)
        self.agencies = agencies  # None: every DOI is asked (module docstring)
        # DOIs doi.org says Crossref registered: one missing from a list answer is asked singly
        self._registered_here: set[str] = set()
        self._polite = [("mailto", settings.mailto)] if settings.mailto else []

    @staticmethod
    def _make_http(settings: Settings) -> SourceHttp:
        rate, list_rate = settings.crossref_rps, settings.crossref_list_rps
        concurrency = settings.crossref_concurrency
        if not settings.mailto:  # public pool: never assume more than it allows
            rate, list_rate = min(rate, PUBLIC_RPS), min(list_rate, PUBLIC_LIST_RPS)
            concurrency = min(concurrency, PUBLIC_CONCURRENCY)
        return SourceHttp(
            SOURCE,
            settings,
            rate=rate,
            bucket_rates={LIST_BUCKET: list_rate},
            concurrency=concurrency,
            retry_statuses=RETRY_STATUSES,  # 500 deliberately absent (module docstring)
            adapt_rate_headers=True,
        )

    @property
    def requests_made(self) -> int:
        """Requests sent to Crossref, and to doi.org's agency lookup on its behalf."""
        return self.http.requests_made + self.agency_requests

    @property
    def agency_requests(self) -> int:
        """Requests sent to doi.org's agency lookup."""
        return self.agencies.requests_made if self.agencies is not None else 0

    def fetch(self, ids: Sequence[Identifier]) -> Iterator[FetchBatch]:
        """Full work records; RawResponse.endpoint == "works" (the agency lookups: "agency")."""
        unique = unique_identifiers(ids, self.schemes, self.source)
        if self.agencies is None:
            return self._stream(unique, "works", None)
        return self._stream_registered(unique, self.agencies)

    def fetch_counts(self, ids: Sequence[Identifier]) -> Iterator[FetchBatch]:
        """Citation counts (``select=`` on lists); RawResponse.endpoint == "counts"."""
        unique = unique_identifiers(ids, self.schemes, self.source)
        return self._stream(unique, "counts", COUNT_FIELDS)

    # -- planning ----------------------------------------------------------------------------

    def _stream(self, unique, endpoint: str, select: str | None) -> Iterator[FetchBatch]:
        # A comma separates filters, so a DOI carrying one cannot ride in a filter value.
        listed = [i for i in unique if "," not in i.value]
        for batch in self.plan_batches(listed, select=select):
            if len(batch) < LIST_BREAK_EVEN:
                yield from (self._single(i, endpoint) for i in batch)
            else:
                yield from self._list_batch(batch, endpoint, select)
        yield from (self._single(i, endpoint) for i in unique if "," in i.value)

    def _stream_registered(
        self, unique: list[Identifier], agencies: DoiRaClient
    ) -> Iterator[FetchBatch]:
        """Agency lookups first, each followed by the full lists its Crossref DOIs complete;
        the rest (a last partial list, DOIs with a comma) as ``_stream`` asks them."""
        by_value = {i.value: i for i in unique}
        waiting: list[Identifier] = []
        for lookup in agencies.lookups(list(by_value)):
            elsewhere = {d for d in lookup.dois if is_other_agency(lookup.verdicts.get(d))}
            if lookup.answer is not None or elsewhere:
                yield self._agency_batch(lookup, [by_value[d] for d in lookup.dois], elsewhere)
            waiting += [by_value[d] for d in lookup.dois if d not in elsewhere]
            self._registered_here.update(
                d for d in lookup.dois if is_crossref(lookup.verdicts.get(d))
            )
            full, waiting = self._full_lists(waiting)
            for batch in full:
                yield from self._list_batch(batch, "works", None)
        yield from self._stream(waiting, "works", None)

    def _full_lists(self, idents: list[Identifier]):
        """(lists that are full, what is left for later): a list is full at BATCH_SIZE DOIs or
        when its URL could take no more; DOIs with a comma always wait (asked singly)."""
        batches = self.plan_batches([i for i in idents if "," not in i.value])
        left = batches.pop() if batches and len(batches[-1]) < BATCH_SIZE else []
        return batches, left + [i for i in idents if "," in i.value]

    def _settled_by_list(self, ident: Identifier) -> bool:
        """Whether a complete list answer without ``ident`` settles it: a plain spelling, and not
        a DOI doi.org says Crossref registered (measured 2026-09-15 by a third party, refcheck's
        research/measure_unresolved.py: 4 of 1,000 Crossref DOIs missing from a ``filter=doi:``
        batch, an indexing hole or a superseded DOI; the singleton is their second chance)."""
        return plain_doi(ident.value) and ident.value not in self._registered_here

    def _agency_batch(
        self, lookup: Lookup, requested: list[Identifier], elsewhere: set[str]
    ) -> FetchBatch:
        """The lookup's answer (kept as received; none when a prefix decided without a request)
        and a ``not_in_source`` outcome, naming the agency, for each DOI another agency
        registered."""
        answer = lookup.answer
        status, attempts = (answer.status, answer.attempts) if answer else (None, 0)
        outcomes = [
            self._entry(i, "not_in_source", http_status=status, attempts=attempts,
                        error=AGENCY_NOTE + lookup.verdicts[i.value])
            for i in requested
            if i.value in elsewhere
        ]  # fmt: skip
        return FetchBatch(
            source=SOURCE,
            raws=(self._raw(answer, "agency", requested),) if answer else (),
            outcomes=tuple(outcomes),
            requests_made=attempts,
        )

    def _list_params(self, idents: Sequence[Identifier], select: str | None):
        params = [("filter", ",".join(f"doi:{i.value}" for i in idents))]
        params += [("rows", str(max(BATCH_SIZE, len(idents))))]
        return params + ([("select", select)] if select else []) + self._polite

    def plan_batches(
        self, idents: Sequence[Identifier], *, select: str | None = None
    ) -> list[list[Identifier]]:
        """Batches of <= BATCH_SIZE DOIs whose list URL stays under MAX_URL_CHARS."""

        def fits(trial: list[Identifier]) -> bool:
            url = build_url(f"{self.base}/works", self._list_params(trial, select))
            return len(url) <= MAX_URL_CHARS

        return pack(idents, most=BATCH_SIZE, fits=fits)

    # -- requests ------------------------------------------------------------------------------

    def _list_batch(self, idents: list[Identifier], endpoint: str, select: str | None):
        before = self.http.requests_made
        try:
            answer = self.http.get(
                f"{self.base}/works",
                self._list_params(idents, select),
                check=check_list,
                bucket=LIST_BUCKET,
            )
        except FetchError as exc:
            yield self._batch([], [self._fault(i, exc) for i in idents], before)
            return
        if answer.status != 200:
            log.info(
                "crossref: filter of %d DOIs refused with HTTP %d; asking singly",
                len(idents),
                answer.status,
            )
            yield from (self._single(i, endpoint, prior=answer.attempts) for i in idents)
            return
        message = answer.json().get("message") or {}
        items = message.get("items") or []
        got = {work_doi(item) for item in items}
        found = [i for i in idents if i.value in got]
        missing = [i for i in idents if i.value not in got]
        settled = [i for i in missing if self._settled_by_list(i)] if _complete(message) else []
        raw = self._raw(answer, endpoint, idents)
        yield self._batch(
            [raw],
            [self._entry(i, "ok", http_status=200, attempts=answer.attempts) for i in found]
            + [self._absent(i, answer.attempts) for i in settled],
            before,
        )
        reask = [i for i in missing if i not in settled]
        yield from (self._single(i, endpoint, prior=answer.attempts) for i in reask)

    def _single(self, ident: Identifier, endpoint: str, *, prior: int = 0) -> FetchBatch:
        before = self.http.requests_made
        try:
            answer = self.http.get(
                f"{self.base}/works/{quote(ident.value, safe='/')}",
                self._polite,
                check=check_work,
            )
        except FetchError as exc:
            return self._batch([], [self._fault(ident, exc, prior)], before)
        attempts = prior + answer.attempts
        if answer.status == 200:
            entry = self._entry(ident, "ok", http_status=200, attempts=attempts)
        elif answer.status == 404:  # "Resource not found." (text/plain): rest-api-doc#486
            entry = self._entry(ident, "not_found", http_status=404, attempts=attempts)
        else:
            entry = self._entry(
                ident,
                "failed",
                http_status=answer.status,
                attempts=attempts,
                error=_error_line(answer),
            )
        keep = answer.status in (200, 404)
        raws = [self._raw(answer, endpoint, (ident,))] if keep else []
        return self._batch(raws, [entry], before)

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

    def _absent(self, ident: Identifier, attempts: int) -> LedgerEntry:
        return self._entry(ident, "not_found", http_status=200, attempts=attempts,
                           error=ABSENT_FROM_LIST)  # fmt: skip

    def _fault(self, ident: Identifier, exc: FetchError, prior: int = 0) -> LedgerEntry:
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return self._entry(
            ident,
            exc.status,
            http_status=exc.http_status,
            attempts=prior + exc.attempts,
            error=line,
        )

    def _batch(self, raws, outcomes, before: int) -> FetchBatch:
        return FetchBatch(
            source=SOURCE,
            raws=tuple(raws),
            outcomes=tuple(outcomes),
            requests_made=self.http.requests_made - before,
        )


ABSENT_FROM_LIST = "absent from a complete filter answer (total-results == items returned)"


def _complete(message: dict) -> bool:
    """Whether a list's ``message`` holds every work its filter matched: ``total-results`` equal
    to the items returned (one page: ``rows`` is never below the DOIs asked)."""
    total = message.get("total-results")
    items = message.get("items")
    return (
        isinstance(total, int)
        and not isinstance(total, bool)
        and isinstance(items, list)
        and total == len(items)
    )


def _error_line(answer: HttpAnswer) -> str:
    """``HTTP 400: <message>`` from a Crossref body (JSON ``message`` list, or plain text)."""
    try:
        message = json.loads(answer.text).get("message")
        if isinstance(message, list) and message:
            message = message[0].get("message") if isinstance(message[0], dict) else message[0]
    except (ValueError, AttributeError):
        message = answer.text
    return f"HTTP {answer.status}: {' '.join(str(message or '').split())[:200]}"
