"""The ``enrich`` Prefect flow: extract -> plan -> fetch -> normalise -> load.

Thin by design: every task is one call into ``pipeline``, ``warehouse`` or ``flows.steps``.
Per-request retries, pacing and Retry-After live in ``pipeline.http``; Prefect's task retry is
only a small outer net (one retry, and only for unexpected errors). One task per source per
round, never one per identifier (~20-50 ms of orchestration each: prefect-notes section 5);
planning is a plain call, and large parameters (id lists) are ``quote``d so Prefect does not walk
them. The seed documents are extracted and loaded inside one task that returns only their summary:
as a task's result they stayed alive for the whole run.

The plan follows the crosswalk: identifiers learnt from one source (a DOI from PubMed, a PMID from
OpenAlex...) are planned for the others as soon as the fetch that learnt them has loaded and the
source is free, without waiting for the other sources (``_fetch_rounds``), until no source plans
anything new. PubMed's cited-in counts come with its records.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import wait as futures_wait
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import steps
from flows.interrupt import STOP, Interrupted, reclaimed
from flows.progress import Progress
from flows.publish import publish_report
from flows.report import run_markdown
from flows.sharing import serve_readers
from pipeline.config import Settings
from pipeline.errors import EnrichError
from pipeline.records import Identifier, SeedDocument

log = logging.getLogger("flows.enrich")

MAX_ROUNDS = 4  # ids learnt in round n are fetched in round n+1; 3 hops cover every crosswalk path


def _retry_unexpected(task, task_run, state) -> bool:
    """Retry a task only for unexpected errors: our own errors are already final data."""
    try:
        state.result()
    except EnrichError:
        return False
    except Exception:
        return True
    return False


@task(cache_policy=NO_CACHE)
def documents_task(writer: steps.Writer, paths: list[str], run_id: str, settings: Settings) -> dict:
    """Extract the seed documents, load them, and return only their summary.

    One task, so the documents (every mention: ~250 MB of Python objects at 100,000 ids) never
    become a task's return value or parameter, which the run would keep alive until its end;
    they are dropped before the first fetch.
    """
    from flows.head_start import reading, take
    from warehouse.load import load_documents

    exclude, limits = reading(settings)  # the warehouse's own file is never read as a seed
    # read already while Prefect got ready (flows.head_start), else read now
    docs = take(paths, exclude=exclude, limits=limits)
    if docs is None:
        docs = list(_extract(paths, exclude, limits))
    STOP.check()  # a stop during a long extraction loads nothing of it
    writer(load_documents, docs, run_id=run_id)
    summary = _documents_summary(docs)
    del docs
    if summary["mentions"] >= RELEASE_AFTER_MENTIONS:
        release_memory()
    return summary


# Documents with fewer mentions free too little to be worth a full collection (85 ms of CPU with
# Prefect loaded: 1% of a small run's fixed cost); 100,000 mentions freed ~170 MB.
RELEASE_AFTER_MENTIONS = 10_000


@task(cache_policy=NO_CACHE)
def match_task(
    writer: steps.Writer, settings: Settings, run_id: str, refresh: bool, sources: list[str]
) -> dict:
    """Match the reference strings without identifiers (one call: ``flows.matching``)."""
    from flows.matching import match_and_load

    return match_and_load(writer, settings, run_id=run_id, refresh=refresh, sources=sources)


def _extract(paths: list[str], exclude: list[str], limits) -> Iterator[SeedDocument]:
    from pipeline.extract import extract_paths

    for doc in extract_paths(paths, exclude=exclude, limits=limits):
        STOP.check()  # a stop during a long extraction loads nothing of it
        yield doc


def release_memory() -> None:
    """Give the memory freed after a large step back to the system: glibc keeps the main thread's
    freed heap (the fetch threads allocate from their own arenas, so they never reuse it) and
    Arrow's pool keeps what staging freed. After loading 100,000 mentions that was ~170 MB."""
    gc.collect()
    try:
        import pyarrow

        pyarrow.default_memory_pool().release_unused()
    except ImportError:  # pyarrow is optional (warehouse.staging)
        pass
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to trim
        pass


def plan_ids(
    writer: steps.Writer,
    source: str,
    refresh: bool,
    exclude: frozenset,
    expand_citing: bool = False,
) -> list[Identifier]:
    """One source's plan for this round: a plain call, not a task (one indexed query; as a task
    it cost ~0.15 s of orchestration each, three per round plus a last empty round)."""
    from warehouse.load import plan

    return writer(plan, source, refresh=refresh, exclude=exclude, expand_citing=expand_citing)


@task(cache_policy=NO_CACHE, retries=1, retry_delay_seconds=2, retry_condition_fn=_retry_unexpected)
def fetch_task(
    source: str,
    ids: list[Identifier],
    writer: steps.Writer,
    run_id: str,
    settings: Settings,
    counts: bool,
    progress: Progress,
) -> steps.SourceTally:
    return steps.fetch_and_load(
        source,
        ids,
        settings=settings,
        writer=writer,
        run_id=run_id,
        counts=counts,
        # PubMed's cited-in counts come with its records (asked right after each efetch, on the
        # PMIDs it just resolved), not from a later pass that resolved every id again
        cited_in=source == "pubmed" and not counts,
        progress=progress.update,
    )


