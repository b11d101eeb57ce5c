"""Absent ids settled by the list answer (issue 22): the warehouse holds the same works as when
every miss was re-asked singly, for far fewer requests.

Differential: the seeds' works (tests/fixtures' real ids, served by the fake) plus absent DOIs
(DataCite, unregistered, a SICI one), fetched from OpenAlex and Crossref the way the flow's first
round does, once with the behaviour before issue 22 (``bench.bench_absent.todays_behaviour``)
and once as now; records, identity and counts must be identical.
"""

from __future__ import annotations

import contextlib

import pytest

from bench.bench_absent import enrich_seed, todays_behaviour
from demo.fakeapi import FakeApi, seed_catalog
from pipeline.records import Identifier

SICI_ABSENT = "10.1002/(sici)9999-0000(199901)1:1<1::aid-none1>3.0.co;2-z"
ABSENT = [
    *(f"10.5281/zenodo.{900_000 + k}" for k in range(5)),  # DataCite: doi.org says so
    *(f"10.9999/absent.{k:04d}" for k in range(5)),  # nobody registered them
    SICI_ABSENT,  # a spelling filters may mishandle: still asked singly
]
# What a load writes whatever the answer's provenance, without times, raw ids and run ids.
TABLES = {
    "works": "select * exclude (work_id, created_at, updated_at) from works order by doi, pmid",
    "work_ids": "select scheme, value from work_ids order by all",
    "source_records": "select * exclude (work_id, fetched_at, raw_id, run_id) from source_records "
    "order by source, source_key",
    "citation_counts": "select c.source, w.doi, c.cited_by_count from citation_counts c "
    "join works w using (work_id) order by all",
    "authorships": "select count(*) from authorships",
}


@pytest.fixture
def api():
    with FakeApi(seed_catalog()) as server:
        yield server


def seed_ids(api) -> list[Identifier]:
    dois = [w.doi for w in api.catalog if w.doi]
    assert len(dois) >= 10
    return [Identifier("doi", d) for d in [*dois, *ABSENT]]


def snapshot(db) -> dict[str, list]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.execute(q).fetchall() for name, q in TABLES.items()}
    finally:
        con.close()


def run(api, ids, db, *, today: bool):
    api.reset_stats()
    with todays_behaviour() if today else contextlib.nullcontext():
        res = enrich_seed(api.env(), ids, db)
    stats = api.stats
    return res, {s: stats[s]["requests"] for s in ("openalex", "crossref", "doira")}


def test_settling_absent_ids_by_the_list_answer_loads_the_same_warehouse(api, tmp_path):
    ids = seed_ids(api)
    old, old_requests = run(api, ids, tmp_path / "old.duckdb", today=True)
    new, new_requests = run(api, ids, tmp_path / "new.duckdb", today=False)
    assert snapshot(tmp_path / "new.duckdb") == snapshot(tmp_path / "old.duckdb")
    assert snapshot(tmp_path / "new.duckdb")["works"], "the seeds' works were loaded"
    # the same verdicts, except that Crossref now names the agency of the DataCite DOIs
    renamed = {
        key: ("not_in_source" if key[0] == "crossref" and key[1].startswith("10.5281/") else st)
        for key, st in old["ledger"].items()
    }
    assert new["ledger"] == renamed
    # today: one singleton per absent DOI per source; now: only the SICI one, and Crossref is
    # not asked about the DataCite DOIs at all (one doi.org lookup instead)
    assert old_requests["openalex"] - new_requests["openalex"] == len(ABSENT) - 1
    assert old_requests["crossref"] - new_requests["crossref"] == len(ABSENT) - 1
    assert (old_requests["doira"], new_requests["doira"]) == (0, 1)
