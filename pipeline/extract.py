"""Extract identifier mentions from seed documents: files in, ``SeedDocument`` records out.

For each file: detect its kind, read it as pieces of scan text (``pipeline.readers``), find the
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
import json
import logging
import os
import re
import stat
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache

from pipeline.errors import InputError
from pipeline.identifiers import find_identifiers
from pipeline.readers import (
    BinaryFile,
    DocumentError,
    Layout,
    Piece,
    RawFile,
    ReadLimits,
    layout_for,
    open_reader,
)
from pipeline.readers.headings import REFERENCE_WORDS, heading_role, plain_heading
from pipeline.record_maker import maker
from pipeline.records import MENTION_ROW, DocumentProblem, Mention, ReferenceEntry, SeedDocument
from pipeline.reference_list import ReferenceList
from pipeline.terminal import printable

__all__ = [
    "extract_document",
    "expand_paths",
    "extract_paths",
    "heading_role",
    "mentions_json",
    "mentions_table",
]

log = logging.getLogger(__name__)

FALLBACK_ENCODING = "cp1252"  # the usual suspect for "not UTF-8" text from Windows tools
# An XML declaration or an HTML meta charset naming what the fallback reads (ISO-8859-1 is read
# as windows-1252, as browsers do): the file said so, nothing to warn about.
_WESTERN = re.compile(
    rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']|<meta[^>]{0,200}?charset\s*=\s*["']?""",
    re.IGNORECASE,
)
_WESTERN_NAMES = frozenset(
    b"iso-8859-1 iso8859-1 latin-1 latin1 l1 windows-1252 cp1252 us-ascii ascii".split()
)


def _declares_western(head: bytes) -> bool:
    """Whether the file's first bytes declare ISO-8859-1 / windows-1252 (XML or HTML)."""
    found = _WESTERN.search(head[:2048])
    if found is None:
        return False
    name = re.match(rb"[\w.:-]+", head[found.end() : found.end() + 40])
    return name is not None and name.group().lower() in _WESTERN_NAMES


# --------------------------------------------------------------------------------------------
# One document
# --------------------------------------------------------------------------------------------