@flow(
    name="enrich",
    task_runner=ThreadPoolTaskRunner(max_workers=3),
    log_prints=False,
    description="Extract identifiers from seed documents, enrich from OpenAlex, Crossref and PubMed, load DuckDB.",
)
def enrich_flow(
    paths: list[str],
    db: str,
    sources: list[str],
    refresh: bool = False,
    report: str | None = None,
    expand: list[str] | None = None,
) -> dict:
    """The main job. Parameters are plain values (stored by Prefect); secrets come from the
    environment inside the run and never become parameters. ``report``: write the HTML report
    there at the end (else $ENRICH_REPORT, if set). ``expand=["citing"]`` also enriches the
    works known only as citing works."""
    started = time.perf_counter()
    settings = Settings.from_env(db_path=Path(db))
    steps.fresh_http_state()
    writer = steps.Writer(db, memory_mb=settings.duckdb_memory_mb)
    try:
        with reclaimed(), serve_readers(writer):
            summary = _run(paths, settings, writer, sources, refresh, started, list(expand or ()))
            report = report or settings.report_path
            if report and not summary.get("interrupted"):
                summary["report"] = publish_report(writer, report)
            return stopped_state(summary)
    finally:
        writer.close()


def stopped_state(summary: dict):
    """What a flow returns: its summary, or a ``Cancelled`` state carrying it when the run was
    stopped by a signal (so Prefect shows the flow run Cancelled, not Completed or Crashed)."""
    if not summary.get("interrupted"):
        return summary
    from prefect.states import Cancelled

    return Cancelled(message=f"stopped by {summary['interrupted']}", data=summary)


def summary_of(state) -> dict:
    """The summary a flow run's final state carries; a failed run raises its error."""
    if state.is_cancelled():
        return state.result(raise_on_failure=False)
    return state.result()


def _run(paths, settings, writer, sources, refresh, started, expand=()) -> dict:
    from warehouse.load import finish_run, start_run

    params = {"paths": paths, "sources": sources, "refresh": refresh, "expand": list(expand)}
    run_id = writer(start_run, "enrich", params)
    writer.run_id = run_id
    status = "failed"
    summary: dict = {"run_id": run_id}
    try:
        try:
            summary.update(documents_task(writer, paths, run_id, settings))
            # matched references become works before the fetch rounds, which then enrich them
            summary["matching"] = match_task(writer, settings, run_id, refresh, list(sources))
            tallies = _fetch_rounds(writer, settings, sources, refresh, run_id, "citing" in expand)
            summary.update(steps.tallies_summary(tallies))
            summary["settled"] = summary["settled"] and summary["matching"]["settled"]
            status = "completed" if summary["settled"] else "partial"
        except Interrupted:
            pass
        if STOP.is_set():
            status, summary["interrupted"], summary["settled"] = "interrupted", STOP.reason, False
    except BaseException:
        # the run's end is recorded if it can be, but the error on its way out is the one
        # reported (a full disk fails finish_run too, and that used to replace it)
        _end_run(writer, finish_run, run_id, "failed", summary, started, quiet=True)
        raise
    _end_run(writer, finish_run, run_id, status, summary, started)
    return summary


