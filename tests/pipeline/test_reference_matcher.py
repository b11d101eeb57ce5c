"""pipeline.reference_matcher over the loopback fake: decisions, faults, the ECitMatch fallback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from demo.fakeapi import FakeApi
from demo.fakeapi.refcatalog import works_from_records
from pipeline import http
from pipeline.config import Settings
from pipeline.reference_matcher import ReferenceMatcher
from pipeline.refstring import text_hash
from tests.pipeline.plos_cited import RECORDS

WOODSON = ("Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic future. "
           "Curr Opin Chem Biol. 2005;9: 104–109.")  # fmt: skip
HERRATH = ("von Herrath MG, Oldstone MB (1996) Virus-induced autoimmune disease. Curr Opin "
           "Immunol 8: 878-885.")  # fmt: skip
DARWIN = (
    "Darwin C. On the Origin of Species by Means of Natural Selection. London: John Murray; 1859."
)


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    http.reset_host_state()
    monkeypatch.setattr(http, "sleep", lambda s: None)
    yield
    http.reset_host_state()


def run(api: FakeApi, texts: list[str], **settings) -> dict[str, object]:
    s = Settings.from_env(api.env(), mailto="team@example.org", max_attempts=2, **settings)
    return {r.text: r for r in ReferenceMatcher(s).match(texts)}


def test_each_distinct_string_costs_one_search_and_gets_a_decision():
    with FakeApi(works_from_records(RECORDS)) as api:
        got = run(api, [WOODSON, HERRATH, WOODSON, DARWIN])
        searches = api.stats["crossref"]["requests"]
    assert got[WOODSON].status == "matched" and got[WOODSON].doi == "10.1016/j.cbpa.2005.02.004"
    assert got[WOODSON].matched_by == "crossref" and got[WOODSON].text_hash == text_hash(WOODSON)
    assert got[HERRATH].doi == "10.1016/s0952-7915(96)80019-7"
    assert got[DARWIN].status == "unmatched" and got[DARWIN].reason
    assert searches == 3  # WOODSON once


def test_strings_that_are_not_references_cost_no_request():
    with FakeApi(works_from_records(RECORDS)) as api:
        got = run(api, ["", "Ibid.", "https://example.org/paper.pdf", "x" * 5000])
        assert api.stats["crossref"]["requests"] == 0
    assert {r.status for r in got.values()} == {"unmatched"}
    assert all(r.reason and r.requests == 0 for r in got.values())


def test_a_crossref_outage_makes_strings_failed_never_unmatched():
    with FakeApi(works_from_records(RECORDS)) as api:
        api.inject("crossref", "503", times=None)
        api.inject("eutils", "503", times=None)
        got = run(api, [WOODSON, DARWIN])
    assert got[WOODSON].status == "failed" and got[DARWIN].status == "failed"
    assert "503" in got[DARWIN].reason


def test_a_429_that_asks_for_hours_leaves_the_string_pending():
    with FakeApi(works_from_records(RECORDS)) as api:
        api.inject("crossref", "429", times=None, retry_after=7200)
        api.inject("eutils", "503", times=None)
        got = run(api, [DARWIN])
    assert got[DARWIN].status == "pending"


def test_pubmeds_ecitmatch_finds_a_journal_reference_crossref_does_not_hold():
    records = [dict(r, doi=None) if r["pmid"] == "8994870" else r for r in RECORDS if "pmid" in r]
    with FakeApi(works_from_records(records)) as api:
        got = run(api, [HERRATH])
        asked = [q for _, path, q in api.stats["eutils"]["received"] if "ecitmatch" in path]
    r = got[HERRATH]
    assert r.status == "matched" and r.matched_by == "ecitmatch" and r.pmid == "8994870"
    assert len(asked) == 1


def test_when_crossref_is_down_ecitmatch_can_still_match_a_journal_reference():
    with FakeApi(works_from_records(RECORDS)) as api:
        api.inject("crossref", "503", times=None)
        got = run(api, [HERRATH, DARWIN])
    assert got[HERRATH].status == "matched" and got[HERRATH].matched_by == "ecitmatch"
    assert got[DARWIN].status == "failed"  # a book: PubMed cannot help, Crossref never answered


def test_a_wrong_pmid_from_ecitmatch_is_validated_away():
    # PubMed holds another work on the same journal, volume and page; ECitMatch names it
    other = {"doi": None, "pmid": "1111111", "title": "Editorial: a year of immunology",
             "authors": [["Editor", "A"]], "year": 1996, "container": "Curr Opin Immunol",
             "volume": "8", "pages": "878"}  # fmt: skip
    with FakeApi(works_from_records([other])) as api:
        got = run(api, [HERRATH])
        eutils = api.stats["eutils"]["requests"]
    assert got[HERRATH].status == "unmatched" and eutils == 2  # ecitmatch, then the record


# One article Crossref holds under two DOIs (Wiley's SICI registrations; real records from
# CrossRef/reference-matching-evaluation), cited without its title: Crossref's answer is a tie.
PILAS = "[1] B. Pilas, G. Durack, Cytometry 28 (1997) 316."
PILAS_TWINS = [
    {"doi": f"10.1002/(sici)1097-0320(19970801)28:4<316::aid-cyto7>{suffix}",
     "title": "A flow cytometric method for measurement of intracellular chloride concentration "
              "in lymphocytes using the halide-specific probe 6-methoxy-N-(3-sulfopropyl) "
              "quinolinium (SPQ)",
     "authors": [["Pilas", "Barbara"], ["Durack", "Gary"]], "year": 1997,
     "container": "Cytometry", "volume": "28", "issue": "4", "pages": "316-322"}
    for suffix in ("3.0.co;2-9", "3.3.co;2-j")
]  # fmt: skip


def test_a_tie_pubmed_settles_is_matched_to_the_doi_pubmed_lists():
    # the fake's PubMed holds the article (an illustrative PMID) with the first DOI
    twins = [dict(PILAS_TWINS[0], pmid="9266752"), PILAS_TWINS[1]]
    with FakeApi(works_from_records(twins)) as api:
        got = run(api, [PILAS])[PILAS]
    assert got.status == "matched" and got.matched_by == "ecitmatch"
    assert (got.doi, got.pmid) == (twins[0]["doi"], "9266752")
    assert sorted(c.doi for c, _ in got.candidates) == sorted(t["doi"] for t in twins)


def test_a_tie_stays_ambiguous_when_pubmeds_record_is_neither_candidate():
    # PubMed lists the article under a DOI Crossref does not hold: a third registration
    works = works_from_records([*PILAS_TWINS, dict(PILAS_TWINS[0], pmid="9266752")])
    works[2] = replace(works[2], in_crossref=False, pubmed_doi="10.9999/another-registration")
    with FakeApi(works) as api:
        got = run(api, [PILAS])[PILAS]
        asked = [q for _, path, q in api.stats["eutils"]["received"] if "ecitmatch" in path]
    assert len(asked) == 1  # PubMed was asked, and its answer settled nothing
    assert got.status == "ambiguous" and got.doi is None and got.pmid is None


def test_ecitmatch_down_after_crossref_found_nothing_is_failed_not_unmatched():
    with FakeApi(works_from_records([])) as api:
        api.inject("eutils", "503", times=None)
        got = run(api, [HERRATH, DARWIN])
    assert got[HERRATH].status == "failed" and "ecitmatch" in got[HERRATH].reason
    assert got[DARWIN].status == "unmatched"  # not a journal reference: PubMed was not needed


def test_a_stop_ends_matching_within_a_poll_while_a_search_is_blocked():
    import threading
    import time

    from pipeline.reference_matcher import _map_until_stopped

    blocked = threading.Event()
    asked = threading.Event()

    def search(text):
        if text == "blocked":
            asked.set()
            blocked.wait(30)  # a socket that never answers
        return text

    started = time.monotonic()
    got = _map_until_stopped(search, ["a", "blocked", "b"], 2, stop=asked.is_set)
    assert got is None and time.monotonic() - started < 5
    blocked.set()
    assert _map_until_stopped(search, ["a", "b"], 2, stop=None) == ["a", "b"]
