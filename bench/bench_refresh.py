"""Refresh: citation counts of N works, and a changed-since refresh that re-fetches only the
works whose metadata changed.

Part 1, citation counts of N works (5,000; quick: 2,000; BENCH_FULL=1 10,000, as before issue 22's
trimming) from OpenAlex: requests and bytes per work (both per work: 5,000 works gave the same
bytes per work as 10,000, and requests are exactly ceil(N/100) at any size).

Setup (not timed): the fake API in its own process, no rate limits; N works enriched from OpenAlex
by DOI through ``flows.steps.fetch_and_load`` into a temporary warehouse. The refresh is what the
``refresh`` flow runs for OpenAlex: ``stale_works`` (every work is stale with ``stale_after=0``)
then ``fetch_and_load(counts=True)``, i.e. ``filter=openalex:W1|...`` in OR-batches of 100 with
``select=id,doi,ids,cited_by_count,counts_by_year,updated_date``.

Figures: requests against the goal ceil(N/100); bytes per work (the fake's ``bytes_sent``) against
the baseline measured in the same run, the full-record fetch of the same works; and the naive
refresh, one singleton per work (N requests), for scale.

Part 2, changed since the last fetch (M works: 2,000; quick 500; BENCH_FULL=1 20,000) from all
three sources, the fake in its own process with 30 ms latency and the real limits. Setup (not
timed): M works enriched (OpenAlex and Crossref by DOI, PubMed by PMID) and refreshed once (which
also asks, for the first time, who cites them). Then the fake's world changes for 1% of the works
(a corrected title, a retraction notice or a new preprint, in turn) and for another 1% only their
citation counts move (OpenAlex's ``updated_date`` with them). The measured refresh is what the
``refresh`` flow runs per source, the three in parallel (``flows.current.refresh_source``), with
who-cites measured apart. Figures: works found changed per source against the 1% changed (the
count-only changes must not count), requests per source against the floor of the client's pacing
at the best batch sizes, wall against that floor, and the requests a refresh would need that
re-fetched every record instead of asking what changed::

    floor = max over sources of seconds(source), the sources running in parallel
    OpenAlex: (ceil(M/100) counts + ceil(C/100) re-fetch) / 10 req/s
    Crossref: ceil(M/50) counts / 3 req/s + re-fetch: ceil(C/50) lists / 3 req/s, or under
              4 DOIs C singletons / 10 req/s
    NCBI:     (ceil(P/200) elink + ceil(P/200) esearch [mdat] + ceil(C/200) efetch) / 3 req/s

C: the works that source found changed; P: PMIDs refreshed.
"""

from __future__ import annotations

import math
import tempfile
import time
from datetime import timedelta
from functools import partial
from pathlib import Path

from bench._fakeapi_proc import FakeApiProcess
from bench._sources import in_threads
from bench.bench_enrich import settings_for
from pipeline.records import Identifier


def run(quick: bool = False) -> list[str]:
    """Both parts' figures."""
    return counts_refresh(quick) + changed_since(quick)


def counts_refresh(quick: bool = False) -> list[str]:
    from bench._fakeapi_proc import full_sizes
    from demo.fakeapi.generate import generate_catalog
    from flows import steps
    from warehouse.load import stale_works, start_run

    n = 2_000 if quick else (10_000 if full_sizes() else 5_000)
    catalog = generate_catalog(n, 0)
    dois = [Identifier("doi", w.doi) for w in catalog if w.doi]
    with FakeApiProcess(works=n) as api, tempfile.TemporaryDirectory(prefix="bench-ref-") as tmp:
        db = Path(tmp) / "r.duckdb"
        settings = settings_for(api.env, db)
        writer = steps.Writer(db)
        try:
            steps.fresh_http_state()
            api.reset_baseline()
            run_id = writer(start_run, "bench-setup", {})
            steps.fetch_and_load("openalex", dois, settings=settings, writer=writer, run_id=run_id)
            full = api.delta()["openalex"]
            stale = writer(stale_works, "openalex", stale_after=timedelta(0))
            api.reset_baseline()
            run_id = writer(start_run, "bench-refresh", {})
            started = time.perf_counter()
            tally = steps.fetch_and_load(
                "openalex", stale, settings=settings, writer=writer, run_id=run_id, counts=True
            )
            seconds = time.perf_counter() - started
            ref = api.delta()["openalex"]
        finally:
            writer.close()
    works = len(stale)
    goal = math.ceil(works / 100)
    per_full, per_ref = full["bytes_sent"] / len(dois), ref["bytes_sent"] / max(works, 1)
    return [
        f"{works:,} stale works refreshed from OpenAlex in {seconds:.1f} s: ok {tally.ok:,}, "
        f"not_found {tally.not_found}, failed {tally.failed}, pending {tally.pending}",
        f"requests: {ref['requests']} (goal ceil({works:,}/100) = {goal}); "
        f"naive one singleton per work: {works:,} = {works / max(ref['requests'], 1):.0f}x more",
        f"bytes per work: {per_ref:,.0f} (counts select) vs {per_full:,.0f} for the full record "
        f"fetch of the same works ({full['requests']} requests) = {per_full / per_ref:.0f}x less",
    ]


