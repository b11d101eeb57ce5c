"""A document's reference list, entry by entry, for the readers of this release.

A stop-gap with one entry point, :func:`reference_entries`, called by ``extract_document``:
issue 16 moves the readers to ``pipeline/readers/`` and fills ``SeedDocument.references`` from
each format's own structure; this module is what to port there (or drop where a reader does it).

- text and Markdown: the text under a heading whose role is ``reference`` ("References",
  "Bibliography", "Literature cited"...), up to the next heading, cut by
  ``pipeline.segment.split_entries``;
- HTML: the same on the page's visible text (headings become ``## Title`` lines, list items and
  paragraphs blocks), offsets mapped back into the file;
- BibTeX and RIS: one entry per record, its fields written out as a reference string
  ("Authors (year). Title. Journal, volume(issue), pages."), its DOI/PMID kept in ``ids``.

An entry's ``ids`` are the identifiers extraction found inside it (its mentions), so an entry
that prints a DOI or PMID is not matched by text. Never raises: a file it cannot read yields no
entries (extraction reports the file's problems).
"""

from __future__ import annotations

import logging
import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from pipeline.documents import SNIFF_SIZE, NotUtf8, RawFile, detect_kind, read_pieces
from pipeline.records import Identifier, Mention, ReferenceEntry
from pipeline.segment import entry_text, split_entries

log = logging.getLogger(__name__)

MAX_BYTES = 50 * 1024 * 1024  # a reference list is never this large; bigger files are skipped
_ATX = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_SETEXT = re.compile(r"^[ \t]{0,3}(?:={3,}|-{3,})[ \t]*$")


def reference_entries(path: str, mentions: Sequence[Mention]) -> tuple[ReferenceEntry, ...]:
    """The reference entries of one file (see the module docstring); () when it has none."""
    try:
        if os.path.getsize(path) > MAX_BYTES:
            return ()
        text = _decoded(path)
        kind = detect_kind(path, text[:SNIFF_SIZE])
        if kind in ("text", "markdown"):
            found = _flowing(path, text, 0, None) or _whole_list(path, text)
        elif kind == "html":
            found = _html(path, text)
        elif kind == "bibtex":
            found = _records(path, text, _BIB_START, _bibtex_string)
        elif kind == "ris":
            found = _records(path, text, _RIS_START, _ris_string)
        else:
            return ()
    except Exception as exc:  # a reference list is a bonus: never the reason a file fails
        log.debug("%s: reference list not read: %s", path, exc, exc_info=True)
        return ()
    return tuple(_with_ids(found, mentions))


def _decoded(path: str) -> str:
    try:
        return "".join(RawFile(path).chars())
    except NotUtf8:
        return "".join(RawFile(path, "cp1252").chars())


def _with_ids(entries: list[ReferenceEntry], mentions: Sequence[Mention]) -> list[ReferenceEntry]:
    ordered = sorted(mentions, key=lambda m: m.start)  # already in order: a linear pass
    starts = [m.start for m in ordered]
    out = []
    for e in entries:
        lo, hi = bisect_left(starts, e.start), bisect_left(starts, e.end)
        ids = tuple(dict.fromkeys(m.identifier for m in ordered[lo:hi]))
        out.append(_replace_ids(e, ids) if ids else e)
    return out


class _Lines:
    """1-based line of a text offset, by bisection over the line starts (counted once)."""

    def __init__(self, text: str) -> None:
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def __call__(self, offset: int) -> int:
        return bisect_right(self.starts, offset)


def _replace_ids(e: ReferenceEntry, ids: tuple[Identifier, ...]) -> ReferenceEntry:
    return ReferenceEntry(
        e.document, e.start, e.end, e.line, e.text, (*e.ids, *ids), e.section, e.label
    )


# ------------------------------------------------------------------------------------------
# Flowing text: sections under a reference heading
# ------------------------------------------------------------------------------------------


