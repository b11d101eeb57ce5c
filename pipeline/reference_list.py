"""A document's reference list, entry by entry (``ReferenceEntry``), as extraction reads it.

Two ways in. Structured readers know their entries (a JATS ``<ref>``, a BibTeX record, a
PubMed ``<Reference>``) and hand them over as ``EntryMark``s. Flowing text (plain text, Markdown,
HTML, PDF, DOCX) gives the text of each section whose role is ``reference``; it is cut into
entries by ``pipeline.segment.split_entries`` (issue 17 owns that rule). Either way an entry's
offsets map back to the document's text like a mention's, and the identifiers printed inside it
are its ``ids``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from operator import itemgetter

from pipeline.readers.base import ENTRY_TEXT_CHARS, EntryMark, LinkMark, Piece
from pipeline.record_maker import maker
from pipeline.records import MENTION_ROW, Identifier, ReferenceEntry, fold_text
from pipeline.segment import entry_text, is_reference_list, split_entries

__all__ = ["MAX_SECTION_CHARS", "ReferenceList"]

MAX_SECTION_CHARS = 1 << 22  # a reference section's text held at once (4 M characters)


class _Where:
    """(document offset, line) of scan positions of a piece. Lines of plain-text pieces are
    counted lazily from the last position asked (entries come in order), so no piece's line
    breaks are ever listed."""

    def __init__(self) -> None:
        self.piece: Piece | None = None
        self.at = 0
        self.line = 1

    def __call__(self, piece: Piece, p: int) -> tuple[int, int]:
        if piece.spans is not None:
            return piece.spans.locate(piece.text, p)
        if piece is not self.piece:
            self.piece, self.at, self.line = piece, 0, piece.line
        if p >= self.at:
            self.line += piece.text.count("\n", self.at, p)
        else:  # back (a reader's marks after the sections cut in the same piece)
            self.line -= piece.text.count("\n", p, self.at)
        self.at = p
        return piece.base + p, self.line


def _words(text: str) -> str:
    """An entry's text, its whitespace runs one space, read up to ``ENTRY_TEXT_CHARS``."""
    return " ".join(text[:ENTRY_TEXT_CHARS].split())


def _head(text: str, start: int, end: int) -> str:
    """``text[start:end]``, at most ``ENTRY_TEXT_CHARS`` of it."""
    return text[start : min(end, start + ENTRY_TEXT_CHARS)]


def _where_end(piece: Piece, p: int) -> int:
    if piece.spans is None:
        return piece.base + p
    return piece.spans.locate_end(p)


