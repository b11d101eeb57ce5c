"""OpenAlex who-cites pages, copies of a work (locations), change keys and abstract entities
(pipeline/normalise/openalex.py), on real answers (tests/fixtures/README)."""

from __future__ import annotations

import json

from pipeline.normalise import normalise_openalex
from pipeline.normalise.change import OPENALEX_CHANGE_FIELDS
from pipeline.records import Identifier
from tests.pipeline.normalise import fixture_text, make_raw, raw_fixture

CITED = Identifier("openalex", "W2741809807")


def test_a_cites_page_for_one_work_links_each_result_with_all_its_ids():
    result = normalise_openalex(raw_fixture("openalex", "cites", "cites_page.json", CITED))
    (link,) = result.citations
    assert (link.source, link.cited) == ("openalex", CITED)
    assert link.citing == (
        Identifier("openalex", "W3137875885"),
        Identifier("doi", "10.3390/publications9010012"),
    )
    assert result.records == () and result.counts == () and result.not_found == ()


def test_an_or_ed_cites_page_attributes_results_through_their_referenced_works():
    other = Identifier("openalex", "W1")
    page = json.loads(fixture_text("openalex", "cites_page.json"))
    stray = {"id": "https://openalex.org/W9", "doi": None, "referenced_works": []}
    page["results"].append(stray)  # cites neither asked work: cannot be attributed
    raw = make_raw("openalex", "cites", json.dumps(page), other, CITED)
    result = normalise_openalex(raw)
    assert [(c.cited, c.citing[0].value) for c in result.citations] == [(CITED, "W3137875885")]


def test_locations_with_their_own_ids_become_versions_never_ids_of_the_work():
    (r,) = normalise_openalex(raw_fixture("openalex", "works", "work_locations.json")).records
    others = {(v.relation, v.other, v.version) for v in r.versions}
    assert others == {
        ("location", Identifier("doi", "10.65215/ysbyhc05"), "submittedVersion"),
        ("location", Identifier("doi", "10.48550/arxiv.1706.03762"), "submittedVersion"),
        ("location", Identifier("arxiv", "1706.03762"), "submittedVersion"),
    }
    assert Identifier("doi", "10.48550/arxiv.1706.03762") not in r.ids
    assert all(v.other not in r.ids for v in r.versions), "its own DOI is not another version"


def test_the_abstract_is_rebuilt_with_html_entities_decoded_and_escaped_tags_removed():
    (r,) = normalise_openalex(raw_fixture("openalex", "works", "work_locations.json")).records
    assert r.abstract.endswith("models R&D in vivo")
    assert "&amp;" not in r.abstract and "<i>" not in r.abstract


def test_a_counts_answer_carries_the_change_key_of_its_selected_fields():
    work = json.loads(fixture_text("openalex", "work_full.json"))
    (full,) = normalise_openalex(make_raw("openalex", "works", json.dumps(work))).records
    fields = ("id", "doi", "ids", "cited_by_count", "counts_by_year", "updated_date")
    selected = {f: work.get(f) for f in fields + OPENALEX_CHANGE_FIELDS}
    selected["cited_by_count"] += 10  # a new citation moves updated_date, not the key
    selected["updated_date"] = "2026-12-01T00:00:00"
    ident = Identifier("openalex", full.source_key)
    page = json.dumps({"meta": {"count": 1}, "results": [selected]})
    (count,) = normalise_openalex(make_raw("openalex", "counts", page, ident)).counts
    assert count.change_key == full.change_key
    selected["title"] = "A corrected title"
    page = json.dumps({"meta": {"count": 1}, "results": [selected]})
    (count,) = normalise_openalex(make_raw("openalex", "counts", page, ident)).counts
    assert count.change_key != full.change_key