class _Walk:
    """The state carried through a document's pieces: sections, the open entry, groups."""

    def __init__(self, path: str, layout: Layout) -> None:
        self.path = path
        self.layout = layout
        self.sections: list[tuple[int, str | None, str | None]] = []  # (level, title, role)
        # ``sections`` as each open HTML sectioning element (<section>, <article>) found them
        self.scopes: list[list[tuple[int, str | None, str | None]]] = []
        self.deep_scopes = 0  # sectioning elements open beyond _MAX_SCOPES
        # Whether a heading (level > 0) of ``sections`` made ``reference``: kept as sections
        # change (heading, mark), not searched for at every event.
        self.in_references = False
        self.section: str | None = None
        self.role = layout.default_role
        self.entry: dict[str, str] | None = None
        self.group = 0
        self.groups = 0
        self.subject_group: int | None = None
        self.subject_ids: set[tuple[str, str]] = set()  # the subject's identifiers so far
        self.record_start = 0  # the current record's first mention
        self.unchecked = 0  # mentions before this one were assigned before the last subject id
        self.first_line: tuple[int, int] | None = None  # scan-text span of the page's own line
        self.started = False
        # Mentions as rows (the fields of ``Mention``, in its order), made records once the
        # document is read (``_read``): a page of thousands of ids re-groups rows, not records.
        self.mentions: list[tuple] = []
        self.references = ReferenceList(path, self.mentions, layout=layout.kind in ("pdf", "docx"))
        self.ref_start: int | None = None  # scan position where the open reference text began
        self.paused = False  # the open reference list is inside furniture or link targets
        self.pause_depth = 0  # the pausing marks (link, aside, ownlink) open inside it
        # A small text or Markdown file's pieces, kept in case it is a reference list without
        # a heading (ReferenceList.whole_list); None once it is too large or of another kind.
        self.whole: list[Piece] | None = [] if layout.kind in ("text", "markdown") else None
        self.whole_chars = 0

    # -- structure ---------------------------------------------------------------------------

    def heading(
        self, level: int, title: str | None, role: str | None, *, closes: int | None = None
    ) -> None:
        """Open a section of ``level``, closing those at ``closes`` (default: ``level``) or below."""
        sections = self.sections
        while sections and sections[-1][0] >= (closes or level):
            sections.pop()
        sections.append((level, title, role))
        if level and role == "reference":
            self.in_references = True
        elif self.in_references:  # the sections it closed may have held the reference one
            self.in_references = any(lv and r == "reference" for lv, _, r in sections)
        self.section = title
        self.role = role or self._inherited_role()
        self.entry = None
        self.first_line = None  # the top line is the page's own only before any heading

    def plain_heading(self, title: str, role: str | None) -> None:
        """A heading guessed from a short line closes every section (it has no rank to compare),
        but a marked-up heading after it is no subsection of it: its level is below them all
        ("Cite this article" above a page's "## Abstract" does not hold the article as the
        page's own)."""
        self.heading(_PLAIN_LEVEL, title, role, closes=1)

    def mark(self, name: str) -> None:
        """A synthetic switch: a role ("subject": HTML <head>, a PDF's header; "reference": a
        citation_reference meta tag or a JATS ref-list; "citing", "mention"), "record" (the
        subject of the next record of a many-record file: a new subject work), "link" / "unlink"
        (link targets: section 'link', the role around them kept), "ownlink" / "unownlink"
        (link targets that name the document itself: section 'link', role subject), "aside" /
        "unaside" (the subject inside another section: a PDF's running head), "scope" /
        "unscope" (an HTML sectioning element: the headings inside it end with it) or "end" (back
        to the document's own headings)."""
        if name == "scope":
            if len(self.scopes) < _MAX_SCOPES:
                self.scopes.append(list(self.sections))
            else:  # a page nesting thousands of sections: the deepest ones bound nothing
                self.deep_scopes += 1
            return
        if name == "unscope":
            if self.deep_scopes:
                self.deep_scopes -= 1
            elif self.scopes:
                self._restore(self.scopes.pop())
            return
        if name == "link":
            self.sections.append((99, "link", None))
        elif name == "ownlink":  # a PDF's Crossmark button: the article's own DOI
            self.sections.append((99, "link", "subject"))
        elif name == "aside":  # a PDF's running head or citation box inside any section
            self.sections.append((99, None, "subject"))
        elif name in ("unlink", "unaside", "unownlink"):
            if self.sections and self.sections[-1][0] == 99:
                self.sections.pop()
        elif name == "record":
            self.join_subject()
            self.sections = [(0, None, "subject")]
            self.in_references = False
            self.subject_group = None
            self.subject_ids = set()
            self.record_start = self.unchecked = len(self.mentions)
        elif name in ("subject", "reference", "citing", "mention"):
            self.sections = [(0, None, name)]
            self.in_references = False  # a role mark is level 0: no heading
        else:
            self.sections = []
            self.in_references = False
        self._settle()

    def _restore(self, sections: list[tuple[int, str | None, str | None]]) -> None:
        """The sections as they were before a sectioning element that has just ended: a
        heading inside it (PeerJ's "References" in its <article>) is no heading of what comes
        after it (the sidebar's "Questions", "Links")."""
        if sections == self.sections:
            return
        self.sections = list(sections)
        self.in_references = any(lv and r == "reference" for lv, _, r in sections)
        self._settle()

    def _settle(self) -> None:
        self.section = self.sections[-1][1] if self.sections else None
        self.role = self._inherited_role()
        self.entry = None
        self.first_line = None  # the top line is the page's own only before any heading

    def _inherited_role(self) -> str:
        """The role of the innermost section that has one, else the document's default."""
        return next((r for _, _, r in reversed(self.sections) if r), self.layout.default_role)

    def events(self, text: str, ms: list[re.Match[str]], piece: Piece | None = None) -> None:
        """Apply the structural events found between two identifiers, in order."""
        if not ms:
            return
        self.entry = None
        # Where a reference section may open or close, every event counts where it stands (the
        # section's text is kept for the reference list): one is open, or one is hidden by an
        # aside (a running head) that may end here, or these lines hold a reference heading's
        # words. Elsewhere only the last heading matters.
        if piece is not None and (
            self.ref_start is not None
            or self.paused
            or self.in_references
            or _names_references(text, ms)
        ):
            for m in ms:
                self.event(text, m, piece)
            return
        # A plain-text heading closes every section before it, so look for the last one first:
        # the short lines before it (most of them values, not headings) need no look at all.
        # Only role marks (level 0) outlive it.
        i = len(ms)
        while i > 0 and ms[i - 1].lastgroup in ("cand", "nb"):
            i -= 1
            found = plain_heading(ms[i].group("cand"), ms[i].group("nb") is not None)
            if found is not None:
                for m in ms[:i]:
                    if m.lastgroup == "mark":
                        self.mark(m.group("mark"))
                self.plain_heading(*found)
                return
        for m in ms[:i]:
            self.event(text, m)

    def event(self, text: str, m: re.Match[str], piece: Piece | None = None) -> None:
        """Apply one structural event found by the layout's ``heads`` pattern."""
        self.entry = None
        before = self.reading_references()
        top = self.sections[-1] if self.sections else None
        kind = m.lastgroup  # the group closed last: "nb" belongs to "cand", "atxt" to "atx"
        if kind in ("cand", "nb"):
            found = plain_heading(m.group("cand"), m.group("nb") is not None)
            if found is not None:
                self.plain_heading(*found)
        elif kind in ("atxt", "atx"):
            title = m.group("atxt").strip().rstrip("#").strip()
            self.heading(len(m.group("atx")), title or None, heading_role(title)[1])
        elif kind == "rule":
            self._setext(text, m)
        elif kind == "mark":
            name = m.group("mark")
            if piece is None or name not in _PAUSES:
                self.mark(name)
            elif self._pause(piece, m, name):
                return
        now = self.reading_references()
        if piece is not None and kind == "mark" and before == now and self.ref_start is not None:
            self.references.text(piece, self.ref_start, m.start())  # the mark is no entry's text
            self.ref_start = m.end()
        # A reference heading after another ("Notes and references" over a Word file's
        # footnotes, then over its endnotes) starts a list of its own: its line is no entry.
        again = before and now and kind != "mark" and self.sections[-1] is not top
        if piece is not None and (self.paused or before != now or again):
            self._reference_switch(piece, m)

    def _pause(self, piece: Piece, m: re.Match[str], name: str) -> bool:
        """Page furniture or a page's link targets inside a reference list: their text is left
        out and the list goes on after them (an entry may run over a page break). Applies the
        mark once, whatever it returns; marks nest (a running head inside link targets): the
        list goes on only after the outermost one ends. True when the list is still paused or
        goes on (nothing else to do); False when the caller must see whether it ended."""
        opens = name in ("link", "aside", "ownlink")
        if opens and self.ref_start is not None:
            self.references.text(piece, self.ref_start, m.start())
            self.ref_start = None
            self.paused = True
            self.pause_depth = 1
        elif self.paused:
            self.pause_depth += 1 if opens else -1
        self.mark(name)
        if not self.paused:
            return False
        if self.pause_depth > 0:
            return True
        if self.reading_references():
            self.paused = False
            self.ref_start = m.end()
            return True
        return False  # something else ended the list meanwhile: it closes now

    def reading_references(self) -> bool:
        """Inside a section a heading made ``reference`` (not a mark: marked text has entries)."""
        return self.in_references and self.role == "reference"

    def _reference_switch(self, piece: Piece, m: re.Match[str]) -> None:
        if self.ref_start is not None:
            self.references.text(piece, self.ref_start, m.start())
            self.references.close()
            self.ref_start = None
        elif self.paused:  # the list paused for furniture did not resume: it ended there
            self.references.close()
        self.paused = False
        self.pause_depth = 0
        if self.reading_references():
            self.references.open(self.section)
            self.ref_start = m.end()

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
            self._subject_id(scheme, value)
            return self.subject_group, role
        ids = self.subject_ids
        if ids and ((scheme, value) in ids or scheme == "doi" and self._component(value)):
            return self.subject_group, "subject"
        entry = self.entry
        if entry is None or entry.get(scheme, value) != value:
            self.groups += 1
            self.group = self.groups
            entry = self.entry = {}
        entry[scheme] = value
        return self.group, role

    def _subject_id(self, scheme: str, value: str) -> None:
        if (scheme, value) not in self.subject_ids:
            self.subject_ids.add((scheme, value))
            self.unchecked = len(self.mentions)  # the ones before may have printed it

    def join_subject(self) -> None:
        """Mentions assigned before the subject's id was known that print it (PeerJ's first
        page names its DOI in the text before its footer does): their works join the subject."""
        if self.subject_group is None or self.unchecked <= self.record_start:
            return
        ms, values = self.mentions, {v for _, v in self.subject_ids}
        moved = {  # a cheap test on values first: a page of thousands of mentions is scanned
            m[_GROUP]
            for m in ms[self.record_start : self.unchecked]
            if (m[1] in values or m[1].rpartition(".")[0] in values)
            and m[_ROLE] != "subject"
            and self._names_subject(m[0], m[1])
        }
        if moved:
            group = self.subject_group
            for i in range(self.record_start, len(ms)):
                if ms[i][_GROUP] in moved:
                    ms[i] = (*ms[i][:_GROUP], group, "subject")
        self.unchecked = self.record_start

    def _names_subject(self, scheme: str, value: str) -> bool:
        """The subject's own id printed again (a citation line, a footer), or a component DOI
        of it (``<subject DOI>.g001``: a figure, a table, a supplement, a decision letter)."""
        if (scheme, value) in self.subject_ids:
            return True
        return scheme == "doi" and self._component(value)

    def _component(self, doi: str) -> bool:
        base, _, tail = doi.rpartition(".")
        return ("doi", base) in self.subject_ids and _COMPONENT.fullmatch(tail) is not None

    def keep(self, piece: Piece) -> None:
        """Keep a small text file's piece for the whole-list rule (bounded: WHOLE_LIST_CHARS)."""
        if self.whole is None:
            return
        self.whole_chars += len(piece.text)
        if self.whole_chars > WHOLE_LIST_CHARS:
            self.whole = None
        else:
            self.whole.append(piece)

    def finish(self) -> None:
        """The document has ended: an open reference section ends with it."""
        self.join_subject()
        self.references.close()
        self.ref_start = None
        self.paused = False
        self.pause_depth = 0
        if self.whole:
            self.references.whole_list(self.whole)
        self.whole = None
        self.references.drop_repeats()
        self.references.attach_links()


