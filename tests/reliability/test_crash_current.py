"""Crash safety of a refresh that keeps works current: ``kill -9`` of real ``enrich refresh``
processes at seeded random moments while they re-fetch changed records and ask who cites the
works, then one refresh that completes.

The world changes once between the run and the refreshes (corrected titles, retractions, new
preprints, new citations). After every kill the warehouse opens and passes every data-quality
check, and citation_counts only ever grew; once a refresh completes, what it holds about changes,
retractions, versions and citing works equals what a never-killed refresh of the same world
recorded (timestamps, run and raw ids aside): a killed refresh loses nothing and the next one
finds the same changed works, since their new answers were never loaded.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from demo.fakeapi import FakeApi, generate_catalog
from tests.reliability import helpers_process as hp

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.timeout(480)]

SEED = 20261207
WORKS = 80
LATENCY = 0.03
KILLS = 3
CHANGES = {"title": 0, "retract": 1, "preprint": 2, "cite": 3}  # every 4th work, one kind each

COMPARED = {
    "work_changes": "select w.anchor_value, c.source, c.field, c.old_value, c.new_value "
    "from work_changes c join works w using (work_id)",
    "work_updates": "select w.anchor_value, u.source, u.update_key, u.update_date, u.asserted_by "
    "from work_updates u join works w using (work_id)",
    "work_versions": "select w.anchor_value, v.source, v.relation, v.other_value "
    "from work_versions v join works w using (work_id)",
    "work_citations": "select w.anchor_value, c.source, c.citing_scheme, c.citing_value "
    "from work_citations c join works w on w.work_id = c.cited_work_id",
    "retracted_works": "select w.anchor_value from retracted_works r join works w using (work_id)",
}


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness):
    from prefect.settings import PREFECT_API_URL

    catalog = generate_catalog(WORKS, seed=7)
    base = tmp_path_factory.mktemp("crash-current")
    seed = base / "seeds" / "reading-list.md"
    seed.parent.mkdir()
    hp.write_seed(catalog, seed)
    url = str(PREFECT_API_URL.value())
    with FakeApi(catalog, latency=LATENCY) as api, FakeApi(catalog, latency=LATENCY) as ref_api:
        yield catalog, seed, base, hp.cli_env(api.env(), url), hp.cli_env(ref_api.env(), url)


def _change_the_world(catalog) -> None:
    for n, w in enumerate(catalog):
        kind = n % 4
        if kind == CHANGES["title"] and n % 8 == 0:
            w.retitle(w.title.rstrip(".") + " (corrected)")
        elif kind == CHANGES["retract"] and n % 8 == 1:
            w.retract(f"10.5555/notice.{n}", date="2026-11-30", source="retraction-watch")
        elif kind == CHANGES["preprint"] and n % 8 == 2:
            w.add_preprint(f"10.1101/2026.{n:06d}")
        elif kind == CHANGES["cite"]:
            w.add_citations(openalex=2, crossref=1)


def _rows(db: Path) -> dict[str, set[tuple]]:
    con = hp.open_ro(db)
    try:
        assert hp.quality(con) == {}, "data-quality checks"
        return {name: set(con.execute(q).fetchall()) for name, q in COMPARED.items()}
    finally:
        con.close()


def _observations(db: Path) -> set[tuple]:
    con = hp.open_ro(db)
    try:
        return set(
            con.execute(
                "select work_id, source, run_id, cited_by_count from citation_counts"
            ).fetchall()
        )
    finally:
        con.close()


def _held_refresh(args: list[str], env: dict[str, str], n: int) -> hp.EnrichProcess:
    """The n-th refresh, started and held after its imports; odd ones linger 0.3 s inside each
    load transaction (so a kill can land there)."""
    pause = {"RELIABILITY_PAUSE_IN_LOAD": "0.3"} if n % 2 == 1 else {}
    return hp.EnrichProcess(args, {**env, **pause}, hold=True).start()


def test_kill_9_during_a_refresh_of_changed_works_loses_nothing(world):
    catalog, seed, base, env, ref_env = world
    rng = random.Random(SEED)
    ref_db, db = base / "reference.duckdb", base / "crashed.duckdb"
    runs = [  # the two histories start alike, side by side (each against its own server)
        hp.EnrichProcess(["run", str(seed), "--db", str(target)], e).start()
        for target, e in ((ref_db, ref_env), (db, env))
    ]
    args = ["refresh", "--stale-after", "0s", "--db"]
    # each refresh of the crashed history is started (and held after its imports) while the
    # process before it runs; a held process reads nothing before it is released
    held = _held_refresh(args + [str(db)], env, 0)
    try:
        for p in runs:
            assert p.finish(240) == 0, p.stderr[-3000:]
        _change_the_world(catalog)
        reference = hp.EnrichProcess(args + [str(ref_db)], ref_env).start()
        previous = _observations(db)
        kills = 0
        for n in range(KILLS + 1):
            mode_load = n % 2 == 1
            p = held.go()
            if n < KILLS:
                held = _held_refresh(args + [str(db)], env, n + 1)
            if n == KILLS:
                assert p.finish(240) == 0, p.stderr[-3000:]
            else:
                pattern = (
                    r"(RELIABILITY load-mid)"
                    if mode_load
                    else r"(changed since|: batch \d+|asking who cites)"
                )
                if p.wait_for(pattern, count=rng.randint(1, 3), timeout=120):
                    time.sleep(rng.uniform(0.0, 0.4))
                p.kill()
                kills += p.killed
            assert "Traceback" not in p.stderr, p.stderr[-3000:]
            rows = _observations(db)
            assert previous <= rows, f"refresh {n}: citation observations changed or vanished"
            previous = rows
            _rows(db)  # opens, and every quality check passes
    finally:
        if not held.proc.stdin.closed:  # held, never released (a failure before its turn)
            held.discard()
    assert kills >= 2, "the kills landed after the refreshes ended"
    assert reference.finish(240) == 0, reference.stderr[-3000:]
    expected, got = _rows(ref_db), _rows(db)
    assert expected["work_changes"], "the world's changes were seen"
    assert expected["retracted_works"] and expected["work_versions"] and expected["work_citations"]
    for name in COMPARED:
        assert got[name] == expected[name], (
            f"{name}: {len(got[name] - expected[name])} rows only after crashes "
            f"(e.g. {sorted(got[name] - expected[name])[:3]}), "
            f"{len(expected[name] - got[name])} only in the reference "
            f"(e.g. {sorted(expected[name] - got[name])[:3]})"
        )
