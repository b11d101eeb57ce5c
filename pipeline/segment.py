"""Reference segmentation: the text of one reference section cut into one span per entry.

Readers of flowing text (plain text, Markdown, HTML, PDF, DOCX paragraphs) hand the text of a
section whose role is ``reference`` to :func:`split_entries`; structured formats (JATS ``<ref>``,
BibTeX, RIS, PubMed ``<Reference>``) know their entries and do not need it. The spans it returns
become :class:`pipeline.records.ReferenceEntry` records.

The rule here is the first, simple one (numbered markers, else blank lines, else one line an
entry); reference matching refines it. Its signature is the contract between the two.
"""

from __future__ import annotations

import re

__all__ = ["split_entries", "entry_text"]

# "1.", "1)", "[12]", "(3)" at the start of a line: a numbered list.
_NUMBERED = re.compile(r"^[ \t]*(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,4}[.)])[ \t]+", re.MULTILINE)
_BLANK = re.compile(r"\n[ \t]*\r?\n")
_LEADING_NUMBER = re.compile(r"^\s*(?:\[(\d{1,4})\]|\((\d{1,4})\)|(\d{1,4})[.)])\s+")


def split_entries(text: str) -> list[tuple[int, int]]:
    """(start, end) of each reference entry in ``text``, the text of one reference section.

    Numbered markers at line starts cut entries when there are at least two; else blank lines
    do; else each non-empty line is an entry. Spans exclude surrounding whitespace.
    """
    cuts = [m.start() for m in _NUMBERED.finditer(text)]
    if len(cuts) >= 2:
        bounds = [*cuts, len(text)]
        return _trimmed(text, zip(bounds, bounds[1:], strict=False))
    parts = _BLANK.split(text)
    if len(parts) < 2:
        parts = text.split("\n")
    spans, at = [], 0
    for part in parts:
        start = text.index(part, at)
        spans.append((start, start + len(part)))
        at = start + len(part)
    return _trimmed(text, spans)


def _trimmed(text: str, spans) -> list[tuple[int, int]]:
    out = []
    for start, end in spans:
        chunk = text[start:end]
        left = len(chunk) - len(chunk.lstrip())
        right = len(chunk.rstrip())
        if right > left:
            out.append((start + left, start + right))
    return out


def entry_text(raw: str) -> tuple[str, str | None]:
    """(the entry on one line without its numbering, the number as printed or None)."""
    m = _LEADING_NUMBER.match(raw)
    label = next((g for g in m.groups() if g), None) if m else None
    body = raw[m.end() :] if m else raw
    return " ".join(body.split()), label
