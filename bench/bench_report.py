"""The HTML report and the exports on a large warehouse (issue 19: a 100,000-work report builds
in < 30 s and stays < 20 MB).

The warehouse (built before any clock starts): N works (50,000; the issue's 100,000 with
BENCH_FULL=1 or BENCH_REPORT_WORKS=100000; quick: 10,000; building it is most of the bench) as
synthetic OpenAlex records (bench_load's, ~6 authors and counts by year each, without their ~30
references: the report reads none, and loading 3 million of them tripled the build), 10% of them
also from Crossref with another year (source disagreements) and 1 in 200 retracted, 2% of the
Crossref lookups failed; 20 seed documents mentioning every work (subject/reference roles);
a second citation observation for every work one day later (history, movers).

Figures, each beside a baseline measured in the same run on the same warehouse:
* ``enrich report``: seconds and MB (goals 30 s, 20 MB); baseline: ``enrich status``'s query
  (status_report), and the size of the ``works`` table alone as CSV (the raw rows it summarises);
* ``enrich export --format bibtex`` of every work: works/s; baseline: ``works`` to Parquet.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench._fakeapi_proc import bench_size
from bench.bench_load import synthetic_record
from pipeline.records import (
    CitationCount,
    FetchBatch,
    Identifier,
    LedgerEntry,
    Mention,
    Normalised,
    RawResponse,
    SeedDocument,
    SourceRecord,
)
from warehouse.db import connect
from warehouse.load import finish_run, load_batch, load_counts, load_documents, start_run

BATCH = 5_000
DOCUMENTS = 20
AT = datetime(2026, 1, 1, tzinfo=UTC)
GOAL_SECONDS, GOAL_MB = 30.0, 20.0  # at GOAL_WORKS (issue 19)
GOAL_WORKS = 100_000


def _crossref_twin(rec: SourceRecord, n: int) -> SourceRecord:
    doi = next(i for i in rec.ids if i.scheme == "doi")
    return SourceRecord(
        source="crossref", source_key=doi.value, ids=(doi,), title=rec.title,
        publication_year=(rec.publication_year or 2000) + 1, venue=rec.venue,
        type="journal-article", authors=rec.authors[:3], cited_by_count=(rec.cited_by_count or 0) // 2,
        is_retracted=n % 200 == 0,
    )  # fmt: skip


def _batch(source: str, records: list[SourceRecord], failed: list[Identifier], start: int):
    raw = RawResponse(source, "works", f"https://example.org/{source}?page={start}", 200,
                      "application/json", "{}", AT)  # fmt: skip
    ledger = [LedgerEntry(source, "doi" if source == "crossref" else "openalex",
                          r.source_key, "ok", 200, 1, None, AT) for r in records]  # fmt: skip
    ledger += [LedgerEntry(source, i.scheme, i.value, "failed", 503, 5,
                           "HTTP 503 after 5 attempts", AT) for i in failed]  # fmt: skip
    return FetchBatch(source, (raw,), tuple(ledger)), [Normalised(records=tuple(records))]


def _documents(total: int) -> list[SeedDocument]:
    per = -(-total // DOCUMENTS)
    docs = []
    for d in range(DOCUMENTS):
        mentions = tuple(
            Mention("doi", f"10.5555/w{n}", f"seeds/doc{d:02d}.txt", k * 40, k * 40 + 20, k + 1,
                    None, k, "subject" if k == 0 else "reference")
            for k, n in enumerate(range(d * per, min(total, (d + 1) * per)))
        )  # fmt: skip
        sha = hashlib.sha256(f"doc{d}".encode()).hexdigest()
        docs.append(SeedDocument(f"seeds/doc{d:02d}.txt", sha, 40 * len(mentions), mentions))
    return docs


def build_warehouse(path: Path, total: int) -> None:
    """The large warehouse described in the module docstring."""
    con = connect(path)
    run = start_run(con, "bench", {})
    load_documents(con, _documents(total), run_id=run)
    rng = random.Random(19)
    for start in range(0, total, BATCH):
        records = [synthetic_record(n, total, rng, references=False)
                   for n in range(start, min(start + BATCH, total))]  # fmt: skip
        load_batch(con, *_batch("openalex", records, [], start), run_id=run)
        twins = [
            _crossref_twin(r, start + i) for i, r in enumerate(records) if (start + i) % 10 == 0
        ]
        failed = [next(i for i in r.ids if i.scheme == "doi") for i, r in enumerate(records)
                  if (start + i) % 50 == 7]  # fmt: skip
        load_batch(con, *_batch("crossref", twins, failed, start), run_id=run)
    finish_run(con, run, "partial", {})
    con.execute("update citation_counts set observed_at = observed_at - interval 1 day")
    second = start_run(con, "refresh", {})
    counts = [CitationCount("openalex", Identifier("openalex", f"W{n}"), n % 500 + n % 7)
              for n in range(total)]  # fmt: skip
    load_counts(con, counts, run_id=second)
    finish_run(con, second, "completed", {})
    con.close()


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def run(quick: bool = False) -> list[str]:
    """The figures, one line each."""
    import io

    from pipeline.bibformats import write_bibtex
    from warehouse.export import bibliographic_works
    from warehouse.query import status_report
    from warehouse.report import write_report
    from warehouse.scope import scope_all

    total = bench_size("BENCH_REPORT_WORKS", quick, default=50_000, small=10_000, full=GOAL_WORKS)
    lines = []
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        db = Path(tmp) / "w.duckdb"
        build_s, _ = _timed(build_warehouse, db, total)
        lines.append(f"warehouse: {total:,} works, {DOCUMENTS} documents, built in {build_s:.0f} s")
        con = connect(db, read_only=True)
        status_s, _ = _timed(status_report, con)
        report_s, summary = _timed(write_report, con, Path(tmp) / "report.html", source=str(db))
        works_csv = Path(tmp) / "works.csv"
        con.execute("copy works to $p (format csv, header true)", {"p": str(works_csv)})
        mb, csv_mb = summary.bytes / 1e6, works_csv.stat().st_size / 1e6
        lines.append(
            f"report: {total:,} works in {report_s:.1f} s (goal < {GOAL_SECONDS:.0f} s at "
            f"{GOAL_WORKS:,}: "
            f"{report_s / GOAL_SECONDS:.2f} of it), {report_s / status_s:.1f}x `enrich status` "
            f"({status_s:.2f} s)"
        )
        lines.append(
            f"report size: {mb:.2f} MB (goal < {GOAL_MB:.0f} MB at {GOAL_WORKS:,}: "
            f"{mb / GOAL_MB:.2f} of it), "
            f"{mb / csv_mb:.3f}x the works table alone as CSV ({csv_mb:.0f} MB)"
        )
        parquet_s, _ = _timed(con.execute, "copy works to $p (format parquet)",
                              {"p": str(Path(tmp) / "works.parquet")})  # fmt: skip
        scope_all(con)
        out = io.StringIO()
        bib_s, n = _timed(write_bibtex, bibliographic_works(con), out)
        lines.append(
            f"export --format bibtex: {n:,} works in {bib_s:.1f} s = {n / bib_s:,.0f} works/s "
            f"({len(out.getvalue()) / 1e6:.0f} MB), {bib_s / parquet_s:.1f}x the works table "
            f"to Parquet ({parquet_s:.2f} s)"
        )
        con.close()
    return lines
