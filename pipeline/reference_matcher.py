"""Match reference strings to works: triage, Crossref search, validation, ECitMatch fallback.

For each distinct string (keyed by ``text_hash``; the caller leaves out strings already settled):

1. ``triage``: an empty string, "Ibid.", a bare URL, a 5,000-character paragraph is
   ``unmatched`` at once, with the reason, and costs no request;
2. one Crossref ``query.bibliographic`` search (``rows=5``), every candidate validated
   (``pipeline.matching.decide``): ``matched``, ``ambiguous`` or ``unmatched``;
3. a journal reference Crossref left unmatched or ambiguous goes to PubMed's ECitMatch
   (journal, year, volume, first page read from the string); the PMID it names is fetched and
   validated the same way. An unmatched string takes the PubMed record that validates; an
   ambiguous one is settled only when that record's DOI is one of the Crossref candidates and
   that candidate validates too (two registries agreeing on one of the tied works). ECitMatch
   calls are batched (20 citations a request).

A search that fails after the HTTP layer's retries (429, 5xx, timeout, a body over 1 MiB) makes
the string ``failed`` (``pending`` when the server asked to wait, or was unreachable): never
``unmatched``, so the next run asks again. No Prefect, no DuckDB here.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from pipeline.config import Settings
from pipeline.matching import Decision, decide
from pipeline.records import Candidate, MatchResult
from pipeline.refstring import RefString, text_hash, triage
from pipeline.sources.crossref_search import CrossrefSearch, SearchFault
from pipeline.sources.ecitmatch import EcitFault, EcitMatch, citation_fields

log = logging.getLogger(__name__)

# Searches in flight: Crossref's polite pool allows 3 concurrent requests (api-notes 2.2); the
# HTTP layer's gate and limiter keep to the advertised values whatever this says.
SEARCH_THREADS = 3
# Strings decided between two ECitMatch rounds: one round's requests carry up to 20 citations.
WINDOW = 60

ProgressFn = Callable[[int, int], None]


class ReferenceMatcher:
    """Decides reference strings; one instance per run (its clients share pacing)."""

    def __init__(
        self,
        settings: Settings,
        *,
        search: CrossrefSearch | None = None,
        ecitmatch: EcitMatch | None = None,
        use_ecitmatch: bool = True,
    ) -> None:
        self.search = search or CrossrefSearch(settings)
        self.ecitmatch = (ecitmatch or EcitMatch(settings)) if use_ecitmatch else None

    def match(
        self,
        texts: Sequence[str],
        *,
        progress: ProgressFn | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> Iterator[MatchResult]:
        """One MatchResult per distinct text (first occurrence order). When ``stop()`` turns
        true (a signal asked the run to stop) it ends within a poll, without waiting for a
        search blocked on its socket; the strings not decided yet get no result."""
        unique = list(dict.fromkeys(texts))
        done = 0
        for at in range(0, len(unique), WINDOW):
            window = unique[at : at + WINDOW]
            results = _map_until_stopped(self._first_pass, window, SEARCH_THREADS, stop)
            if results is None or (stop is not None and stop()):
                return
            yield from self._fallback(results)
            done += len(window)
            if progress:
                progress(done, len(unique))

    # -- steps ---------------------------------------------------------------------------------

    def _first_pass(self, text: str) -> MatchResult:
        key = text_hash(text)
        why = triage(text)
        if why is not None:
            return MatchResult(key, text, "unmatched", reason=why)
        ref = RefString(text)
        try:
            answer = self.search.search(ref.query)
        except SearchFault as exc:
            return MatchResult(
                key,
                text,
                exc.status,
                reason=str(exc),
                requests=exc.requests,
                http_status=exc.http_status,
            )
        except Exception as exc:  # an odd answer costs this string, not the run
            log.warning("crossref search for %r failed: %s", text[:80], exc)
            return MatchResult(key, text, "failed", reason=f"{type(exc).__name__}: {exc}"[:200])
        return _result(key, text, decide(ref, answer.candidates), "crossref", answer.requests)

    def _fallback(self, results: list[MatchResult]) -> list[MatchResult]:
        """ECitMatch for the journal references Crossref left unmatched or ambiguous (or could
        not answer)."""
        if self.ecitmatch is None:
            return results
        asks = []
        for i, r in enumerate(results):
            if r.status in _ASK_PUBMED and r.reason != "empty":
                cit = citation_fields(RefString(r.text)) if triage(r.text) is None else None
                if cit is not None:
                    asks.append((i, cit))
        if not asks:
            return results
        before = self.ecitmatch.requests_made
        try:
            pmids = self.ecitmatch.pmids([c for _, c in asks])
            records = self.ecitmatch.records([p for p in pmids if p])
        except EcitFault as exc:
            # Crossref found nothing, but PubMed could not be asked: not a final "unmatched"
            log.info("ecitmatch: %s", exc)
            out = list(results)
            for i, _ in asks:
                if out[i].status == "unmatched":
                    out[i] = replace(
                        out[i], status=exc.status, reason=f"ecitmatch could not be asked: {exc}"
                    )
            return out
        made = self.ecitmatch.requests_made - before
        out = list(results)
        for n, ((i, _), pmid) in enumerate(zip(asks, pmids, strict=True)):
            cand = records.get(pmid) if pmid else None
            r = out[i]
            if cand is None:
                continue
            decision = decide(RefString(r.text), [cand])
            if decision.status == "matched" and r.status == "ambiguous":
                decision = _settle_tie(r, cand)
            if decision.status == "matched":
                extra = made if n == 0 else 0  # the round's requests, counted once
                out[i] = _result(
                    r.text_hash, r.text, decision, "ecitmatch", r.requests + extra,
                    earlier=r.candidates,
                )  # fmt: skip
        return out


# Statuses PubMed is asked about: nothing validated, a tie, or Crossref could not answer.
_ASK_PUBMED = ("unmatched", "ambiguous", "failed", "pending")


def _settle_tie(r: MatchResult, pubmed: Candidate) -> Decision:
    """An ambiguous string's decision once PubMed's record validated: matched to the Crossref
    candidate carrying the record's DOI if that candidate validates alone, else still
    ambiguous (PubMed named a third work, or one without a DOI)."""
    same = [c for c, _ in r.candidates if pubmed.doi and c.doi == pubmed.doi]
    decision = decide(RefString(r.text), same[:1]) if same else None
    if decision is None or decision.status != "matched":
        return Decision("ambiguous", None, r.score, (), r.reason)
    winner = replace(decision.winner, pmid=pubmed.pmid)
    return replace(decision, winner=winner, scored=())  # its candidates are listed already


def _result(
    key: str,
    text: str,
    decision: Decision,
    by: str,
    requests: int,
    *,
    earlier: tuple[tuple[Candidate, float], ...] = (),
) -> MatchResult:
    scored = tuple((c, round(s, 4)) for c, s, _ in decision.scored) + earlier
    winner = decision.winner
    return MatchResult(
        text_hash=key,
        text=text,
        status=decision.status,
        doi=winner.doi if winner else None,
        pmid=winner.pmid if winner else None,
        score=round(decision.score, 4) if decision.score is not None else None,
        candidates=scored,
        matched_by=by if winner else None,
        reason=decision.reason,
        requests=requests,
    )


POLL = 0.1  # seconds between looks at the stop flag while searches are in flight


def _map_until_stopped(
    fn: Callable[[str], MatchResult],
    items: list[str],
    workers: int,
    stop: Callable[[], bool] | None,
) -> list[MatchResult] | None:
    """``[fn(i) for i in items]`` on ``workers`` daemon threads, or None once ``stop()`` is
    true. Daemon threads, not a ThreadPoolExecutor: an executor's exit (and the interpreter's)
    joins its threads, so a search blocked on a socket would hold a Ctrl-C for as long as the
    socket does. An abandoned thread ends with its request's deadline or with the process."""
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for i, item in enumerate(items):
        todo.put((i, item))
    finished: queue.SimpleQueue = queue.SimpleQueue()
    results: list = [None] * len(items)

    def work() -> None:
        while True:
            try:
                i, item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                results[i] = fn(item)
                finished.put(None)
            except BaseException as exc:  # surfaced in the caller's thread
                finished.put(exc)

    for _ in range(min(workers, len(items))):
        threading.Thread(target=work, name="match", daemon=True).start()
    for _ in items:
        while True:
            try:
                error = finished.get(timeout=POLL)
                break
            except queue.Empty:
                if stop is not None and stop():
                    return None
        if error is not None:
            raise error
    return results
