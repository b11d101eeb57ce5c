"""A newcomer's first minute: how soon `enrich run` speaks, how long the seed run takes, how long
a refresh with nothing stale takes, and what reading during a run costs.

Real `python -m flows` processes against the fake API in its own process (the seeds' works, the
real rate limits), each with its own local Prefect server (no PREFECT_API_URL), in a Prefect home
prepared once per ``python -m bench`` (``prepared_prefect_home``). Baselines measured in the
same run: a bare interpreter start (`python -c pass`) for the first line, the local server's own
start-up for the run, `enrich status` (a plain read) for the no-op refresh.

Reading during a run (flows.sharing), at N works (10,000; 100,000 with BENCH_FULL=1; any with
BENCH_READERS_WORKS): what each mechanism would cost the writer per load, against the load itself
(1,000 works):
- release the file between loads: reopen + close (its checkpoint) per load;
- publish a snapshot after each commit: copy the whole file per load;
- answer over the socket (chosen): nothing per load; a query's answer time, against the same
  query on an open connection.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench._fakeapi_proc import (
    PYTHON,
    REAL_CONCURRENCY,
    REAL_LIMITS,
    ROOT,
    FakeApiProcess,
    bench_size,
    child_env,
    prepared_prefect_home,
)

FIRST_LINE_GOAL = 2.0  # seconds (issue 18)


def _timed(args: list[str], env: dict, cwd: Path) -> tuple[float, float, str, int]:
    """Run ``python -m flows ARGS``: (seconds to the first stderr line, wall, stderr, code)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-m", "flows", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()
    first_at = time.perf_counter() - started
    rest = proc.stderr.read()
    proc.wait()
    return first_at, time.perf_counter() - started, first + rest, proc.returncode


def _interpreter_start() -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, "-c", "pass"], check=True)
    return time.perf_counter() - started


def _server_ready(stderr: str) -> float:
    for line in stderr.splitlines():
        if "local server ready in" in line:
            return float(line.rsplit("in ", 1)[1].split()[0])
    return float("nan")


def startup(work: Path) -> list[str]:
    env = child_env(prefect_home=prepared_prefect_home())
    db = work / "w.duckdb"
    with FakeApiProcess(
        works=0, seeds=True, latency=0.03, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY
    ) as api:
        env.update(api.env)
        bare = _interpreter_start()
        first, wall, err, code = _timed(["run", str(ROOT / "seeds"), "--db", str(db)], env, work)
        server = _server_ready(err)
        noop_first, noop, _, noop_code = _timed(["refresh", "--db", str(db)], env, work)
        _, status, _, _ = _timed(["status", "--db", str(db)], env, work)
    return [
        f"first line of `enrich run`: {first:.2f} s ({first / bare:.1f}x a bare interpreter "
        f"start, {bare:.2f} s; goal {FIRST_LINE_GOAL:g} s)",
        f"`enrich run` on the seeds: {wall:.1f} s, exit {code} ({wall / server:.1f}x its local "
        f"Prefect server's start-up, {server:.1f} s)",
        f"`enrich refresh` with nothing stale: {noop:.2f} s, exit {noop_code}, no flow run "
        f"({noop / status:.1f}x `enrich status`, {status:.2f} s)",
    ]


# An OpenAlex page of 100 works is about 1.17 MB of JSON (bench ingest: 11.7 KB per work); the
# warehouse keeps every answer, so its file grows by about that per 100 works.
BODY_PER_100 = 1_170_000


def _body(rng) -> str:
    """A raw body that compresses about as little as it would (random, not repeated text)."""
    import base64

    return base64.b64encode(rng.randbytes(BODY_PER_100 * 3 // 4)).decode()


def _batches(first: int, count: int, total: int):
    """Load batches of 5,000 synthetic works numbered from ``first``, real-sized raw bodies."""
    import random

    from bench.bench_load import AT, synthetic_record
    from pipeline.records import FetchBatch, LedgerEntry, Normalised, RawResponse

    rng = random.Random(first)
    for start in range(first, first + count, 5_000):
        records = [
            synthetic_record(n, total, rng) for n in range(start, min(start + 5_000, first + count))
        ]
        raws, outcomes, normalised = [], [], []
        for i in range(0, len(records), 100):
            chunk = records[i : i + 100]
            raws.append(RawResponse("openalex", "works", f"https://api.openalex.org/works?p={start + i}",
                                    200, "application/json", _body(rng), AT))  # fmt: skip
            normalised.append(Normalised(records=tuple(chunk)))
            outcomes += [LedgerEntry("openalex", "openalex", r.source_key, "ok", 200, 1, None, AT)
                         for r in chunk]  # fmt: skip
        yield FetchBatch("openalex", tuple(raws), tuple(outcomes)), normalised


def readers(work: Path, works: int) -> list[str]:
    """What each way of letting readers in costs a run per load, at ``works`` works, against
    one load of 1,000 new works on the run's open connection (the Writer)."""
    from flows import sharing
    from flows.steps import Writer
    from warehouse.load import load_batch, start_run

    db = work / "big.duckdb"
    writer = Writer(db)
    run_id = writer(start_run, "bench", {})
    for batch, normalised in _batches(0, works, works):
        writer(load_batch, batch, normalised, run_id=run_id)
    (load_new,) = _batches(works, 1_000, works)
    started = time.perf_counter()
    writer(load_batch, *load_new, run_id=run_id)
    load = time.perf_counter() - started
    query = "select count(*), avg(cited_by_count) from works"
    with sharing.serve_readers(writer):
        started = time.perf_counter()
        sharing.ask(db, {"verb": "sql", "query": query})
        socket_q = time.perf_counter() - started
    started = time.perf_counter()
    writer.con.execute(query).fetchall()
    direct = time.perf_counter() - started
    writer.close()
    # release between loads: every load opens the file, loads, and closes it (a checkpoint)
    (release_new,) = _batches(works + 1_000, 1_000, works)
    started = time.perf_counter()
    writer = Writer(db)
    writer(load_batch, *release_new, run_id=run_id)
    writer.close()
    release = time.perf_counter() - started
    size = db.stat().st_size
    started = time.perf_counter()
    shutil.copyfile(db, work / "snapshot.duckdb")
    copy = time.perf_counter() - started
    return [
        f"at {works:,} works ({size / 2**20:,.0f} MB), a load of 1,000 new works on the run's "
        f"open connection: {load:.2f} s",
        f"  release the file between loads: open + load + close {release:.2f} s "
        f"({release / load:.2f}x the load), and the run waits for every reader's query",
        f"  snapshot after each commit: a copy of the file, {copy:.2f} s per load "
        f"({(load + copy) / load:.2f}x the load)",
        f"  the run answers over its socket (chosen): nothing per load; a query answered in "
        f"{socket_q * 1000:.0f} ms ({socket_q / direct:.1f}x the same query on its connection, "
        f"{direct * 1000:.0f} ms)",
    ]


def run(quick: bool = False) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="enrich-bench-startup-") as tmp:
        work = Path(tmp)
        lines = [] if quick else startup(work)
        works = bench_size("BENCH_READERS_WORKS", quick, default=10_000, small=2_000, full=100_000)
        return lines + readers(work, works)