def _end_run(writer, finish_run, run_id, status, summary, started, *, quiet=False) -> None:
    summary["seconds"] = round(time.perf_counter() - started, 3)
    summary["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if quiet:
        steps.finish_quietly(writer, finish_run, run_id, status, summary)
    else:
        writer(finish_run, run_id, status, summary)
    _artifact_markdown("enrich-run-summary", summary)


def _fetch_rounds(
    writer, settings, sources, refresh, run_id, expand_citing=False
) -> dict[str, steps.SourceTally]:
    """Every source fetches while it has work: each one plans again as soon as its own fetch is
    done and any fetch has loaded since it last planned (what it learnt may be new identifiers
    for it), never waiting for the other sources' rounds. A round used to end only when every
    source's had: Crossref waited for PubMed before asking the DOIs OpenAlex had taught it
    seconds in, and NCBI sat idle while Crossref worked through them. Ends when no source is
    fetching and none plans anything new (the same fixed point as rounds)."""
    tallies = {s: steps.SourceTally(s) for s in sources}
    attempted: dict[str, set[Identifier]] = {s: set() for s in sources}
    fetches = dict.fromkeys(sources, 0)
    progress = Progress(sources)
    running: dict = {}  # source -> its fetch_task future
    learnt = set(sources)  # sources that may have new identifiers since they last planned
    failure: BaseException | None = None
    try:
        while True:
            if failure is None and not STOP.is_set():
                plans = _next_plans(writer, sources, refresh, expand_citing, attempted, fetches,
                                    skip=set(running) | (set(sources) - learnt))  # fmt: skip
                learnt -= set(plans) | {s for s in sources if s not in running}
                for s, ids in plans.items():
                    progress.add_total(s, len(ids))
                    # quote(): a list of 100,000 ids costs Prefect ~4 s to walk, quoted ~0.05 s
                    running[s] = fetch_task.submit(
                        s, quote(ids), writer, run_id, settings, False, progress
                    )
            if not running:
                break
            # every source's task finishes before any failure is raised: the run's writer is
            # closed on the way out, and a sibling still loading would be cut off mid-run
            for s in _first_done(running):
                try:
                    tallies[s].merge(running.pop(s).result())
                except BaseException as exc:  # raised once the others are done
                    failure = failure or exc
                learnt.update(sources)
        if failure is not None:
            raise failure
        if "pubmed" in sources and not STOP.is_set():
            _pubmed_counts(writer, settings, run_id, tallies["pubmed"], progress)
    finally:
        progress.close()
    return tallies


# A source fetches at most this many times in a run. Fetches follow the crosswalk (ids learnt
# from one source are planned for the others), which settles in 3 hops; a source now plans again
# after each fetch that loaded, not once per round of all sources, so it may take a few more
# fetches to cover the same hops (MAX_ROUNDS was the cap for rounds). A safety net: a run ends
# when no source plans anything new.
MAX_FETCHES = 2 * MAX_ROUNDS


def _next_plans(writer, sources, refresh, expand_citing, attempted, fetches, *, skip) -> dict:
    """The non-empty plans of the sources not in ``skip`` (fetching, or nothing learnt since
    they last planned), counted in ``fetches``, their ids added to ``attempted``; logged."""
    plans = {}
    for s in sources:
        if s in skip or fetches[s] >= MAX_FETCHES:
            continue
        ids = plan_ids(
            writer, s, refresh and fetches[s] == 0, frozenset(attempted[s]), expand_citing
        )
        if ids:
            plans[s] = ids
            fetches[s] += 1
            attempted[s].update(ids)
    if plans:
        log.info(
            "round %d: %s",
            max(fetches[s] for s in plans),
            ", ".join(f"{s} {len(i)} ids" for s, i in plans.items()),
        )
    return plans


def _first_done(running: dict) -> list[str]:
    """The sources whose fetch has finished, waiting for at least one."""
    done, _ = futures_wait(
        [f.wrapped_future for f in running.values()], return_when=FIRST_COMPLETED
    )
    return [s for s, f in running.items() if f.wrapped_future in done]


def _pubmed_counts(writer, settings, run_id, tally: steps.SourceTally, progress: Progress) -> None:
    """PubMed's cited-in count (elink) for the works PubMed resolved but that have no count yet:
    this run's records carry theirs (``fetch_task``), so these are the works whose elink failed,
    and those an earlier run resolved but never counted (it was killed between records and
    counts). Named by PMID, so they need no resolution; usually there are none."""
    from warehouse.load import uncounted

    ids = writer(uncounted, "pubmed")
    if not ids:
        return
    counts = fetch_task("pubmed", quote(ids), writer, run_id, settings, True, progress)
    tally.requests += counts.requests
    tally.seconds += counts.seconds


def _documents_summary(docs: Sequence[SeedDocument]) -> dict:
    ids = {m.identifier for d in docs for m in d.mentions}
    works = {(d.path, m.group) for d in docs for m in d.mentions}
    return {
        "documents": len(docs),
        "mentions": sum(len(d.mentions) for d in docs),
        "identifiers": len(ids),
        "works_in_documents": len(works),
        "problems": [f"{p.path}: {p.message}" for d in docs for p in d.problems],
        "input_errors": [
            f"{p.path}: {p.message}" for d in docs for p in d.problems if p.fatal and not p.skipped
        ],
    }


def _artifact_markdown(key: str, summary: dict) -> None:
    """The run summary as a Prefect markdown artifact (keys: lowercase letters, digits, '-')."""
    try:
        from prefect.artifacts import create_markdown_artifact

        create_markdown_artifact(
            key=key, markdown=run_markdown(summary), description=f"enrich {key}"
        )
    except Exception as exc:  # an artifact is a nicety; never fail the run over it
        log.warning("could not create the run summary artifact: %s", exc)


def run_enrich(
    paths: Sequence[str],
    *,
    settings: Settings,
    sources: Sequence[str],
    refresh: bool = False,
    expand: Sequence[str] = (),
) -> dict:
    """Run the enrich flow (ephemeral Prefect unless PREFECT_API_URL is set) and return its
    summary, with Prefect's share of the wall time."""
    started = time.perf_counter()
    state = enrich_flow(
        paths=list(paths),
        db=str(settings.db_path),
        sources=list(sources),
        refresh=refresh,
        return_state=True,
        report=str(settings.report_path) if settings.report_path else None,
        expand=list(expand),
    )
    return steps.with_prefect_share(summary_of(state), started)
