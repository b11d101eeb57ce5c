"""The wall a user waits for: ``enrich run`` through the CLI, Prefect start-up included, and the
NCBI calls it makes per 1,000 mixed identifiers (issue 22, items 3 and 4).

A real ``python -m flows run`` subprocess reads one seed page naming N mixed identifiers (a
third each DOIs, PMIDs, PMCIDs of distinct works; 2,000) against the fake API in its own process
with the real limits (``bench._fakeapi_proc``), in a Prefect home prepared once per
``python -m bench`` (``prepared_prefect_home``). Printed beside it, measured in the same run:

* the fixed cost: the same CLI run on a seed page naming no identifier (process start, imports,
  the local Prefect server, the flow, an empty warehouse);
* the floor of the binding source: per source, the calls its best batch sizes need for these
  works, at its rate (NCBI: converter + esearch + efetch + elink, 3/s shared; Crossref: lists of
  50 over every DOI the run learns, 3/s; OpenAlex: OR filters of 100, 10/s). The goal is
  wall <= 1.25 x floor + 3 s of fixed cost;
* NCBI calls by endpoint and in all (as the fake received them, retries included), per 1,000
  identifiers, against the old call plan: the run's record calls (converter, esearch, efetch)
  plus the cited-in step as it was, resolving every identifier PubMed matched again (converter,
  esearch, efetch) before elink at 100 ids per call; that step is replayed against the same
  fake on the run's ``ok`` identifiers.

CPU seconds of the process tree (enrich and its server) are printed beside each wall, so a
loaded machine's wall can be told from the run's own cost. ``BENCH_RUN_BASELINE`` (another
checkout's interpreter) also times that checkout's ``enrich run`` on the same seed.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
import time
from pathlib import Path

from bench._fakeapi_proc import (
    PYTHON,
    REAL_CONCURRENCY,
    REAL_LIMITS,
    FakeApiProcess,
    bench_size,
    child_env,
    prepared_prefect_home,
    seed_page,
)
from bench.bench_enrich import BATCH, CR_LIST, NCBI, OA_PACE, pick_ids, settings_for

N_IDS = 2_000
LATENCY = 0.03
GOAL_RATIO, GOAL_FIXED = 1.25, 3.0
OLD_ELINK_BATCH = 100  # elink ids per call before issue 22
NCBI_SOURCES = ("eutils", "idconv")
# Optional: the interpreter of another checkout (``/path/.venv/bin/python``), whose ``enrich run``
# is timed on the same seed in the same run, as a before/after baseline.
BASELINE_PYTHON = os.environ.get("BENCH_RUN_BASELINE", "")
# ``BENCH_RUN_IDS=10000``: another size (the second figure; about 4 minutes more).


def cli_run(seed: Path, db: Path, env: dict, cwd: Path, python: str = PYTHON) -> dict:
    """``python -m flows run SEED --db DB``: wall and CPU seconds (the process tree: enrich and
    its Prefect server), the server's start-up as the run reports it, exit code, stderr tail."""
    cpu0 = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        [python, "-m", "flows", "run", str(seed), "--db", str(db)],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    return {
        "wall": time.perf_counter() - started,
        "cpu": _children_cpu() - cpu0,
        "server": _server_ready(proc.stderr),
        "code": proc.returncode,
        "err": proc.stderr[-800:],
    }


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _server_ready(stderr: str) -> float:
    """``enrich: Prefect's local server ready in 13.5 s`` -> 13.5 (nan when not said)."""
    for line in stderr.splitlines():
        if "local server ready in" in line:
            return float(line.rsplit("in ", 1)[1].split()[0])
    return float("nan")


def received(api: FakeApiProcess) -> dict[str, int]:
    """How many requests the fake's NCBI buckets have received so far."""
    stats = api.stats()
    return {s: len(stats[s]["received"]) for s in NCBI_SOURCES}


