"""Reference-manager and API records: CSL-JSON (manubot), OpenAlex / Crossref / Semantic
Scholar JSON, JSON Lines, EndNote XML (JabRef's test file) and EndNote .enw."""

from __future__ import annotations

import json

import pytest

from pipeline.extract import extract_document
from pipeline.readers import ReadLimits
from tests.pipeline.readers.conftest import DOCS, canonical, works_of, write


def test_csl_json_item_is_one_reference_entry_with_its_keyed_ids():
    doc = extract_document(str(DOCS / "csl_pubmed.json"))
    assert doc.problems == ()
    assert works_of(doc) == canonical(
        [
            {
                "role": "reference",
                "pmid": "29424689",
                "pmcid": "PMC5832410",
                "doi": "10.7554/elife.32822",
            }
        ]
    )
    (entry,) = doc.references
    assert entry.text.startswith("Himmelstein, Romero") and "Sci-Hub" in entry.text
    assert len(entry.ids) == 3


OPENALEX = {
    "id": "https://openalex.org/W2741809807",
    "doi": "https://doi.org/10.7717/peerj.4375",
    "ids": {
        "openalex": "https://openalex.org/W2741809807",
        "doi": "https://doi.org/10.7717/peerj.4375",
        "mag": 2741809807,
        "pmid": "https://pubmed.ncbi.nlm.nih.gov/29456894",
    },
    "cited_by_count": 1021,
    "referenced_works": ["https://openalex.org/W1491283864", "https://openalex.org/W2001771035"],
    "related_works": ["https://openalex.org/W3000000001"],
}


def test_openalex_work_is_the_subject_its_referenced_works_references():
    doc = extract_document(write_json("w.json", OPENALEX))
    assert works_of(doc) == canonical(
        [
            {
                "role": "subject",
                "openalex": "W2741809807",
                "doi": "10.7717/peerj.4375",
                "pmid": "29456894",
            },
            {"role": "reference", "openalex": "W1491283864"},
            {"role": "reference", "openalex": "W2001771035"},
            {"role": "mention", "openalex": "W3000000001"},
        ]
    )
    assert {m.value for m in doc.mentions}.isdisjoint({"2741809807", "1021"})  # mag, count


S2 = {
    "paperId": "204e3073870fae3d05bcbc2f6a8e263d9b72e776",
    "externalIds": {
        "DBLP": "journals/corr/VaswaniSPUJGKP17",
        "MAG": "2963403868",
        "ArXiv": "1706.03762",
        "CorpusId": 13756489,
        "PubMed": "31000001",
    },
    "references": [{"paperId": "x", "externalIds": {"DOI": "10.1162/neco.1997.9.8.1735"}}],
    "citations": [{"paperId": "y", "externalIds": {"ArXiv": "1810.04805", "CorpusId": 52967399}}],
}


def test_semantic_scholar_keys_decide_what_a_bare_number_is():
    doc = extract_document(write_json("s2.json", S2))
    assert works_of(doc) == canonical(
        [
            {"role": "subject", "arxiv": "1706.03762", "pmid": "31000001"},
            {"role": "reference", "doi": "10.1162/neco.1997.9.8.1735"},
            {"role": "citing", "arxiv": "1810.04805"},
        ]
    )
    assert not {m.value for m in doc.mentions} & {"13756489", "2963403868", "52967399"}


CROSSREF = {
    "status": "ok",
    "message": {
        "DOI": "10.1038\\/nphys1170".replace("\\\\", "\\"),
        "reference-count": 2,
        "reference": [
            {"key": "r1", "DOI": "10.1103/PhysRevLett.98.010504", "unstructured": "A. B, PRL"},
            {"key": "r2", "unstructured": "C. D, Some book (2001)"},
        ],
        "URL": "http://dx.doi.org/10.1038/nphys1170",
    },
}


def test_crossref_message_and_its_reference_list(tmp_path):
    text = json.dumps(CROSSREF).replace("10.1038/nphys1170", "10.1038\\/nphys1170")
    doc = extract_document(write(tmp_path, "cr.json", text))
    assert works_of(doc) == canonical(
        [
            {"role": "subject", "doi": "10.1038/nphys1170"},
            {"role": "reference", "doi": "10.1103/physrevlett.98.010504"},
        ]
    )
    assert [r.text for r in doc.references] == ["A. B, PRL", "C. D, Some book (2001)"]
    subject = next(m for m in doc.mentions if m.role == "subject")
    assert text[subject.start : subject.end] == "10.1038\\/nphys1170"  # escapes map back


def test_json_lines_are_one_record_a_line(tmp_path):
    lines = [json.dumps({"doi": f"10.1000/l{i}", "pmid": 3000000 + i}) for i in range(3)]
    doc = extract_document(write(tmp_path, "works.jsonl", "\n".join(lines) + "\n"))
    assert works_of(doc) == canonical(
        [{"role": "subject", "doi": f"10.1000/l{i}", "pmid": str(3000000 + i)} for i in range(3)]
    )


