"""Views over updates, versions and who cites (warehouse/views): retracted_works,
version_families, family_citations, cited_by."""

from __future__ import annotations

from pipeline.records import CitationLink, UpdateRecord, VersionRecord
from warehouse.load import finish_run, load_batch, load_documents

from .factories import batch, document, ident, later, record


def rows(con, query: str, *params):
    return con.execute(query, params).fetchall()


def work_of(con, text: str) -> str:
    return rows(con, "select work_id from work_ids where scheme = ? and value = ?", *ident(text))[
        0
    ][0]


def seeded(con, run_id, *ids: str) -> None:
    load_documents(con, [document("a.txt", [("reference", [i]) for i in ids])], run_id=run_id)


def test_retracted_works_names_the_notices_the_date_and_who_says_so(con, run_id):
    seeded(con, run_id, "doi:10.1/a", "pmid:9", "doi:10.1/clean")
    rw = UpdateRecord("retraction", ident("doi:10.1/a"), ident("doi:10.1/n"), "2010-02-06",
                      "Retraction", "retraction-watch", "4036")  # fmt: skip
    fb, norm = batch("crossref", [record("crossref", "doi:10.1/a", updates=(rw,))])
    load_batch(con, fb, norm, run_id=run_id)
    pm = UpdateRecord("retraction", ident("pmid:9"), ident("pmid:10"), "2011-05", "RetractionIn",
                      "pubmed")  # fmt: skip
    fb, norm = batch("pubmed", [record("pubmed", "pmid:9", "doi:10.1/a", updates=(pm,))])
    load_batch(con, fb, norm, run_id=run_id)
    fb, norm = batch("openalex", [record("openalex", "openalex:W5", "doi:10.1/a",
                                         is_retracted=True)])  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    (row,) = rows(
        con, "select work_id, retracted_on, notice_dois, notice_pmids, sources, asserted_by, "
        "retraction_watch_ids from retracted_works",
    )  # fmt: skip
    assert row == (
        work_of(con, "doi:10.1/a"), "2010-02-06", ["10.1/n"], ["10"],
        ["crossref", "openalex", "pubmed"], ["pubmed", "retraction-watch"], ["4036"],
    )  # fmt: skip


def test_a_correction_or_a_notice_is_not_a_retracted_work(con, run_id):
    seeded(con, run_id, "doi:10.1/a", "doi:10.1/n")
    fix = UpdateRecord("correction", ident("doi:10.1/a"), ident("doi:10.1/c"))
    notice = UpdateRecord("retraction", ident("doi:10.1/other"), ident("doi:10.1/n"))
    fb, norm = batch("crossref", [record("crossref", "doi:10.1/a", updates=(fix,)),
                                  record("crossref", "doi:10.1/n", updates=(notice,))])  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    assert rows(con, "select count(*) from retracted_works") == [(0,)]


def test_versions_form_families_and_citations_are_counted_per_family(con, run_id):
    seeded(con, run_id, "doi:10.1/pub", "doi:10.1101/pre", "pmid:3", "doi:10.1/alone")
    pub = record("crossref", "doi:10.1/pub", cited_by_count=10,
                 versions=(VersionRecord("has-preprint", ident("doi:10.1101/pre")),))  # fmt: skip
    pre = record("crossref", "doi:10.1101/pre", cited_by_count=4,
                 versions=(VersionRecord("is-version-of", ident("pmid:3")),))  # fmt: skip
    fb, norm = batch("crossref", [pub, pre], at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    links = [
        CitationLink("pubmed", ident(cited), (ident(f"pmid:{p}"),))
        for cited, p in (("doi:10.1/pub", 50), ("doi:10.1101/pre", 50), ("doi:10.1101/pre", 51))
    ]
    fb, norm = batch("pubmed", citations=links, at=later(2))
    load_batch(con, fb, norm, run_id=run_id)
    finish_run(con, run_id, "completed", {})
    family = {work_of(con, i) for i in ("doi:10.1/pub", "doi:10.1101/pre", "pmid:3")}
    families = dict(rows(con, "select work_id, family_id from version_families"))
    assert set(families) == family and set(families.values()) == {min(family)}
    got = {
        w: (size, own, fam_sum, citing, fam_citing)
        for w, size, own, fam_sum, citing, fam_citing in rows(
            con,
            "select work_id, family_size, cited_by_count, family_cited_by_sum, "
            "citing_works, family_citing_works from family_citations",
        )  # fmt: skip
    }
    assert got[work_of(con, "doi:10.1/pub")] == (3, 10, 14, 1, 2)
    assert got[work_of(con, "doi:10.1101/pre")] == (3, 4, 14, 2, 2)
    assert got[work_of(con, "doi:10.1/alone")] == (1, None, None, 0, 0)
    assert work_of(con, "pmid:50") not in got, "citing-only works are no family of their own"


def test_cited_by_lists_each_citing_work_once_with_every_source_that_lists_it(con, run_id):
    seeded(con, run_id, "doi:10.1/a")
    both = [
        CitationLink("pubmed", ident("doi:10.1/a"), (ident("pmid:7"),)),
        CitationLink("openalex", ident("doi:10.1/a"), (ident("openalex:W7"), ident("pmid:7"))),
    ]
    fb, norm = batch("openalex", citations=both, at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    assert rows(
        con, "select citing_work_id, sources, citing_pmid, citing_origin from cited_by"
    ) == [(work_of(con, "pmid:7"), ["openalex", "pubmed"], "7", "citing")]


def test_citing_works_never_asked_are_not_unresolved_nor_missing_a_source(con, run_id):
    seeded(con, run_id, "pmid:9")
    link = CitationLink("pubmed", ident("pmid:9"), (ident("pmid:70"),))
    fb, norm = batch("pubmed", citations=[link], at=later(1))
    load_batch(con, fb, norm, run_id=run_id)
    citing = work_of(con, "pmid:70")
    assert rows(con, "select count(*) from unresolved_identifiers where work_id = ?", citing) == [
        (0,)
    ]
    assert rows(con, "select count(*) from works_missing_source where work_id = ?", citing) == [
        (0,)
    ]
    assert rows(con, "select count(*) from unresolved_identifiers where value = '9'") == [(1,)]
