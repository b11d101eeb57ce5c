"""Load extraction results and source answers into the warehouse, one transaction per call.

Every loader stages whole tables (staging.py) and runs set-based statements from load.sql; nothing
inserts row by row. Each call is atomic: a crash mid-batch leaves the previous state. Loading the
same input twice leaves the same rows (upserts keyed on each table's primary key; per-source data
replaced per (work, source)). ``citation_counts`` is append-only across runs: one observation per
(work, source, run).

A connection is not thread-safe (DuckDB 2.0 refuses concurrent calls): give each thread its own
``con.cursor()`` or its own short-lived connection.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from datetime import UTC, datetime

import duckdb

from pipeline.records import (
    STATUSES,
    CitationCount,
    FetchBatch,
    Identifier,
    Normalised,
    RawResponse,
    SeedDocument,
)
from warehouse.citations import record_scans, write_citations
from warehouse.connected import mark_seed_works, resolve_links
from warehouse.db import sql, transaction
from warehouse.identity import (
    IdGroup,
    Resolution,
    best_identifier,
    known_ids,
    lookup_ids,
    resolve,
    resolve_citations,
)
from warehouse.matches import link_matches
from warehouse.planning import (
    changed_works,
    citing_plan,
    fetched_at,
    plan,
    stale_works,
    uncounted,
)
from warehouse.rows import (
    COUNT_BY_YEAR_SPEC,
    COUNT_SPEC,
    NOTE_SPEC,
    SLICE_SPEC,
    SOURCE_RECORD_SPEC,
    UPDATE_SPEC,
    VERSION_SPEC,
    RecordRows,
    change_text,
    id_strings,
    note_row,
    version_key,
)
from warehouse.seeds import document_tables
from warehouse.staging import staged

__all__ = [
    "body_parts",
    "changed_works",
    "citing_plan",
    "copy_runs",
    "fetched_at",
    "finish_run",
    "iter_raw_responses",
    "load_batch",
    "load_counts",
    "load_documents",
    "load_links",
    "load_recovered",
    "mark_crashed_runs",
    "mark_ledger",
    "plan",
    "rebuild",
    "record_scans",
    "redact_url",
    "resolve_citations",
    "stale_works",
    "start_run",
    "transaction",
    "uncounted",
]

log = logging.getLogger(__name__)

_Item = tuple[Normalised, datetime | None, str]  # (answer, observed_at if known, fetching run)
_RecordIn = tuple  # (SourceRecord, IdGroup, observed_at | None, fetching run_id)

RAW_META_SPEC = [
    ("raw_id", "varchar"), ("source", "varchar"), ("endpoint", "varchar"),
    ("request_url", "varchar"), ("fetched_at", "timestamptz"), ("http_status", "integer"),
    ("content_type", "varchar"), ("requested", "varchar[]"), ("run_id", "varchar"),
    ("body_chars", "bigint"), ("parts", "integer"),
]  # fmt: skip
RAW_PART_SPEC = [("raw_id", "varchar"), ("part", "integer"), ("text", "varchar")]
# Characters per stored body part (raw_response_parts; migrations/004 says why bodies are cut).
# DuckDB's checkpoint works through a table 2,048 rows at a time, so this bounds its working set
# (measured: 16,384 keeps a 1.4 GB store's process peak flat at ~250 MB; 65,536 overran a
# 128 MB cap). The migration's SQL uses the same number.
PART_CHARS = 16_384
LEDGER_SPEC = [
    ("source", "varchar"), ("scheme", "varchar"), ("value", "varchar"), ("status", "varchar"),
    ("http_status", "integer"), ("attempts", "integer"), ("last_error", "varchar"),
    ("last_attempt_at", "timestamptz"), ("first_seen_at", "timestamptz"), ("run_id", "varchar"),
]  # fmt: skip
_SLICE_TABLES = (
    "source_records", "authorships", "authorship_institutions", "work_references",
    "work_topics", "work_funders", "work_updates", "work_versions",
)  # fmt: skip
_UPSERTED = {
    "venues", "authors", "institutions", "topics", "funders", "citation_counts",
    "counts_by_year", "work_aliases", "work_changes",
}  # fmt: skip
_UPDATE_SEEN = [name for name, _ in UPDATE_SPEC].index("first_seen_at")
_VERSION_SEEN = [name for name, _ in VERSION_SPEC].index("first_seen_at")
# Query parameters that carry secrets. The clients strip them already; this is the second lock.
_SECRET_PARAM = re.compile(
    r"(?<=[?&])(?:api[_-]?key|access_token|token|apikey)=[^&#]*&?", re.IGNORECASE
)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def redact_url(url: str) -> str:
    """``url`` without secret query parameters (api_key=..., token=...)."""
    cleaned = _SECRET_PARAM.sub("", url)
    if cleaned != url:
        log.warning("a request URL carried a secret parameter; it was removed before storing")
        cleaned = cleaned.rstrip("&?")
    return cleaned


# ------------------------------------------------------------------------------------------
# runs
# ------------------------------------------------------------------------------------------


def start_run(con: duckdb.DuckDBPyConnection, flow: str, params: dict) -> str:
    """Record a new run (status 'running', its summary naming this process) and return its
    run_id. Runs left 'running' by a process that no longer exists become 'crashed' first."""
    mark_crashed_runs(con)
    run_id = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    con.execute(
        sql("load.sql", "insert_run"),
        {
            "run_id": run_id,
            "flow": flow,
            "params": json.dumps(params, default=str),
            "summary": json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
        },
    )
    return run_id


def mark_crashed_runs(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Mark 'crashed' every 'running' run whose process is gone (killed, or the machine went
    down): its pid no longer exists on this host, or it recorded none (runs that predate the
    pid). Runs of another host are left alone. Returns the run_ids marked."""
    host = socket.gethostname()
    dead = []
    for run_id, summary in con.execute(sql("load.sql", "running_runs")).fetchall():
        try:
            owner = json.loads(summary) if summary else {}
        except ValueError:
            owner = {}
        if not isinstance(owner, dict) or "pid" not in owner:
            dead.append(run_id)
        elif owner.get("host") == host and not _process_exists(owner["pid"]):
            dead.append(run_id)
    for run_id in dead:
        con.execute(sql("load.sql", "mark_crashed"), {"run_id": run_id})
    if dead:
        log.info("%d run(s) left 'running' by a process that is gone: now 'crashed'", len(dead))
    return dead