_PAUSES = frozenset({"link", "unlink", "aside", "unaside", "ownlink", "unownlink"})
_PLAIN_LEVEL = 7  # a guessed heading: below "###### " (see _Walk.plain_heading)
_GROUP, _ROLE = MENTION_ROW["group"], MENTION_ROW["role"]  # in a mention row


def _names_references(text: str, ms: list[re.Match[str]]) -> bool:
    """Whether one of these events is a line holding a reference heading's words (a setext
    rule: the title line above it). Role marks are level 0: they never open a section."""
    search = REFERENCE_WORDS.search
    for m in ms:
        kind = m.lastgroup
        if kind == "mark":
            continue
        if kind == "cand" or kind == "nb":  # the match is a blank line, then the line itself
            if _names_reference_words(m.group("cand")):
                return True
            continue
        lo = text.rfind("\n", 0, m.start()) + 1 if kind == "rule" else m.start()
        if search(text, lo, m.end()) is not None:
            return True
    return False


@lru_cache(maxsize=4096)  # pages of one site repeat their short lines ("Abstract", "Year")
def _names_reference_words(line: str) -> bool:
    """REFERENCE_WORDS in one short line (none of the words spans a line break, so searching
    the line alone answers for the blank line before it too)."""
    return REFERENCE_WORDS.search(line) is not None


