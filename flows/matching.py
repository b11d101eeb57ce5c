"""Reference matching composed with the warehouse: plain functions for ``enrich run`` (a task
calls ``match_and_load``) and ``enrich match`` (``match_documents``). No Prefect import here.

The library decides (``pipeline.reference_matcher``), the warehouse remembers
(``warehouse.matches``): a string settled once is never asked again unless ``refresh``; a user's
override wins over both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flows.interrupt import STOP, Interrupted
from pipeline.config import Settings
from pipeline.records import MATCH_STATUSES, MatchResult, ReferenceEntry, SeedDocument

log = logging.getLogger("flows.matching")

LOAD_EVERY = 50  # decisions stored per transaction: a killed run keeps what it decided


@dataclass
class MatchTally:
    """What matching did in one call: decisions by status, requests, time."""

    strings: int = 0
    requests: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MATCH_STATUSES, 0))
    errors: list[str] = field(default_factory=list)
    interrupted: bool = False  # an unexpected error stopped matching; the rest waits for a rerun

    def add(self, r: MatchResult) -> None:
        """Count one decision."""
        self.strings += 1
        self.requests += r.requests
        self.by_status[r.status] = self.by_status.get(r.status, 0) + 1
        if r.status in ("failed", "pending") and r.reason and len(self.errors) < 3:
            if r.reason not in self.errors:
                self.errors.append(r.reason)

    @property
    def settled(self) -> bool:
        unsettled = self.by_status.get("failed") or self.by_status.get("pending")
        return not (unsettled or self.interrupted)

    def as_dict(self) -> dict:
        """JSON-ready, for the run summary."""
        return {
            "strings": self.strings,
            **self.by_status,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "errors": self.errors,
            "settled": self.settled,
        }


def make_matcher(settings: Settings, sources: Iterable[str]):
    """The matcher for a run: Crossref's search (needed), ECitMatch when PubMed is a source."""
    from pipeline.reference_matcher import ReferenceMatcher

    return ReferenceMatcher(settings, use_ecitmatch="pubmed" in set(sources))


def match_and_load(
    writer, settings: Settings, *, run_id: str, refresh: bool, sources: Sequence[str]
) -> dict:
    """Match every entry string not settled yet, store each decision, then link the matched
    entries to their works (they are enriched by the fetch rounds that follow)."""
    from warehouse.load import load_links
    from warehouse.matches import unsettled

    tally = MatchTally()
    started = time.perf_counter()
    todo = writer(unsettled, refresh=refresh)
    if todo and "crossref" not in sources:
        log.info(
            "%d reference strings left unmatched: crossref is not among the sources", len(todo)
        )
    elif todo:
        log.info("matching %d reference strings", len(todo))
        try:
            _match_into(writer, settings, todo, tally, run_id=run_id, sources=sources)
        except Interrupted:
            raise
        except Exception as exc:  # a matching bug must not cost the run its enrichment
            log.warning("matching stopped after %d strings: %s", tally.strings, exc, exc_info=True)
            tally.errors.append(f"matching stopped: {type(exc).__name__}: {exc}"[:200])
            tally.interrupted = True
    writer(load_links, run_id=run_id)
    tally.seconds = time.perf_counter() - started
    return tally.as_dict()


def _match_into(writer, settings, todo, tally: MatchTally, *, run_id: str, sources) -> None:
    from warehouse.matches import load_matches

    pending: list[MatchResult] = []
    matcher = make_matcher(settings, sources)
    for result in matcher.match([t for _, t in todo], stop=STOP.is_set):
        tally.add(result)
        pending.append(result)
        if len(pending) >= LOAD_EVERY:
            writer(load_matches, pending, run_id=run_id)
            log.info("matching: %d/%d decided", tally.strings, len(todo))
            pending = []
    if pending:
        writer(load_matches, pending, run_id=run_id)
    STOP.check()  # a stop asked mid-matching: what was decided is stored, the rest waits


@dataclass(frozen=True)
class EntryDecision:
    """One printed line of ``enrich match``: an entry and its string's decision."""

    entry: ReferenceEntry
    result: MatchResult

    def to_json(self) -> dict:
        """The contract's object (docs/contract.md, "enrich match")."""
        r = self.result
        return {
            "document": self.entry.document,
            "line": self.entry.line,
            "text": self.entry.text,
            "doi": r.doi,
            "pmid": r.pmid,
            "status": r.status,
            "score": r.score,
            "matched_by": r.matched_by,
            "reason": r.reason,
            "candidates": [c.to_json(s) for c, s in r.candidates],
        }


def entries_to_match(docs: Iterable[SeedDocument]) -> list[ReferenceEntry]:
    """Every reference entry that prints no identifier, in document order."""
    return [e for d in docs for e in d.references if not e.ids]


def match_documents(
    entries: Sequence[ReferenceEntry],
    settings: Settings,
    *,
    con,
    refresh: bool = False,
    sources: Sequence[str] = ("crossref", "pubmed"),
) -> tuple[list[EntryDecision], MatchTally]:
    """Decide each entry: an override first, else a settled decision (unless ``refresh``), else
    ask; store what was asked. ``con`` is a read-write warehouse connection."""
    from warehouse.matches import load_matches, overrides_for, settled_for

    keys = {e.key for e in entries}
    overrides = overrides_for(con, keys)
    known = {} if refresh else settled_for(con, keys)
    decided: dict[str, MatchResult] = {}
    for e in entries:
        if e.key in overrides:
            decided[e.key] = _override_result(e, *overrides[e.key])
        elif e.key in known:
            decided[e.key] = _with_text(known[e.key], e.text)
    todo = list(dict.fromkeys(e.text for e in entries if e.key not in decided))
    tally = MatchTally()
    started = time.perf_counter()
    if todo:
        asked: list[MatchResult] = []
        for result in make_matcher(settings, sources).match(todo, stop=STOP.is_set):
            tally.add(result)
            asked.append(result)
            decided[result.text_hash] = result
            if len(asked) >= LOAD_EVERY:
                load_matches(con, asked, run_id=None)
                asked = []
        if asked:
            load_matches(con, asked, run_id=None)
    tally.seconds = time.perf_counter() - started
    # an interrupted call leaves the strings not decided out (they are asked next time)
    return [EntryDecision(e, decided[e.key]) for e in entries if e.key in decided], tally


def _override_result(entry: ReferenceEntry, doi: str | None, pmid: str | None) -> MatchResult:
    status = "matched" if (doi or pmid) else "unmatched"
    reason = None if status == "matched" else "a user's override: names no work"
    return MatchResult(
        entry.key, entry.text, status, doi, pmid, matched_by="override", reason=reason
    )


def _with_text(result: MatchResult, text: str) -> MatchResult:
    from dataclasses import replace

    return replace(result, text=text)