def _process_exists(pid: object) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, TypeError):
        return True  # someone else's process, or a pid we cannot judge: assume alive
    return True


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, status: str, summary: dict) -> None:
    """Close a run with its final status and a JSON summary, in one transaction with the
    run-level step the loads leave to it: references whose cited work arrived after them are
    pointed at it (``resolve_citations``), whatever the status."""
    with transaction(con):
        resolved = resolve_citations(con)
        if resolved:
            log.info("%d reference(s) now point at a work that arrived after them", resolved)
        resolve_links(con)
        con.execute(
            sql("load.sql", "finish_run"),
            {"run_id": run_id, "status": status, "summary": json.dumps(summary, default=str)},
        )


# ------------------------------------------------------------------------------------------
# seed documents
# ------------------------------------------------------------------------------------------


def load_documents(
    con: duckdb.DuckDBPyConnection, docs: Sequence[SeedDocument], *, run_id: str
) -> None:
    """Load seed documents, their mentions, the works their groups name, and seed references.

    Mentions of one (document, group) are one work; groups sharing an identifier with a known
    work join it (merging works when a group spans several).
    """
    groups = _document_groups(docs)
    with transaction(con):
        res = resolve(con, [g for _, g in groups], run_id=run_id, source="seed")
        for table, spec, rows in document_tables(docs, res, run_id=run_id):
            with staged(con, f"_in_{table}", spec=spec, rows=rows):
                for step in _DOCUMENT_STEPS[table]:
                    con.execute(sql("load.sql", step))
        recompute_works(con, res.affected | set(res.merges.values()))
        mark_seed_works(con, res.affected)
    log.info("loaded %d document(s), %d work(s)", len(docs), len(set(res.work_of.values())))