@pytest.mark.parametrize("text", ['"just a string"', "42", "null"])
def test_json_that_is_not_an_object_or_list_is_one_fatal_line(tmp_path, text):
    (p,) = extract_document(write(tmp_path, "x.json", text)).problems
    assert p.fatal and p.message == "JSON is not an object or a list of records; not read"


def test_truncated_json_keeps_what_it_read_with_one_line(tmp_path):
    text = json.dumps(OPENALEX)[:-60]
    doc = extract_document(write(tmp_path, "cut.json", text))
    (p,) = doc.problems
    assert p.message.startswith("malformed JSON") and not p.fatal
    assert "W2741809807" in {m.value for m in doc.mentions}


def test_json_over_the_size_limit_is_read_as_text_with_one_line(tmp_path):
    body = json.dumps([{"DOI": f"10.1000/big{i}", "PMID": str(i + 1)} for i in range(30_000)])
    doc = extract_document(write(tmp_path, "big.json", body), limits=ReadLimits(json_max_mb=1))
    (p,) = doc.problems
    assert "over ENRICH_JSON_MAX_MB=1" in p.message and not p.fatal
    assert len([m for m in doc.mentions if m.scheme == "doi"]) == 30_000


def test_endnote_xml_record_is_a_reference_entry_and_accession_numbers_are_not_pmids():
    doc = extract_document(str(DOCS / "endnote_article.xml"))
    assert doc.problems == ()
    (entry,) = doc.references
    assert {i.value for i in entry.ids} >= {"10.1038/bjc.2014.606"}
    assert entry.text.startswith("Ahmad AS, Ormiston-Smith N, Sasieni PD (2015). Trends")
    assert {m.role for m in doc.mentions} == {"reference"}


ENW = (
    "%0 Journal Article\n%A Smith, J\n%T A title\n%J Nature\n%D 2020\n%R 10.1038/enw.1\n"
    "%M WOS:000123456700001\n\n%0 Journal Article\n%A Doe, A\n%T Other\n%D 2019\n"
    "%M 31000005\n%R 10.1000/enw.2\n"
)


def test_enw_records_are_references_and_bare_accession_numbers_are_not_pmids(tmp_path):
    doc = extract_document(write(tmp_path, "export.enw", ENW))
    assert works_of(doc) == canonical(
        [
            {"role": "reference", "doi": "10.1038/enw.1"},
            {"role": "reference", "doi": "10.1000/enw.2"},
        ]
    )
    assert [r.text for r in doc.references] == [
        "Smith J (2020). A title. Nature.",
        "Doe A (2019). Other.",
    ]


def write_json(name: str, data: dict) -> str:
    import tempfile

    folder = tempfile.mkdtemp(prefix="enrich-json-")
    return write(__import__("pathlib").Path(folder), name, json.dumps(data, indent=2))


EXPORTS = DOCS.parent / "export"


def test_ris_cited_works_of_a_record_are_mentions_not_its_ids():
    # Ovid PsycINFO RIS: the works a record cites in repeated M1 lines, 23 with a DOI
    doc = extract_document(str(EXPORTS / "asreview_ovid_psycinfo_record.ris"))
    (entry,) = doc.references
    assert [str(i) for i in entry.ids] == ["doi:10.1177/1359105317742958"]
    cited = {m.value for m in doc.mentions} - {"10.1177/1359105317742958"}
    assert "10.1016/j.bodyim.2012.09.001" in cited and len(cited) > 20


def test_ris_secondary_authors_are_no_authors_of_the_entry(tmp_path):
    # Ovid PsycINFO's A2: the cited authors' surnames; elsewhere editors of the book
    doc = extract_document(str(EXPORTS / "asreview_ovid_psycinfo_record.ris"))
    assert doc.references[0].text.startswith(
        "Trindade IA, Ferreira C, Duarte C, Pinto-Gouveia J (2019). Gender differences"
    )
    path = tmp_path / "edited.ris"
    path.write_text("TY  - CHAP\nA2  - Editor, Ed\nTI  - A chapter\nPY  - 2001\nER  - \n")
    assert extract_document(str(path)).references[0].text.startswith("Editor E (2001).")


def test_ris_number_fields_and_scopus_references_note(tmp_path):
    # M1 as a number stays in the record; Scopus' "N1  - References:" lists cited works
    path = tmp_path / "scopus.ris"
    path.write_text(
        "TY  - JOUR\nTI  - Own\nM1  - 3\nDO  - 10.1000/own\n"
        "N1  - References: Smith, J., Cited (2001) J, 1, pp. 1-2. , https://doi.org/10.1000/c1; "
        "Roe, R., Other (2002) K, 2. Cited 3 times. , PMID: 11111111\n"
        "N1  - Export Date: 1 May 2024\nER  - \n"
    )
    (entry,) = extract_document(str(path)).references
    assert [str(i) for i in entry.ids] == ["doi:10.1000/own"]


