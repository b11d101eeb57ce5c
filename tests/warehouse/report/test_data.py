"""The report's numbers (warehouse/report/data.py + report.sql) on a warehouse whose answers
are known by construction (conftest)."""

from __future__ import annotations

from warehouse.report.data import collect, retracted_works, unmatched_references
from warehouse.scope import scope_all, scope_seed

from .conftest import work_of


def data(con, *, seed=None, limit=500):
    if seed:
        scope_seed(con, seed)
    else:
        scope_all(con)
    return collect(con, "test", limit=limit)


def test_overview_counts_works_documents_ids_and_retractions(warehouse):
    t = data(warehouse).totals
    assert (t["works"], t["documents"], t["identifiers"], t["retracted"]) == (4, 2, 7, 1)
    assert t["source_records"] == 3


def test_identifiers_by_scheme_and_coverage_per_source(warehouse):
    d = data(warehouse)
    assert dict(d.ids_by_scheme.rows) == {"doi": 3, "pmid": 1, "pmcid": 1, "openalex": 2}
    coverage = {r["source"]: (r["works_with_record"], r["percent"])
                for r in d.coverage_by_source.records()}  # fmt: skip
    assert coverage == {"crossref": (1, 25.0), "openalex": (2, 50.0), "pubmed": (0, 0.0)}


def test_ledger_counts_each_status_per_source(warehouse):
    got = {r["source"]: (r["ok"], r["not_found"], r["failed"], r["pending"])
           for r in data(warehouse).ledger_by_source.records()}  # fmt: skip
    assert got == {"crossref": (1, 1, 0, 0), "openalex": (2, 0, 1, 0), "pubmed": (0, 0, 0, 1)}


def test_not_in_source_is_a_status_of_its_own_in_the_ledger_and_missing_charts(warehouse):
    warehouse.begin()  # the module's warehouse: rolled back below
    try:
        warehouse.execute(
            "update fetch_ledger set status = 'not_in_source', "
            "last_error = 'registration agency: DataCite' "
            "where source = 'crossref' and status = 'not_found'"
        )
        d = data(warehouse)
    finally:
        warehouse.rollback()
    ledger = {
        r["source"]: (r["not_found"], r["not_in_source"]) for r in d.ledger_by_source.records()
    }
    assert ledger["crossref"] == (0, 1)
    missing = {r["source"]: r for r in d.missing_by_source.records()}
    assert (missing["crossref"]["not_found"], missing["crossref"]["not_in_source"]) == (0, 1)


def test_citations_over_time_sum_each_works_latest_count_per_day(warehouse):
    rows = [(r["source"], r["citations"], r["works_observed"])
            for r in data(warehouse).citations_over_time.records()]  # fmt: skip
    # crossref: A 10 three days ago, 15 today; openalex: A 12 + D 3, then A 12 again
    assert rows == [("crossref", 10, 1), ("crossref", 15, 1), ("openalex", 15, 2),
                    ("openalex", 15, 2)]  # fmt: skip


def test_citations_by_year_and_the_top_works_histories(warehouse):
    d = data(warehouse)
    assert d.citations_by_year.rows == [(2024, 4, 1), (2025, 8, 1)]
    assert [(r["year"], r["cited_by_count"]) for r in d.top_works_by_year.records()] == [
        (2024, 4), (2025, 8)]  # fmt: skip
    sources = [r["source"] for r in d.history_top_works.records()]
    assert sources.count("crossref") == 2 and sources.count("openalex") == 3


def test_top_movers_and_most_cited(warehouse):
    d = data(warehouse)
    assert [(r["source"], r["previous_count"], r["cited_by_count"], r["change"])
            for r in d.top_movers.records()] == [("crossref", 10, 15, 5)]  # fmt: skip
    assert [r["cited_by_count"] for r in d.most_cited.records()] == [12, 3]


def test_each_document_lists_its_works_and_the_references_no_source_resolved(warehouse):
    sections = {s.coverage["path"]: s for s in data(warehouse).document_sections}
    a = sections["seeds/a.txt"]
    assert a.works.total == 3
    assert [r["roles"] for r in a.works.records()] == ["subject", "reference", "reference"]
    assert [(r["value"], r["status"]) for r in a.unmatched.records()] == [
        ("10.1/b", "failed"), ("PMC3", "unattempted")]  # fmt: skip
    assert sections["seeds/b.txt"].unmatched.total == 0