_DOCUMENT_STEPS = {
    "seed_documents": ("upsert_seed_documents", "delete_mentions", "delete_reference_entries"),
    "reference_entries": ("insert_reference_entries",),
    "mentions": ("insert_mentions",),
    "seed_references": ("insert_seed_references",),
}


def _document_groups(docs: Sequence[SeedDocument]) -> list[tuple[tuple[str, int], IdGroup]]:
    by_group: dict[tuple[str, int], list[Identifier]] = {}
    for doc in docs:
        for m in doc.mentions:
            by_group.setdefault((doc.document_id, m.group), []).append(m.identifier)
    out = []
    for key, ids in by_group.items():
        unique = tuple(dict.fromkeys(ids))
        out.append((key, IdGroup(unique, best_identifier(unique), "seed", split_on_conflict=True)))
    return out


def load_links(con: duckdb.DuckDBPyConnection, *, run_id: str) -> None:
    """Rebuild the mentions and edges of matched reference entries and recompute their works,
    in one transaction (``warehouse.matches.link_matches``)."""
    with transaction(con):
        affected = link_matches(con, run_id=run_id)
        if affected:
            recompute_works(con, affected)
            # a reference entry matched by its text names a work of the seeds' own, even one
            # first met as a citing work (issue 20's works.origin)
            mark_seed_works(con, affected)


# ------------------------------------------------------------------------------------------
# source answers
# ------------------------------------------------------------------------------------------


def load_batch(
    con: duckdb.DuckDBPyConnection,
    batch: FetchBatch,
    normalised: Sequence[Normalised],
    *,
    run_id: str,
    citing_cap: int | None = None,
) -> None:
    """Load one fetch batch atomically: raw answers first, then ledger outcomes, identity
    links and merges, per-source records, citation observations, citing links (at most
    ``citing_cap`` per cited work and source, None: all), and the recomputed works."""
    fetched = {raw.raw_id: _utc(raw.fetched_at) for raw in batch.raws}
    with transaction(con):
        _store_raws(con, batch.raws, run_id=run_id)
        _store_outcomes(con, batch.outcomes, run_id=run_id)
        _load_normalised(
            con, [(n, None, run_id) for n in normalised], fetched, run_id=run_id,
            source=batch.source, citing_cap=citing_cap,
        )  # fmt: skip


def _store_raws(con: duckdb.DuckDBPyConnection, raws: Sequence[RawResponse], *, run_id: str):
    metas, parts = {}, []
    for raw in raws:
        if raw.raw_id in metas:
            continue
        cut = body_parts(raw.body)
        metas[raw.raw_id] = (
            raw.raw_id, raw.source, raw.endpoint, redact_url(raw.request_url),
            _utc(raw.fetched_at), raw.http_status, raw.content_type,
            id_strings(raw.requested), run_id, len(raw.body), len(cut),
        )  # fmt: skip
        parts.extend((raw.raw_id, n, text) for n, text in enumerate(cut))
    with (
        staged(con, "_in_raw_meta", spec=RAW_META_SPEC, rows=list(metas.values())),
        staged(con, "_in_raw_parts", spec=RAW_PART_SPEC, rows=parts),
    ):
        con.execute(sql("load.sql", "insert_raw_parts"))  # first: it skips answers already stored
        con.execute(sql("load.sql", "insert_raw_meta"))


def body_parts(body: str) -> list[str]:
    """``body`` cut into consecutive parts of at most PART_CHARS characters (one, possibly empty,
    part for a short body); joined in order they give the body back."""
    if len(body) <= PART_CHARS:
        return [body]
    return [body[at : at + PART_CHARS] for at in range(0, len(body), PART_CHARS)]


