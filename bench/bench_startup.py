"""A newcomer's first minute: how soon `enrich run` speaks, how long the seed run takes, how long
a refresh with nothing stale takes, and what reading during a run costs.

Real `python -m flows` processes against the fake API in its own process (the seeds' works, the
real rate limits), each with its own local Prefect server (no PREFECT_API_URL), in a Prefect home
prepared once. Baselines measured in the same run: a bare interpreter start (`python -c pass`)
for the first line, the local server's own start-up for the run, `enrich status` (a plain read)
for the no-op refresh.

Reading during a run (flows.sharing), at N works (100,000 with BENCH_FULL=1, else 10,000): what
each mechanism would cost the writer per load, against the load itself (1,000 works):
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
    child_env,
    full_sizes,
)

FIRST_LINE_GOAL = 2.0  # seconds (issue 18)


def _timed(args: list[str], env: dict, cwd: Path) -> tuple[float, float, str, int]:
    """Run ``python -m flows ARGS``: (seconds to the first stderr line, wall, stderr, code)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PYTHON, "-m", "flows", *args], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True
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
    home = work / "prefect-home"
    env = child_env(prefect_home=str(home))
    db = work / "w.duckdb"
    with FakeApiProcess(
        works=0, seeds=True, latency=0.03, rates=REAL_LIMITS, concurrency=REAL_CONCURRENCY
    ) as api:
        env.update(api.env)
        _timed(["run", str(ROOT / "seeds"), "--db", str(work / "warm.duckdb")], env, work)
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


def readers(work: Path, works: int) -> list[str]:
    """Per-load cost of each way of letting readers in, at ``works`` works."""
    import duckdb

    from bench.bench_load import make_batches
    from warehouse.db import connect
    from warehouse.load import load_batch, start_run

    db = work / "big.duckdb"
    con = connect(db)
    run_id = start_run(con, "bench", {})
    for batch, normalised in make_batches(works):
        load_batch(con, batch, normalised, run_id=run_id)
    con.close()
    last_batch, last_norm = make_batches(1_000)[0]  # 1,000 of its works answered again
    con = duckdb.connect(str(db))
    started = time.perf_counter()
    load_batch(con, last_batch, last_norm, run_id=run_id)
    load = time.perf_counter() - started
    query = "select count(*), avg(cited_by_count) from works"
    started = time.perf_counter()
    con.execute(query).fetchall()
    direct = time.perf_counter() - started
    cur = con.cursor()
    started = time.perf_counter()
    cur.execute("begin transaction")
    cur.execute(query).fetchall()
    cursor_q = time.perf_counter() - started
    cur.close()
    con.close()
    started = time.perf_counter()
    duckdb.connect(str(db)).close()
    reopen = time.perf_counter() - started
    size = db.stat().st_size
    started = time.perf_counter()
    shutil.copyfile(db, work / "snapshot.duckdb")
    copy = time.perf_counter() - started
    return [
        f"at {works:,} works ({size / 2**20:.0f} MB), one load of 1,000 works: {load:.2f} s",
        f"  release the file between loads: reopen+close {reopen:.2f} s per load "
        f"({reopen / load:.2f}x a load)",
        f"  snapshot after each commit: copy {copy:.2f} s per load ({copy / load:.2f}x a load)",
        f"  answer over the socket (chosen): 0 s per load; a query on a reader's cursor "
        f"{cursor_q * 1000:.0f} ms ({cursor_q / direct:.2f}x on the writer's connection)",
    ]


def run(quick: bool = False) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="enrich-bench-startup-") as tmp:
        work = Path(tmp)
        lines = [] if quick else startup(work)
        works = 100_000 if full_sizes() else (2_000 if quick else 10_000)
        return lines + readers(work, works)
