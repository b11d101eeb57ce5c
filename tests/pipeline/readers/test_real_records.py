"""Real structured documents (JATS of eLife, PLOS and bioRxiv; PubMed XML; MEDLINE; Word with
Zotero citations and notes; RIS), read as a careful reader reads them. Origins:
tests/fixtures/README."""

from __future__ import annotations

import re
from collections import defaultdict

from pipeline.extract import extract_document
from tests.pipeline.readers.conftest import DOCS


def _doc(name: str):
    doc = extract_document(str(DOCS / name))
    assert doc.problems == ()
    return doc


def _groups(doc, role: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for m in doc.mentions:
        if m.role == role:
            found[m.group].add(m.value)
    return dict(found)


# --------------------------------------------------------------------------------------------
# JATS
# --------------------------------------------------------------------------------------------


def test_plos_reference_pmids_in_object_ids_are_references_not_the_subject():
    doc = _doc("plos-pcbi-1004079.xml")  # PLOS puts <object-id pub-id-type="pmid"> in refs
    xml = (DOCS / "plos-pcbi-1004079.xml").read_text()
    components = re.findall(r'<object-id pub-id-type="doi">(10\.[^<]+)</object-id>', xml)
    assert components  # its figures' and supplements' DOIs
    (subject,) = _groups(doc, "subject").values()
    assert subject == {"10.1371/journal.pcbi.1004079", *(c.lower() for c in components)}
    assert not any(m.scheme == "pmid" for m in doc.mentions if m.role == "subject")
    first = doc.references[0]
    assert (first.label, [i.value for i in first.ids]) == ("1", ["10.1038/nrg1272", "14735121"])
    assert first.text.startswith("Barabasi AL, Oltvai ZN (2004) Network biology:")
    assert len(doc.references) == 30 and not any(m.role == "mention" for m in doc.mentions)


def test_elife_components_join_the_subject_in_the_section_they_stand_in():
    doc = _doc("elife-02833-v2.xml")
    (values,) = _groups(doc, "subject").values()  # one work: the article
    assert {v for v in values if not v.startswith("10.7554/elife.02833")} == set()
    component = [m for m in doc.mentions if m.value == "10.7554/elife.02833.003"]
    assert {m.section for m in component} == {"Results"}  # the section goes on after an id
    assert sum(1 for r in doc.references if r.ids) == 42


def test_an_elife_component_printed_as_a_link_is_the_subject_and_a_related_article_is_not():
    doc = _doc("elife-00013.xml")
    printed = [m for m in doc.mentions if m.value == "10.7554/elife.00013.001"]
    assert len(printed) == 3 and {m.role for m in printed} == {"subject"}  # id, link, text
    (related,) = [m for m in doc.mentions if m.value == "10.7554/elife.00242"]
    assert related.role == "mention"  # the commentary on it: another work
    assert len(doc.references) == 105  # a 2012 reference list printing no identifier


def test_an_externally_hosted_objects_doi_is_a_work_of_its_own():
    doc = _doc("elife-kitchen-sink.xml")  # a molecule hosted on figshare, a PLOS figure
    for doi in ("10.1371/journal.pone.0118223", "10.6084/m9.figshare.1263506"):
        assert {m.role for m in doc.mentions if m.value == doi} == {"mention"}


def test_a_biorxiv_preprint_has_its_doi_as_subject_and_its_references():
    doc = _doc("biorxiv-371435.xml")
    assert _groups(doc, "subject") == {1: {"10.1101/371435"}}
    last = doc.references[-1]
    assert [i.value for i in last.ids] == ["10.1088/1741-2560/13/4/046017"]
    assert last.text.startswith("Zink, R., Hunyadi, B., Van Huffel, S., & De Vos, M. (2016).")


# --------------------------------------------------------------------------------------------
# PubMed XML and MEDLINE
# --------------------------------------------------------------------------------------------


def test_pubmeds_cites_list_is_the_reference_list():
    doc = _doc("pubmed4-cites.xml")
    assert _groups(doc, "subject") == {1: {"27797938", "10.1136/gutjnl-2016-312510", "PMC5442267"}}
    assert len(doc.references) == 48 and all(len(r.ids) == 1 for r in doc.references)
    assert doc.references[0].text == "Stat Med. 1989 May;8(5):551-61"
    assert doc.references[0].ids[0].value == "2657958"
    (comment,) = [m for m in doc.mentions if m.value == "27920200"]  # CommentIn: a mention
    assert comment.role == "mention"


def test_a_medline_export_of_four_records_is_four_subjects():
    doc = _doc("pubmed_result2.nbib")
    assert sorted(map(sorted, _groups(doc, "subject").values())) == [
        ["10.1093/bioinformatics/bth078", "14871861"],
        ["10.1093/bioinformatics/btk021", "16377612"],
        ["10.1186/1471-2105-7-10", "16403221", "PMC1373603"],
        ["14630660"],
    ]


# --------------------------------------------------------------------------------------------
# Word and RIS
# --------------------------------------------------------------------------------------------


def test_a_word_bibliography_made_by_zotero_gives_one_entry_per_reference():
    doc = _doc("pandoc-zotero-citations.docx")
    assert [(m.value, m.role, m.section) for m in doc.mentions] == [
        ("10.1002/2016gl069961", "reference", "Reference list"),
        ("10.5194/gmd-9-3751-2016", "reference", "Reference list"),
        ("10.1007/s00382-013-1683-2", "reference", "Reference list"),
    ]
    assert [len(r.ids) for r in doc.references] == [1, 1, 1]


def test_footnotes_and_endnotes_are_entries_without_their_headings():
    doc = _doc("pandoc-notes.docx")
    assert [r.text for r in doc.references] == [
        "My note.",
        "This is an endnote at the end of the document.",
    ]


def test_a_ris_record_naming_its_doi_four_times_is_one_work_and_its_issn_none():
    doc = _doc("zotero-ris-05.ris")  # N1 "doi: ...", DO, M3, UR http://dx.doi.org/...
    assert {(m.value, m.group, m.role) for m in doc.mentions} == {
        ("10.3109/07434618.2014.906498", 1, "reference")
    }
    assert len(doc.mentions) == 4  # "SN - 0743-4618" is no identifier


# --------------------------------------------------------------------------------------------
# BibTeX (Better BibTeX exports: tests/fixtures/export)
# --------------------------------------------------------------------------------------------

EXPORT = DOCS.parent / "export"


def test_a_tex_escaped_doi_in_a_bibtex_note_is_the_doi_itself():
    doc = extract_document(str(EXPORT / "bbt_doi_1803.bib"))  # "10.1007/978-3-030-49186-4\_22"
    assert [m.value for m in doc.mentions] == [
        "10.1007/978-3-030-49186-4_9",
        "10.1007/978-3-030-49186-4_22",
    ]


def test_latex_accents_of_bibtex_names_are_letters_in_the_entry_text():
    doc = extract_document(str(EXPORT / "bbt_name_escaping_438.bib"))  # N{\"o}me, {van G{\"o}gh}
    assert [r.text.split(" (")[0] for r in doc.references] == ["Nöme N", "van Gögh V"]
