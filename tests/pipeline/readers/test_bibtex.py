"""pipeline.readers.bibtex: LaTeX in field values, as BibTeX libraries write names and titles,
and ``@string`` macros."""

from __future__ import annotations

import pytest

from pipeline.extract import extract_document
from pipeline.readers import base
from pipeline.readers.bibtex import expand, read_bibtex, unlatex
from pipeline.readers.source import RawFile
from tests.pipeline.readers.conftest import DOCS


@pytest.mark.parametrize(
    ("tex", "text"),
    [
        (r"M{\"u}ller, J{\"o}rg", "M{ü}ller, J{ö}rg"),  # Google Scholar, Zotero
        (r"Jo{\~{a}}o Gra{\c{c}}a", "Jo{ã}o Gra{ç}a"),  # DBLP
        (r"Erd\H{o}s and \v{C}ech and \v Cech", "Erdős and Čech and Čech"),
        (
            r"{\O}stergaard, Stra\ss{}e, \AA{}ngstr\"om, \l\'od\'z",
            "{Ø}stergaard, Straße, Ångström, łódź",
        ),
        (r"\'{\i}ndice and {\`E}cole", "índice and {È}cole"),
        (r"50\% of \emph{in vivo} R\&D", "50% of {in vivo} R&D"),
        ("plain text, no TeX", "plain text, no TeX"),
        (r"$\alpha$-helix", r"$\alpha$-helix"),  # math is left as written
    ],
)
def test_latex_accents_letters_and_escapes_become_characters(tex, text):
    assert unlatex(tex) == text


# --------------------------------------------------------------------------------------------
# @string macros
# --------------------------------------------------------------------------------------------

_MACROS = r"""@string{jcp = "J. Chem. Phys."}
@STRING(acl = {Association for Computational Linguistics})
@String{aclproc = "Proceedings of the " # ACL}

@article{a, author = {Smith, John}, title = {First}, journal = jcp, year = 2001}
@inproceedings{b, author = {Jones, Kim}, title = {Second}, booktitle = "Proc. " # acl # {~2020},
  year = {2020}}
@inproceedings{c, author = {Brown, Lee}, title = {Third}, booktitle = aclproc, year = 2021}
@article{d, author = {Wu, Li}, title = {Fourth}, journal = ieeetpami, year = 2022}
"""


def _texts(tmp_path, text: str, name: str = "m.bib") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return [r.text for r in extract_document(str(path)).references]


def test_string_macros_are_expanded_in_the_entry_text(tmp_path):
    assert _texts(tmp_path, _MACROS) == [
        "Smith J (2001). First. J. Chem. Phys.",
        "Jones K (2020). Second. Proc. Association for Computational Linguistics~2020.",
        "Brown L (2021). Third. Proceedings of the Association for Computational Linguistics.",
        "Wu L (2022). Fourth. ieeetpami.",  # defined in no file read: its name, as printed
    ]


def test_string_macros_hold_across_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(base, "PIECE_SIZE", 256)  # the last record is a piece of its own
    last = "@article{z, author = {Last, Al}, title = {Last}, journal = JCP, year = 2009}\n"
    path = tmp_path / "p.bib"
    path.write_text(_MACROS + last, encoding="utf-8")
    (piece_entries, pieces) = _pieces(path)
    assert pieces >= 2 and piece_entries[-1] == ("Last A (2009). Last. J. Chem. Phys.",)
    texts = [r.text for r in extract_document(str(path)).references]
    assert texts[-1] == "Last A (2009). Last. J. Chem. Phys."


def _pieces(path) -> tuple[list[tuple[str, ...]], int]:
    raw = RawFile(str(path))
    try:
        found = [tuple(e.text for e in p.entries) for p in read_bibtex(raw.chars())]
    finally:
        raw.close()
    return found, len(found)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ('jan # "~5"', "January~5"),  # the standard month macros
        ("DEC", "December"),  # macro names are case-insensitive
        ('{A {B}} # " C" # 12', "A {B} C12"),
        ("undefined", "undefined"),
    ],
)
def test_a_value_is_its_parts_joined_with_macros_replaced(value, text):
    assert expand(value, {"jan": "January", "dec": "December"}) == text


def test_a_real_library_of_author_macros_gives_the_authors():
    # JabRef's twente.bib: author = Patterson # { and } # Arvind # ... over three lines
    (entry,) = extract_document(str(DOCS / "jabref-twente-strings.bib")).references
    assert entry.text.startswith("Patterson D, Arvind, Asanovíc K, Chiou D, Hoe J, Kozyrakis C")
    assert "(2006). RAMP: Research Accelerator for Multiple Processors." in entry.text


# BibLaTeX as Zotero/Better BibLaTeX and JabRef write it: journaltitle, date, eprinttype.
BIBLATEX = """@article{vaswani,
  author = {Vaswani, Ashish and Shazeer, Noam},
  title = {Attention Is All You Need},
  date = {2017-06-12},
  eprint = {1706.03762},
  eprinttype = {arxiv},
  eprintclass = {cs.CL},
}
@article{himmelstein,
  author = {Himmelstein, Daniel S.},
  title = {Sci-Hub provides access to nearly all scholarly literature},
  journaltitle = {eLife},
  date = {2018-02-01},
  volume = {7},
  eprint = {29424689},
  eprinttype = {pubmed},
}
"""


def test_biblatex_journaltitle_date_and_typed_eprints(tmp_path):
    path = tmp_path / "library.bib"
    path.write_text(BIBLATEX, encoding="utf-8")
    doc = extract_document(str(path))
    assert [e.text for e in doc.references] == [
        "Vaswani A, Shazeer N (2017). Attention Is All You Need.",
        "Himmelstein DS (2018). Sci-Hub provides access to nearly all scholarly literature. "
        "eLife 7.",
    ]
    assert [[str(i) for i in e.ids] for e in doc.references] == [
        ["arxiv:1706.03762"],
        ["pmid:29424689"],  # eprinttype = {pubmed}: the bare number is a PMID
    ]
    for m in doc.mentions:  # the label is synthetic: offsets point at the value
        assert BIBLATEX[m.start : m.end] == m.value
