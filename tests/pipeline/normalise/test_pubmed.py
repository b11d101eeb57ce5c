"""NCBI answers -> records (pipeline/normalise/pubmed.py): efetch, idconv, esearch, elink."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import ParseError
from pipeline.normalise import normalise, normalise_pubmed
from pipeline.records import (
    CitationCount,
    FunderRecord,
    Identifier,
    IdentityLink,
    ReferenceRecord,
    TopicRecord,
)
from tests.pipeline.normalise import fixture_text, make_raw, raw_fixture

PMID = Identifier("pmid", "38012345")


def efetch(name: str, *requested: Identifier):
    return normalise_pubmed(raw_fixture("pubmed", "efetch", name, *requested))


def full_record():
    (record,) = efetch("efetch_article_full.xml", PMID).records
    return record


# --- efetch: identity ----------------------------------------------------------------------


def test_article_is_keyed_by_pmid_with_ids_from_its_own_article_id_list():
    r = full_record()
    assert (r.source, r.source_key) == ("pubmed", "38012345")
    assert r.ids == (
        PMID,
        Identifier("doi", "10.1111/ejh.14102"),
        Identifier("pmcid", "PMC10987654"),
    )


def test_reference_ids_never_leak_into_the_articles_own_ids():
    ids = {i.value for i in full_record().ids}
    assert "35797463" not in ids and "PMC4979995" not in ids


def test_requested_pmids_absent_from_the_set_are_not_found():
    absent = Identifier("pmid", "11111111")
    result = efetch("efetch_article_full.xml", PMID, absent)
    assert result.not_found == (absent,)


def test_empty_article_set_means_every_requested_pmid_is_not_found():
    assert efetch("efetch_empty.xml", PMID).not_found == (PMID,)


# --- efetch: text ---------------------------------------------------------------------------


def test_title_keeps_text_of_inline_markup_and_is_not_truncated_at_the_first_child():
    assert full_record().title == (
        "Role of TP53 mutations and CD34+ blasts in early relapse: a multicentre cohort."
    )


def test_structured_abstract_keeps_every_labelled_section_separated_by_blank_lines():
    sections = full_record().abstract.split("\n\n")
    assert sections == [
        "BACKGROUND: TP53-mutated acute myeloid leukaemia has a poor prognosis.",
        "METHODS: We analysed 412 patients; CD34+ blasts were counted by flow cytometry.",
        "RESULTS: Median survival was 5.1 months (95% CI 4.2-6.0).",
        "CONCLUSIONS: Early relapse is common.",
    ]


def test_copyright_is_not_part_of_the_abstract():
    assert "Wiley" not in full_record().abstract


def test_article_without_abstract_has_none():
    (r,) = efetch("efetch_medline_date_collective.xml").records
    assert r.abstract is None


# --- efetch: authors ------------------------------------------------------------------------


def test_authors_with_names_initials_orcids_and_every_affiliation():
    authors = full_record().authors
    assert [(a.position, a.family, a.given, a.initials) for a in authors] == [
        (1, "Cunningham", "Isabel", "I"),
        (2, "M\u00fcller", "Jan-Peter", "JP"),
        (3, "Okafor", None, "CN"),
    ]
    assert [a.orcid for a in authors] == ["0000-0002-1825-0097", "0000-0001-5109-3700", None]
    assert authors[0].affiliations == (
        "Department of Haematology, University of Leeds, Leeds, UK.",
        "Leeds Teaching Hospitals NHS Trust, Leeds, UK.",
    )


def test_collective_author_is_flagged_and_invalid_author_entries_are_skipped():
    (r,) = efetch("efetch_medline_date_collective.xml").records
    assert [(a.position, a.raw_name, a.is_collective) for a in r.authors] == [
        (1, "Infectious Diseases Working Party of the EORTC", True),
        (2, "Alan Smith", False),
    ]


# --- efetch: journal and dates --------------------------------------------------------------


def test_journal_fields_with_issn_linking_as_issn_l():
    r = full_record()
    assert (r.venue, r.venue_abbrev, r.issn_l) == (
        "European journal of haematology",
        "Eur J Haematol",
        "0902-4441",
    )
    assert r.issns == ("1600-0609", "0902-4441")
    assert (r.volume, r.issue, r.pages, r.language) == ("112", "2", "201-210", "eng")


def test_electronic_article_date_earlier_than_the_issue_date_wins():
    r = full_record()  # PubDate 2024 Feb, ArticleDate Electronic 2023-11-27
    assert (r.publication_year, r.publication_date) == (2023, "2023-11-27")


def test_medline_date_range_gives_the_first_year_and_no_false_month():
    (r,) = efetch("efetch_medline_date_collective.xml").records
    assert (r.publication_year, r.publication_date) == (1998, "1998")


def test_pub_date_month_names_are_read():
    xml = fixture_text("pubmed", "efetch_article_full.xml").replace(
        '<ArticleDate DateType="Electronic">', '<ArticleDate DateType="Other">'
    )
    (r,) = normalise_pubmed(make_raw("pubmed", "efetch", xml)).records
    assert (r.publication_year, r.publication_date) == (2024, "2024-02")


# --- efetch: subjects, types, funding, references -------------------------------------------


def test_mesh_headings_carry_ui_qualifiers_and_major_flag():
    mesh = [t for t in full_record().topics if t.vocabulary == "mesh"]
    assert mesh == [
        TopicRecord("mesh", "Humans", term_id="D006801", is_major=False),
        TopicRecord(
            "mesh",
            "Leukemia, Myeloid, Acute",
            term_id="D015470",
            qualifiers=("genetics", "mortality"),
            is_major=True,  # starred through its "genetics" qualifier
        ),
        TopicRecord("mesh", "Tumor Suppressor Protein p53", term_id="D016159", is_major=True),
    ]


def test_keywords_become_keyword_topics():
    keywords = [t.term for t in full_record().topics if t.vocabulary == "keyword"]
    assert keywords == ["TP53", "acute myeloid leukaemia"]


def test_publication_types_and_revision_date():
    r = full_record()
    assert r.publication_types == ("Journal Article", "Research Support, Non-U.S. Gov't")
    assert r.updated_date == "2025-03-04" and r.is_retracted is None


def test_grants_are_grouped_by_agency():
    assert full_record().funders == (
        FunderRecord("Medical Research Council", None, ("MR/N013166/1", "MR/T005009/1")),
        FunderRecord("Blood Cancer UK", None, ()),
    )


def test_reference_list_keeps_citation_text_and_prefers_pmid_then_doi():
    refs = full_record().references
    assert [(r.position, r.scheme, r.value) for r in refs] == [
        (1, "pmid", "35797463"),
        (2, None, None),
        (3, "doi", "10.1056/nejmoa1516192"),
    ]
    assert refs[1] == ReferenceRecord(
        None, None, 2, "Smith J. An unindexed registry report. Leeds: NHS; 2021."
    )
    assert refs[0].unstructured.startswith("D\u00f6hner H")
    assert full_record().reference_count == 3


def test_retracted_publication_type_marks_the_record_retracted():
    xml = fixture_text("pubmed", "efetch_article_full.xml").replace(
        '<PublicationType UI="D016428">Journal Article</PublicationType>',
        '<PublicationType UI="D016441">Retracted Publication</PublicationType>',
    )
    (r,) = normalise_pubmed(make_raw("pubmed", "efetch", xml)).records
    assert r.is_retracted is True


# --- efetch: books --------------------------------------------------------------------------


def test_book_chapter_uses_its_title_with_the_book_as_venue():
    (r,) = efetch("efetch_book.xml").records
    assert (r.source_key, r.title, r.venue, r.publisher) == (
        "30085577",
        "Acute Myeloid Leukemia",
        "StatPearls",
        "StatPearls Publishing",
    )
    assert (r.publication_year, r.publication_date) == (2025, "2025-01")
    assert r.publication_types == ("Review", "Study Guide")
    assert [a.raw_name for a in r.authors] == ["Anusha Vakiti", "Scott B. Reynolds"]
    assert r.abstract == "Acute myeloid leukemia is the most common acute leukemia in adults."
    assert r.ids == (Identifier("pmid", "30085577"),)  # bookaccession is not a project scheme


# --- efetch: hostile and wrong bodies -------------------------------------------------------


@pytest.mark.parametrize("name", ["efetch_bomb.xml", "efetch_external_entity.xml"])
def test_entity_declarations_are_refused_never_expanded(name):
    with pytest.raises(ParseError, match="unsafe"):
        efetch(name)


def test_error_document_in_a_200_is_a_parse_error():
    with pytest.raises(ParseError, match="eFetchResult"):
        efetch("efetch_error.xml")


@pytest.mark.parametrize(
    "body", ["", "not xml", "<PubmedArticleSet><PubmedArticle>", '{"error": 1}']
)
def test_malformed_xml_is_a_parse_error(body):
    with pytest.raises(ParseError):
        normalise(make_raw("pubmed", "efetch", body))


def test_article_without_pmid_is_skipped():
    xml = "<PubmedArticleSet><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>"
    assert normalise_pubmed(make_raw("pubmed", "efetch", xml)).records == ()


# --- idconv ---------------------------------------------------------------------------------


def test_idconv_integer_pmid_is_coerced_and_errmsg_records_are_not_found():
    asked = [Identifier("pmid", p) for p in ("23193287", "99999999", "29456894")]
    result = normalise_pubmed(raw_fixture("pubmed", "idconv", "idconv.json", *asked))
    first = json.loads(fixture_text("pubmed", "idconv.json"))["records"][0]
    assert result.links[0] == IdentityLink(
        "pubmed",
        (
            Identifier("pmid", str(first["pmid"])),
            Identifier("pmcid", first["pmcid"]),
            Identifier("doi", first["doi"]),
        ),
    )
    assert len(result.links) == 2
    assert result.not_found == (Identifier("pmid", "99999999"),)


def test_idconv_error_answer_is_a_parse_error():
    body = json.dumps(
        {
            "status": "error",
            "http_status": "400",
            "errors": [
                {
                    "message": "All values of query param `ids` must be PubMed IDs (Positive Integers).",
                    "code": "invalid_pmids",
                }
            ],
        }
    )
    with pytest.raises(ParseError):
        normalise_pubmed(make_raw("pubmed", "idconv", body, status=200))


# --- esearch --------------------------------------------------------------------------------


def test_esearch_one_doi_one_hit_links_doi_and_pmid():
    doi = Identifier("doi", "10.7717/PeerJ.4375")
    result = normalise_pubmed(raw_fixture("pubmed", "esearch", "esearch_one.json", doi))
    assert result.links == (
        IdentityLink(
            "pubmed", (Identifier("doi", "10.7717/peerj.4375"), Identifier("pmid", "29456894"))
        ),
    )
    assert result.not_found == ()


def test_esearch_zero_hits_means_the_doi_is_not_found():
    doi = Identifier("doi", "10.5555/not-in-pubmed")
    result = normalise_pubmed(raw_fixture("pubmed", "esearch", "esearch_zero.json", doi))
    assert (result.links, result.not_found) == ((), (doi,))


def test_esearch_for_several_dois_gives_no_links():
    dois = (Identifier("doi", "10.7717/peerj.4375"), Identifier("doi", "10.1/other"))
    result = normalise_pubmed(raw_fixture("pubmed", "esearch", "esearch_one.json", *dois))
    assert (result.links, result.not_found) == ((), ())


def test_esearch_error_in_a_200_is_a_parse_error():
    with pytest.raises(ParseError, match="Search Backend failed"):
        normalise_pubmed(raw_fixture("pubmed", "esearch", "esearch_error.json"))


# --- elink ----------------------------------------------------------------------------------


def test_elink_counts_citing_links_per_linkset_and_empty_linkset_is_zero():
    asked = (Identifier("pmid", "29456894"), PMID)
    result = normalise_pubmed(raw_fixture("pubmed", "elink_citedin", "elink_citedin.json", *asked))
    links = json.loads(fixture_text("pubmed", "elink_citedin.json"))["linksets"][0]["linksetdbs"][
        0
    ]["links"]
    assert result.counts == (
        CitationCount("pubmed", Identifier("pmid", "29456894"), len(links)),
        CitationCount("pubmed", PMID, 0),
    )
    assert result.not_found == ()


def test_elink_merged_linkset_for_several_ids_is_not_attributed():
    body = json.dumps(
        {
            "linksets": [
                {
                    "dbfrom": "pubmed",
                    "ids": ["1", "2"],
                    "linksetdbs": [{"linkname": "pubmed_pubmed_citedin", "links": ["3"]}],
                }
            ]
        }
    )
    assert normalise_pubmed(make_raw("pubmed", "elink_citedin", body)).counts == ()


def test_unknown_endpoint_is_a_parse_error():
    with pytest.raises(ParseError, match="esummary"):
        normalise(make_raw("pubmed", "esummary", "{}"))


@pytest.mark.parametrize("status", [404, 429, 502])
def test_non_2xx_answer_is_a_parse_error_never_not_found(status):
    raw = raw_fixture("pubmed", "efetch", "efetch_empty.xml", PMID, status=status)
    with pytest.raises(ParseError, match=str(status)):
        normalise_pubmed(raw)