# A text or Markdown file up to this many characters is read as a reference list even without
# a "References" heading when it is nothing but one (pipeline.segment.is_reference_list).
WHOLE_LIST_CHARS = 2 * 1024 * 1024


_MAX_SCOPES = 512  # nested HTML sectioning elements whose sections are kept
# What a component DOI adds to its article's DOI after a ".": "001" (eLife), "g001", "t002",
# "s001", "sd001" (PLOS figures, tables, supplements), "mmc1".
_COMPONENT = re.compile(r"[a-z]{0,6}\d{1,5}")
_FIRST_LINE = re.compile(r"\s*(?P<line>[^\n]*?)\r?\n[ \t]*\r?\n")
# Funder Registry DOIs (Crossref's 10.13039 prefix) name funders, never works.
_NOT_WORKS = ("10.13039/",)


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
    first_mention = len(walk.mentions)
    sections = [(-1, walk.section)]  # (scan position, the section from there on)
    heads = list(walk.layout.heads.finditer(text))  # rare: headings, role marks
    # Where a reference section may open or close, every event is applied where it stands
    # (Walk.events decides batch by batch); elsewhere only the last heading matters.
    exact = (
        piece if walk.ref_start is not None or walk.paused or REFERENCE_WORDS.search(text) else None
    )
    if walk.ref_start is not None:
        walk.ref_start = 0  # the open reference section goes on from this piece's start
    heads.append(None)  # sentinel
    boundary = walk.layout.boundary.search
    cursor, line, nh, add, base = 0, piece.line, 0, walk.mentions.append, piece.base
    next_head = heads[0].start() if heads[0] is not None else len(text) + 1
    count = text.count
    # The walk's per-mention state, held in locals (this loop is the hot one) and read again
    # after structural events, which may change it: Walk.assign inlined for all but the subject.
    entry, group, section, role_here = walk.entry, walk.group, walk.section, walk.role
    first_line, subject_ids = walk.first_line, walk.subject_ids
    for scheme, value, start, end in find_identifiers(text):
        if start > cursor:
            nl = count("\n", cursor, start)
            if nl:  # structure lives at line breaks only
                if next_head < start:
                    j = nh + 1
                    while heads[j] is not None and heads[j].start() < start:
                        j += 1
                    walk.entry = entry
                    walk.events(text, heads[nh:j], exact)
                    entry, section, role_here = walk.entry, walk.section, walk.role
                    first_line, subject_ids = walk.first_line, walk.subject_ids
                    sections.append((heads[j - 1].start(), section))
                    nh = j
                    next_head = heads[j].start() if heads[j] is not None else len(text) + 1
                if entry is not None and boundary(text, cursor, start) is not None:
                    entry = None
                line += nl
            cursor = end
        if value.startswith(_NOT_WORKS):
            continue
        role = role_here
        if first_line is not None and first_line[0] <= start < first_line[1]:
            role = "subject"
        if role == "subject":
            g, role = walk.assign(scheme, value, start)  # never touches the entry
        elif subject_ids and (
            (scheme, value) in subject_ids
            or scheme == "doi"
            and ("doi", value.rpartition(".")[0]) in subject_ids  # cheap test first
            and walk._component(value)
        ):
            g, role = walk.subject_group, "subject"
        else:
            if entry is None or entry.get(scheme, value) != value:
                walk.groups += 1
                group = walk.groups
                entry = {}
            entry[scheme] = value
            g = group
        if spans is None:
            add((scheme, value, path, base + start, base + end, line, section, g, role))
        else:
            src, at_line = spans.locate(text, start)
            add((scheme, value, path, src, spans.locate_end(end), at_line, section, g, role))
    walk.entry, walk.group = entry, group
    # Pieces cut at a blank line start with one, which ends the entry; a piece cut at a line
    # break (a paragraph longer than a piece) lets it continue.
    walk.events(text, heads[nh:-1], exact)
    if len(heads) - 1 > nh:
        sections.append((heads[-2].start(), walk.section))
    if walk.entry is not None and boundary(text, cursor) is not None:
        walk.entry = None
    walk.first_line = None  # its span is in this piece's coordinates
    if walk.ref_start is not None:
        walk.references.text(piece, walk.ref_start, len(text))
    if piece.links:
        walk.references.add_links(piece.links)
    if piece.entries:
        walk.references.add_marks(
            piece, piece.entries, walk.mentions[first_mention:], _section_at(sections)
        )


