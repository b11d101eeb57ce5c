"""Normalise + load, end to end: raw OpenAlex list bodies -> ``normalise`` -> ``load_batch``.

N works (50,000, the issue's size; quick: 5,000) shaped like OpenAlex's (the fake API's renderer,
with ~6 authors and ~30 references each) become JSON list bodies of 100 works, as
``/works?filter=...`` answers them, one FetchBatch each (raw answer + ledger outcomes), built
before the clock starts (the client builds them while fetching).

Figures:
* end to end, the product's path: ``flows.steps.load_stream`` (fetching in its own thread,
  overlapping the loads; waiting batches grouped up to LOAD_GROUP_IDS per load) into a
  ``flows.steps.Writer`` warehouse, then ``finish_run`` (it settles references to works that
  arrived after them), in works/s (goal >= 5,000); also per SEGMENT works, so a rate that falls
  as the warehouse grows shows (the first segment loads into an empty warehouse);
* the split, on the first SPLIT works: ``normalise`` alone, and ``load_batch`` alone on the
  normalised answers;
* the ceiling that cost per work allows on this machine: cores / (normalise + load_batch seconds
  per work), the rate if every core were busy all the time (work split perfectly, no overhead);
  an upper bound, as DuckDB's own threads make the CPU time per work more than these wall times;
* the baseline measured in the same run: the same normalise, plus the rows inserted with
  ``executemany`` (a sample of works, extrapolated: the full set would take minutes).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.bench_load import executemany_insert, record_rows
from flows.steps import LOAD_GROUP_IDS, SourceTally, Writer, load_stream
from pipeline.normalise import normalise
from pipeline.records import FetchBatch, Identifier, LedgerEntry, RawResponse
from warehouse.db import connect
from warehouse.load import finish_run, load_batch, start_run

PAGE = 100
SAMPLE_WORKS = 100
SEGMENT = 10_000
SPLIT = 10_000
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


def split(batches: list[FetchBatch], db: Path) -> dict:
    """normalise alone, then load_batch alone (groups of LOAD_GROUP_IDS), into a Writer's
    warehouse: seconds of each, works, and a sample of records for the baseline."""
    started = time.perf_counter()
    normalised = [[normalise(raw) for raw in b.raws] for b in batches]
    norm_s = time.perf_counter() - started
    writer = Writer(db)
    run_id = writer(start_run, "bench", {})
    per = max(1, LOAD_GROUP_IDS // PAGE)
    started = time.perf_counter()
    for first in range(0, len(batches), per):
        group = batches[first : first + per]
        loaded = FetchBatch("openalex", tuple(r for b in group for r in b.raws),
                            tuple(o for b in group for o in b.outcomes))  # fmt: skip
        done = [n for ns in normalised[first : first + per] for n in ns]
        writer(load_batch, loaded, done, run_id=run_id)
    load_s = time.perf_counter() - started
    writer.close()
    records = [r for ns in normalised for n in ns for r in n.records]
    return {"normalise": norm_s, "load": load_s, "works": len(records),
            "sample": records[:SAMPLE_WORKS]}  # fmt: skip


def run(quick: bool = False) -> list[str]:
    total = 5_000 if quick else 50_000
    segment = min(SEGMENT, total)
    bodies = make_bodies(total)
    mb = sum(len(b) for b, _ in bodies) / 1e6
    lines = [f"{total:,} OpenAlex-shaped works (~6 authors, ~30 references) in "
             f"{len(bodies)} list bodies of {PAGE}, {mb:.0f} MB of JSON"]  # fmt: skip
    batches = fetch_batches(bodies)
    first = batches[: max(1, min(SPLIT, total) // PAGE)]
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        seconds, works = pipelined(batches, Path(tmp) / "e2e.duckdb", segment)
        res = split(first, Path(tmp) / "split.duckdb")
        sample = record_rows(res["sample"])
        slow_s, slow_rows = executemany_insert(connect(Path(tmp) / "slow.duckdb"), sample)
    e2e_s = sum(seconds)
    n = res["works"]
    per_work_slow = slow_s / len(res["sample"])
    base_rate = 1 / (res["normalise"] / n + per_work_slow)
    seq = res["normalise"] + res["load"]
    rates = [segment / s for s in seconds]
    lines.append(
        f"end to end (load_stream, as the flows run it): {works / e2e_s:,.0f} works/s "
        f"(goal >= 5,000); {works:,} works in {e2e_s:.1f} s"
    )
    lines.append(
        f"per {segment:,} works as the warehouse grows: "
        + ", ".join(f"{r:,.0f}" for r in rates)
        + f" works/s (last / first {rates[-1] / rates[0]:.2f}x; the last includes finish_run)"
    )
    lines.append(
        f"split, first {n:,} works: normalise {n / res['normalise']:,.0f} works/s, load_batch "
        f"(groups of {LOAD_GROUP_IDS} ids) {n / res['load']:,.0f} works/s; one after the other "
        f"{n / seq:,.0f} works/s (load_stream's first segment: {rates[0] * seq / n:.2f}x that)"
    )
    cores = len(os.sched_getaffinity(0))
    per_work = seq / n
    lines.append(
        f"ceiling on {cores} cores at this cost per work ({per_work * 1000:.2f} ms of normalise + "
        f"load_batch, one after the other): {cores / per_work:,.0f} works/s with every core busy "
        f"all the time; 5,000 works/s needs {cores / 5000 * 1000:.2f} ms per work"
    )
    lines.append(
        f"baseline, same normalise + executemany rows ({slow_rows:,} rows of "
        f"{len(res['sample'])} works, extrapolated): {base_rate:,.0f} works/s; ours "
        f"{works / e2e_s / base_rate:.1f}x; load alone {per_work_slow * n / res['load']:.0f}x "
        "executemany"
    )
    return lines
