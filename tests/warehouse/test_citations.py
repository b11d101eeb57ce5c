"""Who cites the works (warehouse/citations.py): edges, the crosswalk, the cap, scans."""

from __future__ import annotations

from dataclasses import replace

from pipeline.records import CitationLink
from warehouse.load import load_batch, load_documents, plan, record_scans

from .factories import batch, document, ident, later

SUBJECT = "doi:10.1/subject"
REFERENCE = "pmid:100"


def rows(con, query: str, *params):
    return con.execute(query, params).fetchall()


def work_of(con, text: str) -> str | None:
    found = rows(con, "select work_id from work_ids where scheme = ? and value = ?", *ident(text))
    return found[0][0] if found else None


def seeded(con, run_id) -> None:
    doc = document("a.txt", [("subject", [SUBJECT]), ("reference", [REFERENCE]),
                             ("citing", ["doi:10.1/seed-citing"])])  # fmt: skip
    load_documents(con, [doc], run_id=run_id)


def pubmed_citers(cited: str, *pmids: str) -> list[CitationLink]:
    return [
        CitationLink("pubmed", ident(cited), (ident(f"pmid:{p}"),), position=n)
        for n, p in enumerate(pmids)
    ]


def load_links(con, run_id, links, *, cap=None, at=None):
    at = at or later(1)
    fb, _ = batch("pubmed", at=at)
    raw_id = fb.raws[0].raw_id
    fb, norm = batch("pubmed", citations=[replace(x, raw_id=raw_id) for x in links], at=at)
    load_batch(con, fb, norm, run_id=run_id, citing_cap=cap)


def test_citing_works_enter_the_crosswalk_marked_citing_and_are_not_planned(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(REFERENCE, "201", "202"))
    citing = {work_of(con, "pmid:201"), work_of(con, "pmid:202")}
    assert None not in citing
    edges = rows(con, "select cited_work_id, citing_work_id, source from work_citations")
    assert {(c, w) for c, w, _ in edges} == {(work_of(con, REFERENCE), w) for w in citing}
    origins = rows(con, "select distinct origin from works where work_id in (?, ?)", *citing)
    assert origins == [("citing",)]
    assert ident("pmid:201") not in plan(con, "pubmed")
    assert ident("pmid:201") in plan(con, "pubmed", expand_citing=True)


def test_a_citing_id_already_known_joins_its_work_instead_of_making_one(con, run_id):
    seeded(con, run_id)
    link = CitationLink(
        "openalex", ident(REFERENCE), (ident("openalex:W9"), ident("doi:10.1/seed-citing"))
    )
    fb, norm = batch("openalex", citations=[link])
    load_batch(con, fb, norm, run_id=run_id)
    seed_citing = work_of(con, "doi:10.1/seed-citing")
    assert work_of(con, "openalex:W9") == seed_citing
    assert rows(con, "select citing_work_id from work_citations") == [(seed_citing,)]
    assert rows(con, "select origin from works where work_id = ?", seed_citing) == [("seed",)]


def test_the_cap_counts_what_is_stored_and_keeps_the_first_listed(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(REFERENCE, "1", "2"), cap=3)
    load_links(con, run_id, pubmed_citers(REFERENCE, "1", "3", "4", "5"), cap=3, at=later(2))
    kept = rows(con, "select citing_value from work_citations order by 1")
    assert kept == [("1",), ("2",), ("3",)]
    assert work_of(con, "pmid:4") is None, "a capped-away citer leaves no trace in the crosswalk"


def test_a_seeds_subject_work_is_never_capped(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(SUBJECT, *[str(n) for n in range(1, 8)]), cap=2)
    assert rows(con, "select count(*) from work_citations") == [(7,)]


def test_a_cap_of_zero_stores_no_citing_works(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(REFERENCE, "1"), cap=0)
    assert rows(con, "select count(*) from work_citations") == [(0,)]
    assert work_of(con, "pmid:1") is None


def test_an_edge_seen_again_keeps_its_first_sighting_and_moves_its_last(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(REFERENCE, "1"), at=later(1))
    load_links(con, run_id, pubmed_citers(REFERENCE, "1"), at=later(9))
    assert rows(con, "select first_seen_at, last_seen_at from work_citations") == [
        (later(1), later(9))
    ]


def test_links_for_a_cited_id_the_warehouse_does_not_hold_are_skipped(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers("pmid:999", "1"))
    assert rows(con, "select count(*) from work_citations") == [(0,)]
    assert work_of(con, "pmid:1") is None


def test_a_citing_work_a_seed_names_later_becomes_a_seed_work(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(REFERENCE, "201"))
    load_documents(con, [document("b.txt", [("reference", ["pmid:201"])])], run_id=run_id)
    assert rows(con, "select origin from works where work_id = ?", work_of(con, "pmid:201")) == [
        ("seed",)
    ]


def test_scans_record_the_count_and_how_many_citing_works_are_held(con, run_id):
    seeded(con, run_id)
    load_links(con, run_id, pubmed_citers(REFERENCE, "1", "2"))
    assert record_scans(con, "pubmed", [(ident(REFERENCE), True)], run_id=run_id) == 1
    assert rows(con, "select citing_found, complete from citing_scans") == [(2, True)]
