"""Reference entries per format, as extraction reads them (pipeline.reference_list)."""

from __future__ import annotations

from pathlib import Path

from pipeline.extract import extract_document
from pipeline.records import Identifier

FIX = Path(__file__).parents[1] / "fixtures"


def refs(path: Path):
    return extract_document(str(path)).references


def test_markdown_reference_section_gives_entries_with_lines_labels_and_ids(tmp_path):
    p = tmp_path / "paper.md"
    p.write_text(
        "# A paper\n\nText.\n\n## References\n\n"
        "1. Woodson SA. Metal ions and RNA folding. Curr Opin Chem Biol. 2005;9: 104–109.\n"
        "2. von Herrath MG, Oldstone MB (1996) Virus-induced autoimmune\n"
        "   disease. Curr Opin Immunol 8: 878-885.\n"
        "3. Smith J. A paper. doi:10.1000/xyz123\n\n## Acknowledgements\n\nThanks to 1. and 2.\n",
        encoding="utf-8",
    )
    got = refs(p)
    assert [(e.line, e.label, e.section) for e in got] == [
        (7, "1", "References"), (8, "2", "References"), (10, "3", "References"),
    ]  # fmt: skip
    assert got[1].text == ("von Herrath MG, Oldstone MB (1996) Virus-induced autoimmune disease. "
                           "Curr Opin Immunol 8: 878-885.")  # fmt: skip
    assert got[2].ids == (Identifier("doi", "10.1000/xyz123"),) and not got[0].ids
    text = p.read_text(encoding="utf-8")
    assert text[got[0].start : got[0].end].startswith("1. Woodson SA.")


def test_the_seed_pages_reference_list_is_read_with_each_entrys_identifiers():
    got = refs(Path(__file__).parents[2] / "seeds" / "002_3ea597cfb241f368.txt")
    assert [e.label for e in got] == ["1", "2", "3", "4", "5"]
    assert all(e.ids and e.section == "References" for e in got)


def test_html_list_items_are_entries_and_offsets_point_into_the_file():
    got = refs(FIX / "extract" / "article.html")
    html = (FIX / "extract" / "article.html").read_text(encoding="utf-8")
    listed = [e for e in got if e.section == "References"]
    assert len(listed) == 2
    assert "Topp" in html[listed[0].start : listed[0].end]
    # the head's citation_reference meta tags are references too, outside any heading
    meta = [e for e in got if e.section is None]
    assert [e.ids[0].value for e in meta] == ["10.1182/blood.2022015789", "10.1200/jco.20.01616"]


def test_bibtex_and_ris_records_are_written_out_as_reference_strings(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{woodson2005,\n  author = {Woodson, Sarah A.},\n"
        "  title = {Metal ions and {RNA} folding},\n  journal = {Curr Opin Chem Biol},\n"
        "  year = 2005,\n  volume = {9},\n  pages = {104--109}\n}\n",
        encoding="utf-8",
    )
    (entry,) = refs(bib)
    assert (
        entry.text
        == "Woodson SA (2005). Metal ions and RNA folding. Curr Opin Chem Biol 9: 104-109."
    )
    assert entry.ids == () and entry.line == 1
    ris = refs(FIX / "extract" / "references.ris")
    assert len(ris) == 2 and all(e.ids for e in ris)


def test_a_file_that_is_only_a_reference_list_needs_no_heading(tmp_path):
    p = tmp_path / "refs.txt"
    p.write_text(
        "Rogers, E. (1995). Diffusion of Innovations. New York: Free Press.\n\n"
        "Saldanha, A. J. (2004). Java TreeView. Bioinformatics, 20(17), 3246–3248.\n",
        encoding="utf-8",
    )
    assert [e.line for e in refs(p)] == [1, 3]


def test_prose_without_a_reference_heading_has_no_entries(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text(
        "We met in 2019 to plan the study.\n\nThe results came in 2021, as expected.\n",
        encoding="utf-8",
    )
    assert refs(p) == ()


def test_an_unreadable_file_has_no_entries_and_no_exception(tmp_path):
    p = tmp_path / "x.md"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert refs(p) == ()
