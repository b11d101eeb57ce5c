"""BibTeX: every record is one reference; ``eprint`` is an arXiv id only when its record says
``archivePrefix = {arXiv}`` (a synthetic ``arXiv:`` label is added there)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from pipeline.readers.base import Builder, EntryMark, Piece, cut_late, windows
from pipeline.readers.citation import render

__all__ = ["read_bibtex"]

_ENTRY_START = re.compile(r"(?:\A|\n)[ \t]*@(?!comment|preamble|string)[A-Za-z]+[ \t]*[{(]", re.I)
_EPRINT = re.compile(r"\beprint[ \t]*=[ \t]*[{\"][ \t]*(?=\d{4}\.\d|[a-z-]+(?:\.[A-Z]{2})?/\d)")
_ARXIV_PREFIX = re.compile(
    r"\b(?:archiveprefix|eprinttype)[ \t]*=[ \t]*[{\"]?[ \t]*arxiv\b", re.IGNORECASE
)
# field = {value with {one} level of braces} | "value" | 2020
_FIELD = re.compile(
    r"\b(?P<name>[A-Za-z]+)[ \t]*=[ \t]*"
    r"(?:\{(?P<b>(?:[^{}]|\{(?:[^{}]|\{[^{}]*\})*\})*)\}|\"(?P<q>[^\"]*)\"|(?P<n>\d+))"
)
_KEY = re.compile(r"@[A-Za-z]+[ \t]*[{(][ \t]*(?P<key>[^,\s]+)[ \t]*,")


def _cut_bib(buf: str) -> tuple[int, str]:
    i = buf.rfind("\n@")
    return (i + 1, "\n") if i > 0 else cut_late(buf)


def read_bibtex(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of whole records (a record longer than 4 pieces is cut anyway), each record a
    reference entry."""
    for window, prefix, offset, line in windows(chars, _cut_bib):
        text = prefix + window
        eprints = [m.end() for m in _EPRINT.finditer(text) if _entry_is_arxiv(text, m.start())]
        base, first = offset - len(prefix), line - prefix.count("\n")
        if not eprints:
            yield Piece(text, base, first, entries=tuple(_entries(text)))
            continue
        # "eprint = {2101.00001}" is an arXiv id only because its entry says archivePrefix.
        b, at, at_line = Builder(), 0, first
        for end in [*eprints, len(text)]:
            b.real(text[at:end], base + at, at_line)
            if end < len(text):
                b.synth("arXiv:")
            at_line += text.count("\n", at, end)
            at = end
        piece = b.take()
        yield Piece(piece.text, spans=piece.spans, entries=tuple(_entries(piece.text)))


def _entry_is_arxiv(text: str, at: int) -> bool:
    start = max(text.rfind("\n@", 0, at), 0)
    end = text.find("\n@", at)
    return _ARXIV_PREFIX.search(text, start, end if end >= 0 else len(text)) is not None


def _entries(text: str) -> Iterator[EntryMark]:
    starts = [m.start() + (m.group().startswith("\n")) for m in _ENTRY_START.finditer(text)]
    for start, end in zip(starts, [*starts[1:], len(text)], strict=False):
        record = text[start:end].rstrip()
        fields: dict[str, str] = {}
        for m in _FIELD.finditer(record):
            value = m.group("b") if m.group("b") is not None else m.group("q") or m.group("n")
            fields.setdefault(m.group("name").lower(), value or "")
        key = _KEY.match(record)
        authors = [a.strip() for a in re.split(r"\s+and\s+", fields.get("author", "")) if a]
        cited = render(
            authors,
            fields.get("title"),
            fields.get("journal") or fields.get("booktitle") or fields.get("publisher"),
            fields.get("year"),
            fields.get("volume"),
            fields.get("pages"),
        )
        yield EntryMark(start, start + len(record), cited, key.group("key") if key else None)