def load_recovered(
    con: duckdb.DuckDBPyConnection,
    raws: Sequence[tuple[RawResponse, str | None]],
    normalised: Sequence[Normalised],
    outcomes: Sequence,
    *,
    run_id: str,
    source: str,
    citing_cap: int | None = None,
) -> dict[str, int]:
    """Load answers read back from another warehouse (``enrich rebuild --from-raw``), in one
    transaction: each answer stored under the run that fetched it (``raws`` pairs it with that
    run_id), its records and counts observed when it was fetched, ``outcomes`` in the ledger."""
    with transaction(con):
        by_run: dict[str, list[RawResponse]] = {}
        for raw, fetched_in in raws:
            by_run.setdefault(fetched_in or run_id, []).append(raw)
        for fetched_in, group in by_run.items():
            _store_raws(con, group, run_id=fetched_in)
        _store_outcomes(con, outcomes, run_id=run_id)
        items = [
            (n, _utc(raw.fetched_at), fetched_in or run_id)
            for (raw, fetched_in), n in zip(raws, normalised, strict=True)
        ]
        fetched = {raw.raw_id: _utc(raw.fetched_at) for raw, _ in raws}
        return _load_normalised(
            con, items, fetched, run_id=run_id, source=source, citing_cap=citing_cap
        )


RUN_SPEC = [
    ("run_id", "varchar"), ("flow", "varchar"), ("params", "varchar"),
    ("started_at", "timestamptz"), ("finished_at", "timestamptz"), ("status", "varchar"),
    ("summary", "varchar"),
]  # fmt: skip


def copy_runs(con: duckdb.DuckDBPyConnection, rows: Sequence[tuple]) -> int:
    """Add ``runs`` rows read from another warehouse (runs already here are kept)."""
    with transaction(con):
        with staged(con, "_in_runs", spec=RUN_SPEC, rows=[tuple(r) for r in rows]):
            con.execute(sql("load.sql", "copy_runs"))
    return len(rows)


def _store_outcomes(con: duckdb.DuckDBPyConnection, outcomes: Sequence, *, run_id: str) -> None:
    rows = {}
    for e in outcomes:
        at = _utc(e.last_attempt_at)
        rows[(e.source, e.scheme, e.value)] = (
            e.source, e.scheme, e.value, e.status, e.http_status, e.attempts, e.last_error, at,
            at, run_id,
        )  # fmt: skip
    with staged(con, "_in_fetch_ledger", spec=LEDGER_SPEC, rows=list(rows.values())):
        con.execute(sql("load.sql", "upsert_ledger"))


def _groups_of(items: Sequence[_Item]) -> tuple[list[IdGroup], list[_RecordIn]]:
    """Identity groups from records (ids + aliases) and links; records paired with their group."""
    groups: list[IdGroup] = []
    records: list[_RecordIn] = []
    for n, when, count_run in items:
        for rec in n.records:
            ids = tuple(dict.fromkeys((*rec.ids, *rec.aliases)))
            if not ids:
                log.warning(
                    "%s record %s asserts no identifier; skipped", rec.source, rec.source_key
                )
                continue
            primary = next((i for i in rec.ids if i.value == rec.source_key), ids[0])
            group = IdGroup(ids, primary, rec.source)
            groups.append(group)
            records.append((rec, group, when, count_run))
        for link in n.links:
            if link.ids:
                groups.append(IdGroup(tuple(dict.fromkeys(link.ids)), link.ids[0], link.source))
    return groups, records


def _load_normalised(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[_Item],
    fetched: dict[str, datetime],
    *,
    run_id: str,
    source: str,
    citing_cap: int | None = None,
) -> dict[str, int]:
    """Identity, records, counts and citing links of ``items`` = (normalised, observed_at,
    count run_id)."""
    groups, records = _groups_of(items)
    # links only join works we already track: an unknown id alone is no reason to create a work
    found = lookup_ids(con, (i for g in groups for i in g.ids))
    record_groups = {group for _, group, _, _ in records}
    groups = [g for g in groups if g in record_groups or any(i in found for i in g.ids)]
    res = resolve(con, groups, run_id=run_id, source=source, found=found)  # one look-up, not two
    now = datetime.now(UTC)
    rows = RecordRows(run_id=run_id, now=now)
    for rec, group, when, count_run in records:
        observed = when or fetched.get(rec.raw_id or "") or now
        rows.add(rec, res.group_work(group), fetched_at=observed, fetched_in=count_run)
    affected = set(res.affected) | set(res.merges.values())
    _write_record_rows(con, rows)
    counted = _write_counts(con, items, res, now=now)
    links = [
        (c, when or fetched.get(c.raw_id or "") or now) for n, when, _ in items for c in n.citations
    ]
    citing = write_citations(con, links, run_id=run_id, cap=citing_cap)
    recompute_works(con, affected | counted | citing)
    notes = _write_notes(con, items, run_id=run_id, now=now)
    return {
        "records": len(records),
        "links": sum(len(n.links) for n, _, _ in items),
        "counts": len(rows.counts) + sum(len(n.counts) for n, _, _ in items),
        "notes": notes,
    }