class ReferenceList:
    """Collects one document's reference entries while its pieces are scanned."""

    def __init__(self, path: str, mentions: list[tuple], *, layout: bool = False) -> None:
        self.path = path
        self.layout = layout  # paragraphs follow the layout (PDF, DOCX): split_entries(layout=)
        # the document's mentions so far: the extractor's own list of rows (Mention's fields)
        self.mentions = mentions
        self._from = 0  # the open section's first mention
        self.entries: list[ReferenceEntry] = []
        self._parts: list[tuple[Piece, int, int]] = []  # (piece, start, end) of section text
        self._size = 0
        self._section: str | None = None
        self._where = _Where()
        self._links: list[LinkMark] = []
        self._marked: list[int] = []  # indexes in ``entries`` of the entries readers marked

    # -- structured entries ----------------------------------------------------------------

    def add_marks(
        self,
        piece: Piece,
        marks: tuple[EntryMark, ...],
        mentions: list[tuple],
        section: Callable[[int], str | None],
    ) -> None:
        """Entries a structured reader marked in ``piece``; ``mentions`` are the piece's;
        ``section(p)`` names the section at scan position ``p``."""
        found = []
        cited: list[tuple[int, int]] = []  # file spans of the works entries cite: no entry's ids
        for mark in marks:
            start, line = self._where(piece, mark.start)
            end = _where_end(piece, mark.end)
            text = _words(mark.text) or entry_text(_head(piece.text, mark.start, mark.end))[0]
            found.append((start, end, line, text, mark.label, section(mark.start)))
            if mark.cited is not None:
                cited.append(
                    (self._where(piece, mark.cited[0])[0], _where_end(piece, mark.cited[1]))
                )
        first = len(self.entries)
        self._add(found, _outside(mentions, cited) if cited else mentions)
        self._marked.extend(range(first, len(self.entries)))

    # -- flowing text ------------------------------------------------------------------------

    def open(self, section: str | None) -> None:
        """A reference section starts (its heading has just been read)."""
        self.close()
        self._section = section
        self._from = len(self.mentions)

    def text(self, piece: Piece, start: int, end: int) -> None:
        """Scan text ``[start, end)`` of ``piece`` belongs to the open reference section."""
        if end > start:
            self._parts.append((piece, start, end))
            self._size += end - start
            if self._size > MAX_SECTION_CHARS:  # bounded memory: cut what is held into entries
                self.close(keep_open=True)

    def close(self, *, keep_open: bool = False) -> None:
        """The open section ends: cut its text into entries."""
        parts, self._parts, self._size = self._parts, [], 0
        first = self._from
        self._from = len(self.mentions)
        section = self._section
        if not keep_open:
            self._section = None
        if not parts:
            return
        found = []
        if len(parts) == 1:  # the usual case: the section lies in one piece
            piece, s0, e0 = parts[0]
            text = piece.text[s0:e0]
            for a, b in split_entries(text, layout=self.layout):
                body, label = entry_text(text[a:b])
                if body:
                    start, line = self._where(piece, s0 + a)
                    end = _where_end(piece, s0 + b)
                    found.append((start, end, line, body, label, section))
            self._add(found, _cited(self.mentions[first : self._from]))
            return
        text = "".join(p.text[s:e] for p, s, e in parts)
        bounds, at = [], 0  # where each part starts in ``text``
        for _, s, e in parts:
            bounds.append(at)
            at += e - s
        for a, b in split_entries(text, layout=self.layout):
            body, label = entry_text(text[a:b])
            if not body:
                continue
            pa, pb = bisect_right(bounds, a) - 1, bisect_right(bounds, b - 1) - 1
            piece_a, sa, _ = parts[pa]
            piece_b, sb, _ = parts[pb]
            start, line = self._where(piece_a, sa + a - bounds[pa])
            end = _where_end(piece_b, sb + b - bounds[pb])
            found.append((start, end, line, body, label, section))
        self._add(found, _cited(self.mentions[first : self._from]))

    def whole_list(self, pieces: list[Piece]) -> None:
        """A document without a reference heading that is nothing but a list (a text file of
        references pasted from a manuscript): its entries, when ``is_reference_list`` says so;
        else none, so prose is never taken for a list."""
        if self.entries or not pieces:
            return
        text = "".join(p.text for p in pieces)
        if not is_reference_list(text):
            return
        self.open(None)
        self._from = 0  # every mention of the document may sit in an entry
        for p in pieces:
            self.text(p, 0, len(p.text))
        self.close()

    # -- one reference given twice ------------------------------------------------------------

    def drop_repeats(self) -> None:
        """A page that prints its reference list and repeats it in ``citation_reference`` meta
        tags (Springer, Nature, PLOS) gives each reference twice: a marked entry that a printed
        entry repeats (one identifier in common, or nearly all of its words) is dropped, its
        identifiers joining the printed one's (the printed entry has the page's line and
        links)."""
        if not self._marked or len(self._marked) == len(self.entries):
            return
        marked = set(self._marked)
        printed = [k for k in range(len(self.entries)) if k not in marked]
        by_id: dict[Identifier, int] = {}
        by_word: dict[str, list[int]] = {}
        words: dict[int, set[str]] = {}
        for k in printed:
            for i in self.entries[k].ids:
                by_id.setdefault(i, k)
            words[k] = set(fold_text(self.entries[k].text).split())
            for w in words[k]:
                if len(w) >= _KEY_WORD and w.isalpha():
                    by_word.setdefault(w, []).append(k)
        extra: dict[int, list[Identifier]] = {}
        dropped = set()
        for k in self._marked:
            entry = self.entries[k]
            twin = next((by_id[i] for i in entry.ids if i in by_id), None)
            if twin is None:  # its words, not those of its ids (which the printed one lacks)
                mine = set(fold_text(entry.text).split())
                mine.difference_update(*(fold_text(i.value).split() for i in entry.ids))
                twin = _same_words(mine, by_word, words)
            if twin is not None:
                dropped.add(k)
                extra.setdefault(twin, []).extend(entry.ids)
        for k, ids in extra.items():
            entry = self.entries[k]
            self.entries[k] = replace(entry, ids=tuple(dict.fromkeys((*entry.ids, *ids))))
        self.entries = [e for k, e in enumerate(self.entries) if k not in dropped]
        self._marked = []

    # -- link annotations --------------------------------------------------------------------

    def add_links(self, links: tuple[LinkMark, ...]) -> None:
        """Link annotations of a piece (a PDF page's), attached once the document is read."""
        self._links.extend(links)

    def attach_links(self) -> None:
        """The identifiers of each link's target join the ids of the one entry whose printed
        text its rectangle covers (ACL's titles link their DOIs, printed nowhere). A link over
        two entries, or over none, is attached to no entry; the document's own identifiers
        (``subject``: a running foot's link inside an entry that runs over a page break) never
        are."""
        if not self._links or not self.entries:
            return
        ms, starts = _by_start([m for m in self.mentions if m[_ROLE] != "subject"])
        order = sorted(range(len(self.entries)), key=lambda k: self.entries[k].start)
        firsts = [self.entries[k].start for k in order]
        extra: dict[int, list[Identifier]] = {}
        for link in self._links:
            (t0, t1), (a0, a1) = link.target, link.anchor
            ids = _ids_between(ms, starts, t0, t1)
            if not ids:
                continue
            hit = []  # entries starting before the anchor's end and ending after its start
            for k in range(bisect_left(firsts, a1) - 1, -1, -1):
                if self.entries[order[k]].end <= a0:
                    break  # entries do not overlap: the ones before end earlier still
                hit.append(order[k])
            if len(hit) == 1:
                extra.setdefault(hit[0], []).extend(ids)
        for k, ids in extra.items():
            entry = self.entries[k]
            self.entries[k] = replace(entry, ids=tuple(dict.fromkeys((*entry.ids, *ids))))

    # -- both ----------------------------------------------------------------------------------

    def _add(self, found, mentions: list[tuple]) -> None:
        """Entries (start, end, line, text, label, section) in order, each with the identifiers
        of the mentions (rows of Mention's fields) inside it: one sort and two bisections each,
        not a scan per entry."""
        ms, starts = _by_start(mentions)
        add, path = self.entries.append, self.path
        for start, end, line, text, label, section in found:
            ids = tuple(dict.fromkeys(_ids_between(ms, starts, start, max(end, start + 1))))
            add(_ENTRY(path, start, end, line, text[:4000], ids, section, label))


