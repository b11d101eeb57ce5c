"""Extract identifier mentions from seed documents: files in, ``SeedDocument`` records out.

For each file: detect its kind, read it as pieces of scan text (``pipeline.documents``), find the
identifiers (``pipeline.identifiers``) and give each one its provenance:

- ``section``: the nearest heading above it;
- ``role``: from that heading: References/Bibliography -> ``reference``, Citing Articles/Cited by
  -> ``citing``, the page's own (an "Identifiers" or "Cite This" block, HTML ``citation_*`` meta
  tags, a ``» Articles » PMID: 36455991`` line at the top) -> ``subject``, else ``mention``;
- ``group``: identifiers of one list entry (a paragraph, a numbered item, a table row, a BibTeX
  or RIS record, a CSV row) name one work. An entry that names a second, different value of a
  scheme it already has starts a new work, so a list of DOIs one per line is not one work. All
  of the subject's identifiers share one group, however many times the page prints them.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from pipeline.documents import (
    SNIFF_SIZE,
    BinaryFile,
    Layout,
    NotUtf8,
    Piece,
    RawFile,
    detect_kind,
    layout_for,
    read_pieces,
)
from pipeline.errors import InputError
from pipeline.identifiers import find_identifiers
from pipeline.records import DocumentProblem, Mention, SeedDocument
from pipeline.terminal import printable

__all__ = ["extract_document", "extract_paths", "mentions_json", "mentions_table"]

log = logging.getLogger(__name__)

FALLBACK_ENCODING = "cp1252"  # the usual suspect for "not UTF-8" text from Windows tools

# --------------------------------------------------------------------------------------------
# Headings and roles
# --------------------------------------------------------------------------------------------

_ROLE_HEADINGS = {
    "reference": (
        "references",
        "reference",
        "reference list",
        "references cited",
        "bibliography",
        "works cited",
        "literature cited",
        "cited literature",
        "notes and references",
        "sources",
    ),
    "citing": (
        "citing articles",
        "cited by",
        "cited by articles",
        "cited by other articles",
        "cited by papers",
        "cited by works",
        "articles citing this article",
        "articles that cite this article",
        "citations to this article",
        "referenced by",
        "cited in",
        "citing papers",
        "citing works",
        "citing publications",
        "citing literature",
    ),
    "subject": (
        "identifiers",
        "identifier",
        "cite this",
        "cite this article",
        "cite this paper",
        "cite this work",
        "cite this page",
        "cite this record",
        "how to cite",
        "how to cite this article",
        "citation",
        "suggested citation",
        "article information",
        "article info",
        "publication info",
        "publication information",
        "bibliographic information",
        "article details",
        "about this article",
    ),
    # Headings that end a role's section without starting one (PubMed and publisher pages).
    "": (
        "abstract",
        "keywords",
        "introduction",
        "background",
        "methods",
        "materials and methods",
        "results",
        "discussion",
        "conclusion",
        "conclusions",
        "acknowledgements",
        "acknowledgments",
        "funding",
        "figures",
        "tables",
        "similar articles",
        "similar works",
        "related articles",
        "related publications",
        "related works",
        "supplementary material",
        "supplementary information",
        "supplementary data",
        "mesh terms",
        "substances",
        "grants and funding",
        "publication types",
        "linkout - more resources",
        "full text links",
        "full text sources",
        "comment in",
        "comment on",
        "affiliations",
        "affiliated institutions",
        "authors",
        "author information",
        "overview",
        "data quality",
        "social impact",
        "citation metrics",
        "metrics",
        "associated data",
        "data availability",
        "conflict of interest",
        "conflicts of interest",
        "competing interests",
        "footnotes",
        "notes",
        "appendix",
        "summary",
    ),
}
_KNOWN = {phrase: role or None for role, phrases in _ROLE_HEADINGS.items() for phrase in phrases}
# "1. Introduction", "## References", "References (25)", "Cited by 12 articles", "REFERENCES:"
_NOISE = re.compile(r"^[\s#*_=>\d.)(\[\]-]+|[\s:*_=.-]+$|\(\d+\)|\b\d+\b")
_GENERIC = re.compile(r"[A-Z][^\d.,;:!?]{0,59}")


def heading_role(title: str) -> tuple[bool, str | None]:
    """(is a known heading, its role or None): ``'References (25)'`` -> ``(True, 'reference')``."""
    key = title.lower().strip(" \t\r:.")
    if key in _KNOWN:  # the common case: one dict lookup
        return True, _KNOWN[key]
    if key[:1].isalpha() and key[-1:] != ")" and not key.startswith("cited by"):
        return False, None  # nothing _NOISE could remove
    key = " ".join(_NOISE.sub(" ", key).split())
    if key in _KNOWN:
        return True, _KNOWN[key]
    return False, None


@lru_cache(maxsize=4096)  # pages of one site repeat their short lines ("Year", "Abstract")
def _plain_heading(cand: str, followed_by_blank: bool) -> tuple[str, str | None] | None:
    """A heading in plain text: a known title, or a short capitalised line between blank lines."""
    title = cand.strip()
    if len(title) > 60:
        return None
    known, role = heading_role(title)
    if known:
        return title, role
    if followed_by_blank and _GENERIC.fullmatch(title) and len(title.split()) <= 6:
        return title, None
    return None


# --------------------------------------------------------------------------------------------
# One document
# --------------------------------------------------------------------------------------------


class _Walk:
    """The state carried through a document's pieces: sections, the open entry, groups."""

    def __init__(self, path: str, layout: Layout) -> None:
        self.path = path
        self.layout = layout
        self.sections: list[tuple[int, str | None, str | None]] = []  # (level, title, role)
        self.section: str | None = None
        self.role = layout.default_role
        self.entry: dict[str, str] | None = None
        self.group = 0
        self.groups = 0
        self.subject_group: int | None = None
        self.first_line: tuple[int, int] | None = None  # scan-text span of the page's own line
        self.started = False
        self.mentions: list[Mention] = []

    # -- structure ---------------------------------------------------------------------------

    def heading(self, level: int, title: str | None, role: str | None) -> None:
        while self.sections and self.sections[-1][0] >= level:
            self.sections.pop()
        self.sections.append((level, title, role))
        self._settle()

    def mark(self, name: str) -> None:
        """A synthetic role switch: "subject" (HTML <head>), "reference" (a citation_reference
        meta tag) or "end" (back to the document's own headings)."""
        self.sections = [(0, None, name)] if name in ("subject", "reference") else []
        self._settle()

    def _settle(self) -> None:
        self.section = self.sections[-1][1] if self.sections else None
        self.role = next((r for _, _, r in reversed(self.sections) if r), self.layout.default_role)
        self.entry = None
        self.first_line = None  # the top line is the page's own only before any heading

    def events(self, text: str, ms: list[re.Match[str]]) -> None:
        """Apply the structural events found between two identifiers, in order."""
        if not ms:
            return
        self.entry = None
        # A plain-text heading is level 1 and closes every section before it, so look for the
        # last one first: the short lines before it (most of them values, not headings) need
        # no look at all. Only role marks (level 0) outlive it.
        i = len(ms)
        while i > 0 and ms[i - 1].lastgroup in ("cand", "nb"):
            i -= 1
            found = _plain_heading(ms[i].group("cand"), ms[i].group("nb") is not None)
            if found is not None:
                for m in ms[:i]:
                    if m.lastgroup == "mark":
                        self.mark(m.group("mark"))
                self.heading(1, *found)
                return
        for m in ms[:i]:
            self.event(text, m)

    def event(self, text: str, m: re.Match[str]) -> None:
        """Apply one structural event found by the layout's ``heads`` pattern."""
        self.entry = None
        kind = m.lastgroup  # the group closed last: "nb" belongs to "cand", "atxt" to "atx"
        if kind in ("cand", "nb"):
            found = _plain_heading(m.group("cand"), m.group("nb") is not None)
            if found is not None:
                self.heading(1, *found)
        elif kind in ("atxt", "atx"):
            title = m.group("atxt").strip().rstrip("#").strip()
            self.heading(len(m.group("atx")), title or None, heading_role(title)[1])
        elif kind == "rule":
            self._setext(text, m)
        elif kind == "mark":
            self.mark(m.group("mark"))

    def _setext(self, text: str, m: re.Match[str]) -> None:
        above_end = m.start()
        above = text[text.rfind("\n", 0, above_end) + 1 : above_end].strip()
        if above:  # "---" under a blank line is a thematic break, not a heading
            level = 1 if m.group("rule").startswith("=") else 2
            self.heading(level, above, heading_role(above)[1])

    # -- identifiers -------------------------------------------------------------------------

    def assign(self, scheme: str, value: str, at: int) -> tuple[int, str]:
        """(group, role) of an identifier at scan position ``at``."""
        role = self.role
        if self.first_line is not None and self.first_line[0] <= at < self.first_line[1]:
            role = "subject"
        if role == "subject":
            if self.subject_group is None:
                self.groups += 1
                self.subject_group = self.groups
            return self.subject_group, role
        entry = self.entry
        if entry is None or entry.get(scheme, value) != value:
            self.groups += 1
            self.group = self.groups
            entry = self.entry = {}
        entry[scheme] = value
        return self.group, role


