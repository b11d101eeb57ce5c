"""BibTeX (``.bib``), as Zotero and JabRef write it and as BibTeX, biber, pandoc, JabRef and
Zotero read it back.

- UTF-8 text, as Zotero's default export (``exportCharset: UTF-8``) and JabRef write it; the
  LaTeX special characters ``\\ { } & % $ # _ ~ ^`` are escaped in every text field.
- ``doi`` and ``url`` are written verbatim (as Zotero and JabRef do, and biblatex reads them:
  verbatim fields), so ``10.1007/978-1-4899-7641-3_9`` keeps its underscore and a SICI DOI its
  ``<>;``; braces and backslashes, which would end the field, are percent-encoded.
- Words with capitals after their first letter (``CAR-T``, ``IL-6``, ``iPod``) are braced in the
  title so styles that lower-case titles keep them.
- ``pages`` with ``--``; ``month`` as the three-letter macro; ``pmid`` / ``pmcid`` fields as
  Better BibTeX and JabRef name them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TextIO

from pipeline.bibformats.keys import CitationKeys
from pipeline.bibformats.kinds import kind
from pipeline.bibformats.markup import render
from pipeline.bibformats.names import Name, split_name
from pipeline.bibformats.work import BibWork

_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
_REPLACEMENTS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip
_LATEX_STYLES = {
    "italic": (r"\textit{", "}"), "bold": (r"\textbf{", "}"), "sup": (r"\textsuperscript{", "}"),
    "sub": (r"\textsubscript{", "}"), "smallcaps": (r"\textsc{", "}"),
}  # fmt: skip
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def latex_escape(text: str) -> str:
    """``'R&D 100%'`` -> ``'R\\&D 100\\%'``: the characters TeX would read as commands."""
    return _SPECIAL.sub(lambda m: _REPLACEMENTS[m.group()], text)


def _protect_words(text: str) -> str:
    # a capital after the first letter: an acronym or a name a style must not lower-case
    return re.sub(
        r"\S+",
        lambda m: (
            "{" + latex_escape(m.group()) + "}"
            if re.search(r"\w.*[A-Z]", m.group())
            else latex_escape(m.group())
        ),
        text,
    )


def _verbatim(text: str) -> str:
    return text.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _name(name: Name) -> str:
    if name.literal:
        return "{" + latex_escape(name.literal) + "}"
    family = latex_escape(name.family_with_particle)
    if "," in name.family or " and " in f" {name.family} ":
        family = "{" + family + "}"
    parts = [family]
    if name.suffix:
        parts.append(latex_escape(name.suffix))
    if name.given:
        parts.append(latex_escape(name.given))
    return ", ".join(parts)


def entry(work: BibWork, key: str) -> str:
    """One ``@type{key, ...}`` entry."""
    entry_type = kind(work.type, has_container=bool(work.container))[0]
    container_field = "journal" if entry_type == "article" else "booktitle"
    if entry_type in ("phdthesis", "techreport", "misc", "book"):
        container_field = "howpublished" if entry_type == "misc" else "series"
    parts = work.date_parts
    first, last = work.page_range
    fields = [
        ("author", " and ".join(_name(split_name(a)) for a in work.authors) or None),
        ("title", render(work.title, escape=_protect_words, styles=_LATEX_STYLES)),
        (container_field, render(work.container, escape=latex_escape, styles=_LATEX_STYLES)),
        ("year", str(parts[0]) if parts else None),
        ("month", MONTHS[parts[1] - 1] if len(parts) > 1 else None),
        ("volume", _text(work.volume)),
        ("number", _text(work.issue)),
        ("pages", latex_escape(f"{first}--{last}" if last else first) if first else None),
        ("publisher", _text(work.publisher)),
        ("issn", _text(work.issn)),
        ("doi", _verbatim(work.doi) if work.doi else None),
        ("pmid", _text(work.pmid)),
        ("pmcid", _text(work.pmcid)),
        ("url", _verbatim(work.url) if work.url else None),
        ("abstract", render(work.abstract, escape=latex_escape, styles=_LATEX_STYLES)),
        ("language", _text(work.language)),
    ]
    lines = [f"@{entry_type}{{{key},"]
    for name, value in fields:
        if value:
            bare = name == "month"
            lines.append(f"  {name} = {value if bare else '{' + value + '}'},")
    lines.append("}")
    return "\n".join(lines)


def _text(value: str | None) -> str | None:
    return latex_escape(" ".join(value.split())) if value and value.strip() else None


def write_bibtex(works: Iterable[BibWork], out: TextIO) -> int:
    """Write one entry per work to ``out``; returns how many were written."""
    keys = CitationKeys()
    out.write("% Encoding: UTF-8\n")
    n = 0
    for work in works:
        out.write("\n" + entry(work, keys.key(work)) + "\n")
        n += 1
    return n
