"""Citation refresh of N works (10,000; quick: 2,000) from OpenAlex: requests and bytes per work.

Setup (not timed): the fake API in its own process, no rate limits; N works enriched from OpenAlex
by DOI through ``flows.steps.fetch_and_load`` into a temporary warehouse. The refresh is what the
``refresh`` flow runs for OpenAlex: ``stale_works`` (every work is stale with ``stale_after=0``)
then ``fetch_and_load(counts=True)``, i.e. ``filter=openalex:W1|...`` in OR-batches of 100 with
``select=id,doi,ids,cited_by_count,counts_by_year,updated_date``.

Figures: requests against the goal ceil(N/100); bytes per work (the fake's ``bytes_sent``) against
the baseline measured in the same run, the full-record fetch of the same works; and the naive
refresh, one singleton per work (N requests), for scale.
"""

from __future__ import annotations

import math
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench._fakeapi_proc import FakeApiProcess
from bench.bench_enrich import settings_for
from pipeline.records import Identifier


def run(quick: bool = False) -> list[str]:
    from demo.fakeapi.generate import generate_catalog
    from flows import steps
    from warehouse.load import stale_works, start_run

    n = 2_000 if quick else 10_000
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
