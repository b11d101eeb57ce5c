"""The catalogs: seed works match expected.json, synthetic ones are consistent and deterministic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo.fakeapi import Catalog, generate_catalog, seed_catalog
from demo.fakeapi.ids import issn, orcid

EXPECTED = Path(__file__).parents[2] / "fixtures" / "seeds_expected.json"


def _expected_works() -> list[dict]:
    docs = json.loads(EXPECTED.read_text())["documents"]
    return [w for doc in docs.values() for w in doc["works"]]


@pytest.mark.parametrize("expected", _expected_works(), ids=lambda w: w.get("doi") or w["pmid"])
def test_every_seed_id_resolves_to_one_work(expected):
    catalog = seed_catalog()
    found = {
        catalog.get(**{k: v}).openalex_id
        for k, v in expected.items()
        if k in ("doi", "pmid", "pmcid")
    }
    assert len(found) == 1


def test_seed_catalog_has_twelve_works_known_everywhere():
    catalog = seed_catalog()
    assert len(catalog) == 12
    for work in catalog:
        assert work.known_to("openalex") and work.known_to("crossref") and work.known_to("pubmed")
        assert work.doi and work.pmid and work.openalex_id.startswith("W")


def test_seed_subjects_have_the_assigned_ids():
    catalog = seed_catalog()
    ejh = catalog.get(doi="10.1111/ejh.70051")
    assert (ejh.pmid, ejh.pmcid) == ("41369097", None)
    subject = catalog.get(pmid="36455991")
    assert subject.doi and subject.pmcid
    assert catalog.get(doi="10.1111/bjh.17673").pmcid == "PMC9293158"


def test_absent_hides_a_work_from_one_source():
    catalog = seed_catalog(absent={"crossref": ["10.1200/JCO.20.01616"], "pubmed": ["PMC6410714"]})
    assert not catalog.get(doi="10.1200/jco.20.01616").in_crossref
    assert not catalog.get(pmcid="PMC6410714").in_pubmed
    assert catalog.get(doi="10.1200/jco.20.01616").in_openalex


def test_citedin_agrees_with_references():
    catalog = seed_catalog()
    subject = catalog.get(pmid="36455991")
    citing = {"39901030", "39766419", "39739533", "39674824", "39594822"}
    assert set(subject.cited_by.pubmed) == citing
    assert subject.cited_by.openalex >= len(citing)


def test_generate_catalog_is_deterministic():
    a, b = generate_catalog(300, seed=4), generate_catalog(300, seed=4)
    assert [w.title for w in a] == [w.title for w in b]
    assert [w.title for w in a] != [w.title for w in generate_catalog(300, seed=5)]


def test_generated_ids_are_unique_and_disjoint_from_the_seeds():
    works = generate_catalog(2000).works
    for attr in ("openalex_id", "doi", "pmid", "pmcid"):
        values = [getattr(w, attr) for w in works if getattr(w, attr)]
        assert len(values) == len(set(values)), attr
    merged = Catalog(seed_catalog().works + works)  # must not collide
    assert len(merged) == 2012
    assert merged.get(pmid="36455991").doi == "10.36401/jipo-22-9"


def test_generated_references_point_to_earlier_works_in_the_catalog():
    catalog = generate_catalog(500)
    for work in catalog:
        for ref in work.references:
            assert catalog.position(catalog.get(openalex=ref)) < catalog.position(work)


def test_generated_coverage_has_gaps_like_real_life():
    works = generate_catalog(1000).works
    assert 0.5 < sum(w.pmcid is not None for w in works) / 1000 < 0.7
    assert any(not w.in_pubmed for w in works) and any(not w.in_crossref for w in works)
    assert any("<" in (w.doi or "") for w in works)  # SICI-style DOIs


def test_missing_rate_hides_works():
    works = generate_catalog(1000, missing_rate=0.3).works
    assert sum(not w.in_openalex for w in works) > 50


def test_check_digits():
    assert orcid(21825009) == "0000-0002-1825-0097"
    assert issn(902444) == "0902-4441"


def test_one_orcid_per_person():
    people = {(a.family, a.given): a.orcid for w in seed_catalog() for a in w.authors if a.orcid}
    assert len(set(people.values())) == len(people)


def test_add_citations_moves_every_count():
    work = seed_catalog().get(doi="10.1111/bjh.17673")
    before, updated = work.cited_by.openalex, work.updated_date
    work.add_citations(openalex=3, crossref=2, pubmed=["40000001"])
    assert work.cited_by.openalex == before + 3 and work.cited_by.pubmed[0] == "40000001"
    assert sum(work.counts_by_year.values()) == before + 3
    assert work.updated_date != updated