_FIRST_LINE = re.compile(r"\s*(?P<line>[^\n]*?)\r?\n[ \t]*\r?\n")


def _start(walk: _Walk, text: str) -> None:
    """Note the document's top line, which names the page when it stands alone."""
    walk.started = True
    m = _FIRST_LINE.match(text) if walk.layout.first_line_subject else None
    if m is not None and m.group("line"):
        walk.first_line = (m.start("line"), m.end("line"))


def _scan(walk: _Walk, piece: Piece) -> None:
    """Find the identifiers of one piece and record them as mentions, structure applied."""
    text, spans, path = piece.text, piece.spans, walk.path
    if not walk.started:
        _start(walk, text)
    heads = list(walk.layout.heads.finditer(text))  # rare: headings, role marks
    heads.append(None)  # sentinel
    boundary = walk.layout.boundary.search
    cursor, line, nh, add, base = 0, piece.line, 0, walk.mentions.append, piece.base
    next_head = heads[0].start() if heads[0] is not None else len(text) + 1
    for scheme, value, start, end in find_identifiers(text):
        if start > cursor:
            if text.find("\n", cursor, start) >= 0:  # structure lives at line breaks only
                if next_head < start:
                    j = nh + 1
                    while heads[j] is not None and heads[j].start() < start:
                        j += 1
                    walk.events(text, heads[nh:j])
                    nh = j
                    next_head = heads[j].start() if heads[j] is not None else len(text) + 1
                if walk.entry is not None and boundary(text, cursor, start) is not None:
                    walk.entry = None
                line += text.count("\n", cursor, start)
            cursor = end
        group, role = walk.assign(scheme, value, start)
        if spans is None:
            add(
                Mention(
                    scheme, value, path, base + start, base + end, line, walk.section, group, role
                )
            )
        else:
            src, at_line = spans.locate(text, start)
            src_end = spans.locate_end(end)
            add(Mention(scheme, value, path, src, src_end, at_line, walk.section, group, role))
    # Pieces cut at a blank line start with one, which ends the entry; a piece cut at a line
    # break (a paragraph longer than a piece) lets it continue.
    walk.events(text, heads[nh:-1])
    if walk.entry is not None and boundary(text, cursor) is not None:
        walk.entry = None
    walk.first_line = None  # its span is in this piece's coordinates


