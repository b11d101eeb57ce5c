"""Enrichment against the fake API enforcing the real limits, against the floor the limits allow.

The fake runs in its own process (``python -m demo.fakeapi``) with ~30 ms of latency and the
real limits: OpenAlex 100 req/s, Crossref 3 list req/s and 10 singletons/s with 3 in flight, NCBI
3 req/s shared by E-utilities and the PMC ID converter. The client uses its configured pacing
(OpenAlex 10/s, Crossref 3/10, NCBI 3). N mixed identifiers (a third each DOIs, PMIDs, PMCIDs of
distinct works; 2,000, and 20,000 with BENCH_FULL=1) are fetched the way the flow's first round does:
``flows.steps.fetch_and_load`` per source in its own thread (OpenAlex and PubMed get every id,
Crossref the DOIs) into a temporary warehouse.

Figures, per run: requests per identifier per source, 429s drawn (goal 0), and the wall time
against the FLOOR, the least time the limits allow with the best batch sizes:

    floor = max over sources of  calls(source) / rate(source)    (sources run in parallel)
    OpenAlex: (ceil(D/100) + ceil(P/100) + ceil(C/100)) / 10 req/s (our pacing; 100/s allowed)
    Crossref: ceil(D/50) / 3 req/s  (lists of 50)
    NCBI:     (ceil(C/200) + ceil(D/200)          PMC ID converter, 200 ids of one type per call
              + ceil(D_notPMC/20)                 esearch, 20 DOIs OR-ed per term
              + ceil((P + C + D_PubMed)/200)      efetch, 200 PMIDs per GET
              ) / 3 req/s

D, P, C: DOIs, PMIDs and PMCIDs asked; D_notPMC: DOIs the converter cannot resolve; D_PubMed:
DOIs of works PubMed has. The goal is wall <= 1.15x floor. The naive baseline, one singleton
request per identifier per source in sequence at the same pacing, would take hours at 20,000
ids: it is measured on a sample of 5 identifiers per scheme and extrapolated (said so).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

from bench._fakeapi_proc import REAL_CONCURRENCY, REAL_LIMITS, FakeApiProcess, full_sizes
from bench._sources import fetch_in_threads
from pipeline.config import Settings
from pipeline.records import Identifier

LATENCY = 0.03
SCHEMES = ("doi", "pmid", "pmcid")
NAIVE_SAMPLE = 5  # identifiers per scheme in the naive baseline's sample
# Between measured phases: the fake's one-second windows still count the previous phase's last
# requests, and a run starting inside them drew a 429 that no real first run would.
WINDOW_DRAIN = 1.1
OA_PACE, CR_LIST, NCBI = 10.0, 3.0, 3.0  # configured pacing (req/s), our defaults
BATCH = {"openalex": 100, "crossref": 50, "idconv": 200, "esearch": 20, "efetch": 200}


def pick_ids(catalog, n: int, *, offset: int = 0) -> tuple[list[Identifier], dict]:
    """``n`` identifiers of distinct works, schemes in rotation; and facts for the floor."""
    works = list(catalog)[offset:]
    out: list[Identifier] = []
    facts = {"doi_not_pmc": 0, "doi_pubmed": 0}
    for k, w in enumerate(works):
        scheme = SCHEMES[k % 3]
        value = getattr(w, scheme)
        if not value:
            continue
        out.append(Identifier(scheme, value))
        if scheme == "doi":
            facts["doi_not_pmc"] += not w.pmcid
            facts["doi_pubmed"] += bool(w.in_pubmed and w.pmid)
        if len(out) == n:
            return out, facts
    raise ValueError(f"catalog too small for {n} identifiers")


def floor(ids: list[Identifier], facts: dict) -> dict[str, tuple[int, float]]:
    """Per source: (calls, seconds) at the best batch sizes; see the module docstring."""
    d, p, c = (sum(i.scheme == s for i in ids) for s in SCHEMES)
    oa = sum(math.ceil(x / BATCH["openalex"]) for x in (d, p, c))
    cr = math.ceil(d / BATCH["crossref"])
    ncbi = (
        math.ceil(c / BATCH["idconv"])
        + math.ceil(d / BATCH["idconv"])
        + math.ceil(facts["doi_not_pmc"] / BATCH["esearch"])
        + math.ceil((p + c + facts["doi_pubmed"]) / BATCH["efetch"])
    )
    return {
        "openalex": (oa, oa / OA_PACE),
        "crossref": (cr, cr / CR_LIST),
        "pubmed": (ncbi, ncbi / NCBI),
    }


def settings_for(env: dict[str, str], db: Path) -> Settings:
    return Settings.from_env({**env, "ENRICH_MAILTO": "bench@example.org"}, db_path=db)


def enrich_once(api: FakeApiProcess, ids: list[Identifier], db: Path) -> dict:
    """fetch_and_load per source in its own thread, as the flow's first round: the figures."""
    from flows import steps
    from warehouse.load import start_run

    settings = settings_for(api.env, db)
    steps.fresh_http_state()
    plans = {
        "openalex": ids,
        "crossref": [i for i in ids if i.scheme == "doi"],
        "pubmed": ids,
    }
    writer = steps.Writer(db)
    run_id = writer(start_run, "bench", {})

    api.reset_baseline()
    cpu0 = _cpu()
    started = time.perf_counter()
    try:
        tallies = fetch_in_threads(plans, settings=settings, writer=writer, run_id=run_id)
        wall = time.perf_counter() - started  # the close's checkpoint left out, as before
        cpu = _cpu() - cpu0
    finally:
        writer.close()
    stats = api.delta()
    return {
        "wall": wall,
        "cpu": cpu,
        "tallies": tallies,
        "stats": stats,
        "asked": {s: len(v) for s, v in plans.items()},
    }


