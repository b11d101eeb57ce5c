"""RIS (``.ris``), the tagged format Zotero, EndNote, Mendeley and JabRef import, written with
rispy (its tag names and line shape, ``TY  - JOUR``).

Tags as Zotero writes them: ``T2`` the journal or book, ``PY`` the year and ``DA``
``YYYY/MM/DD``, ``SP``/``EP`` the pages, ``DO`` the DOI, ``UR`` the URL, ``AB`` the abstract.
Two identifiers RIS has no tag of its own for follow EndNote's PubMed import: ``AN``
(accession number) the PMID, ``C2`` the PMCID. Every value is one line of plain text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from rispy.writer import RisWriter

from pipeline.bibformats.kinds import kind
from pipeline.bibformats.markup import plain
from pipeline.bibformats.names import split_name
from pipeline.bibformats.work import BibAuthor, BibWork


class _Writer(RisWriter):
    def set_header(self, count: int) -> str:  # rispy numbers records ("1."); importers need not
        return ""


def _author(author: BibAuthor) -> str:
    name = split_name(author)
    if name.literal or not name.family:
        return name.literal or author.raw_name
    return ", ".join(p for p in (name.family_with_particle, name.given, name.suffix) if p)


def record(work: BibWork) -> dict:
    """One rispy record (keys are rispy's names for the tags)."""
    parts = work.date_parts
    first, last = work.page_range
    fields = {
        "type_of_reference": kind(work.type, has_container=bool(work.container))[2],
        "authors": [_author(a) for a in work.authors] or None,
        "title": plain(work.title),
        "secondary_title": plain(work.container),
        "year": str(parts[0]) if parts else None,
        "date": _date(parts),
        "volume": _line(work.volume),
        "number": _line(work.issue),
        "start_page": _line(first),
        "end_page": _line(last),
        "publisher": _line(work.publisher),
        "issn": _line(work.issn),
        "doi": work.doi,
        "urls": [work.url] if work.url else None,
        "accession_number": work.pmid,
        "custom2": work.pmcid,
        "abstract": plain(work.abstract),
        "language": _line(work.language),
    }
    return {k: v for k, v in fields.items() if v}


def _date(parts: tuple[int, ...]) -> str | None:
    """RIS dates: ``YYYY/MM/DD`` as far as known (``2021/03``, ``2021``)."""
    return "/".join([str(parts[0]), *(f"{p:02d}" for p in parts[1:])]) if parts else None


def _line(value: str | None) -> str | None:
    return " ".join(value.split()) if value and value.strip() else None


def write_ris(works: Iterable[BibWork], out: TextIO) -> int:
    """Write one record per work to ``out``; returns how many were written."""
    writer = _Writer()
    n = 0
    for work in works:
        if n:
            out.write("\n")
        writer.format_lines(out, [record(work)])
        n += 1
    return n
