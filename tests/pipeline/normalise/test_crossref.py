"""Crossref works/counts answers -> records (pipeline/normalise/crossref.py)."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ParseError
from pipeline.normalise import normalise, normalise_crossref
from pipeline.normalise.crossref import date_parts
from pipeline.records import FunderRecord, Identifier, Institution, ReferenceRecord, TopicRecord
from tests.pipeline.normalise import fixture_text, make_raw, raw_fixture

DOI = Identifier("doi", "10.1111/ejh.70051")


def full_record():
    (record,) = normalise_crossref(raw_fixture("crossref", "works", "work_full.json", DOI)).records
    return record


def full_message() -> dict:
    return json.loads(fixture_text("crossref", "work_full.json"))["message"]


def test_singleton_yields_a_record_keyed_by_lowercase_doi():
    raw = raw_fixture("crossref", "works", "work_full.json", DOI)
    result = normalise_crossref(raw)
    (r,) = result.records
    assert (r.source, r.source_key, r.ids, r.raw_id) == ("crossref", DOI.value, (DOI,), raw.raw_id)
    assert result.not_found == ()


def test_title_and_container_title_arrays_take_the_first_entry_without_markup():
    r = full_record()
    assert r.title == "Outcomes of older patients with NPM1\u2010mutated acute myeloid leukaemia"
    assert (r.venue, r.venue_abbrev) == ("European Journal of Haematology", "Eur J Haematol")


def test_blank_first_title_is_skipped():
    (r,) = normalise_crossref(raw_fixture("crossref", "works", "work_null_issued.json")).records
    assert r.title == "Phosphorus Management"


def test_issued_is_preferred_and_kept_as_precise_as_given():
    r = full_record()
    message = full_message()
    assert message["issued"]["date-parts"] == [[2025, 2]]  # differs from `published` on purpose
    assert (r.publication_year, r.publication_date) == (2025, "2025-02")


def test_null_issued_date_gives_no_year_and_record_event_dates_are_not_used():
    (r,) = normalise_crossref(raw_fixture("crossref", "works", "work_null_issued.json")).records
    assert (r.publication_year, r.publication_date) == (None, None)


def test_one_part_and_three_part_dates_in_a_list():
    result = normalise_crossref(raw_fixture("crossref", "works", "works_list_dates.json"))
    assert [(r.publication_year, r.publication_date) for r in result.records] == [
        (1998, "1998"),
        (2020, "2020-09-16"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"date-parts": [[2021]]}, (2021, "2021")),
        ({"date-parts": [[2021, 7]]}, (2021, "2021-07")),
        ({"date-parts": [[2021, 7, 9]]}, (2021, "2021-07-09")),
        ({"date-parts": [[2021, 2, 30]]}, (2021, "2021-02")),
        ({"date-parts": [[2021, None]]}, (2021, "2021")),
        ({"date-parts": [[None]]}, (None, None)),
        ({"date-parts": []}, (None, None)),
        ({"date-parts": [["2019", "03"]]}, (2019, "2019-03")),
        (None, (None, None)),
    ],
)
def test_date_parts(value, expected):
    assert date_parts(value) == expected


def test_list_reports_absent_dois_as_not_found_matching_case_insensitively():
    asked = (
        Identifier("doi", "10.1006/JTBI.1998.0001"),
        Identifier("doi", "10.1038/s41586-020-2649-2"),
        Identifier("doi", "10.5555/missing"),
    )
    result = normalise_crossref(raw_fixture("crossref", "works", "works_list_dates.json", *asked))
    assert result.not_found == (Identifier("doi", "10.5555/missing"),)


def test_404_resource_not_found_means_every_requested_doi_is_not_found():
    raw = raw_fixture("crossref", "works", "not_found_404.txt", DOI, status=404)
    assert normalise(raw).not_found == (DOI,)
    assert normalise(raw).records == ()


def test_jats_abstract_becomes_plain_text_with_section_titles():
    assert full_record().abstract == (
        "Objectives: To describe outcomes of patients aged \u2265 70 years with NPM1\u2010mutated AML."
        "\n\n"
        "Methods: A registry cohort (n = 412) treated with venetoclax and azacitidine, "
        "with CD34+ counts at day 28."
    )


def test_authors_persons_and_a_name_only_collective():
    authors = full_record().authors
    assert [(a.position, a.raw_name, a.family, a.given, a.is_collective) for a in authors] == [
        (1, "Isabel Cunningham", "Cunningham", "Isabel", False),
        (2, "Ravi Patel", "Patel", "Ravi", False),
        (3, "UK NCRI AML Working Group", None, None, True),
    ]


def test_orcid_url_becomes_bare_id_and_affiliations_are_kept():
    first = full_record().authors[0]
    assert first.orcid == "0000-0002-1825-0097"
    assert first.affiliations == (
        "Department of Haematology University of Leeds Leeds UK",
        "Leeds Teaching Hospitals NHS Trust Leeds UK",
    )
    assert first.institutions == (
        Institution(name="Department of Haematology University of Leeds Leeds UK", ror="024mrxd33"),
    )


def test_references_with_doi_with_text_only_and_with_fields_only():
    refs = full_record().references
    assert refs[0] == ReferenceRecord("doi", "10.1182/blood-2016-08-733196", 1, None)
    assert refs[1].scheme is None and refs[1].unstructured.startswith(
        "National Cancer Registration"
    )
    assert refs[2] == ReferenceRecord(
        None, None, 3, "Jones. 2019. Venetoclax in older adults. Leukemia. 12. 123"
    )
    assert full_record().reference_count == full_message()["reference-count"]


def test_funders_keep_registry_doi_and_awards():
    assert full_record().funders == (
        FunderRecord(
            "Medical Research Council", "10.13039/501100000265", ("MR/N013166/1", "MR/T005009/1")
        ),
        FunderRecord("Leukaemia UK", None, ()),
    )


def test_version_of_record_licence_is_picked_over_tdm():
    assert full_record().license == "http://creativecommons.org/licenses/by/4.0/"


def test_licence_without_a_vor_entry_is_left_empty():
    result = normalise_crossref(raw_fixture("crossref", "works", "works_list_dates.json"))
    assert result.records[1].license is None


def test_issns_subjects_counts_and_bibliographic_fields():
    r = full_record()
    assert r.issns == ("0902-4441", "1600-0609") and r.issn_l is None
    assert r.topics == (
        TopicRecord("crossref_subject", "Hematology"),
        TopicRecord("crossref_subject", "General Medicine"),
    )
    assert (r.publisher, r.type, r.volume, r.issue, r.pages) == (
        "Wiley",
        "journal-article",
        "114",
        "4",
        "412-420",
    )
    assert r.cited_by_count == full_message()["is-referenced-by-count"]
    assert r.updated_date == full_message()["indexed"]["date-time"]
    assert r.language == "en"


def test_retraction_in_updated_by_marks_retracted_and_a_correction_does_not():
    (retracted,) = normalise_crossref(
        raw_fixture("crossref", "works", "work_retracted.json")
    ).records
    corrected = normalise_crossref(
        raw_fixture("crossref", "works", "works_list_dates.json")
    ).records[1]
    assert retracted.is_retracted is True and corrected.is_retracted is None


def test_sparse_item_tolerates_every_missing_field():
    body = json.dumps({"status": "ok", "message-type": "work", "message": {"DOI": "10.5555/x"}})
    (r,) = normalise_crossref(make_raw("crossref", "works", body)).records
    assert (r.title, r.publication_year, r.authors, r.references, r.cited_by_count) == (
        None,
        None,
        (),
        (),
        None,
    )


def test_counts_list_yields_crossref_citation_counts():
    asked = (DOI, Identifier("doi", "10.1038/s41586-020-2649-2"), Identifier("doi", "10.5555/gone"))
    result = normalise_crossref(raw_fixture("crossref", "counts", "counts_list.json", *asked))
    assert [(c.source, c.id, c.cited_by_count) for c in result.counts] == [
        ("crossref", DOI, 4),
        ("crossref", Identifier("doi", "10.1038/s41586-020-2649-2"), 14711),
    ]
    assert result.counts[0].updated_date == "2026-10-03T05:12:44Z"
    assert result.records == () and result.not_found == (Identifier("doi", "10.5555/gone"),)


def test_works_answer_yields_no_citation_counts():
    assert normalise_crossref(raw_fixture("crossref", "works", "work_full.json")).counts == ()


@pytest.mark.parametrize(
    "body",
    [
        "Resource not found.",
        '{"status": "failed", "message-type": "validation-failure", "message": [{"type": "unknown-parameter"}]}',
        '{"status": "ok", "message-type": "member", "message": {}}',
        '{"status": "ok", "message-type": "work-list", "message": {"items": 3}}',
        "[]",
    ],
)
def test_body_that_is_not_a_works_answer_is_a_parse_error(body):
    with pytest.raises(ParseError):
        normalise(make_raw("crossref", "works", body))


@pytest.mark.parametrize("status", [429, 500, 503])
def test_error_status_is_a_parse_error_never_not_found(status):
    raw = make_raw("crossref", "works", "<html>Too many requests</html>", DOI, status=status)
    with pytest.raises(ParseError, match=str(status)):
        normalise_crossref(raw)


def test_a_non_answer_quoting_a_multiline_message_type_gives_a_one_line_error():
    body = json.dumps({"status": None, "message-type": "\n", "message": {}})
    with pytest.raises(ParseError) as info:
        normalise_crossref(make_raw("crossref", "works", body))
    assert "\n" not in str(info.value) and str(info.value).startswith("crossref works")
