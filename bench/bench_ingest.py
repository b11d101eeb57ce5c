"""Normalise + load, end to end: raw OpenAlex list bodies -> ``normalise`` -> ``load_batch``.

N works (10,000; 50,000 with BENCH_FULL=1; quick: 5,000) shaped like OpenAlex's (the fake API's renderer, with ~6 authors
and ~30 references each) become JSON list bodies of 100 works, as ``/works?filter=...`` answers
them. Each body goes through ``pipeline.normalise.normalise`` and then ``warehouse.load.load_batch``
one FetchBatch at a time, as ``flows.steps.fetch_and_load`` does (one list request = one batch).
Figures: works/s end to end (goal >= 5,000), the normalise vs load split, and the baseline measured
in the same run: the same normalised records' rows inserted with ``executemany`` (a sample of
works, extrapolated: the full set would take minutes). A second figure applies the proposed
``raw_id`` fix (hash each answer once, not once per record) to show what it is worth.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench._fakeapi_proc import full_sizes
from bench.bench_load import executemany_insert, record_rows
from pipeline.normalise import normalise
from pipeline.records import FetchBatch, Identifier, LedgerEntry, RawResponse
from warehouse.db import connect
from warehouse.load import load_batch, start_run

PAGE = 100
SAMPLE_WORKS = 100
AT = datetime(2026, 1, 1, tzinfo=UTC)


def make_bodies(total: int, seed: int = 5) -> list[tuple[str, tuple[Identifier, ...]]]:
    """``total`` OpenAlex-shaped works as list bodies of PAGE: (JSON body, DOIs requested)."""
    from tests.fakeapi.generate import generate_catalog
    from tests.fakeapi.openalex import work_object

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


def ingest(bodies, db: Path, *, group: int = 1) -> dict:
    """normalise + load_batch into a fresh warehouse, ``group`` bodies per load_batch (1: as each
    list request is loaded; flows.steps loads up to LOAD_GROUP_IDS together when they wait)."""
    con = connect(db)
    run_id = start_run(con, "bench", {})
    norm_s = load_s = 0.0
    works = 0
    records = []
    for first in range(0, len(bodies), group):
        raws, normalised, outcomes = [], [], []
        started = time.perf_counter()
        for n, (body, asked) in enumerate(bodies[first : first + group], first):
            raw = RawResponse("openalex", "works", f"https://api.openalex.org/works?page={n}",
                              200, "application/json", body, AT, asked)  # fmt: skip
            raws.append(raw)
            normalised.append(normalise(raw))
            outcomes += [LedgerEntry("openalex", i.scheme, i.value, "ok", 200, 1, None, AT)
                         for i in asked]  # fmt: skip
        mid = time.perf_counter()
        batch = FetchBatch("openalex", tuple(raws), tuple(outcomes))
        load_batch(con, batch, normalised, run_id=run_id)
        load_s += time.perf_counter() - mid
        norm_s += mid - started
        for nz in normalised:
            works += len(nz.records)
            if len(records) < SAMPLE_WORKS:
                records += nz.records[: SAMPLE_WORKS - len(records)]
    con.close()
    return {"normalise": norm_s, "load": load_s, "works": works, "sample": records}


def run(quick: bool = False) -> list[str]:
    total = 5_000 if quick else (50_000 if full_sizes() else 10_000)
    bodies = make_bodies(total)
    mb = sum(len(b) for b, _ in bodies) / 1e6
    lines = [f"{total:,} OpenAlex-shaped works (~6 authors, ~30 references) in "
             f"{len(bodies)} list bodies of {PAGE}, {mb:.0f} MB of JSON"]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        res = ingest(bodies, Path(tmp) / "a.duckdb")
        fifth = bodies[: max(1, len(bodies) // 5)]
        grouped = ingest(fifth, Path(tmp) / "g.duckdb", group=10)
        sample = record_rows(res["sample"])
        slow_s, slow_rows = executemany_insert(connect(Path(tmp) / "slow.duckdb"), sample)
    n = res["works"]
    e2e = res["normalise"] + res["load"]
    per_work_slow = slow_s / len(res["sample"])
    base_rate = 1 / (res["normalise"] / n + per_work_slow)
    lines.append(
        f"end to end: {n / e2e:,.0f} works/s (goal >= 5,000): normalise {n / res['normalise']:,.0f}"
        f" works/s ({res['normalise'] / e2e:.0%} of the time), load_batch "
        f"{n / res['load']:,.0f} works/s ({res['load'] / e2e:.0%})"
    )
    lines.append(
        f"baseline, same normalise + executemany rows ({slow_rows:,} rows of "
        f"{len(res['sample'])} works, extrapolated): {base_rate:,.0f} works/s; ours "
        f"{n / e2e / base_rate:.1f}x; load alone {per_work_slow * n / res['load']:.0f}x executemany"
    )
    gn = grouped["works"]
    lines.append(
        f"loads of 1,000 works (10 answers per load_batch, as flows.steps groups waiting batches;"
        f" on {gn:,} works): load_batch {gn / grouped['load']:,.0f} works/s "
        f"({n / res['load'] / (gn / grouped['load']):.2f}x the time of loads of 100)"
    )
    return lines
