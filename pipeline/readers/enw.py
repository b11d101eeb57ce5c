"""EndNote's tagged format (``.enw``): ``%0 Journal Article`` starts a record, ``%R`` is its DOI;
every record is one reference. ``%M`` (an accession number: WOS, PMID or a database's own) is
never taken as a PMID unless it says ``PMID``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece, cut_late, windows
from pipeline.readers.ris import tagged_entries

__all__ = ["read_enw"]

_START = re.compile(r"(?:\A|\n)[ \t]*%0 ")
_TAG = re.compile(r"^[ \t]*%(?P<tag>[0-9A-Z@!#$&()*+^~>\]|?])[ \t]+(?P<value>.*?)[ \t\r]*$", re.M)
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
    i = buf.rfind("\n%0 ")
    return (i + 1, "\n") if i > 0 else cut_late(buf)


def read_enw(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records, each record a reference entry."""
    for window, prefix, offset, line in windows(chars, _cut):
        text = prefix + window
        entries = tagged_entries(text, _START, _TAG, _FIELDS)
        yield Piece(text, offset - len(prefix), line - prefix.count("\n"), entries=entries)
