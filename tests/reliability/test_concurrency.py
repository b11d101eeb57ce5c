"""Concurrency: real ``enrich`` processes on one warehouse file at the same time.

DuckDB lets one process hold a file; a second cannot open it, not even read-only, while a
read-write connection is open. ``enrich run`` / ``enrich refresh`` hold the warehouse for the
whole flow run (flows.steps.Writer), and every other opener waits for the lock (30 s by default)
and then gives up with one line: ``enrich: warehouse <path> is busy: another process holds its
lock (waited N s); try again when it has finished`` and exit code 1 (not done; nothing is wrong;
rerun later).

Each scenario ends one of two ways, both checked: the second process waits and then works, or
(with a short lock wait) it exits 1 with that one line and no traceback. The warehouse stays
consistent (every data-quality check finds nothing) and a rerun settles everything without
asking any source again. Processes are started ahead and held after their imports
(helpers_process ``--hold``) so two can be released at the same moment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.fakeapi import FakeApi, generate_catalog
from tests.reliability import helpers_process as hp

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WORKS = 120
LATENCY = 0.03
STRETCH = "6"  # seconds the first load of a "slow" run lingers inside its transaction
SHORT_WAIT = "1"  # seconds a process waits for the lock in the "gives up" variants
BUSY = re.compile(
    r"^enrich: warehouse \S+ is busy: another process holds its lock \(waited [\d.]+ s\); "
    r"try again when it has finished$"
)


LOG_LINE = re.compile(r"^\d\d:\d\d:\d\d (INFO|DEBUG) ")
# the first line of a run or refresh (what it reads, which warehouse), printed before anything else
START_LINE = re.compile(
    r"^enrich: (run on \S+ into \S+ \(|refresh of \S+: works whose newest count)"
)


@dataclass
class World:
    api: FakeApi
    seed: Path
    dir: Path
    env: dict[str, str]


@pytest.fixture(scope="module")
def prefect_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return str(PREFECT_API_URL.value())


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_url):
    catalog = generate_catalog(WORKS, seed=5)
    base = tmp_path_factory.mktemp("concurrency")
    seed = base / "reading-list.md"
    hp.write_seed(catalog, seed)
    with FakeApi(catalog, latency=LATENCY) as api:
        yield World(api, seed, base, hp.cli_env(api.env(), prefect_url))


def _held(world: World, args: list[str], **extra: str) -> hp.EnrichProcess:
    return hp.EnrichProcess(args, {**world.env, **extra}, hold=True).start()


def _slow_run(world: World, db: Path) -> hp.EnrichProcess:
    """A run whose first load lingers STRETCH seconds inside its transaction: a process released
    when it says so (``RELIABILITY load-mid``) surely finds the warehouse held."""
    return _held(world, _run_args(world, db), RELIABILITY_PAUSE_FIRST_LOAD=STRETCH)


def _holding(p: hp.EnrichProcess) -> None:
    """Wait until the slow run ``p`` is inside its first load."""
    assert p.wait_for(r"RELIABILITY load-mid", timeout=90), p.stderr[-3000:]


def _run_args(world: World, db: Path) -> list[str]:
    return ["run", str(world.seed), "--db", str(db)]


def _assert_clean_end(p: hp.EnrichProcess, what: str) -> str:
    """Exit 0, or exit 1 with exactly the one-line busy message; never a traceback. Returns
    'worked' or 'busy'."""
    err = p.stderr
    assert "Traceback" not in err and "leaked" not in err, f"{what}: {err[-3000:]}"
    if p.proc.returncode == 0:
        return "worked"
    assert p.proc.returncode == 1, f"{what}: exit {p.proc.returncode}: {err[-3000:]}"
    # nothing but the one line (and our own timestamped progress lines, if any)
    lines = [
        ln
        for ln in err.splitlines()
        if ln.strip() and not LOG_LINE.match(ln) and not START_LINE.match(ln)
    ]
    assert len(lines) == 1 and BUSY.match(lines[0]), f"{what}: {err[-3000:]}"
    return "busy"


def _assert_consistent_and_settled(world: World, db: Path, again: hp.EnrichProcess) -> None:
    """Quality checks pass; a rerun (``again``, held) exits 0, asks no source anything, and
    leaves every ledger row settled."""
    con = hp.open_ro(db)
    try:
        assert hp.quality(con) == {}
    finally:
        con.close()
    world.api.reset_stats()
    assert again.go().finish() == 0, again.stderr[-3000:]
    assert sum(s["requests"] for s in world.api.stats.values()) == 0, "a rerun fetched again"
    con = hp.open_ro(db)
    try:
        assert hp.quality(con) == {}
        assert set(hp.ledger(con).values()) <= set(hp.SETTLED)
        assert con.execute("select count(*) from runs where status = 'running'").fetchone()[0] == 0
    finally:
        con.close()


def _asked_per_run(db: Path) -> list[int]:
    """Identifiers asked per finished enrich run (from each run's summary), in start order."""
    con = hp.open_ro(db)
    try:
        rows = con.execute(
            "select summary from runs where flow = 'enrich' order by started_at"
        ).fetchall()
    finally:
        con.close()
    return [sum(s["asked"] for s in json.loads(r[0])["sources"].values()) for r in rows]


def test_two_runs_at_once_one_waits_for_the_other_or_says_busy(world):
    db_wait, db_short = world.dir / "two-wait.duckdb", world.dir / "two-short.duckdb"
    a, b = _held(world, _run_args(world, db_wait)), _held(world, _run_args(world, db_wait))
    c = _slow_run(world, db_short)
    d = _held(world, _run_args(world, db_short), RELIABILITY_LOCK_WAIT=SHORT_WAIT)
    rerun_wait, rerun_short = (
        _held(world, _run_args(world, db_wait)),
        _held(world, _run_args(world, db_short)),
    )

    # default lock wait: both work, one after the other; the second finds everything settled
    world.api.reset_stats()
    a.go(), b.go()
    a.finish(), b.finish()
    assert [_assert_clean_end(p, "run") for p in (a, b)] == ["worked", "worked"]
    asked = _asked_per_run(db_wait)
    assert len(asked) == 2 and asked[0] > 0 and asked[1] == 0, (
        f"the run that waited should find everything settled and ask nothing: {asked}"
    )
    _assert_consistent_and_settled(world, db_wait, rerun_wait)

    # a short lock wait: the run that comes second says "busy" in one line and exits 1
    c.go()
    _holding(c)
    d.go().finish()
    c.finish()
    assert _assert_clean_end(c, "first run") == "worked"
    assert _assert_clean_end(d, "second run") == "busy"
    _assert_consistent_and_settled(world, db_short, rerun_short)


AS_OF = re.compile(
    r"^enrich: answered by run \S+, which holds the warehouse: data as of load (\d+), "
    r"\d\d:\d\d:\d\d$"
)
ANSWER_WITHIN = 5.0  # seconds, while a run holds the warehouse


def test_sql_status_and_export_during_a_run_are_answered_by_the_run(world):
    db = world.dir / "reader.duckdb"
    run = _slow_run(world, db)
    query = ["sql", "select count(*) as n from works", "--db", str(db), "--format", "csv"]
    sql = _held(world, query, RELIABILITY_LOCK_WAIT=SHORT_WAIT)
    status = _held(world, ["status", "--db", str(db)], RELIABILITY_LOCK_WAIT=SHORT_WAIT)
    export = _held(
        world, ["export", str(world.dir / "out"), "--db", str(db)], RELIABILITY_LOCK_WAIT=SHORT_WAIT
    )
    write = _held(
        world, ["sql", "create table scratch as select 1 as x", "--db", str(db), "--write"]
    )
    rerun = _held(world, _run_args(world, db))

    run.go()
    _holding(run)  # the run is inside a load transaction that lingers STRETCH seconds
    for reader in (sql, status, export):
        reader.go()
        reader.finish()
        took = reader.lines[-1][0] if reader.lines else 0.0
        err = reader.stderr
        assert reader.proc.returncode == 0, err[-3000:]
        assert "Traceback" not in err and took < ANSWER_WITHIN, (took, err[-3000:])
        assert any(AS_OF.match(ln) for ln in err.splitlines()), err[-3000:]
    assert int(sql.stdout.split()[-1]) >= 0
    assert "warehouse schema v" in status.stdout
    assert (world.dir / "out" / "works.parquet").exists()
    # a write is never served by the run: it waits for the lock, as before, and then writes
    write.go()
    run.finish()
    write.finish()
    assert _assert_clean_end(run, "run") == "worked"
    assert write.proc.returncode == 0, write.stderr[-3000:]
    _assert_consistent_and_settled(world, db, rerun)


def test_refresh_during_a_run_waits_then_appends(world):
    db = world.dir / "refresh.duckdb"
    run = _slow_run(world, db)
    refresh = _held(world, ["refresh", "--db", str(db), "--stale-after", "0s"])
    impatient = _held(
        world, ["refresh", "--db", str(db), "--stale-after", "0s"], RELIABILITY_LOCK_WAIT=SHORT_WAIT
    )
    rerun = _held(world, _run_args(world, db))
    run.go()
    _holding(run)
    refresh.go()
    impatient.go().finish()
    run.finish()
    refresh.finish()
    assert _assert_clean_end(run, "run") == "worked"
    assert _assert_clean_end(impatient, "refresh (short wait)") == "busy"
    assert _assert_clean_end(refresh, "refresh (default wait)") == "worked"

    con = hp.open_ro(db)
    try:
        assert hp.quality(con) == {}
        flows = dict(
            con.execute("select flow, count(*) from runs group by 1 order by 1").fetchall()
        )
        # the impatient refresh never got the warehouse: it recorded no run
        assert flows == {"enrich": 1, "refresh": 1}
        pairs_run, pairs_refresh = (
            set(
                con.execute(
                    "select c.work_id, c.source from citation_counts c join runs r "
                    "on r.run_id = c.run_id where r.flow = ?",
                    [flow],
                ).fetchall()
            )
            for flow in ("enrich", "refresh")
        )
    finally:
        con.close()
    assert pairs_run and pairs_run <= pairs_refresh, "the refresh observed every counted work"
    _assert_consistent_and_settled(world, db, rerun)