# ------------------------------------------------------------------------------------------
# part 2: changed since the last fetch
# ------------------------------------------------------------------------------------------

LATENCY = 0.03
CHANGED_SHARE = 100  # one work in this many changes its metadata; as many change counts only
METADATA_CHANGES = ("title", "retract", "preprint")
PACE = {"openalex": 10.0, "crossref_list": 3.0, "crossref_single": 10.0, "pubmed": 3.0}
SOURCES = ("openalex", "crossref", "pubmed")
LIST_BREAK_EVEN = 4  # pipeline.sources.crossref: fewer DOIs go as singletons


def changed_since(quick: bool = False) -> list[str]:
    from bench._fakeapi_proc import REAL_CONCURRENCY, REAL_LIMITS, full_sizes
    from demo.fakeapi.generate import generate_catalog

    m = 500 if quick else (20_000 if full_sizes() else 2_000)
    catalog = generate_catalog(m, 3)
    with (
        FakeApiProcess(
            works=m, seed=3, latency=LATENCY, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY
        ) as api,
        tempfile.TemporaryDirectory(prefix="bench-changed-") as tmp,
    ):
        db = Path(tmp) / "c.duckdb"
        setup = _setup(api, catalog, db)
        changed, counted = _change_the_world(api, catalog)
        time.sleep(1.1)  # the fake's one-second windows forget the setup's last requests
        api.reset_baseline()
        measured = _refresh(api, db, citing=False)
        stats = api.delta()
        time.sleep(1.1)
        api.reset_baseline()
        citing = _refresh(api, db, citing=True, only=("openalex",))
        cites = api.delta()["openalex"]["requests"]
    lines = _report(m, measured, stats, changed, counted)
    first = setup["done"]["openalex"].citing
    again = citing["done"]["openalex"].citing
    lines.append(
        f"  who cites (OpenAlex): first asked for {first.asked:,} works with citations in "
        f"{first.requests:,} requests (small lists OR-ed in one page); after the counts moved "
        f"for {len(counted)}: {again.asked} asked in {cites - math.ceil(m / 100)} requests"
    )
    return lines


def _setup(api: FakeApiProcess, catalog, db: Path) -> dict:
    """M works enriched from every source, then refreshed once (counts, first who-cites)."""
    import logging

    from flows import steps
    from pipeline.records import Mention, SeedDocument
    from warehouse.load import load_documents, start_run

    # one reference list with no subject work: the seed loader says so, and it is meant
    logging.getLogger("warehouse.seeds").setLevel(logging.ERROR)
    dois = [Identifier("doi", w.doi) for w in catalog if w.doi]
    pmids = [Identifier("pmid", w.pmid) for w in catalog if w.pmid]
    mentions = tuple(
        Mention(i.scheme, i.value, "bench.txt", n * 40, n * 40 + 30, n + 1, None, n, "reference")
        for n, i in enumerate(dois + pmids)
    )
    settings = settings_for(api.env, db)
    writer = steps.Writer(db)
    try:
        steps.fresh_http_state()
        run_id = writer(start_run, "bench-setup", {})
        doc = SeedDocument("bench.txt", "0" * 64, 1, mentions)
        writer(load_documents, [doc], run_id=run_id)
        for source, ids in (("openalex", dois), ("crossref", dois), ("pubmed", pmids)):
            steps.fetch_and_load(source, ids, settings=settings, writer=writer, run_id=run_id)
    finally:
        writer.close()
    return _refresh(api, db, citing=True)


