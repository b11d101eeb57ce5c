"""How each kind of document is structured for the extractor: the patterns that find its
headings, role marks and the boundaries between its entries.

Every pattern alternative starts with "\n" (a literal, so the search is fast).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.readers.base import MARK

__all__ = ["Layout", "layout_for"]

# Structure patterns. Every alternative starts with "\n" (a literal, so the search is fast).
# ``heads`` finds the rare events: a short line after a blank line that may be a heading
# ("cand"; "nb" set when a blank line follows it too), a "## Title" line ("atx"/"atxt"), a setext
# underline ("rule") and a synthetic role switch ("mark"). ``boundary`` finds what ends a list
# entry: a blank line, a list marker, a BibTeX/RIS record start.
_CAND = (
    # A heading line: after a blank line, at most 60 characters, starting with a letter (after
    # "1." numbering), not ending like a sentence. The match starts at the blank line's own
    # line break and takes no run of several blank lines, so a run of 100,000 of them costs a
    # step each, not a rescan from each. Possessive {0,59}+: a long line fails at once instead
    # of backtracking. Most short lines are values ("2025"), excluded here, in C.
    r"\n[ \t]*\r?\n"
    r"(?P<cand>(?:\d{1,2}[.)]?[ \t]+)?[A-Za-z*_(\[][^\n]{0,59}+)(?<![.,;])"
    r"(?=\n(?P<nb>[ \t]*\r?\n)?|\Z)"
)
_ATX = r"\n[ \t]{0,3}(?P<atx>#{1,6})[ \t]+(?P<atxt>[^\n]*+)"
_RULE = r"\n[ \t]{0,3}(?P<rule>={3,}|-{3,})[ \t]*\r?(?=\n|\Z)"
_MARK = r"\n" + MARK + r"(?P<mark>[a-z]+)"
_BLANK = r"\n[ \t]*\r?\n"
_ITEM = r"\n[ \t]*(?:\d{1,4}[.)]|[-*\u2022+]|\[\d{1,4}\])(?=[ \t\r\n])"


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


@dataclass(frozen=True, slots=True)
class Layout:
    """How one kind of file is structured for the extractor."""

    kind: str
    heads: re.Pattern[str]
    boundary: re.Pattern[str]
    default_role: str = "mention"
    first_line_subject: bool = False  # "» Articles » PMID: 36455991" at the top names the page


_PROSE = Layout("text", _any(_CAND, _ATX, _MARK), _any(_BLANK, _ITEM), first_line_subject=True)
# Structured formats: the reader writes "## Title" headings, role marks and a blank line
# between two records or entries; nothing else there is structure.
_RECORDS = _any(_ATX, _MARK)

_LAYOUTS = {
    "text": _PROSE,
    "markdown": Layout(
        "markdown",
        _any(_CAND, _ATX, _RULE, _MARK),
        _any(_BLANK, _ITEM, _RULE),
        first_line_subject=True,
    ),
    "html": Layout("html", _any(_CAND, _ATX, _MARK), _any(_BLANK, _ITEM)),
    # A .bib or .ris file is a bibliography: every entry is a reference.
    "bibtex": Layout(
        "bibtex", _any(_MARK), _any(r"\n[ \t]*@[A-Za-z]+[ \t]*[{(]"), default_role="reference"
    ),
    "ris": Layout("ris", _any(_MARK), _any(r"\n[ \t]*TY[ \t]+-"), default_role="reference"),
    "enw": Layout("enw", _any(_MARK), _any(_BLANK, r"\n%0 "), default_role="reference"),
    "wos": Layout("wos", _any(_MARK), _any(_BLANK), default_role="reference"),
    "refworks": Layout("refworks", _any(_MARK), _any(_BLANK, r"\nRT "), default_role="reference"),
    "csv": Layout("csv", _any(_MARK), _any(_BLANK)),
    # PDF and DOCX: the reader's text with headings as "## Title" lines and paragraphs apart.
    "pdf": Layout("pdf", _any(_ATX, _MARK), _any(_BLANK, _ITEM)),
    "docx": Layout("docx", _any(_ATX, _MARK), _any(_BLANK, _ITEM)),
    "jats": Layout("jats", _RECORDS, _any(_BLANK)),
    "pubmed_xml": Layout("pubmed_xml", _RECORDS, _any(_BLANK)),
    "medline": Layout("medline", _RECORDS, _any(_BLANK)),
    "bibxml": Layout("bibxml", _RECORDS, _any(_BLANK)),
    "endnote": Layout("endnote", _RECORDS, _any(_BLANK), default_role="reference"),
    "json": Layout("json", _RECORDS, _any(_BLANK)),
    "yaml": Layout("yaml", _RECORDS, _any(_BLANK)),
}
_LAYOUTS["tsv"] = _LAYOUTS["csv"]
_LAYOUTS["xml"] = _LAYOUTS["html"]


def layout_for(kind: str) -> Layout:
    """The :class:`Layout` of a kind returned by ``pipeline.readers.detect_kind``."""
    return _LAYOUTS[kind]
