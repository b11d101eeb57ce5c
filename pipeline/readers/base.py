"""What every reader shares: pieces of scan text, their map back to the file, and the limits.

A reader turns one file into a stream of :class:`Piece` objects: windows of *scan text* that
``pipeline.extract`` searches for identifiers and for structure (headings, list entries, role
marks). Synthetic characters (a ``PMID: `` label before a bare number in a typed field, a blank
line between two records, a role mark) are never reported: a :class:`SpanMap` maps scan-text
positions back to offsets and lines of the document's text, so a mention's ``start``/``end``
always point into it. For text formats that text is the decoded file; for PDF and DOCX it is the
extracted text that ``enrich extract --format text FILE`` prints.

The sizes below are read through this module at call time (``base.PIECE_SIZE``), so a test may
change them in one place.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "BLOCK_SIZE",
    "ENTRY_TEXT_CHARS",
    "LABELS",
    "MARK",
    "MAX_RUNS",
    "PIECE_SIZE",
    "SNIFF_SIZE",
    "Builder",
    "EntryMark",
    "LinkMark",
    "Piece",
    "SpanMap",
    "cut_late",
    "cut_text",
    "line_starts",
    "tagged_lines",
    "windows",
]

BLOCK_SIZE = 1 << 20  # bytes read at a time
PIECE_SIZE = 1 << 21  # characters of scan text per piece (about)
SNIFF_SIZE = 8192
MAX_RUNS = 1 << 16  # real runs per piece (an HTML page of tiny runs: bounded map size)
# Characters of an entry's citation text read at most (its record keeps the first 4,000): a
# 50 MB text node inside one entry is not split into 10 million words.
ENTRY_TEXT_CHARS = 1 << 14

# A private-use character starting a line marks a synthetic role switch (HTML <head> is the
# page's own metadata). It cannot be confused with a heading someone wrote.
MARK = "\ue000"

# --------------------------------------------------------------------------------------------
# Pieces and their map back to the file
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class SpanMap:
    """Where the real (non-synthetic) runs of a piece's text come from in the file.

    A run is copied verbatim (``raw`` equal to ``size``) or stands for a longer source text, such
    as ``<`` for ``&lt;`` (then only its ends map back exactly).
    """

    pos: list[int] = field(default_factory=list)  # run start in the piece text
    src: list[int] = field(default_factory=list)  # run start in the decoded file
    line: list[int] = field(default_factory=list)  # 1-based line of the run start
    size: list[int] = field(default_factory=list)  # run length in the piece
    raw: list[int] = field(default_factory=list)  # run length in the file

    def add(self, pos: int, src: int, line: int, size: int, raw: int | None = None) -> None:
        """Record a real run of ``size`` characters (``raw`` in the file, default the same)."""
        self.pos.append(pos)
        self.src.append(src)
        self.line.append(line)
        self.size.append(size)
        self.raw.append(size if raw is None else raw)

    def locate(self, text: str, p: int) -> tuple[int, int]:
        """(file offset, line) of piece position ``p``; a synthetic one maps to the next run."""
        i = bisect_right(self.pos, p) - 1
        if i >= 0 and p < self.pos[i] + self.size[i]:
            if self.raw[i] != self.size[i]:
                return self.src[i], self.line[i]
            return self.src[i] + p - self.pos[i], self.line[i] + text.count("\n", self.pos[i], p)
        if i + 1 < len(self.pos):
            return self.src[i + 1], self.line[i + 1]
        if i >= 0:
            return self.src[i] + self.raw[i], self.line[i]
        return 0, 1

    def locate_end(self, p: int) -> int:
        """File offset just after piece position ``p - 1`` (the end of a span ending at ``p``)."""
        i = bisect_right(self.pos, p - 1) - 1
        if i < 0:
            return 0
        if self.raw[i] != self.size[i] or p > self.pos[i] + self.size[i]:
            return self.src[i] + self.raw[i]
        return self.src[i] + p - self.pos[i]


@dataclass(frozen=True, slots=True)
class EntryMark:
    """A reference entry a structured reader knows (a JATS ``<ref>``, a BibTeX record...), in
    the scan-text coordinates of its piece. ``text`` is the entry as a citation, on one line.
    ``cited``: a span inside it listing the works the entry itself cites (a Web of Science
    record's ``CR`` lines): their identifiers are mentions, never the entry's ids."""

    start: int
    end: int
    text: str
    label: str | None = None
    cited: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True)
class LinkMark:
    """A link annotation of a page (PDF): ``target``, the span of its URI as written after the
    page, and ``anchor``, the span of the printed characters its rectangle covers (document
    offsets both). The identifiers in its target belong to the reference entry printed under it
    (``ReferenceList.attach_links``)."""

    target: tuple[int, int]
    anchor: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Piece:
    """A window of scan text.

    ``text[0]`` is at file offset ``base`` and line ``line`` when ``spans`` is None (plain text;
    ``base``/``line`` may be below 0/1 when synthetic line breaks were prepended). Otherwise
    ``spans`` maps positions back to the file.
    """

    text: str
    base: int = 0
    line: int = 1
    spans: SpanMap | None = None
    entries: tuple[EntryMark, ...] = ()  # reference entries the reader knows by structure
    links: tuple[LinkMark, ...] = ()  # link annotations and the printed text under them


class Builder:
    """Accumulates real and synthetic text into pieces."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.spans = SpanMap()
        self.entries: list[EntryMark] = []
        self.links: list[LinkMark] = []

    def real(self, s: str, src: int, line: int, raw: int | None = None) -> None:
        if s:
            self.spans.add(self.size, src, line, len(s), raw)
            self.parts.append(s)
            self.size += len(s)

    def synth(self, s: str) -> None:
        self.parts.append(s)
        self.size += len(s)

    def line_break(self) -> None:
        """A line break, unless the text already ends with one (two would make a blank line)."""
        if not self.parts or not self.parts[-1].endswith("\n"):
            self.synth("\n")

    def space(self) -> None:
        """A word separator, unless the text already ends with whitespace."""
        if self.parts and not self.parts[-1][-1:].isspace():
            self.synth(" ")

    def entry(self, start: int, text: str, label: str | None = None) -> None:
        """Record a reference entry from scan position ``start`` to the current end."""
        if self.size > start:
            self.entries.append(EntryMark(start, self.size, text, label))

    def take(self) -> Piece:
        piece = Piece(
            "".join(self.parts),
            spans=self.spans,
            entries=tuple(self.entries),
            links=tuple(self.links),
        )
        self.parts, self.size, self.spans, self.entries, self.links = [], 0, SpanMap(), [], []
        return piece


# Synthetic labels that make a bare value in a typed field count as that scheme.
LABELS = {
    "doi": "doi:",
    "pmid": "PMID: ",
    "pmcid": "PMCID: ",
    "arxiv": "arXiv:",
    "openalex": "OpenAlex: ",
}

# --------------------------------------------------------------------------------------------
# Re-blocking decoded text into windows
# --------------------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")


def windows(chars: Iterable[str], cut: Callable[[str], tuple[int, str]]) -> Iterator[tuple]:
    """Re-block ``chars`` into windows cut where ``cut`` says, keeping file offsets and lines.

    Yields (window text, synthetic prefix, file offset, line). ``cut(buf)`` returns the cut
    position and the prefix the next window needs to look as if it followed the cut (a blank line
    stays a blank line).
    """
    buf, offset, line, prefix = "", 0, 1, "\n\n"  # the file starts as if after a blank line
    for block in chars:
        buf += block
        if len(buf) < PIECE_SIZE:
            continue
        at, next_prefix = cut(buf)
        if at <= 0 or (at == len(buf) and len(buf) < 4 * PIECE_SIZE):
            continue  # nowhere safe to cut yet (a CSV row, one huge token): read on
        window, buf = buf[:at], buf[at:]
        yield window, prefix, offset, line
        offset += len(window)
        line += window.count("\n")
        prefix = next_prefix
    if buf:
        yield buf, prefix, offset, line


# A label at the end of a line ("PMID" above "41369097" in seed 000): never cut after it.
LABEL_AT_END = re.compile(
    r"(?:pmid|pmcid|pmc|pubmed(?:[ \t]*id)?|arxiv|openalex(?:[ \t]*id)?|doi)"
    r"[ \t]*[:=#-]?[ \t]*[{\"]?[ \t]*\r?\n?$",
    re.IGNORECASE,
)


def cut_text(buf: str) -> tuple[int, str]:
    """Cut after the last blank line, else the last line break, else the last blank.

    Only the tail is searched (no quadratic rescans). A blank line separates everything; a line
    break or a blank is used only where no label precedes it, so no identifier loses its label.
    """
    start = max(len(buf) - PIECE_SIZE // 2, 0)
    i = buf.rfind("\n\n", start)
    if i >= 0:
        return i + 2, "\n\n"
    ends = [m.end() for m in _BLANK_LINE.finditer(buf, start)]  # blanks holding " " or "\r"
    if ends:
        return ends[-1], "\n\n"
    for sep, prefix in (("\n", "\n"), (" ", "")):
        i = len(buf)
        for _ in range(64):
            i = buf.rfind(sep, start, i)
            if i < 0:
                break
            if not LABEL_AT_END.search(buf, max(i - 24, 0), i + 1):
                return i + 1, prefix
    return len(buf), ""  # one huge token: cut only when the window has grown too large


def cut_late(buf: str) -> tuple[int, str]:
    """For records (BibTeX, RIS): wait for the next record start unless the window is huge."""
    return cut_text(buf) if len(buf) >= 4 * PIECE_SIZE else (0, "")


def line_starts(pattern: re.Pattern[str], text: str) -> list[int]:
    """Where the lines start that ``pattern`` (written ``(?:\\A|\\n)...``: a record's first
    line) matches in ``text``."""
    return [m.start() + m.group().startswith("\n") for m in pattern.finditer(text)]


_LINE = re.compile(r"[^\n]*\n?")


def tagged_lines(
    window: str, tag: re.Pattern[str], offset: int, line: int
) -> Iterator[tuple[str, re.Match[str] | None, int, int]]:
    """The lines of a window of a tagged-field export (MEDLINE, Web of Science): each line's
    text (with its line end), its tag's match (None on a continuation line), and where it
    starts in the file (offset and line number)."""
    at, no = offset, line
    for m in _LINE.finditer(window):
        text = m.group()
        if not text:
            break
        yield text, tag.match(text), at, no
        at += len(text)
        no += text.count("\n")
