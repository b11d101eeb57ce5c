"""Reference matching: requests per string, wall against the rate-limit floor, CPU per string.

Setup (not timed): the fake API in its own process with Crossref's and NCBI's real limits (3 list
queries/s, 3 NCBI requests/s, 3 in flight), 30 ms of latency, and the evaluation catalog of real
records (tests/fixtures/matching/catalog.jsonl, 3,333 works). N reference strings (150, 300 with
BENCH_FULL=1 or BENCH_MATCH_STRINGS=300; quick: 60) from the evaluation queries, positives and
strings whose work is absent alike.

Figures:
- requests per string on a cold warehouse (goal: 1 Crossref search per string, plus the
  ECitMatch rounds for journal strings Crossref leaves unmatched or ambiguous) and on a second
  call over the same strings (goal: 0, every string settled);
- wall time against the floor the rate limits allow: max(Crossref searches, NCBI calls) / 3 per
  second;
- CPU per string spent deciding (validation of 5 candidates), as a share of the 333 ms a string
  costs at the polite pool's 3 searches/s.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from bench._fakeapi_proc import REAL_CONCURRENCY, REAL_LIMITS, FakeApiProcess, bench_size
from bench.bench_enrich import settings_for

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "matching"


def _strings(n: int) -> list[str]:
    with open(FIXTURES / "queries.jsonl", encoding="utf-8") as fh:
        queries = [json.loads(line)["text"] for line in fh]
    step = max(1, len(queries) // n)
    return list(dict.fromkeys(queries[::step]))[:n]


def _entries(strings: list[str]):
    from pipeline.records import ReferenceEntry

    return [
        ReferenceEntry("bench.txt", i * 10, i * 10 + 9, i + 1, s) for i, s in enumerate(strings)
    ]


def _decide_cpu(strings: list[str]) -> float:
    """Process CPU per string of validation alone, over the fake's own top-5 answers."""
    from demo.fakeapi.crossref import _select, work_message
    from demo.fakeapi.refcatalog import load_catalog
    from demo.fakeapi.search import BibliographicIndex
    from pipeline.matching import decide
    from pipeline.refstring import RefString
    from pipeline.sources.crossref_search import ROWS, SELECT, candidate_from_item

    catalog = load_catalog(FIXTURES / "catalog.jsonl")
    index, fields = BibliographicIndex(catalog), SELECT.split(",")
    prepared = []
    for s in strings:
        ref = RefString(s)
        items = []
        for work, score in index.search(ref.query, ROWS):
            m = work_message(work, catalog)
            m["score"] = score
            items.append(_select(m, fields))
        prepared.append((s, items))
    started = time.process_time()
    for s, items in prepared:
        decide(RefString(s), [c for c in map(candidate_from_item, items) if c])
    return (time.process_time() - started) / len(prepared)


def run(quick: bool = False) -> list[str]:
    from flows.matching import match_documents
    from pipeline.http import reset_host_state
    from warehouse.db import connect

    n = bench_size("BENCH_MATCH_STRINGS", quick, default=150, small=60, full=300)
    strings = _strings(n)
    entries = _entries(strings)
    with (
        FakeApiProcess(works=0, latency=0.03, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY,
                       catalogs=(str(FIXTURES / "catalog.jsonl"),)) as api,
        tempfile.TemporaryDirectory(prefix="bench-match-") as tmp,
    ):  # fmt: skip
        db = Path(tmp) / "m.duckdb"
        settings = settings_for(api.env, db)
        con = connect(db)
        try:
            reset_host_state()
            api.reset_baseline()
            started = time.perf_counter()
            decisions, tally = match_documents(entries, settings, con=con)
            wall = time.perf_counter() - started
            cold = api.delta()
            api.reset_baseline()
            match_documents(entries, settings, con=con)
            warm = api.delta()
        finally:
            con.close()
    searches, ncbi = cold["crossref"]["requests"], cold["eutils"]["requests"]
    floor = max(searches, ncbi) / 3.0
    statuses = {}
    for d in decisions:
        statuses[d.result.status] = statuses.get(d.result.status, 0) + 1
    cpu = _decide_cpu(strings)
    warm_requests = sum(s["requests"] for s in warm.values())
    return [
        f"{len(strings)} strings: " + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items())),
        f"cold: {searches} Crossref searches ({searches / len(strings):.2f} per string, goal 1.00)"
        f" + {ncbi} ECitMatch/efetch calls; 429s: {cold['crossref']['429s'] + cold['eutils']['429s']}",
        f"settled before: {warm_requests} requests for the same {len(strings)} strings (goal 0)",
        f"wall {wall:.1f} s = {wall / floor:.2f}x the floor the limits allow "
        f"({floor:.1f} s = max(searches, NCBI calls) / 3 per second)",
        f"deciding: {cpu * 1000:.1f} ms CPU per string = {cpu / (1 / 3):.1%} of the 333 ms a "
        "string costs at 3 searches/s",
    ]