def _sections(text: str) -> list[tuple[int, int, str]]:
    """(start, end, heading) of each reference section of ``text``.

    Candidate heading lines are found by one regex pass (``_HEADING_LINES``), then confirmed by
    the extractor's own ``heading_role``."""
    from pipeline.extract import heading_role  # the extractor's own heading vocabulary

    out: list[tuple[int, int, str]] = []
    open_at: tuple[int, str] | None = None
    for m in _HEADING_LINES.finditer(text):
        line = m.group()
        title = _heading_title(line)
        if title is None:
            continue
        known, role = heading_role(title)
        if open_at is not None and (known or _ATX.match(line)):
            out.append((open_at[0], m.start(), open_at[1]))
            open_at = None
        if known and role == "reference":
            end = text.find("\n", m.end())
            open_at = (len(text) if end < 0 else end + 1, title)
    if open_at is not None:
        out.append((open_at[0], len(text), open_at[1]))
    return out


# Lines that may be headings: "## " lines, and short lines starting with a letter (after
# numbering or markup); heading_role decides. One C-level pass finds them: a Python loop over
# every line, or one regex of the whole heading vocabulary, cost 1.2-1.7 s per 10 MB.
_HEADING_LINES = re.compile(
    r"^[ \t]{0,3}#{1,6}[ \t][^\n]*$|^[ \t#*_=>\d.)(\[\]-]{0,12}[A-Za-z][^\n]{0,59}$", re.MULTILINE
)


def _heading_title(line: str) -> str | None:
    """The title of a heading line: a "## Title" line's text, or a short line stripped."""
    m = _ATX.match(line.rstrip("\r\n"))
    if m:
        return m.group(2)
    stripped = line.strip()
    if 0 < len(stripped) <= 60:
        return stripped.strip("*_: ")
    return None


def _flowing(path: str, text: str, base: int, spans) -> list[ReferenceEntry]:
    out = []
    line_of = _Lines(text) if spans is None else None
    for start, end, heading in _sections(text):
        section = text[start:end]
        for s, e in split_entries(section):
            body, label = entry_text(section[s:e])
            if not body:
                continue
            a, b = start + s, start + e
            if spans is None:
                first, last, line = base + a, base + b, line_of(a)
            else:
                (first, line), last = spans.locate(text, a), spans.locate_end(b)
            out.append(ReferenceEntry(path, first, last, line, body, (), heading, label))
    return out


_LOOKS_LISTED = re.compile(
    r"^\s*(?:\[\d{1,4}\]|\(\d{1,4}\)|\d{1,4}[.)]|[-*\u2022])\s|\bet al\b", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)(?:1[5-9]\d\d|20\d\d)(?!\d)")
WHOLE_LIST_SHARE = 0.8  # of a headingless file's entries that must look like references


def _whole_list(path: str, text: str) -> list[ReferenceEntry]:
    """A file that is nothing but a reference list (no heading): its entries, when at least
    WHOLE_LIST_SHARE of them look like references (a year, and a list marker, an author list
    or "et al." at the start); else none, so prose is never taken for a list."""
    from pipeline.segment import _AUTHOR_START  # the segmenter's own author-list start

    spans = split_entries(text)
    if len(spans) < 2:
        return []
    listed = 0
    for s, e in spans:
        chunk = text[s:e]
        if _YEAR.search(chunk) and (
            _LOOKS_LISTED.search(chunk[:200]) or _AUTHOR_START.match(chunk)
        ):
            listed += 1
    if listed < WHOLE_LIST_SHARE * len(spans):
        return []
    out, line_of = [], _Lines(text)
    for s, e in spans:
        body, label = entry_text(text[s:e])
        if body:
            out.append(ReferenceEntry(path, s, e, line_of(s), body, (), None, label))
    return out


def _html(path: str, text: str) -> list[ReferenceEntry]:
    out = []
    for piece in read_pieces("html", [text]):
        out += _flowing(path, piece.text, piece.base, piece.spans)
    return out


# ------------------------------------------------------------------------------------------
# Records: BibTeX and RIS
# ------------------------------------------------------------------------------------------

