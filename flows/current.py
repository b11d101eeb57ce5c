"""Keeping the works current and connected: what a refresh does for one source after its counts.

1. **Changed since the last fetch.** OpenAlex and Crossref: the counts answers carry a change
   key of each record's metadata (``pipeline.normalise.change``), so the works whose key moved
   are found in the warehouse without a request (``warehouse.planning.changed_works``). PubMed:
   esearch over the refreshed PMIDs limited to records modified since each was fetched
   (``datetype=mdat``), 200 PMIDs a request.
2. **Re-fetch only those**, in the source's usual batches (OpenAlex 100, Crossref 50, PubMed
   200 a request); loading the new answer records what changed (``work_changes``) and replaces
   the source's updates and versions of the work.
3. **Who cites the works** (OpenAlex): ``cites:`` lists for works whose count moved since they
   were last asked, at most ``ENRICH_CITING_CAP`` citing works each (a seed's subject: all).
   PubMed's citing works come with its cited-in counts, already asked in step 0.

Plain functions (no Prefect): the ``refresh`` flow calls :func:`refresh_source` once per source.
Each step loads batch by batch, so a run that is killed loses at most the batches in flight,
and the next refresh finds the same works changed (their new answer was never loaded).

A stop (Ctrl-C, SIGTERM: ``flows.interrupt.STOP``) ends each step within a fraction of a second
and skips the steps after it: the counts step keeps what it loaded, changed works not re-fetched
yet are left ``pending`` (and stay changed for the next refresh), and only the works whose
citing works were loaded are noted as asked.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from flows import steps
from flows.interrupt import STOP, Interrupted, StopRequest
from pipeline.config import Settings
from pipeline.records import Identifier

log = logging.getLogger("flows.current")


@dataclass
class SourceRefresh:
    """What a refresh did for one source: counts, the change check, re-fetches, who cites."""

    source: str
    counts: steps.SourceTally
    checked: steps.SourceTally  # PubMed's esearch [mdat] (OpenAlex, Crossref: no requests)
    refetched: steps.SourceTally
    citing: steps.SourceTally
    changed: list[Identifier] = field(default_factory=list)

    @property
    def tallies(self) -> list[steps.SourceTally]:
        return [self.counts, self.checked, self.refetched, self.citing]

    def as_dict(self) -> dict:
        """JSON-ready summary of the steps after the counts."""
        return {
            "changed": len(self.changed),
            "check": self.checked.as_dict(),
            "refetch": self.refetched.as_dict(),
            "citing": self.citing.as_dict(),
        }


def refresh_source(
    source: str,
    ids: Sequence[Identifier],
    *,
    settings: Settings,
    writer: steps.Writer,
    run_id: str,
    progress: steps.ProgressFn | None = None,
    stop: StopRequest = STOP,
) -> SourceRefresh:
    """Counts of ``ids`` (the stale works), then the changed ones re-fetched, then (OpenAlex)
    who cites the works. Once ``stop`` is asked, the step under way ends and the others are
    skipped."""
    counts = steps.fetch_and_load(
        source, ids, settings=settings, writer=writer, run_id=run_id, counts=True,
        progress=progress, stop=stop,
    )  # fmt: skip
    if stop.is_set():
        skipped = [steps.SourceTally(source) for _ in range(3)]
        return SourceRefresh(source, counts, *skipped)
    changed, checked = changed_ids(
        source, ids, settings=settings, writer=writer, run_id=run_id, stop=stop
    )
    if changed:
        log.info("%s: %d record(s) changed since they were fetched; fetching them", source,
                 len(changed))  # fmt: skip
    refetched = steps.fetch_and_load(  # the source's own records: no agency lookup
        source, changed, settings=settings, writer=writer, run_id=run_id, known=True, stop=stop
    )
    citing = steps.SourceTally(source)
    if source == "openalex" and not stop.is_set():
        citing = scan_citing(source, settings=settings, writer=writer, run_id=run_id, stop=stop)
    return SourceRefresh(source, counts, checked, refetched, citing, changed)


def changed_ids(
    source: str,
    ids: Sequence[Identifier],
    *,
    settings: Settings,
    writer: steps.Writer,
    run_id: str,
    stop: StopRequest = STOP,
) -> tuple[list[Identifier], steps.SourceTally]:
    """The works of ``source`` whose record changed since it was fetched, by the source's key."""
    from warehouse.load import changed_works

    if source != "pubmed":
        return writer(changed_works, source), steps.SourceTally(source)
    return pubmed_modified(ids, settings=settings, writer=writer, run_id=run_id, stop=stop)


def pubmed_modified(
    ids: Sequence[Identifier],
    *,
    settings: Settings,
    writer: steps.Writer,
    run_id: str,
    stop: StopRequest = STOP,
) -> tuple[list[Identifier], steps.SourceTally]:
    """PMIDs among ``ids`` modified in PubMed since their record was fetched (esearch [mdat]).
    The answers are stored like any other; their outcomes stay out of the fetch ledger (asking
    whether a record changed is not asking for the record). Once ``stop`` is asked, the PMIDs
    found so far are returned (the others are checked again by the next refresh)."""
    from warehouse.load import fetched_at, load_batch

    tally = steps.SourceTally("pubmed")
    started = time.perf_counter()
    since = writer(fetched_at, "pubmed", [i for i in ids if i.scheme == "pmid"])
    if not since:
        return [], tally
    client = steps.make_client("pubmed", settings)
    modified: list[Identifier] = []
    asks = client.fetch_modified([(i, at.date()) for i, at in since.items()])
    try:
        # fetched in a helper thread, so a stop never waits for a request in flight
        for batches in steps.prefetched(asks, depth=1, stop=stop):
            for batch in batches:
                normalised, errors = steps.normalise_batch(batch)
                writer(load_batch, replace(batch, outcomes=()), normalised, run_id=run_id)
                tally.add(batch)
                tally.parse_errors += errors
                modified += [i for n in normalised for i in n.modified]
    except Interrupted:
        log.info("pubmed: stopped; %d modified PMID(s) found so far", len(modified))
    tally.requests = client.requests_made
    tally.seconds = time.perf_counter() - started
    return steps.distinct(modified), tally


def scan_citing(
    source: str,
    *,
    settings: Settings,
    writer: steps.Writer,
    run_id: str,
    stop: StopRequest = STOP,
) -> steps.SourceTally:
    """Ask ``source`` who cites the works whose count moved since they were last asked (or
    that were never asked), within the cap; note each work asked in ``citing_scans`` (once
    ``stop`` is asked: those whose answers were loaded)."""
    from warehouse.load import citing_plan, record_scans

    tally = steps.SourceTally(source)
    started = time.perf_counter()
    asks = writer(citing_plan, source, cap=settings.citing_cap)
    if not asks:
        return tally
    log.info("%s: asking who cites %d work(s)", source, len(asks))
    client = steps.make_client(source, settings)
    try:
        steps.load_stream(
            client.fetch_citing(asks), tally, writer=writer, run_id=run_id, counts=True,
            total=len(asks), citing_cap=settings.citing_cap, stop=stop,
        )  # fmt: skip
    except Interrupted:
        log.info("%s: stopped; who cites %d work(s) loaded", source, len(tally.ok_ids))
    tally.requests = client.requests_made
    done = set(tally.ok_ids)
    scanned = [(a.ident, a.cap is None or a.expected < a.cap) for a in asks if a.ident in done]
    writer(record_scans, source, scanned, run_id=run_id)
    tally.seconds = time.perf_counter() - started
    return tally
