"""DOCX: python-docx's test file with hyperlinks, and generated manuscripts for notes and damage."""

from __future__ import annotations

import zipfile

from pipeline.extract import extract_document
from pipeline.readers import extracted_text
from tests.pipeline.readers.conftest import DOCS

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def docx(path, body: str, *, endnotes: str = "", rels: str = "", note_rels: str = "") -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", f"<w:document {W} {R}><w:body>{body}</w:body></w:document>")
        if endnotes:
            z.writestr("word/endnotes.xml", f"<w:endnotes {W} {R}>{endnotes}</w:endnotes>")
        for part, part_rels in (("document", rels), ("endnotes", note_rels)):
            if part_rels:
                z.writestr(
                    f"word/_rels/{part}.xml.rels",
                    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                    f'relationships">{part_rels}</Relationships>',
                )
    return str(path)


def hyperlinks(**targets: str) -> str:
    """Relationships of external hyperlinks, ``rId=URI``."""
    return "".join(
        f'<Relationship Id="{rid}" TargetMode="External" Target="{uri}" Type="hyperlink"/>'
        for rid, uri in targets.items()
    )


def linked(before: str, shown: str, after: str, rid: str) -> str:
    """A paragraph with a hyperlink (``w:hyperlink``) over ``shown``."""
    return (
        f'<w:p><w:r><w:t xml:space="preserve">{before}</w:t></w:r><w:hyperlink r:id="{rid}">'
        f'<w:r><w:t>{shown}</w:t></w:r></w:hyperlink><w:r><w:t xml:space="preserve">{after}'
        "</w:t></w:r></w:p>"
    )


def field(before: str, shown: str, after: str, uri: str) -> str:
    """A paragraph with a HYPERLINK field over ``shown`` (as Zotero and older Word write)."""
    return (
        f'<w:p><w:r><w:t xml:space="preserve">{before}</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        f'<w:r><w:instrText xml:space="preserve"> HYPERLINK "{uri}" </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
        f"<w:r><w:t>{shown}</w:t></w:r>"
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
        f'<w:r><w:t xml:space="preserve">{after}</w:t></w:r></w:p>'
    )


def para(text: str, style: str = "") -> str:
    ppr = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{ppr}<w:r><w:t>{text}</w:t></w:r></w:p>"


def test_real_docx_hyperlink_targets_are_in_the_extracted_text():
    path = str(DOCS / "par-hyperlinks.docx")
    text = extracted_text(path)
    assert "[link] http" in text
    assert extract_document(path).problems == ()


def test_manuscript_links_headings_and_endnotes(tmp_path):
    body = (
        para("A manuscript", "Title")
        + para("We build on earlier work.")
        + '<w:p><w:hyperlink r:id="rId9"><w:r><w:t>this dataset</w:t></w:r></w:hyperlink></w:p>'
        + para("References", "Heading1")
        + para("1. Smith J. A study. Nature. 2020. doi:10.1038/docx.1")
        + para("2. Doe A. Another. PMID: 31000009")
    )
    rels = (
        '<Relationship Id="rId9" TargetMode="External" '
        'Target="https://doi.org/10.5061/dryad.docx" Type="hyperlink"/>'
    )
    notes = (
        '<w:endnote w:id="1"><w:p><w:r><w:t>Roe B. arXiv:1706.03762</w:t></w:r></w:p></w:endnote>'
    )
    path = docx(tmp_path / "m.docx", body, endnotes=notes, rels=rels)
    doc = extract_document(path)
    assert doc.problems == ()
    got = {(m.value, m.role, m.section) for m in doc.mentions}
    assert got == {
        ("10.5061/dryad.docx", "mention", "link"),
        ("10.1038/docx.1", "reference", "References"),
        ("31000009", "reference", "References"),
        ("1706.03762", "reference", "Notes and references"),
    }
    text = extracted_text(path)
    for m in doc.mentions:
        assert text[m.start : m.end].lower().endswith(m.value.lower()[-5:])
    assert [r.label for r in doc.references][:2] == ["1", "2"]