_BIB_START = re.compile(r"^[ \t]*@(?!comment|string|preamble)[A-Za-z]+[ \t]*[{(]", re.I | re.M)
_RIS_START = re.compile(r"^[ \t]*TY[ \t]+-", re.M)
_BIB_FIELD = re.compile(r"([A-Za-z][\w-]*)\s*=\s*")


def _records(path: str, text: str, start_re: re.Pattern[str], render) -> list[ReferenceEntry]:
    starts = [m.start() for m in start_re.finditer(text)]
    out, line_of = [], _Lines(text)
    for a, b in zip(starts, [*starts[1:], len(text)], strict=False):
        body = render(text[a:b])
        if body:
            end = a + len(text[a:b].rstrip())
            out.append(ReferenceEntry(path, a, end, line_of(a), body))
    return out


def _bib_fields(record: str) -> dict[str, str]:
    """``name = {value}`` / ``"value"`` / ``123`` fields of one BibTeX record (braces nest)."""
    fields: dict[str, str] = {}
    for m in _BIB_FIELD.finditer(record):
        at = m.end()
        if at >= len(record):
            break
        opener = record[at]
        if opener in '{"':
            closer, depth, i = ("}" if opener == "{" else '"'), 0, at
            while i < len(record):
                ch = record[i]
                if opener == "{" and ch == "{":
                    depth += 1
                elif ch == closer and (opener == '"' and i > at or depth == 1):
                    break
                elif opener == "{" and ch == "}":
                    depth -= 1
                i += 1
            value = record[at + 1 : i]
        else:
            value = re.match(r"[^,}\n]*", record[at:]).group()
        fields.setdefault(
            m.group(1).lower(), " ".join(value.replace("{", "").replace("}", "").split())
        )
    return fields


def _bibtex_string(record: str) -> str:
    f = _bib_fields(record)
    authors = [
        a.strip()
        for a in re.split(r"\s+and\s+", f.get("author", "") or f.get("editor", ""))
        if a.strip()
    ]
    return _render(
        authors=[_family_first(a) for a in authors],
        year=f.get("year", ""),
        title=f.get("title", ""),
        container=f.get("journal") or f.get("booktitle") or f.get("publisher", ""),
        volume=f.get("volume", ""),
        issue=f.get("number", ""),
        pages=f.get("pages", "").replace("--", "-"),
    )


def _ris_string(record: str) -> str:
    tags: dict[str, list[str]] = {}
    for line in record.splitlines():
        m = re.match(r"^[ \t]*([A-Z][A-Z0-9])[ \t]+-[ \t]?(.*)$", line)
        if m:
            tags.setdefault(m.group(1), []).append(m.group(2).strip())
    first = lambda *names: next((tags[n][0] for n in names if tags.get(n)), "")  # noqa: E731
    pages = "-".join(p for p in (first("SP"), first("EP")) if p)
    return _render(
        authors=[_family_first(a) for a in tags.get("AU", []) + tags.get("A1", [])],
        year=(first("PY", "Y1", "DA") or "")[:4],
        title=first("TI", "T1"),
        container=first("T2", "JO", "JF", "JA", "BT", "PB"),
        volume=first("VL"),
        issue=first("IS"),
        pages=pages,
    )


def _family_first(name: str) -> str:
    """``'Smith, John A.'`` / ``'John A. Smith'`` -> ``'Smith JA'``."""
    if "," in name:
        family, given = (p.strip() for p in name.split(",", 1))
    else:
        parts = name.split()
        family, given = (parts[-1], " ".join(parts[:-1])) if parts else ("", "")
    initials = "".join(w[0] for w in re.split(r"[\s.\-]+", given) if w)
    return f"{family} {initials}".strip()


def _render(*, authors, year, title, container, volume, issue, pages) -> str:
    parts = []
    if authors:
        parts.append(", ".join(authors))
    if year:
        parts.append(f"({year})")
    head = " ".join(parts)
    out = [p for p in (head, title.rstrip(". ")) if p]
    tail = container
    if volume:
        tail += f" {volume}" + (f"({issue})" if issue else "")
    if pages:
        tail += f": {pages}"
    if tail.strip():
        out.append(tail.strip())
    return ". ".join(out) + "." if out else ""
