"""pipeline.reference_list: a document's reference list, entry by entry, for every format."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.extract import extract_document
from pipeline.readers import base

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "extract"

TEXT = (
    "A page\n\nSome prose citing [1].\n\nReferences\n\n"
    "1. Smith J. A study. Nature. 2020. doi:10.1000/a1\n"
    "2. Doe A. Unlinked work. Cell. 2019;\n   12:34-56.\n"
    "3. Roe B. PMID: 31000001\n\nAcknowledgements\n\nThanks, doi:10.1000/not-a-ref\n"
)


def test_text_reference_section_is_cut_into_entries_with_their_ids(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(TEXT)
    doc = extract_document(str(path))
    assert [(r.label, r.text) for r in doc.references] == [
        ("1", "Smith J. A study. Nature. 2020. doi:10.1000/a1"),
        ("2", "Doe A. Unlinked work. Cell. 2019; 12:34-56."),
        ("3", "Roe B. PMID: 31000001"),
    ]
    assert [[i.value for i in r.ids] for r in doc.references] == [["10.1000/a1"], [], ["31000001"]]
    for r in doc.references:
        assert TEXT[r.start : r.end].startswith(f"{r.label}. ")
        assert TEXT.count("\n", 0, r.start) + 1 == r.line and r.section == "References"


@pytest.mark.parametrize("piece_size", [64, 300])
def test_entries_do_not_depend_on_piece_sizes(tmp_path, monkeypatch, piece_size):
    path = tmp_path / "page.txt"
    path.write_text(TEXT * 3)
    whole = extract_document(str(path)).references
    monkeypatch.setattr(base, "PIECE_SIZE", piece_size)
    monkeypatch.setattr(base, "BLOCK_SIZE", 17)
    assert [(r.start, r.end, r.ids) for r in extract_document(str(path)).references] == [
        (r.start, r.end, r.ids) for r in whole
    ]


def test_markdown_bibliography_and_html_meta_references_are_entries():
    md = extract_document(str(FIXTURES / "notes.md"))
    assert md.references and all(r.section in ("Bibliography", "Datasets") for r in md.references)
    page = extract_document(str(FIXTURES / "article.html"))
    cited = [r for r in page.references if any(i.value == "10.1200/jco.20.01616" for i in r.ids)]
    assert len(cited) == 1


def test_bibtex_and_ris_records_are_entries_with_rendered_citations():
    bib = extract_document(str(FIXTURES / "references.bib"))
    assert [r.label for r in bib.references] == ["topp2021", "vaswani2017", "witten1998"]
    assert bib.references[0].text.startswith("Topp MS, van Meerten T (2021). Earlier")
    ris = extract_document(str(FIXTURES / "references.ris"))
    assert len(ris.references) == 2 and all(r.ids for r in ris.references)
