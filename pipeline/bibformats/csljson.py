"""CSL JSON (``.json``): the input of citeproc (pandoc ``--citeproc``, citeproc-js, citeproc-py)
and what Zotero exports as "CSL JSON". Variable names as the CSL 1.0.2 schema spells them
(``container-title``, ``DOI``, ``PMID``, ``PMCID``, ``URL``, ``issued.date-parts``).

Titles keep the inline markup CSL processors render (``<i>``, ``<b>``, ``<sup>``, ``<sub>``,
small caps as a ``<span>``); other tags are dropped. The file is one JSON array, written item by
item so a large export never sits in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TextIO

from pipeline.bibformats.keys import CitationKeys
from pipeline.bibformats.kinds import kind
from pipeline.bibformats.markup import plain, render
from pipeline.bibformats.names import split_name
from pipeline.bibformats.work import BibAuthor, BibWork

# https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html#html-like-formatting-tags
_CSL_STYLES = {
    "italic": ("<i>", "</i>"), "bold": ("<b>", "</b>"), "sup": ("<sup>", "</sup>"),
    "sub": ("<sub>", "</sub>"),
    "smallcaps": ('<span style="font-variant:small-caps;">', "</span>"),
}  # fmt: skip


def _author(author: BibAuthor) -> dict:
    name = split_name(author)
    if name.literal or not name.family:
        return {"literal": name.literal or author.raw_name}
    out = {"family": name.family, "given": name.given}
    if name.particle:
        out["non-dropping-particle"] = name.particle
    if name.suffix:
        out["suffix"] = name.suffix
    return {k: v for k, v in out.items() if v}


def item(work: BibWork, key: str) -> dict:
    """One CSL JSON item."""
    csl_type = kind(work.type, has_container=bool(work.container))[1]
    parts = work.date_parts
    fields = {
        "id": key,
        "citation-key": key,
        "type": csl_type,
        "title": render(work.title, escape=lambda s: s, styles=_CSL_STYLES),
        "author": [_author(a) for a in work.authors] or None,
        "container-title": plain(work.container),
        "issued": {"date-parts": [list(parts)]} if parts else None,
        "volume": _text(work.volume),
        "issue": _text(work.issue),
        "page": _text(work.pages),
        "publisher": _text(work.publisher),
        "ISSN": _text(work.issn),
        "DOI": work.doi,
        "PMID": work.pmid,
        "PMCID": work.pmcid,
        "URL": work.url,
        "abstract": plain(work.abstract),
        "language": _text(work.language),
    }
    return {k: v for k, v in fields.items() if v}


def _text(value: str | None) -> str | None:
    return " ".join(value.split()) if value and value.strip() else None


def write_csljson(works: Iterable[BibWork], out: TextIO) -> int:
    """Write a JSON array with one item per work to ``out``; returns how many were written."""
    keys = CitationKeys()
    n = 0
    out.write("[")
    for work in works:
        out.write(",\n" if n else "\n")
        out.write(json.dumps(item(work, keys.key(work)), ensure_ascii=False))
        n += 1
    out.write("\n]\n")
    return n
