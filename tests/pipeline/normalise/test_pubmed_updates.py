"""PubMed CommentsCorrections -> updates and versions; elink cited-in -> citing links; esearch
[mdat] -> modified PMIDs (pipeline/normalise/pubmed.py), on real records."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ParseError
from pipeline.normalise import normalise_pubmed
from pipeline.records import CitationLink, Identifier, UpdateRecord, VersionRecord
from tests.pipeline.normalise import fixture_text, make_raw, raw_fixture


def pmid(value: str) -> Identifier:
    return Identifier("pmid", value)


def records(name: str) -> dict:
    result = normalise_pubmed(raw_fixture("pubmed", "efetch", name))
    return {r.source_key: r for r in result.records}


def test_retraction_in_names_the_notice_its_date_and_keeps_the_citation():
    r = records("efetch_retracted.xml")["9500320"]
    retraction = next(u for u in r.updates if u.kind == "retraction")
    assert retraction == UpdateRecord(
        "retraction", pmid("9500320"), pmid("20137807"), "2010-02-06", "RetractionIn", "pubmed",
        note="Lancet. 2010 Feb 6;375(9713):445. doi: 10.1016/S0140-6736(10)60175-4.",
    )  # fmt: skip
    assert r.is_retracted is True


def test_an_expression_of_concern_is_an_update_and_a_comment_is_not():
    r = records("efetch_retracted.xml")["9500320"]
    assert {u.kind for u in r.updates} == {"retraction", "expression_of_concern"}
    concern = next(u for u in r.updates if u.kind == "expression_of_concern")
    assert (concern.notice, concern.date) == (pmid("21971344"), "2011-11")


def test_retraction_of_makes_the_record_the_notice_and_the_named_pmid_the_target():
    (u,) = records("efetch_retracted.xml")["42507066"].updates
    assert (u.kind, u.target, u.notice, u.label) == (
        "retraction", pmid("42371203"), pmid("42507066"), "RetractionOf",
    )  # fmt: skip


def test_update_of_and_update_in_link_the_versions_of_a_review_in_both_directions():
    recs = records("efetch_update_versions.xml")
    assert recs["17943848"].versions == (VersionRecord("updated-in", pmid("27905673")),)
    assert recs["27905673"].versions == (
        VersionRecord("update-of", pmid("17943848")),
        VersionRecord("updated-in", pmid("36512807")),
    )
    assert recs["36512807"].versions == (VersionRecord("update-of", pmid("27905673")),)
    assert all(r.updates == () for r in recs.values()), "CommentIn is no update"


def test_an_entry_without_pmid_falls_back_to_the_doi_in_its_ref_source():
    xml = fixture_text("pubmed", "efetch_retracted.xml").replace(
        '<PMID Version="1">20137807</PMID>', ""
    )
    (r, _) = normalise_pubmed(make_raw("pubmed", "efetch", xml)).records
    retraction = next(u for u in r.updates if u.kind == "retraction")
    assert retraction.notice == Identifier("doi", "10.1016/s0140-6736(10)60175-4")


def test_elink_cited_in_yields_one_link_per_citing_pmid_beside_the_count():
    raw = raw_fixture("pubmed", "elink_citedin", "elink_citedin.json")
    result = normalise_pubmed(raw)
    body = json.loads(raw.body)
    for linkset, count in zip(body["linksets"], result.counts, strict=False):
        links = [link for db in linkset.get("linksetdbs", []) for link in db.get("links", [])]
        mine = [c for c in result.citations if c.cited == count.id]
        assert [c.citing for c in mine] == [(pmid(p),) for p in links]
        assert len(mine) == count.cited_by_count
    assert all(isinstance(c, CitationLink) and c.source == "pubmed" for c in result.citations)


def test_esearch_modified_lists_only_the_asked_pmids_it_found():
    body = json.dumps(
        {"header": {"type": "esearch", "version": "0.3"},
         "esearchresult": {"count": "1", "retmax": "1", "retstart": "0", "idlist": ["9500320"],
                           "translationset": [], "querytranslation": "9500320[uid] OR ..."}}
    )  # fmt: skip
    raw = make_raw("pubmed", "esearch_modified", body, pmid("9500320"), pmid("17943848"))
    result = normalise_pubmed(raw)
    assert result.modified == (pmid("9500320"),)
    assert result.not_found == () and result.records == ()


def test_esearch_modified_error_is_a_parse_error():
    body = json.dumps({"esearchresult": {"ERROR": "Search Backend failed"}})
    with pytest.raises(ParseError):
        normalise_pubmed(make_raw("pubmed", "esearch_modified", body, pmid("1")))