def test_attention_lists_retractions_disagreements_missing_sources_and_failures(warehouse):
    d = data(warehouse)
    assert [(r["retracted_per"], r["doi"]) for r in d.retracted.records()] == [
        ("crossref", "10.1/a")
    ]
    assert dict(d.disagreements_by_field.rows) == {"publication_year": 1, "venue": 1}
    venue = [r for r in d.disagreements.records() if r["field"] == "venue"][0]
    assert (venue["crossref"], venue["openalex"]) == ("Blood", "Blood Advances")
    failed = {(r["source"], r["status"]): r["last_error"] for r in d.failed_pending.records()}
    assert failed == {("openalex", "failed"): "HTTP 503 from openalex",
                      ("pubmed", "pending"): "deferred: Retry-After 3600 s"}  # fmt: skip
    missing = {r["source"]: r for r in d.missing_by_source.records()}
    assert missing["crossref"]["not_found"] == 1 and missing["pubmed"]["pending"] == 1


def test_a_seed_scope_reports_on_that_documents_works_only(warehouse):
    d = data(warehouse, seed="b.txt")
    assert d.totals["works"] == 1 and d.totals["retracted"] == 0
    assert [s.coverage["path"] for s in d.document_sections] == ["seeds/b.txt"]
    assert d.failed_pending.total == 0 and d.most_cited.column("cited_by_count") == [3]


def test_lists_are_capped_and_know_their_full_length(warehouse):
    d = data(warehouse, limit=1)
    assert len(d.missing_source.rows) == 1 and d.missing_source.total > 1
    assert d.missing_source.truncated


def test_the_retraction_and_reference_queries_are_single_functions(warehouse):
    scope_all(warehouse)
    assert retracted_works(warehouse).column("work_id") == [work_of(warehouse, "doi", "10.1/a")]
    doc = warehouse.execute("select document_id from seed_documents where path = 'seeds/a.txt'")
    doc_id = doc.fetchone()[0]
    table = unmatched_references(warehouse)
    assert table.column("document_id") == [doc_id] * 2 and table.totals == [2, 2]


# -- issue 20's data in the report: retraction notices, works known only as citing works -------


def test_a_retraction_notice_shows_its_doi_and_date_and_citing_works_stay_out_of_the_lists():
    """The conftest warehouse, then D gets a Retraction Watch notice (Crossref updated-by) and 3
    citing works (OpenAlex cites:): the retraction list shows the notice, the citing-only works
    are counted on the overview and listed nowhere."""
    from pipeline.records import CitationLink, Normalised, UpdateRecord
    from warehouse.db import connect
    from warehouse.load import load_batch, start_run

    from ..conftest import assert_quality
    from ..factories import batch, ident, record
    from .conftest import build

    con = connect(":memory:")
    try:
        build(con)
        before = data(con)
        run = start_run(con, "refresh", {})
        notice = UpdateRecord("retraction", ident("doi:10.1/d"), ident("doi:10.1/notice"),
                              date="2026-02-03", asserted_by="retraction-watch", record_id="61")  # fmt: skip
        fb, norm = batch("crossref", [record("crossref", "doi:10.1/d", updates=(notice,))],
                         outcomes=[("doi:10.1/d", "ok")])  # fmt: skip
        load_batch(con, fb, norm, run_id=run)
        citing = tuple(
            CitationLink("openalex", ident("openalex:W4"), (ident(f"openalex:W90{n}"),), n)
            for n in range(3)
        )
        fb, _ = batch("openalex", outcomes=[("openalex:W4", "ok")])
        load_batch(con, fb, [Normalised(citations=citing)], run_id=run, citing_cap=200)
        d = data(con)
        assert d.totals["works"] == 4 and d.totals["citing_works"] == 3
        assert d.totals["retracted"] == 2
        rows = {r["doi"]: r for r in d.retracted.records()}
        assert (rows["10.1/d"]["notice_doi"], rows["10.1/d"]["retracted_on"]) == (
            "10.1/notice", "2026-02-03")  # fmt: skip
        assert rows["10.1/d"]["asserted_by"] == "retraction-watch"
        assert rows["10.1/a"]["retracted_per"] == "crossref"  # a source's flag, no notice
        citers = {work_of(con, "openalex", f"W90{n}") for n in range(3)}
        listed = {
            w for t in (d.most_cited, d.missing_source, d.failed_pending, d.retracted)
            for w in t.column("work_id")
        }  # fmt: skip
        assert not citers & listed
        # D now has a Crossref record; no citing-only work is "missing a source"
        assert d.missing_source.total == before.missing_source.total - 1
        assert d.ids_by_scheme.rows == before.ids_by_scheme.rows
        assert d.coverage_by_source.rows != [] and all(
            r["works"] == 4 for r in d.coverage_by_source.records()
        )
        assert_quality(con)
    finally:
        con.close()
