"""Loading: idempotence, merges that keep every reference, ledger rules, counts, rebuild."""

from __future__ import annotations

from dataclasses import replace

import pytest

import warehouse.staging as staging
from pipeline.records import CitationCount, IdentityLink, Normalised
from warehouse.identity import MAX_WORKS_PER_GROUP, mint_work_id
from warehouse.load import (
    PART_CHARS,
    body_parts,
    finish_run,
    iter_raw_responses,
    load_batch,
    load_counts,
    load_documents,
    mark_ledger,
    rebuild,
    redact_url,
    resolve_citations,
    start_run,
    transaction,
)

from .conftest import assert_quality
from .factories import batch, document, full_record, ident, later, raw_for, record, seed_002

TABLES = (
    "works", "work_ids", "work_aliases", "mentions", "seed_documents", "source_records",
    "authors", "authorships", "institutions", "authorship_institutions", "work_references",
    "topics", "work_topics", "citation_counts", "counts_by_year", "fetch_ledger",
    "raw_responses", "venues",
)  # fmt: skip
STABLE = {  # columns that legitimately change between two loads of the same input
    "works": "exclude (updated_at)",
    "authors": "exclude (updated_at)",
    "venues": "exclude (updated_at)",
    "seed_documents": "exclude (loaded_at)",
    "work_aliases": "exclude (recorded_at)",
}


def snapshot(con) -> dict[str, list]:
    return {
        t: sorted(map(repr, con.execute(f"select * {STABLE.get(t, '')} from {t}").fetchall()))
        for t in TABLES
    }


def count(con, query: str, *params) -> int:
    return con.execute(f"select count(*) from ({query})", list(params)).fetchone()[0]


def work_of(con, text: str) -> str:
    i = ident(text)
    return con.execute(
        "select work_id from work_ids where scheme = ? and value = ?", [i.scheme, i.value]
    ).fetchone()[0]


# ------------------------------------------------------------------------------------------
# documents
# ------------------------------------------------------------------------------------------


def test_mentions_of_one_group_form_one_work(con, run_id):
    load_documents(con, [document("a.txt", [("subject", ["pmid:1", "doi:10.1/a"])])], run_id=run_id)
    assert count(con, "select * from works") == 1
    assert work_of(con, "pmid:1") == work_of(con, "doi:10.1/a") == mint_work_id(ident("doi:10.1/a"))


def test_a_group_naming_a_known_identifier_joins_its_work(con, run_id):
    load_documents(con, [document("a.txt", [("subject", ["pmid:1"])])], run_id=run_id)
    load_documents(con, [document("b.txt", [("mention", ["pmid:1", "doi:10.1/a"])])], run_id=run_id)
    assert count(con, "select * from works") == 1
    assert work_of(con, "doi:10.1/a") == mint_work_id(ident("pmid:1"))


def test_seed_002_gives_five_citing_and_five_reference_links(con, run_id):
    load_documents(con, [seed_002()], run_id=run_id)
    subject = work_of(con, "pmid:36455991")
    rows = con.execute(
        "select citing_work_id, cited_work_id from work_references where source = 'seed'"
    ).fetchall()
    assert len([r for r in rows if r[1] == subject]) == 5  # they cite the subject
    assert len([r for r in rows if r[0] == subject]) == 5  # the subject cites them
    assert count(con, "select * from works") == 11


def test_loading_documents_twice_gives_the_same_rows(con, run_id):
    docs = [seed_002(), document("a.txt", [("subject", ["doi:10.1/a"])])]
    load_documents(con, docs, run_id=run_id)
    first = snapshot(con)
    load_documents(con, docs, run_id=run_id)
    assert snapshot(con) == first


# ------------------------------------------------------------------------------------------
# batches
# ------------------------------------------------------------------------------------------