def _read(path: str, encoding: str | None) -> tuple[RawFile, list[Mention]]:
    raw = RawFile(path, encoding)
    chars = raw.chars()
    head = next(chars, "")  # the first block: the kind is sniffed from its start
    kind = detect_kind(path, head[:SNIFF_SIZE])
    walk = _Walk(path, layout_for(kind))
    for piece in read_pieces(kind, itertools.chain([head], chars)):
        _scan(walk, piece)
    return raw, walk.mentions


def extract_document(path: str) -> SeedDocument:
    """Read one file and return its mentions; bad content becomes a problem, never an exception.

    A binary file, a path that is not a regular file (a FIFO, a device, a socket: never opened,
    so never waited on) or an unreadable one gives no mentions and one fatal problem. A file that
    is not valid UTF-8 is read again with each undecodable byte run decoded as cp1252, with a
    warning problem (broken UTF-16/32 code units become U+FFFD).
    """
    problems: list[DocumentProblem] = []
    try:
        _require_regular(path)
        try:
            raw, mentions = _read(path, None)
        except NotUtf8 as exc:
            if exc.encoding == "utf-8":
                message = f"not UTF-8; decoded as {FALLBACK_ENCODING} with replacements"
            else:
                message = f"not valid {exc.encoding.upper()}; undecodable bytes replaced"
            problems.append(DocumentProblem(path, message))
            raw, mentions = _read(path, FALLBACK_ENCODING)
    except _NotRegular as exc:
        problems = [DocumentProblem(path, str(exc), fatal=True)]
        raw, mentions = RawFile(path), []
    except (BinaryFile, OSError) as exc:
        message = str(exc) if isinstance(exc, BinaryFile) else f"unreadable: {_reason(exc)}"
        problems = [DocumentProblem(path, message, fatal=True)]
        raw, mentions = _hash_only(path), []
    except Exception as exc:  # a reader bug on odd content must not end the whole run
        log.debug("%s: extraction failed", path, exc_info=True)
        message = f"could not be read: {type(exc).__name__}: {exc}".splitlines()[0]
        problems = [DocumentProblem(path, message, fatal=True)]
        raw, mentions = _hash_only(path), []
    for problem in problems:  # the caller reports them (one line each); here only with -v
        log.debug("%s: %s", path, problem.message)
    return SeedDocument(
        path=path,
        sha256=raw.sha256.hexdigest(),
        bytes=raw.bytes,
        mentions=tuple(mentions),
        problems=tuple(problems),
    )


