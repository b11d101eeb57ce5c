"""Read a seed file (text, Markdown, HTML, BibTeX, RIS, CSV/TSV) into scannable pieces. No I/O policy.

A reader turns the decoded characters of one file into a stream of :class:`Piece` objects: windows
of *scan text* that ``pipeline.extract`` searches for identifiers and for structure (headings,
list entries). Plain formats are scanned as they are. Structured formats are rewritten a little so
that one scanner serves them all:

- HTML becomes its visible text plus link targets and ``citation_*`` meta values; headings become
  ``## Title`` lines, list items and paragraphs are separated by blank lines.
- A CSV row becomes a paragraph with one cell per line; a cell of a ``pmid`` column gets a
  synthetic ``PMID:`` label, so the bare number there counts as one.
- A BibTeX ``eprint`` whose entry says ``archivePrefix = {arXiv}`` gets a synthetic ``arXiv:``.

Synthetic characters are never reported: a :class:`SpanMap` maps scan-text positions back to
offsets and lines of the decoded file, so a mention's ``start``/``end`` always point into the file.

Files are read in blocks and pieces are cut at blank lines (or entry starts), so a 200 MB file is
processed in bounded memory and no identifier straddles two pieces.
"""

from __future__ import annotations

import codecs
import hashlib
import html
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pipeline.identifiers import find_identifiers

__all__ = [
    "MARK",
    "SNIFF_SIZE",
    "BinaryFile",
    "Layout",
    "NotUtf8",
    "Piece",
    "RawFile",
    "SpanMap",
    "detect_kind",
    "layout_for",
    "read_pieces",
]

BLOCK_SIZE = 1 << 20  # bytes read at a time
PIECE_SIZE = 1 << 21  # characters of scan text per piece (about)
SNIFF_SIZE = 8192
MAX_RUNS = 1 << 16  # real runs per piece (an HTML page of tiny runs: bounded map size)

# A private-use character starting a line marks a synthetic role switch (HTML <head> is the
# page's own metadata). It cannot be confused with a heading someone wrote.
MARK = "\ue000"


class BinaryFile(Exception):
    """The file is not text (NUL bytes or a known binary signature)."""


class NotUtf8(Exception):
    """The bytes are not valid UTF-8 (or UTF-16/32); the caller decodes again with a fallback.

    ``encoding`` names the Unicode encoding the file was read as ("utf-8", "utf-16-le", …).
    """

    def __init__(self, message: str, encoding: str = "utf-8") -> None:
        super().__init__(message)
        self.encoding = encoding


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


