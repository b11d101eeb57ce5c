"""EndNote's tagged format (``.enw``): ``%0 Journal Article`` starts a record, ``%R`` is its DOI;
every record is one reference. A record may open with other tags before its ``%0`` (AIS
eLibrary's export: ``%T`` first) or have none (a table of contents): then a blank line
before it is what starts it. ``%M`` (an accession number: WOS, PMID or a database's own) is
never taken as a PMID unless it says ``PMID``."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece, cut_late, line_starts
from pipeline.readers.ris import read_tagged

__all__ = ["read_enw"]

_START = re.compile(r"(?:\A|\n)[ \t]*%0 ")
_BLOCK = re.compile(r"(?:\A|\n[ \t]*\r?\n)\s*(?=%[0-9A-Z@!#$&()*+^~>\]|?][ \t])")
_TAG = re.compile(
    r"^[ \t]*%(?P<tag>[0-9A-Z@!#$&()*+^~>\]|?])[ \t]+(?P<value>(?:[^\n]*[^ \t\r\n])?)[ \t\r]*$",
    re.M,
)
_FIELDS = {
    "authors": ("A",),
    "editors": ("E",),
    "title": ("T",),
    "container": ("J", "B"),
    "year": ("D",),
    "volume": ("V",),
    "pages": ("P",),
    "label": ("F",),
}


def _cut(buf: str) -> tuple[int, str]:
    i = buf.rfind("\n\n", 0, buf.rfind("\n%0 ") + 1)  # the blank line before the last record
    if i < 0:
        i = buf.rfind("\n%0 ")
    return (i + 1, "\n") if i > 0 else cut_late(buf)


def record_starts(text: str) -> list[int]:
    """Where the records of ``text`` start: each block of tag lines after a blank line (or the
    text's start), and each further ``%0`` line inside a block (records without blank lines)."""
    blocks = [m.end() for m in _BLOCK.finditer(text)]
    starts = set(blocks)
    for at in line_starts(_START, text):
        block = blocks[bisect_right(blocks, at) - 1] if blocks and blocks[0] <= at else None
        if block is None or block == at or _START.search(text, block, at) is not None:
            starts.add(at)
        # else: the first %0 of a block whose record opened with other tags (%T first)
    return sorted(starts)


def read_enw(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records, each record a reference entry."""
    return read_tagged(chars, _cut, record_starts, _TAG, _FIELDS)
