"""Every view on a small fixture warehouse whose right answers are known by construction.

The fixture: document a.txt mentions three works
  A  pmid:1 + doi:10.1/a   resolved by crossref (title 'Cell death: a review', 2020) and openalex
                           ('Cell Death - A Review', 2021); counts observed twice per source
  B  doi:10.1/b            crossref answered not_found, openalex failed
  C  pmcid:PMC3            never asked
"""

from __future__ import annotations

import pytest

from pipeline.records import CitationCount
from warehouse.db import view_files
from warehouse.load import load_batch, load_counts, load_documents, start_run

from .factories import batch, document, ident, record


@pytest.fixture
def fixture(con):
    first = start_run(con, "enrich", {})
    groups = [("subject", ["pmid:1", "doi:10.1/a"]), ("citing", ["doi:10.1/b"]),
              ("reference", ["pmcid:PMC3"])]  # fmt: skip
    load_documents(con, [document("a.txt", groups)], run_id=first)
    cr = record("crossref", "doi:10.1/a", title="Cell death: a review", publication_year=2020,
                cited_by_count=10)  # fmt: skip
    oa = record("openalex", "openalex:W1", "doi:10.1/a", "pmid:1",
                title="Cell Death - A Review", publication_year=2021, cited_by_count=12)  # fmt: skip
    for source, rec in (("crossref", cr), ("openalex", oa)):
        fb, norm = batch(source, [rec], outcomes=[("doi:10.1/a", "ok")])
        load_batch(con, fb, norm, run_id=first)
    for source, status in (("crossref", "not_found"), ("openalex", "failed")):
        fb, norm = batch(source, outcomes=[("doi:10.1/b", status)], error="boom")
        load_batch(con, fb, norm, run_id=first)
    second = start_run(con, "refresh", {})
    load_counts(con, [CitationCount("crossref", ident("doi:10.1/a"), 15),
                      CitationCount("openalex", ident("pmid:1"), 12)], run_id=second)  # fmt: skip
    return con


def rows(con, query: str) -> list[tuple]:
    return con.execute(query).fetchall()


def test_every_view_file_defines_a_queryable_view_with_its_grain_in_a_header(con):
    for path in view_files():
        assert path.read_text().startswith(f"-- {path.stem}: one row per")
        con.execute(f"select * from {path.stem} limit 0")


def test_citation_latest_is_the_newest_count_per_work_and_source(fixture):
    got = rows(
        fixture, "select source, cited_by_count, observations from citation_latest order by 1"
    )
    assert got == [("crossref", 15, 2), ("openalex", 12, 2)]


def test_citation_history_lists_every_observation_with_its_change(fixture):
    got = rows(
        fixture,
        "select source, cited_by_count, previous_count, change from citation_history "
        "order by source, observed_at",
    )
    assert got == [("crossref", 10, None, None), ("crossref", 15, 10, 5),
                   ("openalex", 12, None, None), ("openalex", 12, 12, 0)]  # fmt: skip


def test_citation_change_is_the_change_since_the_previous_observation(fixture):
    got = rows(
        fixture,
        "select source, cited_by_count, previous_count, change from citation_change order by 1",
    )
    assert got == [("crossref", 15, 10, 5), ("openalex", 12, 12, 0)]


def test_seed_coverage_counts_identifiers_by_outcome(fixture):
    got = rows(
        fixture,
        "select found, works, resolved, not_found, failed, pending, unattempted from seed_coverage",
    )
    # A's two ids resolved; B failed (a failure outranks a not_found); C never asked
    assert got == [(4, 3, 2, 0, 1, 0, 1)]


def test_source_disagreements_compare_normalised_titles_years_and_counts(fixture):
    got = rows(fixture, "select field, openalex, crossref from source_disagreements order by 1")
    # 'Cell death: a review' and 'Cell Death - A Review' are the same title once normalised
    assert got == [("cited_by_count", "12", "15"), ("publication_year", "2021", "2020")]


def test_most_cited_ranks_works_by_their_merged_count(fixture):
    got = rows(fixture, "select rank, doi, cited_by_count from most_cited")
    assert got == [(1, "10.1/a", 12)]  # openalex first by the enrichment precedence


def test_works_missing_source_says_what_the_ledger_knows(fixture):
    got = rows(
        fixture,
        "select w.doi, m.source, m.ledger_status from works_missing_source m "
        "join works w using (work_id) where w.doi is not null order by 1, 2",
    )
    assert got == [("10.1/a", "pubmed", "unattempted"), ("10.1/b", "crossref", "not_found"),
                   ("10.1/b", "openalex", "failed"), ("10.1/b", "pubmed", "unattempted")]  # fmt: skip


def test_unresolved_identifiers_are_those_no_source_resolved(fixture):
    got = rows(fixture, "select scheme, value, status, ledger from unresolved_identifiers")
    assert got == [("doi", "10.1/b", "failed", ["crossref:not_found", "openalex:failed"]),
                   ("pmcid", "PMC3", "unattempted", [])]  # fmt: skip


@pytest.mark.parametrize(
    ("crossref", "pubmed", "disagree"),
    [("Journal of Clinical Oncology",
      "Journal of clinical oncology : official journal of the American Society of Clinical Oncology",
      False),
     ("The Lancet", "Lancet", False),
     ("Nature Reviews Drug Discovery", "Nature reviews. Drug discovery", False),
     ("Blood & Lymph", "Blood and lymph", False),
     ("Blood", "Blood Advances", True)],
)  # fmt: skip
def test_source_disagreements_compare_normalised_venues(con, crossref, pubmed, disagree):
    run = start_run(con, "enrich", {})
    for source, venue in (("crossref", crossref), ("pubmed", pubmed)):
        fb, norm = batch(source, [record(source, "doi:10.1/v", venue=venue)],
                         outcomes=[("doi:10.1/v", "ok")])  # fmt: skip
        load_batch(con, fb, norm, run_id=run)
    got = rows(con, "select crossref, pubmed from source_disagreements where field = 'venue'")
    assert got == ([(crossref, pubmed)] if disagree else [])
