"""Planning a refresh that keeps works current (warehouse/planning.py): which records changed at
their source, when each was fetched, whose citing works to ask for, and what stays unenriched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.records import CitationCount, CitationLink, CitingAsk
from warehouse.load import load_batch, load_documents, start_run
from warehouse.planning import (
    changed_works,
    citing_plan,
    fetched_at,
    stale_works,
)

from .factories import batch, document, ident, later, record

W = "openalex:W1"


def seeded(con, run_id, role: str = "reference") -> None:
    load_documents(con, [document("a.txt", [(role, ["doi:10.1/a", W])])], run_id=run_id)


def fetched(con, run_id, *, key: str | None, count: int = 3, at=None) -> None:
    at = at or later(1)
    rec = record("openalex", W, "doi:10.1/a", cited_by_count=count, change_key=key)
    fb, norm = batch("openalex", [rec], outcomes=[(W, "ok")], at=at)
    load_batch(con, fb, norm, run_id=run_id)


def counted(con, *, key: str | None, count: int = 3, at=None, updated: str | None = None):
    at = at or later(2)
    run = start_run(con, "refresh", {})
    c = CitationCount("openalex", ident(W), count, change_key=key, updated_date=updated)
    fb, norm = batch("openalex", counts=[c], at=at)
    load_batch(con, fb, norm, run_id=run)


def test_a_counts_answer_with_another_change_key_names_the_work_changed(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k1")
    counted(con, key="k1")
    assert changed_works(con, "openalex") == []
    counted(con, key="k2", at=later(3))
    assert changed_works(con, "openalex") == [ident(W)]


def test_a_refetched_record_is_no_longer_changed(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k1")
    counted(con, key="k2")
    fetched(con, run_id, key="k2", at=later(4))
    assert changed_works(con, "openalex") == []


def test_a_record_from_before_change_keys_compares_the_sources_own_stamp(con, run_id):
    seeded(con, run_id)
    rec = record("openalex", W, cited_by_count=3, updated_date="2026-01-01T00:00:00")
    fb, norm = batch("openalex", [rec], outcomes=[(W, "ok")], at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    counted(con, key="k", updated="2026-01-01T00:00:00")
    assert changed_works(con, "openalex") == []
    counted(con, key="k", updated="2026-02-01T00:00:00", at=later(3))
    assert changed_works(con, "openalex") == [ident(W)]


def test_fetched_at_gives_each_records_fetch_time_by_its_key(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k", at=later(7))
    assert fetched_at(con, "openalex", [ident(W), ident("openalex:W404")]) == {ident(W): later(7)}


def test_citing_plan_asks_works_with_citations_once_per_count(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k", count=3)
    assert citing_plan(con, "openalex", cap=200) == [CitingAsk(ident(W), 3, 200)]
    from warehouse.citations import record_scans

    record_scans(con, "openalex", [(ident(W), True)], run_id=run_id)
    assert citing_plan(con, "openalex", cap=200) == []
    counted(con, key="k", count=5)
    assert citing_plan(con, "openalex", cap=200) == [CitingAsk(ident(W), 5, 200)]


def test_citing_plan_stops_at_the_cap_but_never_for_a_subject(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k", count=50)
    links = [CitationLink("openalex", ident(W), (ident(f"openalex:W{100 + n}"),)) for n in range(2)]
    fb, norm = batch("openalex", citations=links, at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    assert citing_plan(con, "openalex", cap=2) == []
    assert citing_plan(con, "openalex", cap=10) == [CitingAsk(ident(W), 10, 10)]
    assert citing_plan(con, "openalex", cap=0) == []
    load_documents(con, [document("b.txt", [("subject", [W])])], run_id=run_id)
    assert citing_plan(con, "openalex", cap=2) == [CitingAsk(ident(W), 50, None)]


def test_works_known_only_as_citing_works_are_not_refreshed_until_enriched(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k")
    link = CitationLink("pubmed", ident("doi:10.1/a"), (ident("pmid:77"),))
    fb, norm = batch("pubmed", citations=[link], at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    assert ident("pmid:77") not in stale_works(con, "pubmed", stale_after=timedelta(0))
    rec = record("pubmed", "pmid:77", cited_by_count=1)
    fb, norm = batch("pubmed", [rec], outcomes=[("pmid:77", "ok")], at=later(2))
    load_batch(con, fb, norm, run_id=run_id)
    assert ident("pmid:77") in stale_works(con, "pubmed", stale_after=timedelta(0))


def test_a_counts_answer_older_than_the_record_says_nothing_about_it(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k1")
    counted(con, key="k2", at=later(2))
    # re-fetched after that count (counts are observed when loaded), without a count of its own
    rec = record("openalex", W, "doi:10.1/a", change_key="k3")
    after_count = datetime.now(UTC) + timedelta(hours=1)
    fb, norm = batch("openalex", [rec], outcomes=[(W, "ok")], at=after_count)
    load_batch(con, fb, norm, run_id=run_id)
    assert changed_works(con, "openalex") == []


def test_a_changed_record_the_source_no_longer_has_is_not_asked_again(con, run_id):
    seeded(con, run_id)
    fetched(con, run_id, key="k1")
    counted(con, key="k2")
    fb, norm = batch("openalex", outcomes=[(W, "not_found")], http_status=404, at=later(3))
    load_batch(con, fb, norm, run_id=run_id)
    assert changed_works(con, "openalex") == []