def _write_notes(
    con: duckdb.DuckDBPyConnection, items: Sequence[_Item], *, run_id: str, now: datetime
) -> int:
    """The data-quality notes of ``items`` (normalised answers) as data_quality_notes rows."""
    rows = {}
    for n, _, _ in items:
        for note in n.notes:
            row = note_row(note, run_id=run_id, now=now)
            rows.setdefault(row[0], row)
    if rows:
        with staged(con, "_in_data_quality_notes", spec=NOTE_SPEC, rows=list(rows.values())):
            con.execute(sql("load.sql", "insert_data_quality_notes"))
    return len(rows)


def _write_record_rows(con: duckdb.DuckDBPyConnection, rows: RecordRows) -> None:
    with staged(con, "_in_slices", spec=SLICE_SPEC, rows=list(rows.slices.values())):
        # A (work, source) slice has rows only alongside its source_records row, so one look
        # there spares the whole-table delete scans when every slice is new (a first fetch).
        if con.execute(sql("load.sql", "any_slice_stored")).fetchall()[0][0]:
            links = _keep_first_seen(con, rows)
            _note_stored_changes(con, rows, links)
            for table in _SLICE_TABLES:
                con.execute(sql("load.sql", f"delete_slice_{table}"))
    for table, spec, table_rows in rows.tables():
        if not table_rows:
            continue
        with staged(con, f"_in_{table}", spec=spec, rows=table_rows):
            verb = "upsert" if table in _UPSERTED else "insert"
            name = "upsert_source_aliases" if table == "work_aliases" else f"{verb}_{table}"
            con.execute(sql("load.sql", name))


def _note_stored_changes(
    con: duckdb.DuckDBPyConnection, rows: RecordRows, links: dict[tuple, tuple[list, list]]
) -> None:
    """work_changes rows for each slice whose stored record (its source_records row, updates
    and versions: ``links``) differs from the new answer."""
    cur = con.execute(sql("load.sql", "stored_slices"))
    names = [d[0] for d in cur.description]
    order = [names.index(name) for name, _ in SOURCE_RECORD_SPEC]
    while page := cur.fetchmany(1000):
        for stored in page:
            row = tuple(stored[i] for i in order)
            first = rows.first_records.get((row[0], row[1]))
            if first is not None:
                updates, versions = links.get((row[0], row[1]), ([], []))
                snapshot = (*row, change_text(updates), change_text(versions))
                rows.note_changes(snapshot, first, run_id=rows.run_id)


def _keep_first_seen(
    con: duckdb.DuckDBPyConnection, rows: RecordRows
) -> dict[tuple, tuple[list, list]]:
    """An update or version the replaced slice already held keeps when it was first seen.
    Returns the keys of the stored updates and versions per slice (for work_changes)."""
    links: dict[tuple, tuple[list, list]] = {}
    for *key, seen in con.execute(sql("load.sql", "stored_update_first_seen")).fetchall():
        links.setdefault((key[0], key[1]), ([], []))[0].append(key[2])
        row = rows.updates.get(tuple(key))
        if row is not None and seen < row[_UPDATE_SEEN]:
            rows.updates[tuple(key)] = (*row[:_UPDATE_SEEN], seen, *row[_UPDATE_SEEN + 1 :])
    for *key, seen in con.execute(sql("load.sql", "stored_version_first_seen")).fetchall():
        links.setdefault((key[0], key[1]), ([], []))[1].append(version_key(*key[3:], key[2]))
        row = rows.versions.get(tuple(key))
        if row is not None and seen < row[_VERSION_SEEN]:
            rows.versions[tuple(key)] = (*row[:_VERSION_SEEN], seen, *row[_VERSION_SEEN + 1 :])
    return links


