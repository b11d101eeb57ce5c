"""Normalise + load, end to end: raw OpenAlex list bodies -> ``normalise`` -> ``load_batch``.

N works (20,000; the issue's 50,000 with BENCH_FULL=1 or BENCH_INGEST_WORKS=50000; quick: 5,000)
shaped like OpenAlex's (the fake API's renderer, with ~6 authors and ~30 references each) become JSON list bodies of 100 works, as
``/works?filter=...`` answers them, one FetchBatch each (raw answer + ledger outcomes), built
before the clock starts (the client builds them while fetching).

Figures:
* end to end, the product's path: ``flows.steps.load_stream`` (fetching in its own thread,
  overlapping the loads; waiting batches grouped up to LOAD_GROUP_IDS per load) into a
  ``flows.steps.Writer`` warehouse, then ``finish_run`` (it settles references to works that
  arrived after them), in works/s (goal >= 5,000); also per SEGMENT works, so a rate that falls
  as the warehouse grows shows (the first segment loads into an empty warehouse);
* the split, on the first SPLIT works, each stage alone, in wall works/s and CPU ms per work
  (``time.process_time``, all threads: robust on a shared machine where wall time is not),
  each with the cyclic collector paused as ``load_stream`` pauses it:
  decode (``json.loads``), normalise (the rest of ``normalise``), stage (row tuples and Arrow
  tables inside ``load_batch``) and load (the rest of ``load_batch``: DuckDB);
* the ceiling that cost per work allows on this machine: cores / (seconds per work of the four
  stages), the rate if every core were busy all the time (work split perfectly, no overhead);
  an upper bound, as DuckDB's own threads make the CPU time per work more than these wall times;
* baselines measured in the same run: DuckDB's ``read_json`` loading the same pages into three
  raw tables (what a plain dump costs), and the same normalise plus the rows inserted with
  ``executemany`` (a sample of works, extrapolated: the full set would take minutes).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bench._fakeapi_proc import bench_size
from bench.bench_load import executemany_insert, record_rows
from flows.steps import LOAD_GROUP_IDS, SourceTally, Writer, collector_paused, load_stream
from pipeline.normalise import normalise
from pipeline.records import FetchBatch, Identifier, LedgerEntry, RawResponse
from warehouse import staging
from warehouse.db import connect
from warehouse.load import finish_run, load_batch, start_run
from warehouse.rows import RecordRows

PAGE = 100
SAMPLE_WORKS = 100
# 5,000 each (were 10,000): the split's per-work figures were the same at both sizes, and the
# first segment and the split both load the first SPLIT works into an empty warehouse
SEGMENT = 5_000
SPLIT = 5_000
AT = datetime(2026, 1, 1, tzinfo=UTC)


def make_bodies(total: int, seed: int = 5) -> list[tuple[str, tuple[Identifier, ...]]]:
    """``total`` OpenAlex-shaped works as list bodies of PAGE: (JSON body, DOIs requested)."""
    from demo.fakeapi.generate import generate_catalog
    from demo.fakeapi.openalex import work_object

    rng = random.Random(seed)
    works = list(generate_catalog(total, seed))
    pool = list({id(a): a for w in works[:2_000] for a in w.authors}.values())
    ids = [w.openalex_id for w in works]
    bodies = []
    for start in range(0, total, PAGE):
        page = works[start : start + PAGE]
        results = []
        for w in page:
            w.authors = rng.sample(pool, rng.randint(4, 8))
            w.references = rng.sample(ids, rng.randint(25, 35))
            results.append(work_object(w))
        body = json.dumps(
            {"meta": {"count": len(results), "next_cursor": None}, "results": results}
        )
        asked = tuple(Identifier("doi", w.doi) for w in page if w.doi)
        bodies.append((body, asked))
    return bodies


def fetch_batches(bodies) -> list[FetchBatch]:
    """One FetchBatch per body, as the OpenAlex client yields them."""
    out = []
    for n, (body, asked) in enumerate(bodies):
        raw = RawResponse("openalex", "works", f"https://api.openalex.org/works?page={n}",
                          200, "application/json", body, AT, asked)  # fmt: skip
        outcomes = tuple(
            LedgerEntry("openalex", i.scheme, i.value, "ok", 200, 1, None, AT) for i in asked
        )
        out.append(FetchBatch("openalex", (raw,), outcomes))
    return out


def pipelined(batches: list[FetchBatch], db: Path, segment: int) -> tuple[list[float], int]:
    """The product's path, timed: load_stream into a Writer's warehouse, ``segment`` works at a
    time, then finish_run -> (seconds of each segment, the last including finish_run; works)."""
    writer = Writer(db)
    run_id = writer(start_run, "bench", {})
    tally = SourceTally("openalex")
    per = max(1, segment // PAGE)
    seconds = []
    for first in range(0, len(batches), per):
        started = time.perf_counter()
        load_stream(iter(batches[first : first + per]), tally, writer=writer, run_id=run_id)
        seconds.append(time.perf_counter() - started)
    started = time.perf_counter()
    writer(finish_run, run_id, "completed", {})
    seconds[-1] += time.perf_counter() - started
    works = writer(lambda con: con.execute("select count(*) from source_records").fetchone()[0])
    writer.close()
    return seconds, works


class _Clock:
    """Wall and CPU seconds (``time.process_time``: every thread of the process, DuckDB's
    included) spent inside the wrapped calls."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def wrap(self, fn):
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.wall += time.perf_counter() - wall
                self.cpu += time.process_time() - cpu

        return timed