def _change_the_world(api: FakeApiProcess, catalog) -> tuple[set[str], set[str]]:
    """1% of the works change their metadata, another 1% only their counts (W-ids of each)."""
    import urllib.request

    works = list(catalog)
    changed = {w.openalex_id for w in works[::CHANGED_SHARE]}
    counted = {w.openalex_id for w in works[CHANGED_SHARE // 2 :: CHANGED_SHARE]}
    kinds: dict[str, list[str]] = {k: [] for k in METADATA_CHANGES}
    for n, wid in enumerate(sorted(changed)):
        kinds[METADATA_CHANGES[n % len(METADATA_CHANGES)]].append(wid)
    kinds["cite"] = sorted(counted)
    for kind, ids in kinds.items():
        for start in range(0, len(ids), 200):
            query = f"kind={kind}&ids={','.join(ids[start : start + 200])}"
            request = urllib.request.Request(f"{api.url}/_fakeapi/change?{query}", method="POST")
            urllib.request.urlopen(request, timeout=60).read()
    return changed, counted


def _refresh(api: FakeApiProcess, db: Path, *, citing: bool, only=SOURCES) -> dict:
    """What the refresh flow runs, per source in its own thread; who-cites only if ``citing``."""
    import dataclasses

    from flows import current, steps
    from warehouse.load import stale_works, start_run

    settings = settings_for(api.env, db)
    if not citing:
        settings = dataclasses.replace(settings, citing_cap=0)
    steps.fresh_http_state()
    writer = steps.Writer(db)
    try:
        run_id = writer(start_run, "bench-refresh", {})
        plans = {s: writer(stale_works, s, stale_after=timedelta(0)) for s in only}
        step = partial(current.refresh_source, settings=settings, writer=writer, run_id=run_id)
        started = time.perf_counter()
        done = in_threads(plans, step)
        wall = time.perf_counter() - started
    finally:
        writer.close()
    return {"wall": wall, "done": done, "asked": {s: len(v) for s, v in plans.items()}}


def floor(asked: dict[str, int], found: dict[str, int]) -> dict[str, tuple[int, float]]:
    """Per source: (calls, seconds) at the best batch sizes; see the module docstring."""
    oa = math.ceil(asked["openalex"] / 100) + math.ceil(found["openalex"] / 100)
    lists, c = math.ceil(asked["crossref"] / 50), found["crossref"]
    if c >= LIST_BREAK_EVEN:
        lists += math.ceil(c / 50)
        cr = (lists, lists / PACE["crossref_list"])
    else:
        cr = (lists + c, lists / PACE["crossref_list"] + c / PACE["crossref_single"])
    p = asked["pubmed"]
    from pipeline.sources.pubmed import ELINK_BATCH  # 200 since issue 22 (was 100)

    ncbi = math.ceil(p / ELINK_BATCH) + math.ceil(p / 200) + math.ceil(found["pubmed"] / 200)
    return {
        "openalex": (oa, oa / PACE["openalex"]),
        "crossref": cr,
        "pubmed": (ncbi, ncbi / PACE["pubmed"]),
    }


def _report(m, measured, stats, changed, counted) -> list[str]:
    done, asked = measured["done"], measured["asked"]
    found = {s: len(r.changed) for s, r in done.items()}
    reqs = {
        "openalex": stats["openalex"]["requests"],
        "crossref": stats["crossref"]["requests"],
        "pubmed": stats["eutils"]["requests"] + stats["idconv"]["requests"],
    }
    t429 = sum(stats[s]["429s"] for s in stats)
    fl = floor(asked, found)
    floor_s = max(s for _, s in fl.values())
    refetch = sum(done[s].refetched.requests for s in SOURCES)
    everything = math.ceil(asked["openalex"] / 100) + math.ceil(asked["crossref"] / 50)
    everything += math.ceil(asked["pubmed"] / 200)
    lines = [
        f"changed since the last fetch: {m:,} works; {len(changed)} changed their metadata "
        f"(title, retraction, preprint), {len(counted)} only their counts (OpenAlex's "
        f"updated_date moved for all {len(changed) + len(counted)})"
    ]
    for s in SOURCES:
        calls, fs = fl[s]
        r = done[s]
        seconds = r.counts.seconds + r.checked.seconds + r.refetched.seconds
        lines.append(
            f"  {s:<8} {asked[s]:,} refreshed, {found[s]} found changed, {r.refetched.ok} "
            f"re-fetched; {reqs[s]} requests (floor {calls}; {r.refetched.requests} to "
            f"re-fetch), {seconds:.1f} s vs floor {fs:.1f} s = {seconds / fs:.2f}x"
        )
    lines.append(
        f"  wall {measured['wall']:.1f} s vs floor {floor_s:.1f} s = "
        f"{measured['wall'] / floor_s:.2f}x; 429s {t429}; re-fetching the changed records "
        f"took {refetch} requests, re-fetching every record would take {everything:,} "
        f"({everything / max(refetch, 1):.0f}x)"
    )
    return lines