class _NotRegular(Exception):
    """The path is a FIFO, a device or a socket: opening or reading it could block forever."""


def _require_regular(path: str) -> None:
    mode = os.stat(path).st_mode  # follows symlinks; OSError (a loop, a dangling link) is caught
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    kind = (
        "a FIFO"
        if stat.S_ISFIFO(mode)
        else "a character device"
        if stat.S_ISCHR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise _NotRegular(f"{kind}, not a regular file; skipped")


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def _hash_only(path: str) -> RawFile:
    """A refused file still gets its identity (sha256, size), so it can be listed."""
    raw = RawFile(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return raw
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                raw.sha256.update(block)
                raw.bytes += len(block)
    except OSError:
        pass
    return raw


# --------------------------------------------------------------------------------------------
# Many documents
# --------------------------------------------------------------------------------------------


def extract_paths(paths: Sequence[str]) -> Iterator[SeedDocument]:
    """Extract every file under ``paths`` (directories recursively, sorted, hidden skipped).

    Raises InputError("<path>: no such file or directory") for a missing path before
    anything is extracted, so the command line can exit 2 naming it.
    """
    files = list(_expand(paths))  # checks every path before the first document is read
    return (extract_document(f) for f in files)


def _expand(paths: Sequence[str]) -> Iterator[str]:
    for p in paths:
        if not os.path.exists(p):
            raise InputError(f"{p}: no such file or directory")
        if os.path.isdir(p) and not os.access(p, os.R_OK | os.X_OK):
            raise InputError(f"{p}: permission denied")
    for p in paths:
        yield from _files_under(p) if os.path.isdir(p) else [p]


def _files_under(directory: str) -> list[str]:
    """Files below ``directory``, hidden ones (and hidden directories) skipped, sorted by path."""
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if not name.startswith("."):
                path = os.path.join(root, name)
                found.append((tuple(os.path.relpath(path, directory).split(os.sep)), path))
    return [path for _, path in sorted(found)]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def mentions_json(docs: Iterable[SeedDocument]) -> str:
    """One JSON array of the contract's mention objects for all documents, one per line."""
    rows = [_json_line(m.to_json()) for d in docs for m in d.mentions]
    return "[\n" + ",\n".join(rows) + "\n]" if rows else "[]"


def _json_line(obj: dict) -> str:
    """One mention as JSON. A file name that is not valid UTF-8 holds lone surrogates (Python's
    surrogateescape): those lines are written ASCII-escaped (``"caf\\udce9.txt"``), which reads
    back to the same path, instead of failing to print at all."""
    line = json.dumps(obj, ensure_ascii=False)
    if line.isascii():
        return line
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(obj)
    return line


_TABLE_COLUMNS = ("document", "line", "scheme", "value", "role", "group", "section")


def mentions_table(docs: Iterable[SeedDocument]) -> str:
    """A human-readable table of mentions, columns aligned; problems listed after it."""
    docs = list(docs)
    rows = [_TABLE_COLUMNS] + [
        tuple(
            printable(c)  # a file name or a heading may hold a newline or an escape sequence
            for c in (
                m.document,
                str(m.line),
                m.scheme,
                m.value,
                m.role,
                str(m.group),
                m.section or "",
            )
        )  # fmt: skip
        for d in docs
        for m in d.mentions
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_TABLE_COLUMNS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for d in docs:
        lines.extend(f"! {printable(p.path)}: {printable(p.message)}" for p in d.problems)
    return "\n".join(lines)
