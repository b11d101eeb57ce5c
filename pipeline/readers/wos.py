"""Web of Science tagged export (``savedrecs.txt``, "Other reference software"; the older
"ISI Export Format"): ``FN``/``VR`` header lines, then records from ``PT`` to ``ER``, a two-letter
tag and a space opening a field, continuation lines indented three spaces.

Each record is one reference entry (as a RIS record is): its ``DI`` DOI, its ``PM`` PubMed id
and a ``UT MEDLINE:`` accession (records WoS took from MEDLINE) are its ids; ``UT WOS:``
accession numbers, ISSNs and article numbers are no identifiers enrich resolves. A record's
``CR`` field lists the works it cites, one a line ("Smith J, 2003, J APPL PHYS, V94, P4896, DOI
10.1063/1.1609649"): each line is a work of its own (a mention in a group of its own), never one
of the record's ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pipeline.readers.base import (
    LABELS,
    Builder,
    EntryMark,
    Piece,
    cut_late,
    tagged_lines,
    windows,
)
from pipeline.readers.citation import render

__all__ = ["read_wos"]

_TAG = re.compile(r"(?P<tag>[A-Z][A-Z0-9])(?: |(?=\r?\n|\Z))")
_MEDLINE_UT = re.compile(r"(?P<head>\s*MEDLINE:\s*)(?P<pmid>\d{1,9})\b")
_FIELDS = {"AU": "authors", "TI": "title", "SO": "container", "PY": "year", "VL": "volume"}


class _Record:
    """The open record: where it starts in the scan text, its fields, its cited references."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.fields: dict[str, list[str]] = {}
        self.cited: tuple[int, int] | None = None  # scan-text span of its CR lines

    def add(self, tag: str, value: str, continued: bool) -> None:
        values = self.fields.setdefault(tag, [])
        if tag == "AU":  # one author a line; "Joffe, Hadine; Hall, Janet E" in some exports
            values.extend(a.strip() for a in value.split(";") if a.strip())
        elif continued and values:  # a title wrapped over lines
            values[-1] = f"{values[-1]} {value}"
        else:
            values.append(value)

    def mark(self, end: int) -> EntryMark:
        f = self.fields

        def one(tag: str) -> str | None:
            return f[tag][0] if f.get(tag) else None

        pages = one("BP")
        if pages and one("EP"):
            pages = f"{pages}-{one('EP')}"
        text = render(f.get("AU", []), one("TI"), one("SO"), one("PY"), one("VL"), pages)
        return EntryMark(self.start, end, text, cited=self.cited)


def _cut_wos(buf: str) -> tuple[int, str]:
    i = buf.rfind("\nPT ")
    return (i + 1, "\n\n") if i > 0 else cut_late(buf)


def read_wos(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records, each record a reference entry."""
    for window, prefix, offset, line in windows(chars, _cut_wos):
        yield _piece(window, prefix, offset, line)


def _piece(window: str, prefix: str, offset: int, line: int) -> Piece:
    b = Builder()
    b.synth(prefix)
    record: _Record | None = None
    tag = ""
    for text, t, at, no in tagged_lines(window, _TAG, offset, line):
        continued = t is None
        if t is not None:
            if tag == "CR":
                b.synth("\n\n")  # the cited references end: the record's own fields go on
            tag = t.group("tag")
            if tag == "PT":
                if record is not None:
                    b.entries.append(record.mark(b.size))
                b.synth("\n\n")
                record = _Record(b.size)
        value = (text[t.end() :] if t is not None else text).strip()
        if record is not None and tag in _FIELDS.keys() | {"BP", "EP"} and value:
            record.add(tag, value, continued)
        if tag == "CR" and record is not None:  # one cited work a line, each a paragraph
            b.synth("\n\n")
            if record.cited is None:
                record.cited = (b.size, b.size)
            b.real(text, at, no)
            record.cited = (record.cited[0], b.size)
        elif tag == "ER" and record is not None:
            b.real(text, at, no)
            b.entries.append(record.mark(b.size))
            record = None
        elif tag in ("PM", "UT") and t is not None:
            _own_id(b, text, t.end(), tag, at, no)
        else:
            b.real(text, at, no)
    if record is not None:
        b.entries.append(record.mark(b.size))
    return b.take()


def _own_id(b: Builder, text: str, head: int, tag: str, at: int, no: int) -> None:
    """A ``PM 29377890`` or ``UT MEDLINE:16842170`` line: its bare number is a PMID."""
    if tag == "UT":
        u = _MEDLINE_UT.match(text, head)
        if u is None:  # "UT WOS:000424022700066": WoS's own accession, no work id
            b.real(text, at, no)
            return
        head = u.start("pmid")
    b.real(text[:head], at, no)
    b.synth(LABELS["pmid"])
    b.real(text[head:], at + head, no)
