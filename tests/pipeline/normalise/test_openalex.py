"""OpenAlex works/counts answers -> records (pipeline/normalise/openalex.py)."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ParseError
from pipeline.normalise import normalise, normalise_openalex
from pipeline.normalise.openalex import fill_counts_by_year
from pipeline.records import FunderRecord, Identifier, Institution, ReferenceRecord
from tests.pipeline.normalise import fixture_text, make_raw, raw_fixture

W_FULL = Identifier("openalex", "W2741809807")


def full_record():
    (record,) = normalise_openalex(
        raw_fixture("openalex", "works", "work_full.json", W_FULL)
    ).records
    return record


def full_json() -> dict:
    return json.loads(fixture_text("openalex", "work_full.json"))


# --- identity -------------------------------------------------------------------------------


def test_singleton_yields_one_record_keyed_by_bare_w_id():
    raw = raw_fixture("openalex", "works", "work_full.json", W_FULL)
    record = full_record()
    assert (record.source, record.source_key, record.raw_id) == (
        "openalex",
        "W2741809807",
        raw.raw_id,
    )


def test_id_urls_become_normalised_identifiers():
    assert full_record().ids == (
        Identifier("openalex", "W2741809807"),
        Identifier("doi", "10.7717/peerj.4375"),
        Identifier("pmid", "29456894"),
        Identifier("pmcid", "PMC5815332"),  # OpenAlex's pmcid URL carries no "PMC" prefix
    )


def test_requested_singleton_found_leaves_not_found_empty():
    result = normalise_openalex(raw_fixture("openalex", "works", "work_full.json", W_FULL))
    assert result.not_found == () and result.records[0].aliases == ()


def test_merged_singleton_keeps_the_requested_old_id_as_alias():
    old = Identifier("openalex", "W2963241951")
    result = normalise_openalex(raw_fixture("openalex", "works", "work_merged.json", old))
    (record,) = result.records
    assert record.source_key == "W4385245566"
    assert record.aliases == (old,)
    assert result.not_found == ()


def test_singleton_requested_by_doi_gets_no_alias():
    doi = Identifier("doi", "10.1111/ejh.70051")
    result = normalise_openalex(raw_fixture("openalex", "works", "work_merged.json", doi))
    assert result.records[0].aliases == () and result.not_found == ()


def test_list_reports_dropped_values_as_not_found():
    asked = (
        Identifier("doi", "10.1038/s41586-020-2649-2"),
        Identifier("doi", "10.9999/does-not-exist"),
        Identifier("doi", "10.1093/BIOINFORMATICS/btp324"),  # case differs from the answer
    )
    result = normalise_openalex(raw_fixture("openalex", "works", "works_list_dropped.json", *asked))
    assert [r.source_key for r in result.records] == ["W3128349626", "W2100837269"]
    assert result.not_found == (Identifier("doi", "10.9999/does-not-exist"),)


def test_404_means_every_requested_id_is_not_found():
    raw = make_raw("openalex", "works", '{"error": "Not found"}', W_FULL, status=404)
    assert normalise(raw).not_found == (W_FULL,)


# --- descriptive fields ---------------------------------------------------------------------


def test_title_keeps_inline_markup_text_without_tags():
    assert full_record().title == (
        "The state of OA: a large-scale analysis of the prevalence and impact of Open Access articles"
    )


def test_dates_year_venue_and_biblio_come_from_the_2025_schema():
    r = full_record()
    assert (r.publication_year, r.publication_date) == (2018, "2018-02-13")
    assert (r.venue, r.issn_l, r.issns, r.publisher) == (
        "PeerJ",
        "2167-8359",
        ("2167-8359",),
        "PeerJ, Inc.",
    )
    assert (r.type, r.volume, r.issue, r.pages, r.language) == ("article", "6", None, "e4375", "en")


def test_first_and_last_page_are_joined_when_they_differ():
    (_, second) = normalise_openalex(
        raw_fixture("openalex", "works", "works_list_dropped.json")
    ).records
    assert second.pages == "1754-1760"


def test_open_access_license_and_retraction_flags():
    r = full_record()
    assert (r.is_oa, r.oa_status, r.license, r.is_retracted) == (True, "gold", "cc-by", False)


def test_abstract_is_rebuilt_from_the_inverted_index_in_position_order():
    assert full_record().abstract == (
        "Despite growing interest in Open Access (OA) to articles, in the literature"
    )


def test_authors_keep_order_orcid_ids_and_corresponding_flag():
    authors = full_record().authors
    assert [(a.position, a.raw_name) for a in authors] == [
        (1, "Heather Piwowar"),
        (2, "Jason Priem"),
        (3, "Juan Pablo Alperin"),
    ]
    assert [a.orcid for a in authors] == ["0000-0003-1613-5981", None, "0000-0002-9344-7439"]
    assert [a.openalex_id for a in authors] == ["A5048491430", "A5013045523", "A5085171399"]
    assert [a.is_corresponding for a in authors] == [True, False, False]


def test_institutions_carry_bare_ror_and_openalex_ids():
    assert full_record().authors[0].institutions == (
        Institution(
            name="Impact Technology Development (United States)",
            ror="02z5a1f63",
            openalex_id="I4210166736",
            country_code="US",
            type="company",
        ),
    )


def test_affiliation_strings_merge_raw_strings_and_affiliations_without_repeats():
    assert full_record().authors[2].affiliations == (
        "Scholarly Communications Lab, Simon Fraser University, Vancouver, Canada",
        "School of Publishing, Simon Fraser University, Vancouver, Canada",
    )


def test_referenced_works_become_openalex_references_in_order():
    r = full_record()
    expected = [w.rsplit("/", 1)[1] for w in full_json()["referenced_works"]]
    assert r.references[0] == ReferenceRecord("openalex", expected[0], 1)
    assert [ref.value for ref in r.references] == expected
    assert r.reference_count == full_json()["referenced_works_count"]


def test_referenced_works_in_any_spelling_keep_their_list_position():
    referenced = [
        "https://openalex.org/W11",
        "W22",
        "https://openalex.org/w33/",
        "https://openalex.org/W",
        "https://openalex.org/W\u0664\u0665",
        "https://openalex.org/A44",
        44,
        None,
        " https://openalex.org/W55 ",
    ]
    body = json.dumps({"id": "https://openalex.org/W1", "referenced_works": referenced})
    (record,) = normalise_openalex(make_raw("openalex", "works", body)).records
    assert record.references == (
        ReferenceRecord("openalex", "W11", 1),
        ReferenceRecord("openalex", "W22", 2),
        ReferenceRecord("openalex", "W33", 3),
        ReferenceRecord("openalex", "W55", 9),
    )


def test_funders_get_award_ids_from_awards_and_unlisted_award_funders_are_kept():
    assert full_record().funders == (
        FunderRecord("Gordon and Betty Moore Foundation", "F4320306076", ("GBMF4407",)),
        FunderRecord("Alfred P. Sloan Foundation", "F4320332161", ()),
        FunderRecord(
            "Natural Sciences and Engineering Research Council of Canada",
            "F4320334593",
            ("RGPIN-2016-04420",),
        ),
    )


def test_topics_keywords_and_mesh_become_topic_records():
    topics = full_record().topics
    by_vocab = {}
    for t in topics:
        by_vocab.setdefault(t.vocabulary, []).append(t)
    assert [(t.term_id, t.score) for t in by_vocab["openalex_topic"]] == [
        ("T10102", 0.9998),
        ("T12380", 0.9712),
    ]
    assert [t.term for t in by_vocab["openalex_keyword"]] == ["Open access", "Citation advantage"]
    assert "openalex_concept" not in by_vocab  # concepts are deprecated; topics replace them


def test_mesh_pairs_fold_into_one_heading_with_qualifiers():
    mesh = [t for t in full_record().topics if t.vocabulary == "mesh"]
    publishing = next(t for t in mesh if t.term == "Publishing")
    assert publishing.term_id == "D011642"
    assert publishing.qualifiers == ("statistics & numerical data", "trends")
    assert publishing.is_major is True


def test_counts_by_year_gaps_between_listed_years_are_zero():
    r = full_record()
    listed = {c["year"]: c["cited_by_count"] for c in full_json()["counts_by_year"]}
    years = [y for y, _ in r.counts_by_year]
    assert years == list(range(min(listed), max(listed) + 1))
    assert all(count == listed.get(year, 0) for year, count in r.counts_by_year)
    assert r.cited_by_count == full_json()["cited_by_count"]
    assert r.updated_date == full_json()["updated_date"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ([], ()),
        (None, ()),
        ([{"year": 2024, "cited_by_count": 5}], ((2024, 5),)),
        (
            [{"year": 2020, "cited_by_count": 1}, {"year": 2022, "cited_by_count": 2}],
            ((2020, 1), (2021, 0), (2022, 2)),
        ),
        ([{"year": "x", "cited_by_count": 1}, {"year": 2021}], ()),
    ],
)
def test_fill_counts_by_year(given, expected):
    assert fill_counts_by_year(given) == expected


# --- missing and legacy fields --------------------------------------------------------------


def test_sparse_work_leaves_missing_fields_empty_and_never_invents():
    (r,) = normalise_openalex(raw_fixture("openalex", "works", "work_sparse.json")).records
    assert r.ids == (Identifier("openalex", "W2034567890"),)
    assert (r.abstract, r.venue, r.issns, r.publisher, r.license) == (None, None, (), None, None)
    assert (r.publication_year, r.publication_date) == (1987, "1987")
    assert r.topics == () and r.funders == () and r.counts_by_year == ()
    assert r.authors[0].raw_name == "Raman K."  # raw_author_name wins over display_name


def test_sparse_work_requested_by_doi_is_not_found():
    doi = Identifier("doi", "10.1234/absent")
    result = normalise_openalex(raw_fixture("openalex", "works", "work_sparse.json", doi))
    assert result.not_found == (doi,)


def test_legacy_host_venue_and_grants_are_used_when_new_fields_are_absent():
    (r,) = normalise_openalex(raw_fixture("openalex", "works", "work_legacy.json")).records
    assert (r.venue, r.issn_l, r.publisher) == ("The Lancet", "0140-6736", "Elsevier BV")
    assert r.issns == ("0140-6736", "1474-547X")
    assert r.funders == (FunderRecord("Legal Aid Board", "F4320319993", ()),)
    assert r.is_retracted is True
    assert Identifier("doi", "10.1016/s0140-6736(97)11096-0") in r.ids


def test_primary_location_wins_over_host_venue():
    work = full_json() | {"host_venue": {"display_name": "Old venue", "publisher": "Old"}}
    (r,) = normalise_openalex(make_raw("openalex", "works", json.dumps(work))).records
    assert (r.venue, r.publisher) == ("PeerJ", "PeerJ, Inc.")


def test_result_without_usable_id_is_skipped_not_fatal():
    body = json.dumps(
        {"meta": {}, "results": [{"id": None, "title": "x"}, {"id": "https://openalex.org/W1"}]}
    )
    result = normalise_openalex(make_raw("openalex", "works", body))
    assert [r.source_key for r in result.records] == ["W1"]


# --- counts endpoint ------------------------------------------------------------------------


def test_counts_list_yields_citation_counts_with_filled_years():
    asked = (W_FULL, Identifier("openalex", "W3128349626"), Identifier("openalex", "W999"))
    result = normalise_openalex(raw_fixture("openalex", "counts", "counts_list.json", *asked))
    first, second = result.counts
    assert (first.source, first.id, first.cited_by_count) == ("openalex", W_FULL, 1206)
    assert first.counts_by_year == ((2023, 160), (2024, 0), (2025, 88))
    assert first.updated_date == "2026-10-02T07:14:35.781201"
    assert second.counts_by_year == ()
    assert result.records == () and result.not_found == (Identifier("openalex", "W999"),)


# --- bodies that are not what they claim ----------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "<html>rate limited</html>",
        "[]",
        '"W1"',
        '{"results": {"id": 1}}',
        '{"error": "Invalid query"}',
    ],
)
def test_body_that_is_not_an_openalex_answer_is_a_parse_error(body):
    with pytest.raises(ParseError):
        normalise(make_raw("openalex", "works", body))


def test_rate_limit_answer_is_never_not_found():
    raw = make_raw("openalex", "works", '{"error": "Rate limit exceeded"}', W_FULL, status=429)
    with pytest.raises(ParseError, match="429"):
        normalise(raw)


def test_primary_topic_is_used_only_when_topics_is_absent():
    work = full_json()
    del work["topics"]
    (r,) = normalise_openalex(make_raw("openalex", "works", json.dumps(work))).records
    topics = [t for t in r.topics if t.vocabulary == "openalex_topic"]
    assert [(t.term_id, t.term) for t in topics] == [
        ("T10102", work["primary_topic"]["display_name"])
    ]


def test_counts_asked_by_doi_are_keyed_by_the_doi_that_was_asked():
    asked = (Identifier("doi", "10.7717/PEERJ.4375"), Identifier("pmid", "32939066"))
    result = normalise_openalex(raw_fixture("openalex", "counts", "counts_list.json", *asked))
    assert [c.id for c in result.counts] == [
        Identifier("doi", "10.7717/peerj.4375"),
        Identifier("pmid", "32939066"),
    ]
    assert result.not_found == ()


def test_count_without_cited_by_count_is_no_observation_rather_than_zero():
    body = json.dumps({"meta": {}, "results": [{"id": "https://openalex.org/W1"}]})
    result = normalise_openalex(make_raw("openalex", "counts", body, Identifier("openalex", "W1")))
    assert result.counts == () and result.not_found == ()