def test_a_hyperlink_in_a_reference_entry_gives_that_entry_its_id(tmp_path):
    body = (
        para("A manuscript", "Title")
        + linked("We reuse ", "a dataset", " here.", "rId1")  # body text: no entry
        + para("References", "Heading1")
        + linked("1. Smith J. ", "A first study", ". Nature. 2020.", "rId2")
        + linked("2. Doe A. Another study. Cell. 2021. ", "PubMed", "", "rId3")
        + field("3. Roe B. ", "A third study", ". Science. 2019.", "https://doi.org/10.5555/third")
        + para("4. Poe C. No link. J Biol. 2018.")
    )
    rels = hyperlinks(
        rId1="https://doi.org/10.5061/dryad.body",
        rId2="https://doi.org/10.5555/first",
        rId3="https://pubmed.ncbi.nlm.nih.gov/31000009/",
    )
    notes = (
        '<w:endnote w:id="1">'
        + linked("Lee K. A noted work. ", "doi:10.5555/noted", "", "rId1")
        + "</w:endnote>"
    )
    note_rels = hyperlinks(rId1="https://doi.org/10.5555/noted")
    path = docx(tmp_path / "r.docx", body, endnotes=notes, rels=rels, note_rels=note_rels)
    doc = extract_document(path)
    ids = {r.text.split(".")[0]: [i.value for i in r.ids] for r in doc.references}
    assert ids == {
        "Smith J": ["10.5555/first"],
        "Doe A": ["31000009"],
        "Roe B": ["10.5555/third"],
        "Poe C": [],
        "Lee K": ["10.5555/noted"],  # a note's: printed and linked, once
    }
    body_link = [m for m in doc.mentions if m.value == "10.5061/dryad.body"]
    assert [(m.section, m.role) for m in body_link] == [("link", "mention")]


def test_a_main_document_part_not_called_document_xml_is_read_from_the_package_rels():
    # pandoc's test file: _rels/.rels names "/word/document2.xml" (no word/document.xml)
    path = str(DOCS / "pandoc-alternate-document-path.docx")
    assert extract_document(path).problems == ()
    assert extracted_text(path).startswith("Test\nThis is italic, bold, underlined")


def test_the_package_rels_main_part_gives_its_identifiers_and_links(tmp_path):
    path = tmp_path / "online.docx"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="/word/document2.xml"/></Relationships>',
        )
        z.writestr(
            "word/document2.xml",
            f"<w:document {W} {R}><w:body>{para('PMID: 31066697')}"
            '<w:p><w:hyperlink r:id="rId9"><w:r><w:t>paper</w:t></w:r></w:hyperlink></w:p>'
            "</w:body></w:document>",
        )
        z.writestr(
            "word/_rels/document2.xml.rels",
            f'<Relationships xmlns="{pkg}"><Relationship Id="rId9" Type="{rel}/hyperlink" '
            'Target="https://doi.org/10.2196/12239" TargetMode="External"/></Relationships>',
        )
    doc = extract_document(str(path))
    assert [(m.value, m.section) for m in doc.mentions] == [
        ("31066697", None),
        ("10.2196/12239", "link"),
    ]


def test_a_renamed_zip_is_not_a_word_document(tmp_path):
    path = tmp_path / "fake.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("data.csv", "doi\n10.1000/x\n")
    (p,) = extract_document(str(path)).problems
    assert (
        p.fatal and p.message == "not a Word document (a zip without word/document.xml); not read"
    )


def test_a_docx_declaring_entities_is_refused_not_expanded(tmp_path):
    path = tmp_path / "evil.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "word/document.xml",
            '<!DOCTYPE d [<!ENTITY a "10.9999/x">]>'
            f"<w:document {W}><w:body>&a;</w:body></w:document>",
        )
    doc = extract_document(str(path))
    (p,) = doc.problems
    assert p.fatal and "refused" in p.message and doc.mentions == ()