def _write_counts(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[_Item],
    res: Resolution,
    *,
    now: datetime,
) -> set[str]:
    """Citation observations from CitationCount records; returns the works they touched."""
    counts = [(c, when, run) for n, when, run in items for c in n.counts]
    if not counts:
        return set()
    work_of = dict(res.work_of)
    missing = [c.id for c, _, _ in counts if c.id not in work_of]
    work_of.update(known_ids(con, missing))
    rows = RecordRows(run_id="", now=now)
    for c, when, run in counts:
        work_id = work_of.get(c.id)
        if work_id is None:
            log.warning("%s count for %s: no such work in the warehouse; skipped", c.source, c.id)
            continue
        rows.add_count(
            work_id, c.source, count=c.cited_by_count, observed_at=when or now, run_id=run,
            change_key=c.change_key, updated_date=c.updated_date,
        )  # fmt: skip
        rows.add_counts_by_year(
            work_id, c.source, by_year=c.counts_by_year, observed_at=when or now
        )
    _upsert_counts(con, rows)
    return {key[0] for key in rows.counts}


def _upsert_counts(con: duckdb.DuckDBPyConnection, rows: RecordRows) -> None:
    with staged(con, "_in_citation_counts", spec=COUNT_SPEC, rows=list(rows.counts.values())):
        con.execute(sql("load.sql", "upsert_citation_counts"))
    with staged(
        con, "_in_counts_by_year", spec=COUNT_BY_YEAR_SPEC, rows=list(rows.counts_by_year.values())
    ):
        con.execute(sql("load.sql", "upsert_counts_by_year"))


def recompute_works(con: duckdb.DuckDBPyConnection, work_ids: Collection[str] | None) -> None:
    """Re-derive the merged ``works`` rows of ``work_ids`` (all works when None), set-based."""
    if work_ids is None:
        rows = con.execute(sql("load.sql", "all_works")).fetchall()
    else:
        rows = [(w,) for w in sorted(work_ids)]
    with staged(con, "_in_affected", spec=[("work_id", "varchar")], rows=rows):
        con.execute(sql("load.sql", "recompute_works"))


def load_counts(
    con: duckdb.DuckDBPyConnection, counts: Sequence[CitationCount], *, run_id: str
) -> int:
    """Append citation observations (refresh); returns how many were recorded."""
    with transaction(con):
        now = datetime.now(UTC)
        work_of = known_ids(con, (c.id for c in counts))
        rows = RecordRows(run_id=run_id, now=now)
        for c in counts:
            if c.id not in work_of:
                log.warning(
                    "%s count for %s: no such work in the warehouse; skipped", c.source, c.id
                )
                continue
            rows.add_count(
                work_of[c.id], c.source, count=c.cited_by_count, observed_at=now,
                change_key=c.change_key, updated_date=c.updated_date,
            )  # fmt: skip
            rows.add_counts_by_year(
                work_of[c.id], c.source, by_year=c.counts_by_year, observed_at=now
            )
        _upsert_counts(con, rows)
        recompute_works(con, {key[0] for key in rows.counts})
    return len(rows.counts)


