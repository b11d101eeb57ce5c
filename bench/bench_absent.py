"""Absent identifiers: requests per identifier per source on a seed where 60% of the DOIs are absent.

The seed: N DOIs (1,000; 300 with --quick), shuffled: 40% of works the fake catalog holds (in
OpenAlex and Crossref), 30% DataCite DOIs unknown to the catalog (half Zenodo 10.5281/..., decided
by prefix, half arXiv 10.48550/..., which doi.org names; neither source has them), 30% DOIs nobody
registered (10.9999/...: doi.org says "DOI does not exist"). OpenAlex and Crossref fetch them as the flow's first round does
(``flows.steps.fetch_and_load``, one thread per source) against the loopback fake in its own
process, twice in the same run:

- today: the behaviour before issue 22, reproduced by switching the new rules off (every DOI
  missing from a list answer re-asked as a singleton; Crossref asked about every DOI);
- now: complete list answers settle the DOIs missing from them; doi.org's agency lookup rules
  the DataCite DOIs out of Crossref (``not_in_source``).

The figure is requests per identifier per source, counted by the fake (goal <= 1/20 = 0.050),
with Crossref's split into its own requests and doi.org's. The fake runs without rate limits,
so the run takes seconds; the time the same requests would take at the real limits is computed
from the counts (OpenAlex at our 10 req/s; Crossref 3 lists/s and 10 singletons/s; doi.org at
our 5 req/s, overlapping Crossref's lists). Both runs must load the same works (checked).
"""

from __future__ import annotations

import contextlib
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

from bench._fakeapi_proc import FakeApiProcess
from bench._sources import fetch_in_threads
from pipeline.config import Settings
from pipeline.records import Identifier

ABSENT_SHARE = 0.6
SOURCES = ("openalex", "crossref")
OA_PACE, CR_LIST, CR_SINGLE, RA_PACE = 10.0, 3.0, 10.0, 5.0  # req/s at the real limits (ours)
FAST = {  # no pacing worth the name: the figure is a request count, not a wall time
    "ENRICH_OPENALEX_RPS": "1000",
    "ENRICH_CROSSREF_RPS": "1000",
    "ENRICH_CROSSREF_LIST_RPS": "1000",
    "ENRICH_MAILTO": "bench@example.org",
}


