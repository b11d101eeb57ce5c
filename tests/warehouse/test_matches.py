"""warehouse.matches: entries stored with their documents, decisions, overrides, linking."""

from __future__ import annotations

import json

from pipeline.records import Candidate, Identifier, MatchResult, ReferenceEntry, SeedDocument
from warehouse.load import load_documents, load_links
from warehouse.matches import (
    load_matches,
    overrides_for,
    set_override,
    settled_for,
    unsettled,
)
from warehouse.query import format_status, status_report

from .factories import document

WOODSON = "Woodson SA. Metal ions and RNA folding. Curr Opin Chem Biol. 2005;9: 104–109."
DARWIN = "Darwin C. On the Origin of Species. London: John Murray; 1859."
PRINTED = "Smith J. A paper that prints its DOI. doi:10.1000/printed"


def paper(path: str = "paper.txt") -> SeedDocument:
    """A page about one work (its subject DOI) whose reference list has three entries."""
    doc = document(
        path, [("subject", ["doi:10.1000/subject"]), ("reference", ["doi:10.1000/printed"])]
    )
    entries = (
        ReferenceEntry(path, 100, 180, 10, WOODSON, (), "References", "1"),
        ReferenceEntry(path, 181, 240, 11, DARWIN, (), "References", "2"),
        ReferenceEntry(path, 241, 300, 12, PRINTED, (Identifier("doi", "10.1000/printed"),),
                       "References", "3"),
    )  # fmt: skip
    return SeedDocument(doc.path, doc.sha256, doc.bytes, doc.mentions, (), entries)


def decided(text: str, status: str, doi: str | None = None, requests: int = 1) -> MatchResult:
    cand = Candidate(source="crossref", doi=doi or "10.1/other", title="A title", years=(2005,))
    return MatchResult(
        paper().references[0].key if text == WOODSON else paper().references[1].key,
        text, status, doi=doi, score=0.97 if doi else None, candidates=((cand, 0.97),),
        matched_by="crossref" if doi else None, requests=requests,
    )  # fmt: skip


def test_entries_are_stored_with_their_document_and_only_unprinted_ones_are_to_match(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    rows = con.execute("select line, label, ids from reference_entries order by start").fetchall()
    assert rows == [(10, "1", []), (11, "2", []), (12, "3", ["doi:10.1000/printed"])]
    assert sorted(t for _, t in unsettled(con)) == sorted([WOODSON, DARWIN])


def test_reloading_a_document_replaces_its_entries(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    doc = paper()
    load_documents(con, [SeedDocument(doc.path, doc.sha256, doc.bytes, doc.mentions, (), doc.references[:1])],
                   run_id=run_id)  # fmt: skip
    assert con.execute("select count(*) from reference_entries").fetchone()[0] == 1


def test_a_settled_string_is_not_asked_again_unless_refresh(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    load_matches(con, [decided(WOODSON, "matched", "10.1016/j.cbpa.2005.02.004"),
                       decided(DARWIN, "failed")], run_id=run_id)  # fmt: skip
    assert [t for _, t in unsettled(con)] == [DARWIN]  # a failed string is asked again
    assert sorted(t for _, t in unsettled(con, refresh=True)) == sorted([WOODSON, DARWIN])
    settled = settled_for(con, [paper().references[0].key, paper().references[1].key])
    ((key, result),) = settled.items()
    assert result.doi == "10.1016/j.cbpa.2005.02.004" and result.candidates[0][0].title


def test_attempts_accumulate_and_candidates_are_kept_for_audit(con, run_id):
    load_matches(con, [decided(DARWIN, "failed")], run_id=run_id)
    load_matches(con, [decided(DARWIN, "unmatched")], run_id=run_id)
    status, attempts, candidates = con.execute(
        "select status, attempts, candidates from reference_matches").fetchone()  # fmt: skip
    assert (status, attempts) == ("unmatched", 2)
    assert json.loads(candidates) == [
        {"doi": "10.1/other", "pmid": None, "score": 0.97, "title": "A title", "year": 2005}
    ]


def test_a_matched_string_becomes_a_reference_work_of_its_document_and_an_edge(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    load_matches(con, [decided(WOODSON, "matched", "10.1016/j.cbpa.2005.02.004")], run_id=run_id)
    load_links(con, run_id=run_id)
    mention = con.execute(
        "select scheme, value, line, role, provenance, match_score from mentions "
        "where provenance = 'matched'").fetchall()  # fmt: skip
    assert mention == [("doi", "10.1016/j.cbpa.2005.02.004", 10, "reference", "matched", 0.97)]
    assert con.execute("select count(*) from work_ids where value = '10.1016/j.cbpa.2005.02.004'"
                       ).fetchone()[0] == 1  # fmt: skip
    edge = con.execute(
        "select w.doi, r.cited_value, r.unstructured, r.provenance from work_references r "
        "join works w on w.work_id = r.citing_work_id where r.provenance = 'matched'").fetchall()  # fmt: skip
    assert edge == [("10.1000/subject", "10.1016/j.cbpa.2005.02.004", WOODSON, "matched")]


def test_linking_twice_leaves_one_mention_and_one_edge(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    load_matches(con, [decided(WOODSON, "matched", "10.1016/j.cbpa.2005.02.004")], run_id=run_id)
    load_links(con, run_id=run_id)
    load_links(con, run_id=run_id)
    assert (
        con.execute("select count(*) from mentions where provenance = 'matched'").fetchone()[0] == 1
    )
    assert con.execute("select count(*) from work_references where provenance = 'matched'"
                       ).fetchone()[0] == 1  # fmt: skip


def test_an_override_wins_over_the_matcher_and_none_unlinks(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    key = paper().references[0].key
    load_matches(con, [decided(WOODSON, "matched", "10.1/wrong")], run_id=run_id)
    set_override(con, key, doi="10.1016/j.cbpa.2005.02.004", pmid=None, note="paper.txt:10")
    load_links(con, run_id=run_id)
    assert overrides_for(con, [key]) == {key: ("10.1016/j.cbpa.2005.02.004", None)}
    assert con.execute("select value, provenance from mentions where provenance <> 'printed'"
                       ).fetchall() == [("10.1016/j.cbpa.2005.02.004", "override")]  # fmt: skip
    assert key not in {k for k, _ in unsettled(con, refresh=True)}  # never asked again
    set_override(con, key, doi=None, pmid=None)
    load_links(con, run_id=run_id)
    assert (
        con.execute("select count(*) from mentions where provenance <> 'printed'").fetchone()[0]
        == 0
    )


def test_status_counts_each_documents_entries_by_status(con, run_id):
    load_documents(con, [paper()], run_id=run_id)
    load_matches(con, [decided(WOODSON, "matched", "10.1016/j.cbpa.2005.02.004"),
                       decided(DARWIN, "unmatched")], run_id=run_id)  # fmt: skip
    row = con.execute("select entries, with_ids, matched, ambiguous, unmatched, failed, pending, "
                      "unattempted from reference_coverage").fetchone()  # fmt: skip
    assert row == (3, 1, 1, 0, 1, 0, 0, 0)
    text = format_status(status_report(con))
    assert "Reference lists" in text and "paper.txt: 3: 1 / 1 / 0 / 1 / 0 / 0 / 0" in text