def _cpu() -> float:
    """CPU seconds of this process so far (every thread)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def naive_sample(api: FakeApiProcess, ids: list[Identifier]) -> dict[str, float]:
    """Seconds per identifier per source, one singleton request each, in sequence, at our pacing."""
    from pipeline.http import RateLimiter

    env = api.env
    oa, cr = env["ENRICH_OPENALEX_URL"], env["ENRICH_CROSSREF_URL"]
    eu, ic = env["ENRICH_EUTILS_URL"], env["ENRICH_IDCONV_URL"]
    sample = [i for s in SCHEMES for i in [x for x in ids if x.scheme == s][:NAIVE_SAMPLE]]
    session = requests.Session()
    limits = {
        "openalex": RateLimiter(OA_PACE),
        "crossref": RateLimiter(10.0),
        "pubmed": RateLimiter(NCBI),
    }

    def one(source: str, url: str, params=None) -> None:
        limits[source].acquire()
        session.get(url, params=params, timeout=30)

    per_id: dict[str, float] = {}
    for source in ("openalex", "crossref", "pubmed"):
        mine = [i for i in sample if source != "crossref" or i.scheme == "doi"]
        started = time.perf_counter()
        for i in mine:
            v = quote(i.value, safe="/")
            if source == "openalex":
                one(source, f"{oa}/works/{i.scheme}:{v}")
            elif source == "crossref":
                one(source, f"{cr}/works/{v}", {"mailto": "bench@example.org"})
            elif i.scheme == "pmid":
                one(source, f"{eu}efetch.fcgi", {"db": "pubmed", "id": i.value, "retmode": "xml"})
            elif i.scheme == "pmcid":
                one(source, ic, {"ids": i.value, "idtype": "pmcid", "format": "json"})
            else:
                one(
                    source,
                    f"{eu}esearch.fcgi",
                    {"db": "pubmed", "term": f'"{i.value}"[doi]', "retmode": "json"},
                )
        per_id[source] = (time.perf_counter() - started) / len(mine)
    return per_id


def report(n: int, res: dict, fl: dict, naive: dict[str, float]) -> list[str]:
    stats, tallies, asked = res["stats"], res["tallies"], res["asked"]
    reqs = {
        "openalex": stats["openalex"]["requests"],
        "crossref": stats["crossref"]["requests"],
        "pubmed": stats["eutils"]["requests"] + stats["idconv"]["requests"],
    }
    t429 = {
        "openalex": stats["openalex"]["429s"],
        "crossref": stats["crossref"]["429s"],
        "pubmed": stats["eutils"]["429s"] + stats["idconv"]["429s"],
    }
    floor_s = max(s for _, s in fl.values())
    lines = [f"{n:,} mixed ids ({', '.join(f'{s} {asked[s]:,}' for s in asked)} asked)"]
    for s in ("openalex", "crossref", "pubmed"):
        t = tallies[s]
        calls, fs = fl[s]
        lines.append(
            f"  {s:<8} {reqs[s]:>5} requests = {reqs[s] / max(asked[s], 1):.3f}/id "
            f"(floor {calls} = {calls / max(asked[s], 1):.3f}/id), 429s {t429[s]}, "
            f"{t.seconds:6.1f} s vs floor {fs:6.1f} s = {t.seconds / fs:.2f}x; "
            f"ok {t.ok:,} not_found {t.not_found:,} failed {t.failed} pending {t.pending}"
        )
    lookups = stats.get("doira", {}).get("requests", 0)
    lines.append(
        f"  doi.org agency lookups before Crossref: {lookups} (1 per 100 DOIs at most; paced on "
        f"their own, not in Crossref's count nor its floor)"
    )
    naive_s = sum(naive[s] * asked[s] for s in naive)
    lines.append(
        f"  wall {res['wall']:.1f} s vs floor {floor_s:.1f} s = {res['wall'] / floor_s:.2f}x "
        f"(goal <= 1.15x); 429s {sum(t429.values())} (goal 0); client CPU "
        f"{res['cpu']:.1f} s = {res['cpu'] / floor_s:.2f}x the floor (normalise + load, one GIL)"
    )
    lines.append(
        f"  naive (1 request/id/source in sequence, extrapolated from a {NAIVE_SAMPLE}-per-scheme "
        f"sample): {naive_s:,.0f} s = {naive_s / res['wall']:.0f}x our wall"
    )
    return lines


def run(quick: bool = False) -> list[str]:
    from demo.fakeapi.generate import generate_catalog

    sizes = [2_000, 20_000] if full_sizes() and not quick else [2_000]
    cat_n = int(max(sizes) * 1.3) + 2_600
    catalog = generate_catalog(cat_n, 0)
    lines: list[str] = []
    with (
        FakeApiProcess(
            works=cat_n, latency=LATENCY, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY
        ) as api,
        tempfile.TemporaryDirectory(prefix="bench-enrich-") as tmp,
    ):
        lines.append(
            f"fake API (own process): {cat_n:,} works, {LATENCY * 1000:.0f} ms latency, limits "
            + ", ".join(f"{k} {v}/s" for k, v in REAL_LIMITS.items())
        )
        first, _ = pick_ids(catalog, 100)
        results = []
        for n in sizes:
            ids, facts = pick_ids(catalog, n, offset=0 if n != 2_000 else cat_n - 2_600)
            time.sleep(WINDOW_DRAIN)
            results.append(
                (n, enrich_once(api, ids, Path(tmp) / f"e{n}.duckdb"), floor(ids, facts))
            )
        time.sleep(WINDOW_DRAIN)
        naive = naive_sample(api, first)  # ids not used above (offset)
        for n, res, fl in results:
            lines += report(n, res, fl, naive)
    return lines