def calls_by_endpoint(api: FakeApiProcess, since: dict[str, int]) -> dict[str, int]:
    """NCBI requests the fake received after ``since`` (``received``), by endpoint, retries
    included (the stored answers cannot tell: identical requests share one stored answer)."""
    stats, out = api.stats(), {}
    for s in NCBI_SOURCES:
        for _method, path, _query in stats[s]["received"][since[s] :]:
            name = "idconv" if s == "idconv" else path.strip("/").removesuffix(".fcgi")
            out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items()))


def pubmed_ok(db: Path) -> list:
    """The identifiers PubMed answered ``ok`` (what the old cited-in step asked again)."""
    import duckdb

    from pipeline.records import Identifier

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select scheme, value from fetch_ledger where source = 'pubmed' and status = 'ok' "
            "order by scheme, value"
        ).fetchall()
    finally:
        con.close()
    return [Identifier(s, v) for s, v in rows]


def old_counts_calls(api: FakeApiProcess, ids: list, db: Path) -> int:
    """Requests of the old cited-in step (resolve again, then elink at 100), against the fake."""
    from pipeline.sources.pubmed import PubMedClient

    client = PubMedClient(settings_for(api.env, db), elink_batch=OLD_ELINK_BATCH)
    for _ in client.fetch_counts(ids):
        pass
    return client.requests_made


def floors(catalog: list, ids: list, facts: dict) -> dict[str, tuple[int, float]]:
    """Per source: (calls, seconds) at its best batch sizes for the works of ``ids``."""
    by = {(s, getattr(w, s)): w for w in catalog for s in ("doi", "pmid", "pmcid") if getattr(w, s)}
    works = [by[(i.scheme, i.value)] for i in ids]
    d, p, c = (sum(i.scheme == s for i in ids) for s in ("doi", "pmid", "pmcid"))
    in_pubmed = sum(bool(w.in_pubmed and w.pmid) for w in works)
    ncbi = (
        math.ceil(c / BATCH["idconv"])
        + math.ceil(d / BATCH["idconv"])
        + math.ceil(facts["doi_not_pmc"] / BATCH["esearch"])
        + math.ceil((p + c + facts["doi_pubmed"]) / BATCH["efetch"])
        + math.ceil(in_pubmed / BATCH["efetch"])  # elink: the PMIDs efetch returned
    )
    oa = sum(math.ceil(x / BATCH["openalex"]) for x in (d, p, c))
    cr = math.ceil(sum(bool(w.doi) for w in works) / BATCH["crossref"])
    return {
        "pubmed": (ncbi, ncbi / NCBI),
        "crossref": (cr, cr / CR_LIST),
        "openalex": (oa, oa / OA_PACE),
    }


def ncbi_total(delta: dict) -> int:
    return sum(delta[s]["requests"] for s in NCBI_SOURCES)


