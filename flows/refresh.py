"""The ``refresh`` Prefect flow: citation counts only, for works whose newest observation is
older than ``stale_after`` (or that have none). Observations are appended, never overwritten.

Per source: OpenAlex ``select=id,cited_by_count,counts_by_year,updated_date`` in OR-batches of
100; Crossref ``is-referenced-by-count``; PubMed's cited-in count (elink). A source that fails
leaves its works stale, so the next refresh asks again: nothing is lost.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import steps
from flows.enrich import _artifact_markdown, fetch_task, stopped_state, summary_of
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


@flow(
    name="refresh",
    task_runner=ThreadPoolTaskRunner(max_workers=3),
    log_prints=False,
    description="Append fresh citation counts for works whose newest observation is stale.",
)
def refresh_flow(
    db: str,
    stale_after_seconds: float = 7 * 86400,
    sources: list[str] | None = None,
    report: str | None = None,
) -> dict:
    """Refresh citation counts; parameters are plain values, secrets come from the environment.
    ``report``: write the HTML report there at the end (else $ENRICH_REPORT, if set)."""
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
        tallies = _refresh_sources(writer, settings, sources, stale_after_seconds, run_id)
        summary.update(steps.tallies_summary(tallies))
        summary["observations"] = sum(t.ok for t in tallies.values())
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
) -> dict[str, steps.SourceTally]:
    progress = Progress(sources)
    try:
        plans = {s: stale_task(writer, s, stale_after_seconds) for s in sources}
        futures = {}
        for s, ids in plans.items():
            progress.add_total(s, len(ids))
            # quote(): Prefect would walk every identifier of the list (visit_collection)
            futures[s] = fetch_task.submit(s, quote(ids), writer, run_id, settings, True, progress)
        return {s: f.result() for s, f in futures.items()}
    finally:
        progress.close()


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