def _section_at(sections: list[tuple[int, str | None]]):
    """The section at a scan position, from the (position, section) changes of one piece: an
    entry a reader marked (a citation_reference meta tag in an HTML head) keeps the section it
    stands in, not the one the piece ends in."""
    starts = [at for at, _ in sections]
    return lambda p: sections[bisect_right(starts, p) - 1][1]


def _read(
    raw: RawFile, problems: list[str], limits: ReadLimits | None
) -> tuple[list[Mention], list[ReferenceEntry]]:
    kind, pieces = open_reader(raw, problems, limits)
    walk = _Walk(raw.path, layout_for(kind))
    for piece in pieces:
        _scan(walk, piece)
        walk.keep(piece)
    walk.finish()
    return _records(walk.mentions), walk.references.entries


_MENTION = maker(Mention)  # Mention(*row), 6x cheaper than its dataclass __init__


def _records(rows: list[tuple]) -> list[Mention]:
    """The rows made Mentions in place: each row is freed as its record is made, so a document
    of many mentions never holds both lists whole."""
    make = _MENTION
    for i, row in enumerate(rows):
        rows[i] = make(*row)
    return rows


def extract_document(
    path: str, *, named: bool = True, limits: ReadLimits | None = None
) -> SeedDocument:
    """Read one file and return its mentions; bad content becomes a problem, never an exception.

    A file that is no document enrich reads (an image, an archive, a FIFO, a device, a socket:
    never opened, so never waited on), a damaged document (a truncated PDF, an encrypted one)
    or an unreadable path gives no mentions and one fatal problem. ``named`` False (a file found
    in a folder, not named by the user) marks the problem of a file that is no document as
    ``skipped``: it is reported, and is no error. A file that is not valid UTF-8 is read with each
    undecodable byte run decoded as cp1252, with a warning problem (broken UTF-16/32 code units
    become U+FFFD).
    """
    problems: list[DocumentProblem] = []
    notes: list[str] = []
    raw = RawFile(path, fallback=FALLBACK_ENCODING)
    mentions: list[Mention] = []
    references: list[ReferenceEntry] = []
    try:
        _require_regular(path)
        mentions, references = _read(raw, notes, limits)
        if raw.replaced and not (raw.unicode == "utf-8" and _declares_western(raw.head())):
            if raw.unicode == "utf-8":
                message = f"not UTF-8; decoded as {FALLBACK_ENCODING} with replacements"
            else:
                message = f"not valid {raw.unicode.upper()}; undecodable bytes replaced"
            problems.append(DocumentProblem(path, message))
    except _NotRegular as exc:
        problems = [DocumentProblem(path, str(exc), fatal=True, skipped=not named)]
    except (BinaryFile, DocumentError, OSError) as exc:
        skipped = not named and (
            isinstance(exc, BinaryFile) or (isinstance(exc, DocumentError) and exc.skipped)
        )
        message = f"unreadable: {_reason(exc)}" if isinstance(exc, OSError) else str(exc)
        problems = [DocumentProblem(path, message, fatal=True, skipped=skipped)]
        mentions, references = [], []
        raw.finish()
    except Exception as exc:  # a reader bug on odd content must not end the whole run
        log.debug("%s: extraction failed", path, exc_info=True)
        message = f"could not be read: {type(exc).__name__}: {exc}".splitlines()[0]
        problems = [DocumentProblem(path, message, fatal=True)]
        mentions, references = [], []
        raw.finish()
    finally:
        raw.close()
    problems.extend(DocumentProblem(path, note) for note in dict.fromkeys(notes))
    for problem in problems:  # the caller reports them (one line each); here only with -v
        log.debug("%s: %s", path, problem.message)
    return SeedDocument(
        path=path,
        sha256=raw.sha256.hexdigest(),
        bytes=raw.bytes,
        mentions=tuple(mentions),
        problems=tuple(problems),
        references=tuple(references),
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


# --------------------------------------------------------------------------------------------
# Many documents
# --------------------------------------------------------------------------------------------

# Folders of version control and tool caches: never seed documents.
_SKIPPED_DIRS = frozenset({"CVS", "RCS", "_darcs", "{arch}", "__pycache__", "node_modules"})
# The warehouse's own files: a DuckDB file, its write-ahead log, a temporary or set-aside copy.
_WAREHOUSE_SUFFIXES = (".duckdb", ".duckdb.wal", ".wal", ".tmp", ".incomplete", ".duckdb.tmp")


def extract_paths(
    paths: Sequence[str], *, exclude: Sequence[str] = (), limits: ReadLimits | None = None
) -> Iterator[SeedDocument]:
    """Extract every file under ``paths`` (directories recursively, sorted).

    Inside folders, hidden files and folders (``.git``...), version-control folders and the
    warehouse's own files (``*.duckdb``, ``*.wal``, ``*.tmp``) are never read, nor any path in
    ``exclude`` (the run's own ``--db`` and its ``.wal``). Raises InputError("<path>: no such
    file or directory") for a missing path before anything is extracted, so the command line
    can exit 2 naming it.
    """
    files = expand_paths(paths, exclude=exclude)  # checks every path before reading any
    return (extract_document(f, named=named, limits=limits) for f, named in files)


def expand_paths(paths: Sequence[str], *, exclude: Sequence[str] = ()) -> list[tuple[str, bool]]:
    """(file, named on the command line) for every file ``extract_paths`` reads."""
    skip = {os.path.realpath(p) for x in exclude for p in (x, x + ".wal", x + ".tmp")}
    return list(_expand(paths, skip))


def _expand(paths: Sequence[str], skip: set[str]) -> Iterator[tuple[str, bool]]:
    for p in paths:
        if not os.path.exists(p):
            raise InputError(f"{p}: no such file or directory")
        if os.path.isdir(p) and not os.access(p, os.R_OK | os.X_OK):
            raise InputError(f"{p}: permission denied")
    for p in paths:
        if os.path.isdir(p):
            yield from ((f, False) for f in _files_under(p, skip))
        elif os.path.realpath(p) not in skip:
            yield p, True


def _files_under(directory: str, skip: set[str] = frozenset()) -> list[str]:
    """Files below ``directory`` that may be seed documents, sorted by path."""
    found: list[tuple[tuple[str, ...], str]] = []
    for root, dirs, names in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _SKIPPED_DIRS]
        for name in names:
            if name.startswith(".") or name.lower().endswith(_WAREHOUSE_SUFFIXES):
                continue
            path = os.path.join(root, name)
            if skip and os.path.realpath(path) in skip:
                continue
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
