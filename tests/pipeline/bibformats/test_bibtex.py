"""BibTeX export, read back by the parsers of the tools that import it: bibtexparser (JabRef's
and most Python tools' reading), pybtex (BibTeX's own rules, names included); field names and
escaping checked against real Zotero/Better BibTeX exports (tests/fixtures/export, see README)."""

from __future__ import annotations

import io
from pathlib import Path

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from pybtex.database import parse_string

from pipeline.bibformats import BibAuthor, BibWork, write_bibtex
from pipeline.bibformats.bibtex import latex_escape

from .conftest import SICI

FIXTURES = Path(__file__).parents[2] / "fixtures" / "export"


def first(text: str):
    """The first entry as pybtex reads it."""
    return next(iter(parse_string(text, "bibtex").entries.values()))


def bib(*works: BibWork) -> str:
    out = io.StringIO()
    assert write_bibtex(works, out) == len(works)
    return out.getvalue()


def test_bibtexparser_reads_every_entry_without_a_failed_block(article, bare):
    library = bibtexparser.parse_string(bib(article, bare, article))
    assert not library.failed_blocks
    assert [e.entry_type for e in library.entries] == ["article", "misc", "article"]
    assert len({e.key for e in library.entries}) == 3  # keys unique within a file


def test_latex_decoding_gives_back_the_title_and_abstract_text(article):
    library = bibtexparser.parse_string(bib(article), append_middleware=[LatexDecodingMiddleware()])
    fields = library.entries[0].fields_dict
    title = fields["title"].value
    for piece in ("Dasatinib & BCR::ABL1: 100% of CAR-T_cells in IL-6", "#1", "$"):
        assert piece in title
    assert "line one line two with 2 & 5%." in fields["abstract"].value


def test_pybtex_splits_the_authors_as_written(article):
    entry = first(bib(article))
    people = entry.persons["author"]
    assert [" ".join(p.last_names) for p in people] == [
        "Møller", "Jiménez-Núñez", "Beethoven", "{CAR T Cell Consortium}",
    ]  # fmt: skip
    assert [" ".join(p.prelast_names) for p in people][2] == "van"
    assert " ".join(people[1].first_names + people[1].middle_names) == "José Ángel"


def test_doi_and_url_are_verbatim_even_for_a_sici_doi(article):
    fields = first(bib(article)).fields
    assert fields["doi"] == SICI
    assert fields["url"].startswith("https://doi.org/10.1002/(SICI)")
    assert "<" not in fields["url"]


def test_an_underscore_in_a_doi_is_kept_as_zotero_and_jabref_write_it():
    # Zotero's own BibTeX export: doi = {10.1007/978-1-4899-7641-3_9}
    fields = first(bib(BibWork("w", doi="10.1007/978-1-4899-7641-3_9"))).fields
    assert fields["doi"] == "10.1007/978-1-4899-7641-3_9"


def test_a_brace_in_a_doi_cannot_end_the_field():
    text = bib(BibWork("w", doi="10.1/a}b{c", title="x"))
    assert first(text).fields["doi"] == "10.1/a%7Db%7Bc"


def test_capitals_inside_words_are_protected_from_lowercasing_styles(article):
    title = first(bib(article)).fields["title"]
    assert "{CAR-T\\_cells}" in title and "{IL-6}" in title and "{Dasatinib}" not in title


def test_markup_becomes_latex_commands(article):
    assert "\\textit{{BCR::ABL1}}" in bib(article)
    assert "\\textsuperscript{2}" in bib(article)


@pytest.mark.parametrize("char", list("\\{}&%$#_~^"))
def test_every_tex_special_character_is_escaped(char):
    escaped = latex_escape(f"a{char}b")
    assert escaped != f"a{char}b"
    parsed = bibtexparser.parse_string(
        "@misc{k, title = {" + escaped + "}}", append_middleware=[LatexDecodingMiddleware()]
    )
    # pylatexenc reads \textasciicircum as the spacing circumflex U+02C6
    assert parsed.entries[0]["title"] == f"a{char}b".replace("^", "\u02c6")


def test_field_names_are_those_of_real_zotero_exports(article):
    # Better BibTeX's export of PubMed articles (doi, pmid, pmcid, journal, number, pages ...)
    real = bibtexparser.parse_string((FIXTURES / "bbt_pubmed_1112.bib").read_text())
    real_fields = {f.key for e in real.entries if e.entry_type == "article" for f in e.fields}
    ours = {f.key for f in bibtexparser.parse_string(bib(article)).entries[0].fields}
    assert ours - real_fields <= {"publisher", "url", "language"}
    assert {"doi", "pmid", "pmcid", "journal", "number", "pages", "month"} <= ours


def test_pages_and_months_are_written_as_zotero_writes_them(article):
    real = (FIXTURES / "bbt_pubmed_1112.bib").read_text()
    assert "pages = {1608--1617}" in real and "month = jan" in real
    text = bib(article)
    assert "pages = {1437--1452}" in text and "month = mar," in text


def test_non_ascii_stays_utf8_and_a_real_escaped_export_reads_the_same():
    # BBT writes N{\"o}me; we write Nöme: both decode to the same name
    real = bibtexparser.parse_string(
        (FIXTURES / "bbt_name_escaping_438.bib").read_text(),
        append_middleware=[LatexDecodingMiddleware()],
    )
    ours = bibtexparser.parse_string(
        bib(BibWork("w", title="t", authors=(BibAuthor("x", family="Nöme", given="Name"),))),
        append_middleware=[LatexDecodingMiddleware()],
    )
    assert real.entries[0]["author"] == ours.entries[0]["author"] == "Nöme, Name"


def test_an_empty_work_is_still_a_valid_entry(bare):
    entry = first(bib(bare))
    assert entry.type == "misc" and entry.fields["pmid"] == "12345"
