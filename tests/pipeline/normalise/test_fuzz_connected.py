"""Property tests for the answers that keep works current and connected: OpenAlex who-cites
pages and locations, Crossref updates and relations, PubMed CommentsCorrections and esearch
[mdat]. As in test_fuzz.py: only ParseError may escape, and the outcome is deterministic."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from pipeline.normalise import normalise_crossref, normalise_openalex, normalise_pubmed
from tests.pipeline.normalise import fixture_text, make_raw
from tests.pipeline.normalise.test_fuzz import (
    SMALL_FUZZ,
    check,
    garbage,
    mutate_json,
    mutate_text,
    mutate_xml_tree,
    requested,
)

JSON_FIXTURES = {
    ("openalex", "cites"): ["cites_page.json"],
    ("openalex", "works"): ["work_locations.json"],
    ("crossref", "works"): [
        "work_updated_by_and_update_to.json",
        "work_retracted_retraction_watch.json",
        "list_preprint_relations.json",
    ],
}
FUNCTIONS = {"openalex": normalise_openalex, "crossref": normalise_crossref}
XML_FIXTURES = ["efetch_retracted.xml", "efetch_update_versions.xml"]


@SMALL_FUZZ
@given(data=st.data(), asked=requested, rounds=st.integers(1, 6))
def test_mutated_json_answers_raise_at_most_parse_error(data, asked, rounds):
    source, endpoint = data.draw(st.sampled_from(sorted(JSON_FIXTURES)))
    name = data.draw(st.sampled_from(JSON_FIXTURES[(source, endpoint)]))
    doc = mutate_json(data.draw, json.loads(fixture_text(source, name)), rounds)
    check(FUNCTIONS[source], make_raw(source, endpoint, json.dumps(doc), *asked))


@SMALL_FUZZ
@given(data=st.data(), asked=requested, rounds=st.integers(1, 6))
def test_mutated_comments_corrections_raise_at_most_parse_error(data, asked, rounds):
    text = fixture_text("pubmed", data.draw(st.sampled_from(XML_FIXTURES)))
    mutate = data.draw(st.sampled_from([mutate_xml_tree, mutate_text]))
    check(normalise_pubmed, make_raw("pubmed", "efetch", mutate(data.draw, text, rounds), *asked))


@SMALL_FUZZ
@given(body=garbage, asked=requested, endpoint=st.sampled_from(["esearch_modified"]))
def test_garbage_esearch_modified_and_cites_raise_at_most_parse_error(body, asked, endpoint):
    check(normalise_pubmed, make_raw("pubmed", endpoint, body, *asked))
    check(normalise_openalex, make_raw("openalex", "cites", body, *asked))