def test_enw_records_opening_with_a_title_or_without_a_type_are_entries(tmp_path):
    # AIS eLibrary's EndNote export: "%T" before "%0"; a table of contents has no "%0" at all
    path = tmp_path / "ais.txt"
    path.write_text(
        "%T How Trust Leads to Commitment\n%0 Journal Article\n%A Guo, Wenbo\n%D 2021\n"
        "%U https://aisel.aisnet.org/misq/vol45/iss3/13\n\n\n"
        "%T MISQ Volume 45, Issue 3 Table of Contents\n%B MIS Quarterly\n%D 2021\n\n\n"
        "%T Microsourcing\n%0 Journal Article\n%A Obal, Lorie\n%D 2009\n%R 10.17705/1cais.02420\n"
        "%0 Journal Article\n%T Glued on, no blank line\n%D 2010\n"
    )
    doc = extract_document(str(path))
    assert [(e.text, [str(i) for i in e.ids]) for e in doc.references] == [
        ("Guo W (2021). How Trust Leads to Commitment.", []),
        ("(2021). MISQ Volume 45, Issue 3 Table of Contents. MIS Quarterly.", []),
        ("Obal L (2009). Microsourcing.", ["doi:10.17705/1cais.02420"]),
        ("(2010). Glued on, no blank line.", []),
    ]


def test_enw_editors_name_the_entry_only_without_authors(tmp_path):
    path = tmp_path / "x.enw"
    path.write_text("%0 Book Section\n%A Writer, Ann\n%E Editor, Ed\n%T A chapter\n%D 2001\n")
    assert extract_document(str(path)).references[0].text == "Writer A (2001). A chapter."


# CNKI's RefWorks export as a user supplied it (quoted in a public test, search index id
# 62022036430; abstracts shortened): records without an end tag, names family name first.
CNKI_REFWORKS = """RT Journal Article
SR 1
A1 Sharma Ashutosh;Georgi Mikhail;Tregubenko Maxim;Tselykh Alexey;Tselykh Alexander
T1 Enabling Smart Agriculture by Implementing Artificial Intelligence and Embedded Sensing
JF Computers & Industrial Engineering
YR 2022
IS prepublish
OP 107936-
AB The increasing demand of smart agriculture has led to the significant growth.
SN 0360-8352
DS CNKI
LK https://link.cnki.net/doi/10.1016/J.CIE.2022.107936
DO 10.1016/J.CIE.2022.107936

RT Journal Article
SR 1
A1 康春鹏
AD 农业农村部信息中心;
T1 智慧农业建设的时代方位、突出亮点和问题建议
JF 农村工作通讯
YR 2022
IS 02
vo
OP 23-25
SN 0546-9503
CN 11-1617/F
DS CNKI
LK https://kns.cnki.net/kcms2/article/abstract?v=xxx
""".replace("\nvo\n", "\nvo \n")  # an empty volume, as CNKI writes it


def test_refworks_tagged_records_are_entries_with_their_doi(tmp_path):
    doc = extract_document(write(tmp_path, "CNKI-export.txt", CNKI_REFWORKS))
    assert works_of(doc) == canonical([{"role": "reference", "doi": "10.1016/j.cie.2022.107936"}])
    assert [e.text for e in doc.references] == [
        "Sharma A, Georgi M, Tregubenko M, Tselykh A, Tselykh A (2022). Enabling Smart "
        "Agriculture by Implementing Artificial Intelligence and Embedded Sensing. Computers & "
        "Industrial Engineering: 107936-.",
        "康春鹏 (2022). 智慧农业建设的时代方位、突出亮点和问题建议. 农村工作通讯: 23-25.",
    ]
    assert [[i.value for i in e.ids] for e in doc.references] == [["10.1016/j.cie.2022.107936"], []]


def test_refworks_names_without_cnki_are_given_name_first(tmp_path):
    # citation-js/plugin-refworks README's input (MIT)
    text = (
        "RT Journal Article\nSR Electronic(1)\nA1 Lars G. Willighagen\nJF PeerJ Computer Science\n"
        "A2 Silvio Peroni\nVO 5\nYR 2019\nFD august 12\nSP e214\nT1 Citation.js: a "
        "format-independent, modular bibliography tool for the browser and command line\n"
    )
    doc = extract_document(write(tmp_path, "export.txt", text))
    (entry,) = doc.references
    assert entry.text == (
        "Willighagen LG (2019). Citation.js: a format-independent, modular bibliography tool for "
        "the browser and command line. PeerJ Computer Science 5: e214."
    )
