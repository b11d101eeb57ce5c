"""RefWorks tagged format (CNKI's export, RefWorks' "Tagged Format"): ``RT Journal Article``
starts a record; every record is one reference.

Tags are two characters and a space (``A1 Sharma Ashutosh;Georgi Mikhail``, ``T1``, ``JF``,
``YR``, ``VO``/``vo``, ``SP``/``OP``, ``DO``); records are blank-line separated, with no end tag.
``A1``/``A2`` name several people, ``;`` between them; CNKI's records (``DS CNKI``) write each
name family name first without a comma (``Sharma Ashutosh``). ``DO`` holds the DOI (a DOI names
itself);
``AN``/``SN``/``CN`` (accession, ISSN, CN serial number) are never ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece, cut_late, line_starts
from pipeline.readers.ris import read_tagged

__all__ = ["read_refworks"]

_START = re.compile(r"(?:\A|\n)[ \t]*RT[ \t]+\S")
_TAG = re.compile(
    r"^[ \t]*(?P<tag>[A-Za-z][A-Za-z0-9])[ \t]+(?P<value>(?:[^\n]*[^ \t\r\n])?)[ \t\r]*$", re.M
)
_FIELDS = {
    "authors": ("A1", "AU"),
    "editors": ("A2", "A3"),
    "title": ("T1",),
    "container": ("JF", "JO", "T2"),
    "year": ("YR", "FD"),
    "volume": ("VO", "vo"),
    "pages": ("SP", "OP"),
    "label": ("ID",),
}


def _people(lines: list[str], fields: dict[str, list[str]]) -> list[str]:
    """The names of a record's author lines: ``;`` between them; CNKI's family name first."""
    names = [n.strip() for line in lines for n in line.split(";") if n.strip()]
    if "CNKI" in (fields.get("DS") or [""])[0].upper():
        names = [n if "," in n else n.replace(" ", ", ", 1) for n in names]
    return names


def _cut(buf: str) -> tuple[int, str]:
    i = buf.rfind("\nRT ")
    return (i + 1, "\n") if i > 0 else cut_late(buf)


def read_refworks(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records, each record a reference entry."""
    return read_tagged(
        chars, _cut, lambda text: line_starts(_START, text), _TAG, _FIELDS, people=_people
    )