class _Builder:
    """Accumulates real and synthetic text into pieces."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.spans = SpanMap()

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

    def take(self) -> Piece:
        piece = Piece("".join(self.parts), spans=self.spans)
        self.parts, self.size, self.spans = [], 0, SpanMap()
        return piece


# --------------------------------------------------------------------------------------------
# Kinds and their structure
# --------------------------------------------------------------------------------------------

_EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".nbib": "text",  # PubMed/MEDLINE export: "PMID- 123" records separated by blank lines
    ".medline": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".bib": "bibtex",
    ".bibtex": "bibtex",
    ".ris": "ris",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}
_ID_COLUMNS = {
    "doi": "doi",
    "pmid": "pmid",
    "pubmed": "pmid",
    "pubmedid": "pmid",
    "pmcid": "pmcid",
    "pmc": "pmcid",
    "arxiv": "arxiv",
    "arxivid": "arxiv",
    "eprint": "arxiv",
    "openalex": "openalex",
    "openalexid": "openalex",
}
# Synthetic labels that make a bare value in a typed field count as that scheme.
_LABELS = {
    "doi": "doi:",
    "pmid": "PMID: ",
    "pmcid": "PMCID: ",
    "arxiv": "arXiv:",
    "openalex": "OpenAlex: ",
}


def detect_kind(path: str, head: str) -> str:
    """The reader for a file: by extension, else (and for ``.txt``) by sniffing its first text."""
    kind = _EXTENSIONS.get(Path(path).suffix.lower())
    if kind not in (None, "text"):
        return kind
    sniffed = _sniff(head)
    return sniffed or kind or "text"


_SNIFF_HTML = re.compile(r"\A\s*(?:<!doctype html|<html|<\?xml[^>]*>\s*<html)", re.IGNORECASE)
_SNIFF_BIB = re.compile(r"\A(?:\s*%[^\n]*\n)*\s*@[A-Za-z]+\s*[{(]")
_SNIFF_RIS = re.compile(r"\A\s*TY  - ")


def _sniff(head: str) -> str | None:
    if _SNIFF_HTML.match(head) or (
        "<body" in head.lower() and re.search(r"</(?:p|div|a|li)>", head, re.IGNORECASE)
    ):
        return "html"
    if _SNIFF_BIB.match(head):
        return "bibtex"
    if _SNIFF_RIS.match(head):
        return "ris"
    first = head.lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    cells = first.split(delimiter)
    # A header row: several short names, one of them an identifier column ("doi", "pmid").
    if len(cells) > 1 and all(_HEADER_CELL.fullmatch(c) for c in cells):
        if {_column_key(c) for c in cells} & _ID_COLUMNS.keys():
            return "tsv" if delimiter == "\t" else "csv"
    return None


_HEADER_CELL = re.compile(r"\s*\"?[A-Za-z_][A-Za-z0-9_ .-]{0,39}\"?\s*")


def _column_key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.strip().strip('"').lower())


# Structure patterns: every alternative starts with "\n" (a literal, so the search is fast).
# Groups: blank (blank line; "cand" the line after it, "nb" set when that line is itself
# followed by a blank line), item (a list marker), atx/atxt (a "## Title" heading), rule (a
# setext underline), entry (a BibTeX/RIS record start), mark (a synthetic role switch).
# Structure patterns. Every alternative starts with "\n" (a literal, so the search is fast).
# ``heads`` finds the rare events: a short line after a blank line that may be a heading
# ("cand"; "nb" set when a blank line follows it too), a "## Title" line ("atx"/"atxt"), a setext
# underline ("rule") and a synthetic role switch ("mark"). ``boundary`` finds what ends a list
# entry: a blank line, a list marker, a BibTeX/RIS record start.
_CAND = (
    # A heading line: after a blank line, at most 60 characters, starting with a letter (after
    # "1." numbering), not ending like a sentence. The match starts at the blank line's own
    # line break and takes no run of several blank lines, so a run of 100,000 of them costs a
    # step each, not a rescan from each. Possessive {0,59}+: a long line fails at once instead
    # of backtracking. Most short lines are values ("2025"), excluded here, in C.
    r"\n[ \t]*\r?\n"
    r"(?P<cand>(?:\d{1,2}[.)]?[ \t]+)?[A-Za-z*_(\[][^\n]{0,59}+)(?<![.,;])"
    r"(?=\n(?P<nb>[ \t]*\r?\n)?|\Z)"
)
_ATX = r"\n[ \t]{0,3}(?P<atx>#{1,6})[ \t]+(?P<atxt>[^\n]*+)"
_RULE = r"\n[ \t]{0,3}(?P<rule>={3,}|-{3,})[ \t]*\r?(?=\n|\Z)"
_MARK = r"\n" + MARK + r"(?P<mark>[a-z]+)"
_BLANK = r"\n[ \t]*\r?\n"
_ITEM = r"\n[ \t]*(?:\d{1,4}[.)]|[-*\u2022+]|\[\d{1,4}\])(?=[ \t\r\n])"


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives))


@dataclass(frozen=True, slots=True)
class Layout:
    """How one kind of file is structured for the extractor."""

    kind: str
    heads: re.Pattern[str]
    boundary: re.Pattern[str]
    default_role: str = "mention"
    first_line_subject: bool = False  # "» Articles » PMID: 36455991" at the top names the page


_LAYOUTS = {
    "text": Layout("text", _any(_CAND, _ATX, _MARK), _any(_BLANK, _ITEM), first_line_subject=True),
    "markdown": Layout(
        "markdown",
        _any(_CAND, _ATX, _RULE, _MARK),
        _any(_BLANK, _ITEM, _RULE),
        first_line_subject=True,
    ),
    "html": Layout("html", _any(_CAND, _ATX, _MARK), _any(_BLANK, _ITEM)),
    # A .bib or .ris file is a bibliography: every entry is a reference.
    "bibtex": Layout(
        "bibtex", _any(_MARK), _any(r"\n[ \t]*@[A-Za-z]+[ \t]*[{(]"), default_role="reference"
    ),
    "ris": Layout("ris", _any(_MARK), _any(r"\n[ \t]*TY[ \t]+-"), default_role="reference"),
    "csv": Layout("csv", _any(_MARK), _any(_BLANK)),
}
_LAYOUTS["tsv"] = _LAYOUTS["csv"]


def layout_for(kind: str) -> Layout:
    """The :class:`Layout` of a kind returned by :func:`detect_kind`."""
    return _LAYOUTS[kind]


# --------------------------------------------------------------------------------------------
# Bytes -> characters
# --------------------------------------------------------------------------------------------

_BINARY_MAGIC = (b"\x89PNG", b"%PDF", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b")
_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _fallback_handler(encoding: str) -> str:
    """The name of a decoding error handler that reads each undecodable byte run as
    ``encoding`` (bytes it does not define become U+FFFD).

    A file that is UTF-8 but for a stray Windows byte keeps its UTF-8 characters (and so its
    offsets), and a file that is all cp1252 reads exactly as cp1252.
    """
    name = f"enrich-fallback-{encoding}"
    try:
        codecs.lookup_error(name)
    except LookupError:

        def handler(exc: UnicodeError) -> tuple[str, int]:
            if not isinstance(exc, UnicodeDecodeError):
                raise exc
            bad = exc.object[exc.start : exc.end]
            return bytes(bad).decode(encoding, errors="replace"), exc.end

        codecs.register_error(name, handler)
    return name


def _utf16_without_bom(sample: bytes) -> str | None:
    """Name "utf-16-le" or "utf-16-be" when ``sample`` looks like BOM-less UTF-16 text (mostly Latin:
    a NUL in every other byte, none in the others), else None."""
    n = len(sample) - len(sample) % 2
    if n < 4:
        return None
    even, odd = sample[0:n:2].count(0), sample[1:n:2].count(0)
    for nuls, others, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if others == 0 and nuls * 10 >= n // 2 * 3:  # 30 % of the characters or more
            try:
                codecs.getincrementaldecoder(name)().decode(sample[:n], False)
            except UnicodeDecodeError:
                return None
            return name
    return None


class RawFile:
    """A file read once in blocks: counts and hashes the bytes while decoding them.

    The encoding is UTF-8 (a BOM dropped), or UTF-16/UTF-32 by their BOM, or BOM-less UTF-16
    recognised by its NUL bytes. ``encoding`` None decodes strictly and raises :class:`NotUtf8`
    on the first undecodable byte, so the caller can read again with a fallback such as
    ``cp1252``: then each undecodable byte run of a UTF-8 file is read as that encoding, and in a
    UTF-16/32 file it is replaced by U+FFFD. ``unicode`` names the encoding used.
    """

    def __init__(self, path: str, encoding: str | None = None) -> None:
        self.path = path
        self.encoding = encoding
        self.unicode = "utf-8"
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def chars(self) -> Iterator[str]:
        """The decoded text, block by block. Raises BinaryFile, NotUtf8, OSError."""
        with open(self.path, "rb") as fh:
            first = fh.read(BLOCK_SIZE)
            decoder = self._decoder(first)
            block = first
            while block:
                self.sha256.update(block)
                self.bytes += len(block)
                yield self._decode(decoder, block, final=False)
                block = fh.read(BLOCK_SIZE)
            yield self._decode(decoder, b"", final=True)

    def _decoder(self, first: bytes) -> codecs.IncrementalDecoder:
        name = next((n for bom, n in _BOMS if first.startswith(bom)), None)
        if name is None:
            if first.startswith(_BINARY_MAGIC):
                raise BinaryFile("binary file (NUL bytes or a binary signature); not read")
            if b"\x00" in first[:SNIFF_SIZE]:
                name = _utf16_without_bom(first[:SNIFF_SIZE])
                if name is None:
                    raise BinaryFile("binary file (NUL bytes or a binary signature); not read")
        self.unicode = name or "utf-8"
        if not self.encoding:
            return codecs.getincrementaldecoder(name or "utf-8-sig")()
        if name:  # UTF-16/32 with broken code units: replaced, there is no byte to reread
            return codecs.getincrementaldecoder(name)(errors="replace")
        return codecs.getincrementaldecoder("utf-8-sig")(errors=_fallback_handler(self.encoding))

    def _decode(self, decoder: codecs.IncrementalDecoder, block: bytes, *, final: bool) -> str:
        try:
            return decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            raise NotUtf8(str(exc), self.unicode) from None


# --------------------------------------------------------------------------------------------
# Readers: characters -> pieces
# --------------------------------------------------------------------------------------------

_BLANK_LINE = re.compile(r"\n[ \t]*\r?\n")


def read_pieces(kind: str, chars: Iterable[str]) -> Iterator[Piece]:
    """The pieces of a file of ``kind`` whose decoded text arrives as ``chars`` blocks."""
    reader: Callable[[Iterable[str]], Iterator[Piece]] = _READERS[kind]
    return reader(chars)


def _windows(chars: Iterable[str], cut: Callable[[str], tuple[int, str]]) -> Iterator[tuple]:
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
_LABEL_AT_END = re.compile(
    r"(?:pmid|pmcid|pmc|pubmed(?:[ \t]*id)?|arxiv|openalex(?:[ \t]*id)?|doi)"
    r"[ \t]*[:=#-]?[ \t]*[{\"]?[ \t]*\r?\n?$",
    re.IGNORECASE,
)


def _cut_text(buf: str) -> tuple[int, str]:
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
            if not _LABEL_AT_END.search(buf, max(i - 24, 0), i + 1):
                return i + 1, prefix
    return len(buf), ""  # one huge token: cut only when the window has grown too large


def _cut_late(buf: str) -> tuple[int, str]:
    """For records (BibTeX, RIS): wait for the next record start unless the window is huge."""
    return _cut_text(buf) if len(buf) >= 4 * PIECE_SIZE else (0, "")


def _read_text(chars: Iterable[str]) -> Iterator[Piece]:
    for window, prefix, offset, line in _windows(chars, _cut_text):
        yield Piece(prefix + window, offset - len(prefix), line - prefix.count("\n"))


_ENTRY_START = re.compile(r"\n[ \t]*@[A-Za-z]+[ \t]*[{(]")
_EPRINT = re.compile(r"\beprint[ \t]*=[ \t]*[{\"][ \t]*(?=\d{4}\.\d|[a-z-]+(?:\.[A-Z]{2})?/\d)")
_ARXIV_PREFIX = re.compile(
    r"\b(?:archiveprefix|eprinttype)[ \t]*=[ \t]*[{\"]?[ \t]*arxiv\b", re.IGNORECASE
)


def _cut_bib(buf: str) -> tuple[int, str]:
    i = buf.rfind("\n@")
    return (i + 1, "\n") if i > 0 else _cut_late(buf)


def _read_bibtex(chars: Iterable[str]) -> Iterator[Piece]:
    for window, prefix, offset, line in _windows(chars, _cut_bib):
        text = prefix + window
        eprints = [m.end() for m in _EPRINT.finditer(text) if _entry_is_arxiv(text, m.start())]
        base, first = offset - len(prefix), line - prefix.count("\n")
        if not eprints:
            yield Piece(text, base, first)
            continue
        # "eprint = {2101.00001}" is an arXiv id only because its entry says archivePrefix.
        b, at, at_line = _Builder(), 0, first
        for end in [*eprints, len(text)]:
            b.real(text[at:end], base + at, at_line)
            if end < len(text):
                b.synth("arXiv:")
            at_line += text.count("\n", at, end)
            at = end
        yield b.take()


def _entry_is_arxiv(text: str, at: int) -> bool:
    start = max(text.rfind("\n@", 0, at), 0)
    end = text.find("\n@", at)
    return _ARXIV_PREFIX.search(text, start, end if end >= 0 else len(text)) is not None


def _cut_ris(buf: str) -> tuple[int, str]:
    i = buf.rfind("\nTY  -")
    return (i + 1, "\n") if i > 0 else _cut_late(buf)


def _read_ris(chars: Iterable[str]) -> Iterator[Piece]:
    for window, prefix, offset, line in _windows(chars, _cut_ris):
        yield Piece(prefix + window, offset - len(prefix), line - prefix.count("\n"))


# --------------------------------------------------------------------------------------------
# CSV / TSV
# --------------------------------------------------------------------------------------------


# A row ends at "\r\n", "\n" or a lone "\r" (classic Mac exports). A field is quoted only when the
# whole quoted form stands between delimiters; otherwise (an inch mark in ``5" screen``, an
# unterminated quote) it is unquoted text up to the next delimiter or line end.
_EOL = r"\r\n?|\n"


def _blank(delimiter: str) -> str:
    """Blanks allowed around a quoted field: never the delimiter (a TSV's tab)."""
    return "[ ]" if delimiter == "\t" else r"[ \t]"


def _csv_field(delimiter: str) -> re.Pattern[str]:
    d, blank = re.escape(delimiter), _blank(delimiter)
    return re.compile(
        rf'{blank}*"(?P<q>(?:[^"]|"")*)"{blank}*(?P<e>{d}|{_EOL}|\Z)'
        rf"|(?P<u>[^{d}\r\n]*)(?P<f>{d}|{_EOL}|\Z)"
    )


def _csv_rows(delimiter: str) -> re.Pattern[str]:
    """Whole rows as the field pattern reads them (atomic fields: the same first choice), so
    one C-level match finds the end of the last complete row of a buffer. A field that opens a
    quote still running at the end of the buffer is not read as unquoted text: its row is left
    for the next window, where the quote may close."""
    d, blank = re.escape(delimiter), _blank(delimiter)
    quoted = rf'{blank}*"(?:[^"]|"")*+"{blank}*(?={d}|[\r\n]|\Z)'
    still_open = rf'{blank}*"(?:[^"]|"")*+"?\Z'
    field = rf"(?>{quoted}|(?!{still_open})[^{d}\r\n]*+)"
    return re.compile(rf"(?:(?:{field}{d})*{field}(?:{_EOL}))*")


MAX_CELLS = 4096  # cells of one row held at a time (a file of one endless line: bounded)


def _read_csv(chars: Iterable[str], delimiter: str = ",") -> Iterator[Piece]:
    """One paragraph per row, one line per cell; typed cells get a synthetic label."""
    pattern, b = _csv_field(delimiter), _Builder()
    columns: list[str | None] | None = None
    row: list[tuple[str, int, int]] = []  # (value, file offset, line)
    first = 0  # column of row[0]: a row longer than MAX_CELLS is emitted in parts
    in_header = False  # the rest of a header row longer than MAX_CELLS is still to come

    def end_row(complete: bool = True) -> None:
        nonlocal columns, first, in_header
        keys = (
            [_ID_COLUMNS.get(_column_key(v)) for v, _, _ in row]
            if columns is None or in_header
            else []
        )
        if columns is None:
            columns = keys  # the first row (its first MAX_CELLS cells decide) is a header...
            in_header = any(keys) and not complete
            if not any(keys):  # ...only if it names an identifier column; else it is data
                _emit_row(b, row, columns, 0)
        elif in_header:
            columns.extend(keys)
            in_header = not complete
        else:
            _emit_row(b, row, columns, first)
        first = 0 if complete else first + len(row)
        row.clear()

    windows = _windows(chars, _csv_cutter(delimiter))
    following = next(windows, None)
    while following is not None:
        window, _prefix, offset, line = following
        following = next(windows, None)  # only the file's last window ends a row at its end
        last = 0
        for m in pattern.finditer(window):
            if m.start() == len(window) and (not row or following is not None):
                break  # the empty match at the end of the window
            quoted = m.group("q") is not None
            value, at = (m.group("q"), m.start("q")) if quoted else (m.group("u"), m.start("u"))
            line += window.count("\n", last, at)
            last = at
            row.append((value, offset + at, line))
            if (m.group("e") if quoted else m.group("f")) == delimiter or (
                m.end() == len(window) and following is not None and not m.group().endswith("\n")
            ):
                if len(row) >= MAX_CELLS:
                    end_row(complete=False)
                continue
            end_row()
            if m.end() == len(window):
                break
        line += window.count("\n", last)
        if b.size:
            yield b.take()
    if row:  # the last row ended with a delimiter and no line break
        end_row()
        if b.size:
            yield b.take()


def _emit_row(
    b: _Builder, row: list[tuple[str, int, int]], columns: list[str | None], first: int
) -> None:
    if not first:
        b.synth("\n\n")
    for i, (value, src, line) in enumerate(row, first):
        if not value.strip():
            continue  # an empty cell must not make a blank line, which would split the row
        scheme = columns[i] if i < len(columns) else None
        # A bare value gets its column's label; a cell that names its identifier itself (a DOI
        # or "PMID: 1" in a pmid column) is scanned as written, so 10.1000/x is not PMID 10.
        if scheme is not None and (value.isdigit() or not find_identifiers(value)):
            b.synth(_LABELS[scheme])
        b.real(value, src, line)
        b.synth("\n")


def _csv_cutter(delimiter: str) -> Callable[[str], tuple[int, str]]:
    rows = _csv_rows(delimiter)

    def cut(buf: str) -> tuple[int, str]:
        """After the last complete row, never inside a quoted cell that may go on. Linear in
        the buffer. A "row" longer than 4 pieces is not one: cut at a line break, else after a
        delimiter, anyway."""
        at = rows.match(buf).end()
        if at > 0 or len(buf) < 4 * PIECE_SIZE:
            return at, ""
        i = max(buf.rfind("\n"), buf.rfind("\r"), buf.rfind(delimiter))
        return (i + 1 if i > 0 else len(buf)), ""

    return cut


def _read_tsv(chars: Iterable[str]) -> Iterator[Piece]:
    return _read_csv(chars, "\t")


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption dd details div dl dt fieldset figcaption "
    "figure footer form header hr li main nav ol p pre section summary table tbody td tfoot th "
    "thead tr ul title".split()
)
_ENTRY_TAGS = frozenset({"li", "tr", "dd", "dt"})  # one list entry = one work
_HEADING_TAGS = {f"h{i}": i for i in range(1, 7)}
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "svg"})
_META_SCHEMES = {
    "citation_doi": "doi",
    "citation_pmid": "pmid",
    "citation_pmcid": "pmcid",
    "citation_arxiv_id": "arxiv",
    "dc.identifier": None,  # "doi:10…", "https://doi.org/…", "PMID:…": scanned as written
    "dc.identifier.doi": "doi",
    "prism.doi": "doi",
    "bepress_citation_doi": "doi",
}
_ATTR = re.compile(
    r"""(?P<name>[^\s"'>/=]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s"'>]+))"""
)


