"""RIS: every record (``TY  -`` to ``ER  -``, or to the next ``TY``) is one reference.

Some databases put the works a record cites inside it: ``CR`` lines, Scopus' ``N1  - References:
...``, Ovid PsycINFO's ``M1`` lines ("Marks, DJ, ... (2006). Defective ... http://dx.doi.org/...").
Their identifiers are mentions, never the record's own ids (``EntryMark.cited``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from pipeline.readers.base import EntryMark, Piece, cut_late, line_starts, windows
from pipeline.readers.citation import render

__all__ = ["read_ris", "tagged_entries"]

_RIS_TAG = re.compile(
    r"^[ \t]*(?P<tag>[A-Z][A-Z0-9])  ?-[ \t]?(?P<value>(?:[^\n]*[^ \t\r\n])?)[ \t\r]*$", re.M
)
RIS_FIELDS = {
    "authors": ("AU", "A1"),
    "editors": ("A2",),  # secondary authors: the entry's names only when it has no authors
    "title": ("TI", "T1", "CT"),
    "container": ("JO", "JF", "T2", "JA", "J2", "BT"),
    "year": ("PY", "Y1", "DA"),
    "volume": ("VL",),
    "pages": ("SP",),
    "label": ("ID",),
}


_CITATION_YEAR = re.compile(r"\((?:1[5-9]|20)\d\d[a-z]?\)")


def _cites(tag: str, value: str) -> bool:
    """A field listing works the record cites: ``CR``, ``N1  - References: ...``, or an ``M1``
    (elsewhere a number: "3", "e0123") holding a citation with its "(2006)" year."""
    return (
        tag == "CR"
        or (tag == "N1" and value.startswith("References:"))
        or (tag == "M1" and _CITATION_YEAR.search(value) is not None)
    )


def _cut_ris(buf: str) -> tuple[int, str]:
    i = buf.rfind("\nTY  -")
    return (i + 1, "\n") if i > 0 else cut_late(buf)


_RIS_START = re.compile(r"(?:\A|\n)[ \t]*TY[ \t]+-")


def read_ris(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records, each record a reference entry."""
    return read_tagged(
        chars, _cut_ris, lambda text: line_starts(_RIS_START, text), _RIS_TAG, RIS_FIELDS, _cites
    )


def read_tagged(
    chars: Iterable[str],
    cut: Callable[[str], tuple[int, str]],
    starts: Callable[[str], list[int]],
    tag: re.Pattern[str],
    names: dict[str, tuple[str, ...]],
    cites: Callable[[str, str], bool] | None = None,
    people: Callable[[list[str], dict[str, list[str]]], list[str]] | None = None,
) -> Iterator[Piece]:
    """Pieces of whole records of a tagged format (RIS, EndNote's .enw, RefWorks), windows cut
    by ``cut``, records starting where ``starts(text)`` says, each a reference entry
    (:func:`tagged_entries`)."""
    for window, prefix, offset, line in windows(chars, cut):
        text = prefix + window
        entries = tagged_entries(text, starts(text), tag, names, cites, people)
        yield Piece(text, offset - len(prefix), line - prefix.count("\n"), entries=entries)


def tagged_entries(
    text: str,
    at: list[int],
    tag: re.Pattern[str],
    names: dict[str, tuple[str, ...]],
    cites: Callable[[str, str], bool] | None = None,
    people: Callable[[list[str], dict[str, list[str]]], list[str]] | None = None,
) -> tuple[EntryMark, ...]:
    """One entry per record of a tagged format (RIS, EndNote's .enw; records starting at the
    offsets ``at``), its fields rendered;
    ``cites(tag, value)`` says which fields list works the record cites: the span from the
    first to the last of them is the entry's ``cited`` span. ``people(names, fields)`` turns a
    record's author lines into names (RefWorks: ``A1 Smith J;Doe A`` is two)."""
    out = []
    for start, end in zip(at, [*at[1:], len(text)], strict=False):
        record = text[start:end].rstrip()
        fields: dict[str, list[str]] = {}
        span: tuple[int, int] | None = None
        for m in tag.finditer(record):
            fields.setdefault(m.group("tag"), []).append(m.group("value"))
            if cites is not None and cites(m.group("tag"), m.group("value")):
                span = (span[0] if span else start + m.start(), start + m.end())

        def first(key: str, fields=fields) -> str | None:
            return next((fields[t][0] for t in names[key] if fields.get(t)), None)

        authors = [a for t in names["authors"] for a in fields.get(t, [])] or [
            a for t in names.get("editors", ()) for a in fields.get(t, [])
        ]
        if people is not None:
            authors = people(authors, fields)
        year = first("year")
        cited = render(
            authors,
            first("title"),
            first("container"),
            year[:4] if year else None,
            first("volume"),
            first("pages"),
        )
        out.append(EntryMark(start, start + len(record), cited, first("label"), span))
    return tuple(out)
