"""End to end through the CLI: `enrich refresh` keeps the warehouse current and connected, over
real sockets against the loopback fake API, under the session's Prefect test server.

Between a run and a refresh the fake's world changes the way the real APIs' does: a corrected
title, a retraction notice (Retraction Watch's, with its record id), a new preprint. The refresh
finds exactly those works changed (not every stale work), re-fetches only them, records the
changes with both values, the retraction with its notice and date, and the preprint as a version;
it also asks who cites the works. Expectations come from the fake's catalog, never hand-written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from demo.fakeapi import FakeApi, seed_catalog
from flows import cli
from tests.flows.test_e2e import query, work_of

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    """A catalog of this module's own: its works are changed by the tests."""
    return seed_catalog()


@pytest.fixture
def online(monkeypatch, api):
    for name, value in api.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENRICH_MAILTO", "e2e@example.org")
    return api


@pytest.fixture
def seeds(tmp_path):
    target = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    return target


def sent(api, source: str) -> int:
    return api.stats[source]["requests"]


def test_refresh_refetches_only_changed_works_and_records_changes_retractions_versions(
    prefect_harness, online, seeds, tmp_path, catalog
):
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    works = [w for w in catalog if w.doi and w.pmid and w.in_pubmed][:3]
    retitled, retracted, preprinted = works
    old_title = retitled.plain_title
    retitled.retitle("A corrected title of a seed's work")
    notice = retracted.retract("10.5555/notice.1", notice_pmid="40000001", date="2026-11-25",
                               source="retraction-watch", record_id="61234")  # fmt: skip
    preprinted.add_preprint("10.1101/2026.01.01.000001")
    before = {s: sent(online, s) for s in ("openalex", "crossref", "eutils")}
    assert cli.main(["refresh", "--db", str(db), "--stale-after", "0s"]) == 0

    changed_works = {work_of(db, "doi", w.doi) for w in works}
    refetched = {
        source: {r[0] for r in query(db, "select distinct work_id from work_changes where source = ?", (source,))}
        for source in ("openalex", "crossref", "pubmed")
    }  # fmt: skip
    assert refetched["openalex"] == refetched["crossref"] == changed_works
    assert (
        refetched["pubmed"] <= changed_works
        and work_of(db, "doi", retitled.doi) in refetched["pubmed"]
    )
    titles = query(
        db, "select source, old_value, new_value from work_changes where field = 'title' "
        "and work_id = ? order by source", (work_of(db, "doi", retitled.doi),),
    )  # fmt: skip
    assert {s for s, _, _ in titles} == {"openalex", "crossref", "pubmed"}
    assert all(new.startswith("A corrected title") for _, _, new in titles)
    assert any(old.startswith(old_title.rstrip(".")) for _, old, _ in titles)

    (row,) = query(
        db, "select work_id, retracted_on, notice_dois, notice_pmids, sources, asserted_by, "
        "retraction_watch_ids from retracted_works",
    )  # fmt: skip
    assert row == (
        work_of(db, "doi", retracted.doi), notice.date, [notice.notice_doi], [notice.notice_pmid],
        ["crossref", "openalex", "pubmed"], ["pubmed", "retraction-watch"], [notice.record_id],
    )  # fmt: skip

    versions = query(
        db, "select source, relation, other_value from work_versions where work_id = ? order by 1",
        (work_of(db, "doi", preprinted.doi),),
    )  # fmt: skip
    assert versions == [
        ("crossref", "has-preprint", "10.1101/2026.01.01.000001"),
        ("openalex", "location", "10.1101/2026.01.01.000001"),
    ]
    # only the changed works were fetched again: one OpenAlex list, Crossref singletons (fewer
    # than a list's break-even), one efetch; beside one counts request per source
    summary = json.loads(query(db, "select summary from runs where flow = 'refresh'")[0][0])
    current = summary["current"]
    assert {s: c["changed"] for s, c in current.items()} == dict.fromkeys(current, 3)
    assert {s: c["refetch"]["requests"] for s, c in current.items()} == {
        "openalex": 1, "crossref": 3, "pubmed": 1,
    }  # fmt: skip
    assert current["pubmed"]["check"]["requests"] == 1, "one esearch [mdat] for 12 PMIDs"
    assert sent(online, "crossref") - before["crossref"] == 1 + 3


def test_a_refresh_with_nothing_changed_fetches_no_record_and_who_cites_is_not_asked_twice(
    prefect_harness, monkeypatch, seeds, tmp_path
):
    with FakeApi(seed_catalog()) as api:  # a world no other test changed
        for name, value in api.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("ENRICH_MAILTO", "e2e@example.org")
        db = tmp_path / "w.duckdb"
        assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
        assert cli.main(["refresh", "--db", str(db), "--stale-after", "0s"]) == 0
        assert query(db, "select count(*) from citing_scans where source = 'openalex'")[0][0]
        edges = query(db, "select count(*) from work_citations")[0][0]
        api.reset_stats()
        assert cli.main(["refresh", "--db", str(db), "--stale-after", "0s"]) == 0
        received = {s: [q for _, _, q in api.stats[s]["received"]] for s in api.stats}
    assert received["openalex"] and not [q for q in received["openalex"] if "cites" in q], (
        "no count moved: nobody is asked who cites it again"
    )
    assert all("select" in q for q in received["openalex"]), "no full record fetched"
    assert all("select" in q for q in received["crossref"]), "no full record fetched"
    assert not [q for q in received["eutils"] if "efetch" in q], "no PubMed record fetched"
    assert query(db, "select count(*) from work_changes")[0][0] == 0
    assert query(db, "select count(*) from work_citations")[0][0] == edges


def test_who_cites_links_every_citing_work_of_the_catalog_into_the_crosswalk(
    prefect_harness, online, seeds, tmp_path, catalog
):
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    assert cli.main(["refresh", "--db", str(db), "--stale-after", "0s"]) == 0
    for w in catalog:
        cited = work_of(db, "openalex", w.openalex_id)
        expected = {c.openalex_id for c in catalog if w.openalex_id in c.references}
        if cited is None or not expected or not w.cited_by.openalex:
            continue
        got = {
            r[0]
            for r in query(
                db,
                "select citing_openalex_id from cited_by where cited_work_id = ? "
                "and list_contains(sources, 'openalex')",
                (cited,),
            )  # fmt: skip
        }
        assert got == expected, w.openalex_id
    # the seeds' works that cite each other are seed works; nothing new to enrich
    assert query(db, "select count(*) from works where origin = 'citing'")[0][0] == 0
    assert query(db, "select count(*) from works_missing_source")[0][0] == 0