def run(quick: bool = False) -> list[str]:
    from demo.fakeapi.generate import generate_catalog

    n = bench_size("BENCH_RUN_IDS", quick, default=N_IDS, small=600)
    cat_n = int(n * 1.3) + 200
    catalog = list(generate_catalog(cat_n, 0))
    ids, facts = pick_ids(catalog, n)
    with (
        FakeApiProcess(
            works=cat_n, latency=LATENCY, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY
        ) as api,
        tempfile.TemporaryDirectory(prefix="bench-run-") as tmp_name,
    ):
        tmp = Path(tmp_name)
        env = child_env(api.env, prefect_home=prepared_prefect_home())
        empty, full = tmp / "empty", tmp / "mixed"
        empty.mkdir()
        full.mkdir()
        (empty / "notes.txt").write_text("Notes\n\nNo identifiers here.\n", encoding="utf-8")
        seed_page(full / "refs.txt", ids)
        fixed = cli_run(empty, tmp / "fixed.duckdb", env, tmp)
        time.sleep(1.1)
        api.reset_baseline()
        before = received(api)
        res = cli_run(full, tmp / "run.duckdb", env, tmp)
        delta = api.delta()
        if res["code"] not in (0, 1):
            raise RuntimeError(f"enrich run exited {res['code']}: {res['err']}")
        by_endpoint = calls_by_endpoint(api, before)
        baseline = None
        if BASELINE_PYTHON:  # another checkout's code path, the same seed and fake
            time.sleep(1.1)
            api.reset_baseline()
            baseline = cli_run(full, tmp / "base.duckdb", env, tmp, python=BASELINE_PYTHON)
            baseline["ncbi"] = ncbi_total(api.delta())
            baseline["fixed"] = cli_run(
                empty, tmp / "base-fixed.duckdb", env, tmp, python=BASELINE_PYTHON
            )
        time.sleep(1.1)
        api.reset_baseline()
        old_counts = old_counts_calls(api, pubmed_ok(tmp / "run.duckdb"), tmp / "old.duckdb")
    fl = floors(catalog, ids, facts)
    binding = max(fl, key=lambda s: fl[s][1])
    floor_s = fl[binding][1]
    total = ncbi_total(delta)
    fetch_calls = sum(v for k, v in by_endpoint.items() if k != "elink")
    old_total = fetch_calls + old_counts
    per_k = 1000 / n
    t429 = sum(delta[s]["429s"] for s in ("openalex", "crossref", *NCBI_SOURCES))
    goal = GOAL_RATIO * floor_s + GOAL_FIXED
    wall = res["wall"]
    lines = [
        f"enrich run (CLI, own Prefect server, prepared home) on {n:,} mixed ids, exit "
        f"{res['code']}: wall {wall:.1f} s (local server up in {res['server']:.1f} s), CPU "
        f"{res['cpu']:.1f} s (enrich + server); fixed cost (same run, no ids, exit "
        f"{fixed['code']}): wall {fixed['wall']:.1f} s (server up in {fixed['server']:.1f} s), "
        f"CPU {fixed['cpu']:.1f} s",
        f"  floor: binding {binding} {floor_s:.1f} s ("
        + ", ".join(f"{s} {c} calls {t:.1f} s" for s, (c, t) in fl.items())
        + f"); wall - fixed = {wall - fixed['wall']:.1f} s = "
        f"{(wall - fixed['wall']) / floor_s:.2f}x the floor; CPU - fixed = "
        f"{res['cpu'] - fixed['cpu']:.1f} s = {(res['cpu'] - fixed['cpu']) / floor_s:.2f}x; "
        f"goal wall <= {GOAL_RATIO}x floor + {GOAL_FIXED:.0f} s = {goal:.1f} s: "
        f"{'met' if wall <= goal else 'not met'} ({wall / goal:.2f}x the goal); 429s {t429}",
        f"  NCBI calls: {total} = {total * per_k:.1f} per 1,000 ids (floor {fl['pubmed'][0]} = "
        f"{fl['pubmed'][0] * per_k:.1f}); by endpoint "
        + ", ".join(f"{k} {v}" for k, v in by_endpoint.items())
        + f"; old call plan (cited-in step resolving again, elink at {OLD_ELINK_BATCH}): "
        f"{old_total} = {old_total * per_k:.1f} per 1,000 ids, {old_total / max(total, 1):.2f}x",
        f"  other sources: openalex {delta['openalex']['requests']} requests, crossref "
        f"{delta['crossref']['requests']}",
    ]
    if baseline is not None:
        lines.append(
            f"  baseline ({BASELINE_PYTHON}), same seed, exit {baseline['code']}: wall "
            f"{baseline['wall']:.1f} s (server up in {baseline['server']:.1f} s), CPU "
            f"{baseline['cpu']:.1f} s, NCBI calls {baseline['ncbi']}; fixed cost wall "
            f"{baseline['fixed']['wall']:.1f} s, CPU {baseline['fixed']['cpu']:.1f} s; this "
            f"code's wall {wall / baseline['wall']:.2f}x, fixed cost "
            f"{fixed['wall'] / baseline['fixed']['wall']:.2f}x, wall - fixed "
            f"{(wall - fixed['wall']):.1f} s against "
            f"{baseline['wall'] - baseline['fixed']['wall']:.1f} s"
        )
    return lines
