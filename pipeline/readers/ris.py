"""RIS: every record (``TY  -`` to ``ER  -``, or to the next ``TY``) is one reference."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pipeline.readers.base import EntryMark, Piece, cut_late, windows
from pipeline.readers.citation import render

__all__ = ["read_ris", "tagged_entries"]

_RIS_TAG = re.compile(r"^[ \t]*(?P<tag>[A-Z][A-Z0-9])  ?-[ \t]?(?P<value>.*?)[ \t\r]*$", re.M)
RIS_FIELDS = {
    "authors": ("AU", "A1", "A2"),
    "title": ("TI", "T1", "CT"),
    "container": ("JO", "JF", "T2", "JA", "J2", "BT"),
    "year": ("PY", "Y1", "DA"),
    "volume": ("VL",),
    "pages": ("SP",),
    "label": ("ID",),
}


def _cut_ris(buf: str) -> tuple[int, str]:
    i = buf.rfind("\nTY  -")
    return (i + 1, "\n") if i > 0 else cut_late(buf)


def read_ris(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records, each record a reference entry."""
    starts = re.compile(r"(?:\A|\n)[ \t]*TY[ \t]+-")
    for window, prefix, offset, line in windows(chars, _cut_ris):
        text = prefix + window
        entries = tagged_entries(text, starts, _RIS_TAG, RIS_FIELDS)
        yield Piece(text, offset - len(prefix), line - prefix.count("\n"), entries=entries)


def tagged_entries(
    text: str, starts: re.Pattern[str], tag: re.Pattern[str], names: dict[str, tuple[str, ...]]
) -> tuple[EntryMark, ...]:
    """One entry per record of a tagged format (RIS, EndNote's .enw), its fields rendered."""
    at = [m.start() + (m.group().startswith("\n")) for m in starts.finditer(text)]
    out = []
    for start, end in zip(at, [*at[1:], len(text)], strict=False):
        record = text[start:end].rstrip()
        fields: dict[str, list[str]] = {}
        for m in tag.finditer(record):
            fields.setdefault(m.group("tag"), []).append(m.group("value"))

        def first(key: str, fields=fields) -> str | None:
            return next((fields[t][0] for t in names[key] if fields.get(t)), None)

        authors = [a for t in names["authors"] for a in fields.get(t, [])]
        year = first("year")
        cited = render(
            authors,
            first("title"),
            first("container"),
            year[:4] if year else None,
            first("volume"),
            first("pages"),
        )
        out.append(EntryMark(start, start + len(record), cited, first("label")))
    return tuple(out)