def absent_seed(catalog, n: int, *, seed: int = 22) -> list[Identifier]:
    """``n`` DOIs, ABSENT_SHARE of them absent (half DataCite, half unregistered), shuffled."""
    present = [w.doi for w in catalog if w.doi and w.in_crossref and w.in_openalex]
    n_present = round(n * (1 - ABSENT_SHARE))
    n_datacite = (n - n_present) // 2
    dois = present[:n_present]
    dois += [f"10.5281/zenodo.{9_000_000 + k}" for k in range(n_datacite // 2)]
    dois += [f"10.48550/arxiv.2601.{k:05d}" for k in range(n_datacite - n_datacite // 2)]
    dois += [f"10.9999/absent.{k:06d}" for k in range(n - n_present - n_datacite)]
    if len(dois) != n:
        raise ValueError(f"catalog too small for {n} identifiers")
    random.Random(seed).shuffle(dois)
    return [Identifier("doi", d) for d in dois]


@contextlib.contextmanager
def todays_behaviour() -> Iterator[None]:
    """The request behaviour before issue 22: no list answer settles a missing DOI (each is
    re-asked singly) and Crossref is asked about every DOI (no agency lookup)."""
    from flows import steps
    from pipeline.sources import crossref, openalex

    def make_client(source: str, settings: Settings, **kw):
        if source == "crossref":
            return crossref.CrossrefClient(settings)
        return real(source, settings, **kw)

    real = steps.make_client
    with (
        mock.patch.object(openalex, "settled_by_list", lambda ident: False),
        mock.patch.object(crossref, "plain_doi", lambda value: False),
        mock.patch.object(steps, "make_client", make_client),
    ):
        yield


def enrich_seed(env: dict[str, str], ids: list[Identifier], db: Path) -> dict:
    """OpenAlex and Crossref fetch ``ids`` into a new warehouse at ``db``, one thread each, as
    the flow's first round; their tallies and the works loaded."""
    from flows import steps
    from warehouse.load import start_run

    settings = Settings.from_env({**env, **FAST}, db_path=db)
    steps.fresh_http_state()
    writer = steps.Writer(db)
    run_id = writer(start_run, "bench", {})
    try:
        tallies = fetch_in_threads(
            dict.fromkeys(SOURCES, ids), settings=settings, writer=writer, run_id=run_id
        )
        works = writer.con.execute(
            "select doi, title, publication_year, venue, cited_by_count, sources from works "
            "where doi is not null order by doi"
        ).fetchall()
        ledger = dict(
            ((s, v), st)
            for s, v, st in writer.con.execute(
                "select source, value, status from fetch_ledger"
            ).fetchall()
        )
    finally:
        writer.close()
    return {"tallies": tallies, "works": works, "ledger": ledger}


def seconds_at_real_limits(by_kind: dict[str, int]) -> dict[str, float]:
    """Per source, the least time its requests take at the real (our) pacing."""
    crossref = by_kind["crossref_list"] / CR_LIST + by_kind["crossref_single"] / CR_SINGLE
    return {
        "openalex": by_kind["openalex"] / OA_PACE,
        "crossref": max(crossref, by_kind["doira"] / RA_PACE),  # the lookups overlap the lists
    }


def request_kinds(received: list) -> dict[str, int]:
    """Requests by kind from the fake's ``received`` lists (per source)."""
    out = {"openalex": 0, "crossref_list": 0, "crossref_single": 0, "doira": 0}
    for source, calls in received.items():
        for _method, path, _query in calls:
            if source == "crossref":
                out["crossref_list" if path.rstrip("/") == "/works" else "crossref_single"] += 1
            elif source in out:
                out[source] += 1
    return out


@contextlib.contextmanager
def unpaced() -> Iterator[None]:
    """Crossref's rate headers left unread: they would pace the run at the polite pool's 10
    singletons/s (the fake sends them even without limits), and the "today" run's 600
    singletons took 60 s of a 70 s bench for a figure that is a count."""
    from pipeline import http

    with mock.patch.object(http, "advertised_rate", lambda headers: None):
        yield


def measure(api: FakeApiProcess, ids: list[Identifier], db: Path, *, today: bool) -> dict:
    before = api.stats()
    with todays_behaviour() if today else contextlib.nullcontext(), unpaced():
        started = time.perf_counter()
        res = enrich_seed(api.env, ids, db)
        res["wall"] = time.perf_counter() - started
    after = api.stats()
    res["kinds"] = request_kinds(
        {s: after[s]["received"][len(before[s]["received"]) :] for s in after}
    )
    return res


def report(n: int, today: dict, now: dict) -> list[str]:
    lines = []
    for label, res in (("today", today), ("now", now)):
        k = res["kinds"]
        cr = k["crossref_list"] + k["crossref_single"]
        t = res["tallies"]
        at = seconds_at_real_limits(k)
        lines.append(
            f"  {label:<5} openalex {k['openalex']:>5} requests = {k['openalex'] / n:.3f}/id; "
            f"crossref {cr + k['doira']:>5} = {(cr + k['doira']) / n:.3f}/id "
            f"({k['crossref_list']} lists + {k['crossref_single']} singletons + "
            f"{k['doira']} doi.org lookups); at the real limits openalex "
            f"{at['openalex']:.1f} s, crossref {at['crossref']:.1f} s"
        )
        lines.append(
            "        outcomes: "
            + "; ".join(
                f"{s} ok {t[s].ok} not_found {t[s].not_found} not_in_source {t[s].not_in_source} "
                f"failed {t[s].failed} pending {t[s].pending}"
                for s in SOURCES
            )
        )
    kt, kn = today["kinds"], now["kinds"]
    oa = kt["openalex"] / max(kn["openalex"], 1)
    cr_t = kt["crossref_list"] + kt["crossref_single"]
    cr_n = kn["crossref_list"] + kn["crossref_single"] + kn["doira"]
    lines.append(
        f"  fewer requests: openalex {oa:.0f}x, crossref {cr_t / max(cr_n, 1):.0f}x "
        f"(goal <= 0.050/id per source: openalex {kn['openalex'] / n:.3f}, "
        f"crossref {cr_n / n:.3f})"
    )
    same = today["works"] == now["works"]
    lines.append(f"  same works loaded by both runs: {same} ({len(now['works'])} works)")
    if not same:
        raise AssertionError("the two runs loaded different works")
    return lines


def run(quick: bool = False) -> list[str]:
    from demo.fakeapi.generate import generate_catalog

    n = 300 if quick else 1_000
    cat_n = n + 200
    ids = absent_seed(generate_catalog(cat_n, 0), n)
    lines = [
        f"{n:,} DOIs, {ABSENT_SHARE:.0%} absent from both sources (half DataCite: Zenodo, arXiv; "
        "half unregistered); fake API in its own process, no rate limits (counts, not wall time)"
    ]
    with (
        FakeApiProcess(works=cat_n) as api,
        tempfile.TemporaryDirectory(prefix="bench-absent-") as tmp,
    ):
        today = measure(api, ids, Path(tmp) / "today.duckdb", today=True)
        now = measure(api, ids, Path(tmp) / "now.duckdb", today=False)
    return lines + report(n, today, now)