_AT, _ROLE = MENTION_ROW["start"], MENTION_ROW["role"]  # in a mention row
_SECTION = MENTION_ROW["section"]
_START = itemgetter(_AT)
_ENTRY = maker(ReferenceEntry)  # ReferenceEntry(...) with every field, 6x cheaper
# Identifier(scheme, value) from a row's first two fields, without NamedTuple's Python __new__
_identifier = partial(tuple.__new__, Identifier)


def _by_start(mentions: list[tuple]) -> tuple[list[tuple], list[int]]:
    """Mention rows in the order they start, and their starts (to bisect)."""
    ms = sorted(mentions, key=_START)
    return ms, [m[_AT] for m in ms]


def _ids_between(ms: list[tuple], starts: list[int], a: int, b: int) -> list[Identifier]:
    """The identifiers of the mention rows ``ms`` (by :func:`_by_start`) that start in [a, b)."""
    return [_identifier(m[:2]) for m in ms[bisect_left(starts, a) : bisect_left(starts, b)]]


_KEY_WORD = 4  # letters of a word that may pick the printed entries a marked one may repeat
_SAME_WORDS = 0.8  # share of a marked entry's words a printed entry repeating it prints
_MIN_WORDS = 3  # fewer words than this ("(1983)") repeat nothing
_MAX_TWINS = 64  # printed entries compared with one marked entry, at most


def _same_words(
    mine: set[str], by_word: dict[str, list[int]], words: dict[int, set[str]]
) -> int | None:
    """The printed entry that prints nearly all of ``mine`` (a marked entry's folded words),
    among those holding its rarest long word; None when there is none."""
    if len(mine) < _MIN_WORDS:
        return None
    keys = [by_word[w] for w in mine if w in by_word]
    if not keys:
        return None
    need = _SAME_WORDS * len(mine)
    return next((k for k in min(keys, key=len)[:_MAX_TWINS] if len(mine & words[k]) >= need), None)


def _cited(mentions: list[tuple]) -> list[tuple]:
    """The mentions (rows) that may be an entry's ids: not the page's own (``subject``) ones,
    which are page furniture run into the list's last entry (PLOS's "Download PDF" and
    "Citation" links after its reference list) or a running head, never a work it cites; nor
    link targets (section ``link``: a PDF page's, listed after its last line), which an entry
    running on over the page break spans but does not print (``attach_links`` gives each
    link's ids to the entry its anchor covers)."""
    return [m for m in mentions if m[_ROLE] != "subject" and m[_SECTION] != "link"]


def _outside(mentions: list[tuple], spans: list[tuple[int, int]]) -> list[tuple]:
    """The mentions (rows) starting outside every one of ``spans`` (file offsets, in order)."""
    starts = [a for a, _ in spans]
    kept = []
    for m in mentions:
        i = bisect_right(starts, m[_AT]) - 1
        if i < 0 or m[_AT] >= spans[i][1]:
            kept.append(m)
    return kept
