"""The ``refresh`` Prefect flow: keeps the works whose newest observation is older than
``stale_after`` (or that have none) current and connected. Observations are appended, never
overwritten.

Per source (``flows.current.refresh_source``, one task each, the three in parallel): citation
counts (OpenAlex ``select=`` counts and change-key fields in OR-batches of 100; Crossref
``is-referenced-by-count`` and change-key fields in lists of 50; PubMed's cited-in count, elink,
which also lists the citing PMIDs), then the records that changed since they were fetched,
re-fetched and their changes recorded, then (OpenAlex) who cites the works. A source that fails
leaves its works stale or changed, so the next refresh asks again: nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.futures import wait
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import current, steps
from flows.enrich import _artifact_markdown, _retry_unexpected, stopped_state, summary_of
from flows.interrupt import STOP, reclaimed
from flows.progress import Progress
from flows.publish import publish_report
from flows.sharing import serve_readers
from pipeline.config import Settings
from pipeline.records import Identifier


@task(cache_policy=NO_CACHE)
def stale_task(writer: steps.Writer, source: str, stale_after_seconds: float) -> list[Identifier]:
    from warehouse.load import stale_works

    return writer(stale_works, source, stale_after=timedelta(seconds=stale_after_seconds))


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_retry_unexpected)
def refresh_source_task(
    source: str,
    ids: list[Identifier],
    writer: steps.Writer,
    run_id: str,
    settings: Settings,
    progress: Progress,
) -> current.SourceRefresh:
    return current.refresh_source(
        source, ids, settings=settings, writer=writer, run_id=run_id, progress=progress.update
    )


@flow(
    name="refresh",
    task_runner=ThreadPoolTaskRunner(max_workers=3),
    log_prints=False,
    description="Keep stale works current: fresh citation counts, changed records re-fetched "
    "with their history, retractions, versions, and who cites the works.",
)
def refresh_flow(
    db: str,
    stale_after_seconds: float = 7 * 86400,
    sources: list[str] | None = None,
    report: str | None = None,
) -> dict:
    """Keep the stale works current (counts, changed records, who cites); parameters are plain
    values, secrets come from the environment. ``report``: write the HTML report there at the
    end (else $ENRICH_REPORT, if set)."""
    started = time.perf_counter()
    sources = list(sources or ("openalex", "crossref", "pubmed"))
    settings = Settings.from_env(db_path=Path(db))
    steps.fresh_http_state()
    writer = steps.Writer(db, memory_mb=settings.duckdb_memory_mb)
    summary: dict = {"stale_after": str(timedelta(seconds=stale_after_seconds)), "sources": {}}
    with reclaimed(), serve_readers(writer):
        return _refresh(writer, settings, sources, stale_after_seconds, summary, started, report)


def _refresh(writer, settings, sources, stale_after_seconds, summary, started, report=None):
    """The refresh flow's body: records the run, refreshes, closes the writer."""
    from warehouse.load import finish_run, start_run

    status = "failed"
    failing = True
    try:
        run_id = writer(
            start_run, "refresh", {"stale_after_seconds": stale_after_seconds, "sources": sources}
        )
        summary["run_id"] = writer.run_id = run_id
        done = _refresh_sources(writer, settings, sources, stale_after_seconds, run_id)
        summary.update(refresh_summary(done))
        status = "completed" if summary["settled"] else "partial"
        if STOP.is_set():
            status, summary["interrupted"], summary["settled"] = "interrupted", STOP.reason, False
        failing = False
    finally:
        summary["seconds"] = round(time.perf_counter() - started, 3)
        summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        if "run_id" in summary and failing:  # never over the error on its way out
            steps.finish_quietly(writer, finish_run, summary["run_id"], status, summary)
        elif "run_id" in summary:
            writer(finish_run, summary["run_id"], status, summary)
            report = report or settings.report_path
            if report and not STOP.is_set():
                summary["report"] = publish_report(writer, report)
        writer.close()
        _artifact_markdown("refresh-summary", summary)
    return stopped_state(summary)


def _refresh_sources(
    writer, settings, sources, stale_after_seconds, run_id
) -> dict[str, current.SourceRefresh]:
    progress = Progress(sources)
    try:
        plans = {s: stale_task(writer, s, stale_after_seconds) for s in sources}
        futures = {}
        for s, ids in plans.items():
            progress.add_total(s, len(ids))
            # quote(): Prefect would walk every identifier of the list (visit_collection)
            futures[s] = refresh_source_task.submit(
                s, quote(ids), writer, run_id, settings, progress
            )
        # every source's task finishes before any failure is raised (the writer closes after)
        wait(list(futures.values()))
        return {s: f.result() for s, f in futures.items()}
    finally:
        progress.close()


def refresh_summary(done: dict[str, current.SourceRefresh]) -> dict:
    """The refresh's summary: per-source counts as for a run, what changed and was re-fetched,
    who-cites asks, and whether everything settled (a failed re-fetch or citing ask is asked
    again by the next refresh, and leaves it unsettled)."""
    summary = steps.tallies_summary({s: r.counts for s, r in done.items()})
    summary["observations"] = sum(r.counts.ok for r in done.values())
    summary["current"] = {s: r.as_dict() for s, r in done.items()}
    summary["changed"] = sum(len(r.changed) for r in done.values())
    for s, r in done.items():  # a stopped re-fetch leaves its changed works pending (issue 18)
        summary["sources"][s]["interrupted"] = sum(t.interrupted for t in r.tallies)
    summary["settled"] = all(
        t.failed == 0 and t.pending == 0 for r in done.values() for t in r.tallies
    )
    return summary


def run_refresh(*, settings: Settings, stale_after: timedelta, sources: Sequence[str]) -> dict:
    """Run the refresh flow and return its summary, with Prefect's share of the wall time."""
    started = time.perf_counter()
    state = refresh_flow(
        db=str(settings.db_path),
        stale_after_seconds=stale_after.total_seconds(),
        sources=list(sources),
        return_state=True,
        report=str(settings.report_path) if settings.report_path else None,
    )
    return steps.with_prefect_share(summary_of(state), started)