def mark_ledger(
    con: duckdb.DuckDBPyConnection,
    source: str,
    ids: Sequence[Identifier],
    *,
    status: str,
    error: str | None,
    run_id: str,
    http_status: int | None = None,
    attempts: int = 0,
) -> None:
    """Set the ledger status of ``ids`` for ``source`` (e.g. ``pending`` when unreachable).

    ``attempts`` is added to the cumulative count (0: nothing was sent). An ``ok`` row is never
    downgraded to ``failed``/``pending``.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown ledger status {status!r} (one of {', '.join(STATUSES)})")
    now = datetime.now(UTC)
    rows = {
        (source, i.scheme, i.value): (
            source,
            i.scheme,
            i.value,
            status,
            http_status,
            attempts,
            error,
            now,
            now,
            run_id,
        )  # fmt: skip
        for i in ids
    }
    with transaction(con):
        with staged(con, "_in_fetch_ledger", spec=LEDGER_SPEC, rows=list(rows.values())):
            con.execute(sql("load.sql", "upsert_ledger"))


# ------------------------------------------------------------------------------------------
# rebuild from raw responses
# ------------------------------------------------------------------------------------------


def iter_raw_responses(
    con: duckdb.DuckDBPyConnection, *, batch_size: int = 500
) -> Iterator[RawResponse]:
    """Every stored raw response, oldest first, read ``batch_size`` rows at a time."""
    for page in _raw_pages(con, batch_size=batch_size):
        for row in page:
            yield _raw_from_row(row)


def _raw_pages(con: duckdb.DuckDBPyConnection, *, batch_size: int) -> Iterator[list[tuple]]:
    after_at, after_id = None, None
    while True:
        page = con.execute(
            sql("load.sql", "raw_page"),
            {"after_at": after_at, "after_id": after_id, "limit": batch_size},
        ).fetchall()
        if not page:
            return
        yield page
        after_at, after_id = page[-1][7], page[-1][0]


def _raw_from_row(row: tuple) -> RawResponse:
    _, source, endpoint, url, status, ctype, body, fetched_at, requested, _ = row
    return RawResponse(
        source=source,
        endpoint=endpoint,
        request_url=url,
        http_status=status,
        content_type=ctype or "",
        body=body,
        fetched_at=fetched_at,
        requested=tuple(Identifier(*s.split(":", 1)) for s in requested or ()),
    )


def rebuild(
    con: duckdb.DuckDBPyConnection,
    normalise: Callable[[RawResponse], Normalised],
    *,
    run_id: str,
    citing_cap: int | None = None,
) -> dict:
    """Re-derive every per-source row from raw_responses, without any HTTP, in one transaction.

    Kept: identity (works, work_ids, aliases), mentions, seed references, the ledger and the
    citation history (observations re-derived from a raw are keyed by the run that fetched it,
    so they overwrite themselves instead of duplicating; rows keep the run that fetched them),
    work_changes and work_citations (history; what the stored answers say again is added once).
    Updates and versions are re-derived, so a rebuild fills them for runs that predate them;
    each is first seen when the earliest answer stating it was fetched, as in a run.
    Returns counts of what was processed.
    """
    totals = {"raw_responses": 0, "records": 0, "links": 0, "counts": 0, "notes": 0, "errors": 0}
    with transaction(con):
        for table in _SLICE_TABLES + ("counts_by_year", "data_quality_notes"):
            con.execute(sql("load.sql", f"clear_derived_{table}"))
        for page in _raw_pages(con, batch_size=500):
            items, fetched = _normalise_page(page, normalise, totals, run_id=run_id)
            done = _load_normalised(
                con, items, fetched, run_id=run_id, source="rebuild", citing_cap=citing_cap
            )
            for key in ("records", "links", "counts", "notes"):
                totals[key] += done[key]
        recompute_works(con, None)
        resolve_citations(con)
        resolve_links(con)
    log.info("rebuild: %s", totals)
    return totals


def _normalise_page(page, normalise, totals: dict, *, run_id: str):
    items, fetched = [], {}
    for row in page:
        raw = _raw_from_row(row)
        totals["raw_responses"] += 1
        try:
            result = normalise(raw)
        except Exception as exc:  # one bad body must not stop the rebuild
            totals["errors"] += 1
            log.warning("rebuild: raw %s (%s) not normalised: %s", row[0], raw.source, exc)
            continue
        when = _utc(raw.fetched_at)
        fetched[raw.raw_id] = when
        items.append((result, when, row[9] or run_id))
    return items, fetched