def test_loading_a_batch_twice_gives_the_same_rows(con, run_id):
    load_documents(con, [seed_002()], run_id=run_id)
    rec = full_record("openalex", "openalex:W9", "pmid:36455991", refs=("doi:10.1111/bjh.17673",),
                      cited_by_count=4, counts_by_year=((2024, 3), (2025, 1)))  # fmt: skip
    fb, norm = batch("openalex", [rec], outcomes=[("pmid:36455991", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    first = snapshot(con)
    load_batch(con, fb, norm, run_id=run_id)
    assert snapshot(con) == first


def test_the_staging_fallback_without_pyarrow_loads_the_same_rows(con, run_id, monkeypatch):
    rec = full_record("crossref", "doi:10.1/a", refs=("doi:10.1/b",), cited_by_count=2)
    fb, norm = batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    arrow = snapshot(con)
    monkeypatch.setattr(staging, "USE_ARROW", False)
    load_batch(con, fb, norm, run_id=run_id)
    assert snapshot(con) == arrow


def test_a_batch_stores_raws_records_authors_references_and_counts(con, run_id):
    rec = full_record("openalex", "openalex:W1", "doi:10.1/a", refs=("doi:10.1/x", "pmid:7"),
                      cited_by_count=5, title="A title")  # fmt: skip
    fb, norm = batch("openalex", [rec], outcomes=[("doi:10.1/a", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    work = work_of(con, "doi:10.1/a")
    assert con.execute("select raw_id from source_records").fetchone()[0] == fb.raws[0].raw_id
    assert count(con, "select * from raw_responses") == 1
    assert count(con, "select * from authorships where work_id = ?", work) == 2
    assert count(con, "select * from authorship_institutions") == 2
    assert count(con, "select * from work_references where citing_work_id = ?", work) == 2
    assert con.execute("select cited_by_count from citation_counts").fetchall() == [(5,)]
    assert con.execute("select title, cited_by_count from works").fetchall() == [("A title", 5)]


def test_a_batch_that_fails_midway_leaves_the_previous_state(con, run_id, monkeypatch):
    load_documents(con, [document("a.txt", [("subject", ["doi:10.1/a"])])], run_id=run_id)
    before = snapshot(con)
    fb, norm = batch("crossref", [record("crossref", "doi:10.1/a", title="T")],
                     outcomes=[("doi:10.1/a", "ok")])  # fmt: skip
    import warehouse.load as load

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(load, "recompute_works", boom)
    with pytest.raises(RuntimeError):
        load_batch(con, fb, norm, run_id=run_id)
    assert snapshot(con) == before


def test_secret_parameters_are_stripped_from_stored_urls(con, run_id):
    raw = raw_for("openalex", url="https://api.openalex.org/works?api_key=s3cret&filter=doi:x")
    fb, norm = batch("openalex")
    load_batch(con, replace(fb, raws=(raw,)), [], run_id=run_id)
    url = con.execute("select request_url from raw_responses").fetchone()[0]
    assert "s3cret" not in url and url == "https://api.openalex.org/works?filter=doi:x"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.org/a?api_key=1", "https://x.org/a"),
        ("https://x.org/a?db=pubmed&api_key=1&id=2", "https://x.org/a?db=pubmed&id=2"),
        ("https://x.org/a?id=2&mailto=me@x.org", "https://x.org/a?id=2&mailto=me@x.org"),
    ],
)
def test_redact_url_removes_only_secret_parameters(url, expected):
    assert redact_url(url) == expected


def test_a_later_answer_merges_two_works_and_keeps_every_reference(con, run_id):
    # a PMID and a DOI met apart, each with data of its own
    load_documents(con, [document("a.txt", [("subject", ["pmid:1"]), ("citing", ["doi:10.9/c"])]),
                         document("b.txt", [("subject", ["doi:10.1/a"])])], run_id=run_id)  # fmt: skip
    pm = full_record("pubmed", "pmid:1", refs=("doi:10.9/c",), cited_by_count=3)
    cr = full_record("crossref", "doi:10.1/a", refs=("pmid:1",), cited_by_count=4)
    for source, rec, asked in (("pubmed", pm, "pmid:1"), ("crossref", cr, "doi:10.1/a")):
        fb, norm = batch(source, [rec], outcomes=[(asked, "ok")])
        load_batch(con, fb, norm, run_id=run_id)
    pmid_work, doi_work = work_of(con, "pmid:1"), work_of(con, "doi:10.1/a")
    assert pmid_work != doi_work
    # then OpenAlex says they are one work
    oa = full_record("openalex", "openalex:W1", "doi:10.1/a", "pmid:1", cited_by_count=5)
    fb, norm = batch("openalex", [oa], outcomes=[("pmid:1", "ok")])
    load_batch(con, fb, norm, run_id=run_id)

    survivor = doi_work  # the DOI-anchored work survives
    assert work_of(con, "pmid:1") == survivor
    assert count(con, "select * from works") == 2  # the merged work and the citing one
    assert count(con, "select * from mentions where work_id = ?", survivor) == 2
    assert count(con, "select * from source_records where work_id = ?", survivor) == 3
    assert count(con, "select * from authorships where work_id = ?", survivor) == 6
    assert count(con, "select * from work_topics where work_id = ?", survivor) == 3
    assert count(con, "select * from citation_counts where work_id = ?", survivor) == 3
    assert count(con, "select * from work_references where citing_work_id = ?", survivor) == 2
    # the seed link "doi:10.9/c cites pmid:1" now points at the survivor
    assert count(con, "select * from work_references where cited_work_id = ?", survivor) >= 1
    aliases = con.execute("select alias_value, work_id, kind from work_aliases").fetchall()
    assert (pmid_work, survivor, "merged_work") in aliases
    assert count(con, "select * from works where work_id = ?", pmid_work) == 0


def test_an_identity_link_merges_works_met_apart(con, run_id):
    load_documents(con, [document("a.txt", [("subject", ["pmid:1"]), ("reference", ["pmcid:PMC1"])])],
                   run_id=run_id)  # fmt: skip
    link = IdentityLink("pubmed", (ident("pmid:1"), ident("pmcid:PMC1"), ident("doi:10.1/a")))
    fb, norm = batch("pubmed", links=[link], outcomes=[("pmcid:PMC1", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    assert count(con, "select * from works") == 1
    assert work_of(con, "doi:10.1/a") == work_of(con, "pmcid:PMC1") == work_of(con, "pmid:1")


def test_a_record_asserting_many_known_works_merges_nothing_and_is_reported(con, run_id):
    ids = [f"doi:10.1/{n}" for n in range(MAX_WORKS_PER_GROUP + 1)]
    load_documents(con, [document("a.txt", [("mention", [i]) for i in ids])], run_id=run_id)
    fb, norm = batch("openalex", [record("openalex", "openalex:W1", *ids)],
                     outcomes=[("doi:10.1/0", "ok")])  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    # the seed works stay apart; the record is kept on a work of its own key alone
    assert count(con, "select * from works") == len(ids) + 1
    assert count(con, "select * from work_aliases") == 0
    assert work_of(con, "openalex:W1") not in {work_of(con, i) for i in ids}
    assert count(con, "select * from identity_conflicts") == 1


def cited_work(con) -> str | None:
    return con.execute("select cited_work_id from work_references").fetchone()[0]


def test_a_reference_to_a_known_work_points_at_it_when_loaded(con, run_id):
    load_documents(con, [document("b.txt", [("subject", ["doi:10.1/b"])])], run_id=run_id)
    rec = full_record("crossref", "doi:10.1/a", refs=("doi:10.1/b",))
    load_batch(con, *batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")]), run_id=run_id)
    assert cited_work(con) == work_of(con, "doi:10.1/b")


@pytest.mark.parametrize("status", ["completed", "failed"])
def test_references_to_a_work_that_arrives_later_point_at_it_when_the_run_finishes(
    con, run_id, status
):
    rec = full_record("crossref", "doi:10.1/a", refs=("doi:10.1/b",))
    load_batch(con, *batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")]), run_id=run_id)
    later_rec = full_record("crossref", "doi:10.1/b")
    load_batch(con, *batch("crossref", [later_rec], outcomes=[("doi:10.1/b", "ok")]),
               run_id=run_id)  # fmt: skip
    assert cited_work(con) is None  # loads leave it to the run's end (one scan, not one a load)
    finish_run(con, run_id, status, {})
    assert cited_work(con) == work_of(con, "doi:10.1/b")


def test_the_next_run_settles_references_a_run_that_died_left_pending(con, run_id):
    rec = full_record("crossref", "doi:10.1/a", refs=("doi:10.1/b",))
    load_batch(con, *batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")]), run_id=run_id)
    load_documents(con, [document("b.txt", [("subject", ["doi:10.1/b"])])], run_id=run_id)
    # the run dies here: no finish_run
    later_run = start_run(con, "enrich", {})
    finish_run(con, later_run, "completed", {})
    assert cited_work(con) == work_of(con, "doi:10.1/b")


def test_resolve_citations_counts_what_it_changed_and_leaves_unknown_ids_pending(con, run_id):
    rec = full_record("crossref", "doi:10.1/a", refs=("doi:10.1/b", "doi:10.1/c"))
    load_batch(con, *batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")]), run_id=run_id)
    load_documents(con, [document("b.txt", [("subject", ["doi:10.1/b"])])], run_id=run_id)
    assert resolve_citations(con) == 1
    assert resolve_citations(con) == 0
    pending = con.execute(
        "select cited_value from work_references where cited_work_id is null"
    ).fetchall()
    assert pending == [("10.1/c",)]


def test_works_take_each_field_from_the_declared_source_precedence(con, run_id):
    doi = "doi:10.1/a"
    recs = {
        "openalex": record("openalex", "openalex:W1", doi, title="OA title", abstract="OA abs",
                           language="en", publication_year=2021),
        "crossref": record("crossref", doi, title="CR title", publication_year=None),
        "pubmed": record("pubmed", "pmid:5", doi, title="PM title", abstract="PM abs",
                         publication_year=2020),
    }  # fmt: skip
    for source, rec in recs.items():
        fb, norm = batch(source, [rec], outcomes=[(doi, "ok")])
        load_batch(con, fb, norm, run_id=run_id)
    row = con.execute("select title, abstract, language, publication_year, sources from works")
    # crossref for bibliographic fields (falling back to pubmed when null), pubmed for the
    # abstract, openalex for language
    assert row.fetchone() == ("CR title", "PM abs", "en", 2020, ["crossref", "openalex", "pubmed"])


def test_a_later_record_from_the_same_source_replaces_the_earlier(con, run_id):
    for n, title in enumerate(["Old", "New"]):
        rec = full_record("crossref", "doi:10.1/a", n_authors=3 - n, title=title)
        fb, norm = batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")], at=later(n))
        load_batch(con, fb, norm, run_id=run_id)
    assert con.execute("select title from works").fetchone()[0] == "New"
    assert count(con, "select * from authorships") == 2


def test_source_aliases_map_old_openalex_ids_to_the_work(con, run_id):
    rec = record("openalex", "openalex:W2", "doi:10.1/a", aliases=(ident("openalex:W1"),))
    fb, norm = batch("openalex", [rec], outcomes=[("openalex:W1", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    assert work_of(con, "openalex:W1") == work_of(con, "openalex:W2")
    assert con.execute("select kind from work_aliases").fetchall() == [("source_alias",)]
    assert con.execute("select openalex_id from works").fetchone()[0] == "W2"


# ------------------------------------------------------------------------------------------
# ledger
# ------------------------------------------------------------------------------------------


def ledger(con):
    return con.execute("select status, attempts, http_status from fetch_ledger").fetchall()


def test_ledger_attempts_accumulate_across_attempts_but_not_across_reloads(con, run_id):
    fb, norm = batch("crossref", outcomes=[("doi:10.1/a", "failed")], http_status=503, attempts=3)
    load_batch(con, fb, norm, run_id=run_id)
    load_batch(con, fb, norm, run_id=run_id)  # the same attempt loaded again
    assert ledger(con) == [("failed", 3, 503)]
    fb2, norm2 = batch("crossref", outcomes=[("doi:10.1/a", "ok")], at=later(1), attempts=1)
    load_batch(con, fb2, norm2, run_id=run_id)
    assert ledger(con) == [("ok", 4, 200)]


def test_an_ok_row_is_not_downgraded_by_a_later_failure(con, run_id):
    fb, norm = batch("crossref", outcomes=[("doi:10.1/a", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    mark_ledger(
        con, "crossref", [ident("doi:10.1/a")], status="pending", error="down", run_id=run_id
    )
    assert con.execute("select status, last_error from fetch_ledger").fetchone() == ("ok", "down")


def test_mark_ledger_records_pending_identifiers(con, run_id):
    ids = [ident("doi:10.1/a"), ident("pmid:1")]
    mark_ledger(con, "pubmed", ids, status="pending", error="unreachable", run_id=run_id)
    assert count(con, "select * from fetch_ledger where status = 'pending'") == 2


# ------------------------------------------------------------------------------------------
# counts, runs, rebuild
# ------------------------------------------------------------------------------------------


def test_citation_counts_append_one_observation_per_run(con):
    first = start_run(con, "enrich", {})
    load_documents(con, [document("a.txt", [("subject", ["doi:10.1/a"])])], run_id=first)
    c = CitationCount("crossref", ident("doi:10.1/a"), 3, counts_by_year=((2025, 3),))
    assert load_counts(con, [c, replace(c, cited_by_count=4)], run_id=first) == 1
    second = start_run(con, "refresh", {})
    load_counts(con, [replace(c, cited_by_count=6)], run_id=second)
    rows = con.execute("select run_id, cited_by_count from citation_counts order by 2").fetchall()
    assert rows == [(first, 4), (second, 6)]
    assert con.execute("select cited_by_count from works").fetchone()[0] == 6


def test_counts_for_unknown_identifiers_are_skipped(con, run_id):
    assert (
        load_counts(con, [CitationCount("crossref", ident("doi:10.1/zz"), 3)], run_id=run_id) == 0
    )


def test_count_answers_in_a_batch_are_observations(con, run_id):
    load_documents(con, [document("a.txt", [("subject", ["pmid:1"])])], run_id=run_id)
    fb, norm = batch("pubmed", counts=[CitationCount("pubmed", ident("pmid:1"), 9)])
    load_batch(con, fb, norm, run_id=run_id)
    assert con.execute("select source, cited_by_count from citation_counts").fetchall() == [
        ("pubmed", 9)
    ]


def test_runs_are_started_and_finished_with_a_json_summary(con):
    run = start_run(con, "enrich", {"sources": ["openalex"]})
    assert con.execute("select status from runs").fetchone()[0] == "running"
    finish_run(con, run, "completed", {"works": 3})
    status, summary = con.execute("select status, summary->>'works' from runs").fetchone()
    assert (status, summary) == ("completed", "3")


LONG_BODY = ('{"title": "e\u0301t\u00e9 \U0001f600 \u4e2d\u6587"} ' * 2_000)[: PART_CHARS * 2 + 7]


@pytest.mark.parametrize("size", [0, 1, PART_CHARS - 1, PART_CHARS, PART_CHARS + 1, 3 * PART_CHARS])
def test_body_parts_cut_at_most_part_chars_and_join_back(size):
    body = (LONG_BODY * 2)[:size]
    parts = body_parts(body)
    assert "".join(parts) == body
    assert len(parts) == max(1, -(-size // PART_CHARS))
    assert all(len(p) <= PART_CHARS for p in parts)


def test_a_long_body_is_stored_in_parts_and_read_back_whole(con, run_id):
    fb, norm = batch("openalex")
    raw = raw_for("openalex", LONG_BODY)
    load_batch(con, replace(fb, raws=(raw,)), [], run_id=run_id)
    load_batch(con, replace(fb, raws=(raw,)), [], run_id=run_id)  # the same answer again
    assert con.execute("select body from raw_responses").fetchall() == [(LONG_BODY,)]
    assert [r.body for r in iter_raw_responses(con)] == [LONG_BODY]
    parts = con.execute("select part, length(text) from raw_response_parts order by 1").fetchall()
    assert parts == [(0, PART_CHARS), (1, PART_CHARS), (2, 7)]
    assert con.execute("select body_chars, parts from raw_response_meta").fetchall() == [
        (len(LONG_BODY), 3)
    ]
    assert_quality(con)


def test_raw_responses_iterate_oldest_first_in_pages(con, run_id):
    for n in range(5):
        fb, norm = batch("crossref", at=later(5 - n))
        load_batch(con, replace(fb, raws=(raw_for("crossref", f"body{n}", at=later(5 - n)),)),
                   norm, run_id=run_id)  # fmt: skip
    raws = list(iter_raw_responses(con, batch_size=2))
    assert [r.body for r in raws] == [f"body{n}" for n in range(4, -1, -1)]


def test_rebuild_rederives_the_same_rows_from_raw_responses(con, run_id):
    load_documents(con, [seed_002()], run_id=run_id)
    records = {}
    for n, doi in enumerate(["10.1111/bjh.17673", "10.1200/jco.20.01616"]):
        rec = full_record("crossref", f"doi:{doi}", refs=("pmid:36455991",), cited_by_count=n + 1)
        fb, norm = batch("crossref", [rec], outcomes=[(f"doi:{doi}", "ok")], at=later(n))
        records[fb.raws[0].body] = norm[0]
        load_batch(con, fb, norm, run_id=run_id)
    before = snapshot(con)
    totals = rebuild(con, lambda raw: records[raw.body], run_id=start_run(con, "rebuild", {}))
    assert totals == {
        "raw_responses": 2,
        "records": 2,
        "links": 0,
        "counts": 2,
        "notes": 0,
        "errors": 0,
    }
    assert snapshot(con) == before


def test_rebuild_counts_normaliser_errors_and_goes_on(con, run_id):
    fb, norm = batch("crossref", [record("crossref", "doi:10.1/a")])
    load_batch(con, fb, norm, run_id=run_id)

    def broken(raw):
        raise ValueError("bad body")

    assert rebuild(con, broken, run_id=run_id)["errors"] == 1
    assert count(con, "select * from source_records") == 0
    assert count(con, "select * from works") == 1


def test_empty_inputs_load_nothing(con, run_id):
    load_documents(con, [], run_id=run_id)
    fb, _ = batch("openalex")
    load_batch(con, replace(fb, raws=()), [Normalised()], run_id=run_id)
    assert count(con, "select * from works") == 0


def test_merging_two_works_with_records_from_one_source_keeps_the_newer_record(con, run_id):
    load_documents(con, [document("a.txt", [("subject", ["pmid:1"]), ("citing", ["doi:10.1/a"])])],
                   run_id=run_id)  # fmt: skip
    # the survivor's (doi) record is older than the absorbed work's (pmid) record
    for n, (asked, title) in enumerate((("doi:10.1/a", "Old"), ("pmid:1", "New"))):
        rec = full_record("openalex", f"openalex:W{n}", asked, title=title, cited_by_count=n,
                          refs=(f"doi:10.9/{n}",), n_authors=n + 1)  # fmt: skip
        fb, norm = batch("openalex", [rec], outcomes=[(asked, "ok")], at=later(n))
        load_batch(con, fb, norm, run_id=run_id)
    link = IdentityLink("pubmed", (ident("pmid:1"), ident("doi:10.1/a")))
    fb, norm = batch("pubmed", links=[link], outcomes=[("pmid:1", "ok")], at=later(5))
    load_batch(con, fb, norm, run_id=run_id)
    survivor = work_of(con, "doi:10.1/a")
    assert work_of(con, "pmid:1") == survivor
    assert con.execute("select title from source_records").fetchall() == [("New",)]
    assert con.execute("select title from works").fetchall() == [("New",)]
    assert count(con, "select * from authorships") == 2  # the newer record's two authors
    assert con.execute(
        "select ref_key from work_references where source = 'openalex'"
    ).fetchall() == [("doi:10.9/1",)]
    # one observation per (work, source, run): the newer one
    assert con.execute("select cited_by_count from citation_counts").fetchall() == [(1,)]


def test_a_file_warehouse_keeps_what_was_loaded_across_connections(db_path):
    from warehouse.db import connect

    from .conftest import assert_quality

    first = connect(db_path)
    run = start_run(first, "enrich", {})
    load_documents(first, [seed_002()], run_id=run)
    rec = full_record("crossref", "doi:10.1111/bjh.17673", cited_by_count=3)
    fb, norm = batch("crossref", [rec], outcomes=[("doi:10.1111/bjh.17673", "ok")])
    load_batch(first, fb, norm, run_id=run)
    before = snapshot(first)
    first.close()
    again = connect(db_path)
    load_documents(again, [seed_002()], run_id=run)
    load_batch(again, fb, norm, run_id=run)
    assert snapshot(again) == before
    assert_quality(again)
    again.close()


def test_works_with_different_pmids_are_not_merged_by_a_record_claiming_both(con, run_id):
    load_documents(con, [document("a.txt", [("subject", ["pmid:1", "doi:10.1/a"]),
                                            ("citing", ["pmid:2"])])], run_id=run_id)  # fmt: skip
    bad = record("pubmed", "pmid:2", "doi:10.1/a")  # PubMed data gone wrong
    fb, norm = batch("pubmed", [bad], outcomes=[("pmid:2", "ok")])
    load_batch(con, fb, norm, run_id=run_id)
    assert work_of(con, "pmid:1") != work_of(con, "pmid:2")
    assert (
        con.execute("select reason from identity_conflicts").fetchone()[0].startswith("would give")
    )
    # the record is kept, on the work of the PMID it is keyed by
    assert con.execute("select work_id from source_records").fetchone()[0] == work_of(con, "pmid:2")


def test_an_older_outcome_replayed_changes_nothing_in_the_ledger(con, run_id):
    new, _ = batch("crossref", outcomes=[("doi:10.1/a", "ok")], at=later(2))
    old, _ = batch("crossref", outcomes=[("doi:10.1/a", "failed")], at=later(1), http_status=503)
    load_batch(con, new, [], run_id=run_id)
    load_batch(con, old, [], run_id=run_id)
    assert ledger(con) == [("ok", 1, 200)]


def test_mark_ledger_refuses_an_unknown_status(con, run_id):
    with pytest.raises(ValueError, match="unknown ledger status"):
        mark_ledger(con, "pubmed", [ident("pmid:1")], status="done", error=None, run_id=run_id)


def test_a_lone_surrogate_is_stored_as_a_replacement_character(tmp_path):
    """JSON's "\\ud800" escape decodes to a lone surrogate that neither DuckDB nor Arrow can store;
    it must not fail the batch."""
    from warehouse.staging import text_safe

    assert text_safe("\ud800 title") == "\ufffd title"
    assert text_safe("a\udc00b") == "a\ufffdb"
    assert text_safe("Müller 😀") == "Müller 😀"


def test_an_error_inside_a_transaction_duckdb_already_ended_is_the_one_raised(con):
    with pytest.raises(ValueError, match="the real problem"):
        with transaction(con):
            con.rollback()  # as DuckDB does itself after a fatal error
            raise ValueError("the real problem")


def _noted(fb, norm, *notes):
    from pipeline.records import DataQualityNote

    made = tuple(
        DataQualityNote(fb.source, key, field, value, problem, action, fb.raws[0].raw_id)
        for key, field, value, problem, action in notes
    )
    return [replace(norm[0], notes=made)]


def test_data_quality_notes_are_loaded_once_per_answer(con, run_id):
    fb, norm = batch("openalex", [record("openalex", "openalex:W1")])
    norm = _noted(fb, norm, ("W1", "cited_by_count", "-5", "negative", "nulled"),
                  ("W1", "ids", '["x"]', "an array where an object belongs", "ignored"))  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    load_batch(con, fb, norm, run_id=start_run(con, "again", {}))  # the same answer again
    rows = con.execute(
        "select source, record_key, field, raw_value, problem, action, raw_id = ? "
        "from data_quality_notes order by field",
        [fb.raws[0].raw_id],
    ).fetchall()
    assert rows == [
        ("openalex", "W1", "cited_by_count", "-5", "negative", "nulled", True),
        ("openalex", "W1", "ids", '["x"]', "an array where an object belongs", "ignored", True),
    ]


def test_rebuild_rederives_data_quality_notes(con, run_id):
    fb, norm = batch("openalex", [record("openalex", "openalex:W1")])
    norm = _noted(fb, norm, ("W1", "cited_by_count", "-5", "negative", "nulled"))
    load_batch(con, fb, norm, run_id=run_id)
    con.execute("insert into data_quality_notes select 'stale', 'openalex', null, 'x', null, "
                "'old bug', 'nulled', null, null, now()")  # fmt: skip
    totals = rebuild(con, lambda raw: norm[0], run_id=start_run(con, "rebuild", {}))
    assert totals["notes"] == 1
    assert con.execute("select field from data_quality_notes").fetchall() == [("cited_by_count",)]
