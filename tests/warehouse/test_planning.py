"""Planning: what each source is asked next, and which works are stale for refresh."""

from __future__ import annotations

from datetime import timedelta

from pipeline.records import CitationCount
from warehouse.load import load_batch, load_counts, load_documents, mark_ledger, plan, start_run
from warehouse.planning import stale_works

from .factories import batch, document, ident, later, record

WORKS = [
    ("subject", ["pmid:1", "doi:10.1/a", "pmcid:PMC1"]),
    ("citing", ["doi:10.1/b", "doi:10.1/b2"]),
    ("reference", ["pmcid:PMC3"]),
]


def ids(*texts: str):
    return [ident(t) for t in texts]


def seeded(con, run_id):
    load_documents(con, [document("a.txt", WORKS)], run_id=run_id)


def test_openalex_gets_one_identifier_per_work_by_preference(con, run_id):
    seeded(con, run_id)
    assert sorted(plan(con, "openalex")) == sorted(ids("doi:10.1/a", "doi:10.1/b", "pmcid:PMC3"))


def test_pubmed_prefers_pmid_then_pmcid_then_doi(con, run_id):
    seeded(con, run_id)
    assert sorted(plan(con, "pubmed")) == sorted(ids("pmid:1", "doi:10.1/b", "pmcid:PMC3"))


def test_crossref_gets_every_doi_of_every_work(con, run_id):
    seeded(con, run_id)
    assert sorted(plan(con, "crossref")) == sorted(ids("doi:10.1/a", "doi:10.1/b", "doi:10.1/b2"))


def test_settled_works_are_skipped_and_failed_or_pending_ones_retried(con, run_id):
    seeded(con, run_id)
    fb, norm = batch("openalex", outcomes=[("doi:10.1/a", "ok"), ("doi:10.1/b", "failed")])
    load_batch(con, fb, norm, run_id=run_id)
    mark_ledger(con, "openalex", ids("pmcid:PMC3"), status="pending", error="down", run_id=run_id)
    assert sorted(plan(con, "openalex")) == sorted(ids("doi:10.1/b", "pmcid:PMC3"))


def test_a_not_found_identifier_falls_back_to_the_next_preferred_one(con, run_id):
    seeded(con, run_id)
    fb, norm = batch("pubmed", outcomes=[("pmid:1", "not_found")])
    load_batch(con, fb, norm, run_id=run_id)
    assert ident("pmcid:PMC1") in plan(con, "pubmed")


def test_refresh_replans_settled_identifiers(con, run_id):
    seeded(con, run_id)
    fb, norm = batch("openalex", outcomes=[("doi:10.1/a", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    assert ident("doi:10.1/a") in plan(con, "openalex", refresh=True)


def test_exclude_skips_identifiers_already_attempted_this_run(con, run_id):
    seeded(con, run_id)
    assert ident("doi:10.1/a") not in plan(con, "openalex", exclude=ids("doi:10.1/a"))


def test_a_crossref_404_for_a_doi_another_source_knows_is_replanned_on_a_later_run(con):
    first = start_run(con, "enrich", {})
    seeded(con, first)
    fb, norm = batch("crossref", outcomes=[("doi:10.1/a", "not_found")], http_status=404)
    load_batch(con, fb, norm, run_id=first)
    fb, norm = batch("pubmed", [record("pubmed", "pmid:1", "doi:10.1/a")],
                     outcomes=[("pmid:1", "ok")])  # fmt: skip
    load_batch(con, fb, norm, run_id=first)
    assert ident("doi:10.1/a") not in plan(con, "crossref")  # not again in the same run
    start_run(con, "enrich", {})
    assert ident("doi:10.1/a") in plan(con, "crossref")


def test_a_crossref_404_for_a_doi_nobody_knows_is_settled(con):
    first = start_run(con, "enrich", {})
    seeded(con, first)
    fb, norm = batch("crossref", outcomes=[("doi:10.1/a", "not_found")], http_status=404)
    load_batch(con, fb, norm, run_id=first)
    start_run(con, "enrich", {})
    assert ident("doi:10.1/a") not in plan(con, "crossref")


def test_a_doi_registered_elsewhere_is_never_replanned_nor_refreshed_at_crossref(con):
    """not_in_source (another agency registered it) is final, even when another source knows
    the work: unlike a 404, Crossref cannot hold it."""
    first = start_run(con, "enrich", {})
    seeded(con, first)
    fb, norm = batch("crossref", outcomes=[("doi:10.1/a", "not_in_source")], http_status=200)
    load_batch(con, fb, norm, run_id=first)
    fb, norm = batch("pubmed", [record("pubmed", "pmid:1", "doi:10.1/a")],
                     outcomes=[("pmid:1", "ok")])  # fmt: skip
    load_batch(con, fb, norm, run_id=first)
    start_run(con, "enrich", {})
    assert ident("doi:10.1/a") not in plan(con, "crossref")
    assert ident("doi:10.1/a") not in stale_works(con, "crossref", stale_after=timedelta(0))


def test_stale_works_are_those_without_a_recent_observation(con, run_id):
    seeded(con, run_id)
    load_counts(con, [CitationCount("openalex", ident("doi:10.1/a"), 3)], run_id=run_id)
    stale = stale_works(con, "openalex", stale_after=timedelta(days=7))
    assert sorted(stale) == sorted(ids("doi:10.1/b", "pmcid:PMC3"))
    everything = stale_works(con, "openalex", stale_after=timedelta(days=7), now=later(10**5))
    assert len(everything) == 3


def test_stale_works_name_the_work_as_the_source_prefers(con, run_id):
    seeded(con, run_id)
    fb, norm = batch("openalex", [record("openalex", "openalex:W1", "doi:10.1/a")])
    load_batch(con, fb, norm, run_id=run_id)
    assert ident("openalex:W1") in stale_works(con, "openalex", stale_after=timedelta(0))
    assert sorted(stale_works(con, "pubmed", stale_after=timedelta(0))) == ids("pmid:1")
    assert ident("doi:10.1/b") in stale_works(con, "crossref", stale_after=timedelta(0))


def test_a_failed_sibling_of_a_settled_work_is_asked_again(con, run_id):
    """The PMCID's converter call failed, the work was then fetched through its PMID: the failed
    row must not stay in the ledger for good, and the unasked DOI is not asked."""
    seeded(con, run_id)
    fb, norm = batch("pubmed", outcomes=[("pmcid:PMC1", "failed"), ("pmid:1", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    planned = plan(con, "pubmed")
    assert ident("pmcid:PMC1") in planned
    assert ident("doi:10.1/a") not in planned and ident("pmid:1") not in planned
    assert ident("pmcid:PMC1") not in plan(con, "pubmed", exclude=[ident("pmcid:PMC1")])


def test_a_plan_read_a_few_rows_at_a_time_is_the_plan_read_at_once(con, run_id, monkeypatch):
    import warehouse.planning as planning

    seeded(con, run_id)
    fb, norm = batch("pubmed", outcomes=[("pmid:1", "not_found")])
    load_batch(con, fb, norm, run_id=run_id)
    whole = {s: plan(con, s) for s in ("openalex", "pubmed", "crossref")}
    monkeypatch.setattr(planning, "FETCH_ROWS", 2)  # a work's identifiers span two reads
    assert {s: plan(con, s) for s in ("openalex", "pubmed", "crossref")} == whole
