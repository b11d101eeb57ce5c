"""Warehouse loading: bulk staged upserts against row-by-row ``executemany`` on the same rows.

Synthetic SourceRecords stand in for one source's answers: N works (20k; 50k with BENCH_FULL=1 or
BENCH_LOAD_WORKS=50000; 5k with --quick), each
with 3 identifiers, ~6 authors and ~30 references. Three figures, all measured in this run:

* end to end: ``load_batch`` in batches of 5,000 works into a fresh file warehouse (raws, ledger,
  identity, records, counts, works recomputed) -> works/s and rows/s;
* bulk rows: the same per-table rows staged and inserted set-based -> rows/s;
* executemany: the same rows inserted with ``executemany`` on a sample of the works (the full set
  would take minutes at ~1.6k rows/s), extrapolated as rows/s.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench._fakeapi_proc import bench_size
from pipeline.records import (
    AuthorRecord,
    FetchBatch,
    Identifier,
    LedgerEntry,
    Normalised,
    RawResponse,
    ReferenceRecord,
    SourceRecord,
)
from warehouse.db import connect, sql
from warehouse.load import load_batch, start_run, transaction
from warehouse.rows import RecordRows
from warehouse.staging import staged

BATCH = 5_000
SAMPLE_WORKS = 100  # works whose rows the slow executemany baseline inserts
AT = datetime(2026, 1, 1, tzinfo=UTC)


def synthetic_record(
    n: int, total: int, rng: random.Random, *, references: bool = True
) -> SourceRecord:
    """One OpenAlex-like record for work ``n`` with ~6 authors and ~30 references (without
    ``references``, none drawn nor listed, only their count)."""
    authors = tuple(
        AuthorRecord(position=p, raw_name=f"Family{n % 997}_{p}, G", family=f"Family{n % 997}_{p}",
                     given="G", orcid=f"0000-0001-{n % 9999:04d}-{p:04d}" if p % 2 else None,
                     affiliations=(f"Dept {p}, University {n % 50}",))
        for p in range(1, rng.randint(4, 8) + 1)
    )  # fmt: skip
    count = rng.randint(25, 35)  # kept as reference_count without ``references``
    refs = tuple(
        ReferenceRecord("doi", f"10.5555/w{rng.randrange(total * 2)}", position=i)
        for i in range(1, count + 1)
        if references
    )
    ids = (Identifier("openalex", f"W{n}"), Identifier("doi", f"10.5555/w{n}"),
           Identifier("pmid", str(10_000_000 + n)))  # fmt: skip
    return SourceRecord(
        source="openalex", source_key=f"W{n}", ids=ids, title=f"Synthetic work {n}",
        publication_year=1990 + n % 35, venue=f"Journal {n % 300}", issn_l=f"{n % 300:04d}-0000",
        type="article", authors=authors, references=refs, reference_count=count,
        cited_by_count=n % 500, counts_by_year=((2025, n % 7),),
    )  # fmt: skip


def make_batches(total: int) -> list[tuple[FetchBatch, list[Normalised]]]:
    """Batches of BATCH works, each with one raw answer per 100 works and a ledger outcome each."""
    rng = random.Random(4)
    out = []
    for start in range(0, total, BATCH):
        records = [synthetic_record(n, total, rng) for n in range(start, min(start + BATCH, total))]
        raws, outcomes, normalised = [], [], []
        for i in range(0, len(records), 100):
            chunk = records[i : i + 100]
            raw = RawResponse("openalex", "works", f"https://api.openalex.org/works?page={start + i}",
                              200, "application/json", "{}" * 50, AT)  # fmt: skip
            raws.append(raw)
            normalised.append(Normalised(records=tuple(chunk)))
            outcomes += [LedgerEntry("openalex", "openalex", r.source_key, "ok", 200, 1, None, AT)
                         for r in chunk]  # fmt: skip
        out.append((FetchBatch("openalex", tuple(raws), tuple(outcomes)), normalised))
    return out


def table_rows(con) -> int:
    """Rows in every table of the warehouse."""
    tables = [t for (t,) in con.execute(sql("query.sql", "base_tables")).fetchall()]
    return sum(con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables)


def end_to_end(batches, directory: Path) -> tuple[float, int]:
    """load_batch over every batch into a fresh file warehouse: (seconds, rows written)."""
    con = connect(directory / "e2e.duckdb")
    base = table_rows(con)
    run_id = start_run(con, "bench", {})
    started = time.perf_counter()
    for fb, normalised in batches:
        load_batch(con, fb, normalised, run_id=run_id)
    seconds = time.perf_counter() - started
    rows = table_rows(con) - base
    con.close()
    return seconds, rows


def record_rows(records: list[SourceRecord]) -> RecordRows:
    """The per-table rows of ``records`` (as load_batch builds them), one work each."""
    rows = RecordRows(run_id="bench", now=AT)
    for n, rec in enumerate(records):
        rows.add(rec, f"w_{n:016x}", fetched_at=AT)
    return rows


def bulk_insert(con, rows: RecordRows) -> tuple[float, int]:
    """Insert ``rows`` through the staged bulk path: (seconds, rows)."""
    started = time.perf_counter()
    written = 0
    with transaction(con):
        for table, spec, table_rows_ in rows.tables():
            with staged(con, f"_in_{table}", spec=spec, rows=table_rows_):
                con.execute(f"insert into {table} by name select * from _in_{table}")
            written += len(table_rows_)
    return time.perf_counter() - started, written


def executemany_insert(con, rows: RecordRows) -> tuple[float, int]:
    """Insert ``rows`` with executemany, table by table: (seconds, rows)."""
    started = time.perf_counter()
    written = 0
    with transaction(con):
        for table, spec, table_rows_ in rows.tables():
            cols = ", ".join(f'"{c}"' for c, _ in spec)
            marks = ", ".join("?" for _ in spec)
            if table_rows_:
                con.executemany(f"insert into {table} ({cols}) values ({marks})", table_rows_)
            written += len(table_rows_)
    return time.perf_counter() - started, written


def run(quick: bool = False) -> list[str]:
    """The figures, one line each."""
    total = bench_size("BENCH_LOAD_WORKS", quick, default=20_000, small=5_000, full=50_000)
    batches = make_batches(total)
    records = [r for _, norm in batches for n in norm for r in n.records]
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        seconds, rows = end_to_end(batches, Path(tmp))
        lines.append(f"end to end: {total:,} works, {rows:,} rows in {seconds:.1f} s = "
                     f"{total / seconds:,.0f} works/s, {rows / seconds:,.0f} rows/s")  # fmt: skip
        bulk_s, bulk_n = bulk_insert(connect(Path(tmp) / "bulk.duckdb"), record_rows(records))
        sample = record_rows(records[:SAMPLE_WORKS])
        slow_s, slow_n = executemany_insert(connect(Path(tmp) / "slow.duckdb"), sample)
    bulk_rate, slow_rate = bulk_n / bulk_s, slow_n / slow_s
    lines.append(f"bulk staged insert: {bulk_n:,} rows in {bulk_s:.1f} s = {bulk_rate:,.0f} rows/s")
    lines.append(f"executemany: {slow_n:,} rows ({SAMPLE_WORKS} works' sample, extrapolated) "
                 f"in {slow_s:.1f} s = {slow_rate:,.0f} rows/s")  # fmt: skip
    lines.append(f"bulk vs executemany: {bulk_rate / slow_rate:,.0f}x (rows/s); "
                 f"end to end vs executemany: {rows / seconds / slow_rate:,.0f}x")  # fmt: skip
    return lines