@contextmanager
def _timing_stage() -> Iterator[_Clock]:
    """Time the Python side of staging while the block runs: building the row tuples
    (``RecordRows.add``) and turning them into Arrow tables (``staging.arrow_table``)."""
    clock = _Clock()
    saved = staging.arrow_table, RecordRows.add
    staging.arrow_table, RecordRows.add = clock.wrap(saved[0]), clock.wrap(saved[1])
    try:
        yield clock
    finally:
        staging.arrow_table, RecordRows.add = saved


def _timed(fn) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def split(batches: list[FetchBatch], db: Path) -> dict:
    """The four stages one after the other, each timed (wall and CPU seconds): decode
    (``json.loads`` of every body), normalise (``normalise`` less the decode it does itself),
    stage (row tuples and Arrow tables, inside ``load_batch``) and load (the rest of
    ``load_batch``: DuckDB's statements, identity look-ups, commits; groups of LOAD_GROUP_IDS),
    into a Writer's warehouse; also works, and a sample of records for the baseline."""
    raws = [raw for b in batches for raw in b.raws]
    # each stage with the cyclic collector paused, as load_stream normalises and loads
    with collector_paused():
        dec_s, dec_cpu, _ = _timed(lambda: [json.loads(raw.body) for raw in raws])
        norm_s, norm_cpu, normalised = _timed(
            lambda: [[normalise(raw) for raw in b.raws] for b in batches]
        )
    writer = Writer(db)
    run_id = writer(start_run, "bench", {})
    per = max(1, LOAD_GROUP_IDS // PAGE)

    def load_all() -> None:
        for first in range(0, len(batches), per):
            group = batches[first : first + per]
            loaded = FetchBatch("openalex", tuple(r for b in group for r in b.raws),
                                tuple(o for b in group for o in b.outcomes))  # fmt: skip
            done = [n for ns in normalised[first : first + per] for n in ns]
            with collector_paused():
                writer(load_batch, loaded, done, run_id=run_id)

    with _timing_stage() as stage:
        load_s, load_cpu, _ = _timed(load_all)
    writer.close()
    records = [r for ns in normalised for n in ns for r in n.records]
    return {
        "decode": (dec_s, dec_cpu),
        "normalise": (norm_s - dec_s, norm_cpu - dec_cpu),
        "stage": (stage.wall, stage.cpu),
        "load": (load_s - stage.wall, load_cpu - stage.cpu),
        "works": len(records),
        "sample": records[:SAMPLE_WORKS],
    }


# DuckDB's own JSON reader on the same pages, the raw-load baseline of issue 22: each page's
# results as one JSON value per work, then their authorships and referenced works unnested into
# two more tables (no normalising, no identity, no upserts: what a plain dump would store).
# `results` is read as JSON[] because auto-detection fails on real abstracts: an inverted index
# with "Toxicity" and "toxicity" is a struct with a duplicate field name.
READ_JSON_SQL = (
    "create table works as select w->>'$.id' as id, w from (select unnest(results) as w from "
    "read_json({files}, columns={'meta': 'JSON', 'results': 'JSON[]'}, maximum_object_size=1e9))",
    "create table authorships as select id as work_id, "
    "unnest((w->'$.authorships')::JSON[]) as a from works",
    "create table work_references as select id as work_id, "
    "unnest((w->'$.referenced_works')::VARCHAR[]) as ref from works",
)


def read_json_load(bodies, folder: Path) -> tuple[float, float, int]:
    """The pages written as files (untimed), then loaded by DuckDB's ``read_json`` into three
    raw tables (timed): (wall seconds, CPU seconds, works)."""
    folder.mkdir()
    for n, (body, _) in enumerate(bodies):
        (folder / f"page-{n:05d}.json").write_text(body, encoding="utf-8")
    con = duckdb.connect(str(folder / "raw.duckdb"))
    try:
        # a table function takes no parameters: the pattern is quoted as a SQL literal
        files = "'" + str(folder / "page-*.json").replace("'", "''") + "'"

        def load() -> int:
            for statement in READ_JSON_SQL:
                con.execute(statement.replace("{files}", files))
            return con.execute("select count(*) from works").fetchone()[0]

        wall, cpu, works = _timed(load)
    finally:
        con.close()
    return wall, cpu, works


def run(quick: bool = False) -> list[str]:
    total = bench_size("BENCH_INGEST_WORKS", quick, default=20_000, small=5_000, full=50_000)
    segment = min(SEGMENT, total)
    bodies = make_bodies(total)
    mb = sum(len(b) for b, _ in bodies) / 1e6
    lines = [f"{total:,} OpenAlex-shaped works (~6 authors, ~30 references) in "
             f"{len(bodies)} list bodies of {PAGE}, {mb:.0f} MB of JSON; load average "
             f"{os.getloadavg()[0]:.1f} at the start"]  # fmt: skip
    batches = fetch_batches(bodies)
    first = batches[: max(1, min(SPLIT, total) // PAGE)]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        started = time.process_time()
        seconds, works = pipelined(batches, Path(tmp) / "e2e.duckdb", segment)
        e2e_cpu = time.process_time() - started
        res = split(first, Path(tmp) / "split.duckdb")
        raw_s, raw_cpu, raw_works = read_json_load(bodies, Path(tmp) / "pages")
        sample = record_rows(res["sample"])
        slow_s, slow_rows = executemany_insert(connect(Path(tmp) / "slow.duckdb"), sample)
    e2e_s = sum(seconds)
    n = res["works"]
    per_work_slow = slow_s / len(res["sample"])
    stages = ("decode", "normalise", "stage", "load")
    seq = sum(res[k][0] for k in stages)
    seq_cpu = sum(res[k][1] for k in stages)
    rates = [segment / s for s in seconds]
    lines.append(
        f"end to end (load_stream, as the flows run it): {works / e2e_s:,.0f} works/s "
        f"(goal >= 5,000); {works:,} works in {e2e_s:.1f} s, {e2e_cpu / works * 1000:.2f} ms "
        "of CPU per work (all threads)"
    )
    lines.append(
        f"per {segment:,} works as the warehouse grows: "
        + ", ".join(f"{r:,.0f}" for r in rates)
        + f" works/s (last / first {rates[-1] / rates[0]:.2f}x; the last includes finish_run)"
    )
    lines.append(
        f"split, first {n:,} works, one stage after the other (wall works/s, CPU ms per work): "
        + "; ".join(
            f"{k} {n / res[k][0]:,.0f} works/s, {res[k][1] / n * 1000:.3f} ms" for k in stages
        )
        + f"; all four {n / seq:,.0f} works/s, {seq_cpu / n * 1000:.2f} ms of CPU per work "
        f"(load_stream's first segment: {rates[0] * seq / n:.2f}x that)"
    )
    cores = len(os.sched_getaffinity(0))
    per_work = seq / n
    lines.append(
        f"ceiling on {cores} cores at this cost per work ({per_work * 1000:.2f} ms of wall, "
        f"{seq_cpu / n * 1000:.2f} ms of CPU, the four stages one after the other): "
        f"{cores / per_work:,.0f} works/s with every core busy all the time "
        f"({cores / (seq_cpu / n):,.0f} by CPU); 5,000 works/s needs "
        f"{cores / 5000 * 1000:.2f} ms per work"
    )
    lines.append(
        f"DuckDB read_json, same pages into 3 raw tables (works, authorships, references; no "
        f"normalising, identity or upserts): {raw_works / raw_s:,.0f} works/s, "
        f"{raw_cpu / raw_works * 1000:.2f} ms of CPU per work; ours end to end "
        f"{works / e2e_s / (raw_works / raw_s):.2f}x its rate"
    )
    base_rate = 1 / (res["normalise"][0] / n + res["decode"][0] / n + per_work_slow)
    lines.append(
        f"baseline, same normalise + executemany rows ({slow_rows:,} rows of "
        f"{len(res['sample'])} works, extrapolated): {base_rate:,.0f} works/s; ours "
        f"{works / e2e_s / base_rate:.1f}x; stage + load "
        f"{per_work_slow * n / (res['stage'][0] + res['load'][0]):.0f}x executemany"
    )
    return lines