# A field of a citation_reference meta value: up to a ";" that does not end a reference (&amp;).
_META_FIELD = re.compile(r"(?:&#?[A-Za-z0-9]{1,32};|[^;])+")
_CHARREF = re.compile(r"&(?:#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{1,31});")


class _Html(HTMLParser):
    """Visible text, link targets and citation meta tags, as scan text with a map to the file.

    Iterative (html.parser is not recursive): any nesting depth is fine. The element stack is
    only consulted for "inside an entry", kept as a counter.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out = _Builder()
        self.lines = _LineIndex()
        self.skip = 0  # inside <script>/<style>
        self.entry = 0  # inside <li>/<tr>/…: blocks there do not split the entry
        self.heading = False
        self.ready: list[Piece] = []
        self.rawbase = 0
        self.skipping: str | None = None  # the closer of an endless comment or tag

    def feed_block(self, block: str) -> Iterator[Piece]:
        self.rawbase = self.lines.total - len(self.rawdata)  # file offset of rawdata[0]
        self.lines.add(block)
        if self.skipping:
            self._skip(block)
        else:
            self.feed(block)
        if len(self.rawdata) > 4 * PIECE_SIZE and self.rawdata.startswith("<"):
            # html.parser waits for the end of a comment or tag that has not come in millions
            # of characters, rescanning it at every block: skip to its closer instead (a
            # browser shows none of it either).
            self.skipping = "-->" if self.rawdata.startswith("<!--") else ">"
            self._skip("")
        yield from self.ready
        self.ready.clear()

    def _skip(self, block: str) -> None:
        """Drop input up to and including ``self.skipping``, keeping the parser's position."""
        self.rawdata += block
        closer = self.skipping or ">"
        j = self.rawdata.find(closer)
        if j < 0:
            keep = len(closer) - 1  # a closer may straddle two blocks
            self.updatepos(0, len(self.rawdata) - keep)
            self.rawdata = self.rawdata[len(self.rawdata) - keep :]
            return
        self.updatepos(0, j + len(closer))
        self.rawdata = self.rawdata[j + len(closer) :]
        self.skipping = None
        self.goahead(0)

    def close(self) -> None:
        """What is left unparsed at the end is a comment, tag or declaration never closed: a
        browser shows none of it (html.parser would rescan it once per "<", quadratically)."""
        if self.skipping or self.rawdata.startswith("<"):
            self.updatepos(0, len(self.rawdata))
            self.rawdata = ""
        super().close()

    def _boundary(self) -> None:
        """A blank line: the end of an entry, and a place where a piece may end."""
        self.out.synth("\n\n")
        if self.out.size >= PIECE_SIZE or len(self.out.spans.pos) >= MAX_RUNS:
            self.ready.append(self.out.take())
            self.out.synth("\n\n")

    def _maybe_cut(self) -> None:
        """End a piece inside a long run of inline text (a page without block tags): after a
        blank that follows no label, or anywhere once far too large, so memory stays bounded."""
        out = self.out
        runs = len(out.spans.pos)
        if out.size < 2 * PIECE_SIZE and runs < 2 * MAX_RUNS:
            return
        tail = "".join(out.parts[-8:])[-64:]
        safe = tail[-1:].isspace() and not _LABEL_AT_END.search(tail.rstrip(" \t"))
        if safe or out.size >= 4 * PIECE_SIZE or runs >= 4 * MAX_RUNS:
            self.ready.append(out.take())

    def where(self) -> tuple[int, int]:
        line, col = self.getpos()
        return self.lines.offset(line) + col, line

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "head":
            self.out.synth("\n\n" + MARK + "subject\n")
        elif tag == "body":
            self.out.synth("\n\n" + MARK + "end\n\n")
        elif tag == "meta":
            self._meta(attrs)
        elif tag in _HEADING_TAGS:
            self.out.synth("\n\n" + "#" * _HEADING_TAGS[tag] + " ")
            self.heading = True
        else:
            self._block(tag, opening=True)
            if tag in ("a", "link"):
                self._attribute("href", lead=" ", tail=" ")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        if tag in _SKIP_TAGS:
            self.skip -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self.skip = max(self.skip - 1, 0)
        elif tag == "head":
            self.out.synth("\n\n" + MARK + "end\n\n")
        elif tag in _HEADING_TAGS:
            self.heading = False
            self._boundary()
        else:
            self._block(tag, opening=False)

    def _block(self, tag: str, *, opening: bool) -> None:
        if tag in _ENTRY_TAGS:
            self.entry = max(self.entry + (1 if opening else -1), 0)
            self._boundary()
        elif tag == "br":
            self.out.line_break()  # a line, not a paragraph: "PMID: 1<br>DOI: …" is one work
        elif tag in _BLOCK_TAGS and not (self.entry or self.heading):
            self._boundary()
        elif tag in _BLOCK_TAGS:
            self.out.line_break()  # a paragraph inside a list item is still that item
        else:
            self.out.space()  # an inline tag still separates words
            self._maybe_cut()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if data.isspace():  # indentation between tags: no text, and no need to map it
            self.out.space()
            return
        src, line = self.where()
        if self.heading and "\n" in data:  # a heading stays on its "## " line
            at = 0
            for k, part in enumerate(data.split("\n")):
                if k:
                    self.out.synth(" ")
                self.out.real(part, src + at, line + k)
                at += len(part) + 1
        else:
            self.out.real(data, src, line)
        self._maybe_cut()

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name}")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name}")

    def _reference(self, raw: str) -> None:
        # "10.1000/xyz&lt;1&gt;" is the DOI 10.1000/xyz<1>: the decoded character joins the text
        # and maps back to the whole reference, its ";" included when it has one ("&amp" too).
        if not self.skip:
            src, line = self.where()
            if self.rawdata.startswith(";", src - self.rawbase + len(raw)):
                raw += ";"
            char = html.unescape(raw).replace("\xa0", " ")
            self.out.real(char, src, line, len(raw))
            self._maybe_cut()

    def _meta(self, attrs: list) -> None:
        names = {k.lower(): (v or "") for k, v in attrs}
        key = (names.get("name") or names.get("property") or "").lower()
        if key == "citation_reference":
            self._cited_meta()
        elif key in _META_SCHEMES:
            scheme = _META_SCHEMES[key]
            self._attribute("content", lead="\n" + (_LABELS[scheme] if scheme else ""), tail="\n")

    def _cited_meta(self) -> None:
        """One ``citation_reference`` meta tag is one reference of the page (Google Scholar's
        ``citation_title=…; citation_doi=10.…; citation_pmid=…`` form, or free text)."""
        found = self._attribute_value("content")
        if found is None:
            return
        value, src, line = found
        self.out.synth("\n\n" + MARK + "reference\n")
        for part in _META_FIELD.finditer(value):  # ";" ends a field, never a DOI, here
            key, eq, rest = part.group().partition("=")
            scheme = _META_SCHEMES.get(key.strip().lower()) if eq else None
            at = part.start() + (len(key) + 1 if scheme else 0)
            self.out.synth("\n" + (_LABELS[scheme] if scheme else ""))
            self._unescaped(
                rest if scheme else part.group(), src + at, line + value.count("\n", 0, at)
            )
        self.out.synth("\n\n" + MARK + "subject\n")

    def _attribute(self, name: str, *, lead: str, tail: str) -> None:
        found = self._attribute_value(name)
        if found is not None:
            self.out.synth(lead)
            self._unescaped(*found)
            self.out.synth(tail)

    def _unescaped(self, value: str, src: int, line: int) -> None:
        """An attribute value as the browser reads it: ``a&#40;1)`` is ``a(1)``, each decoded
        character reference mapping back to the whole reference."""
        at = 0
        for m in _CHARREF.finditer(value):
            char = html.unescape(m.group())
            if char == m.group():
                continue  # not a reference html knows: left as written
            self.out.real(value[at : m.start()], src + at, line + value.count("\n", 0, at))
            where = line + value.count("\n", 0, m.start())
            self.out.real(char.replace("\xa0", " "), src + m.start(), where, len(m.group()))
            at = m.end()
        self.out.real(value[at:], src + at, line + value.count("\n", 0, at))

    def _attribute_value(self, name: str) -> tuple[str, int, int] | None:
        """The raw value of attribute ``name`` of the current tag, its file offset and line."""
        raw = self.get_starttag_text() or ""
        for m in _ATTR.finditer(raw):
            if m.group("name").lower() == name:
                group = next(g for g in ("dq", "sq", "uq") if m.group(g) is not None)
                src, line = self.where()
                at = m.start(group)
                return m.group(group), src + at, line + raw.count("\n", 0, at)
        return None


class _LineIndex:
    """File offsets of line starts, kept only for lines the parser may still report."""

    def __init__(self) -> None:
        self.first = 1  # line number of starts[0]
        self.starts = [0]
        self.total = 0

    def add(self, block: str) -> None:
        at = block.find("\n")
        while at >= 0:
            self.starts.append(self.total + at + 1)
            at = block.find("\n", at + 1)
        self.total += len(block)

    def offset(self, line: int) -> int:
        i = line - self.first
        if i > 4096:  # the parser has moved on: forget lines it can no longer report
            drop = i - 64
            del self.starts[:drop]
            self.first += drop
            i -= drop
        return self.starts[i]


def _read_html(chars: Iterable[str]) -> Iterator[Piece]:
    parser = _Html()
    parser.out.synth("\n\n")
    for block in chars:
        yield from parser.feed_block(block)
    parser.close()
    if parser.out.size:
        yield parser.out.take()


_READERS: dict[str, Callable[[Iterable[str]], Iterator[Piece]]] = {
    "text": _read_text,
    "markdown": _read_text,
    "html": _read_html,
    "bibtex": _read_bibtex,
    "ris": _read_ris,
    "csv": _read_csv,
    "tsv": _read_tsv,
}
