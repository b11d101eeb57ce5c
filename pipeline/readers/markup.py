"""What the XML readers share: a lenient tokenizer that maps every character back to the file.

``html.parser`` tokenizes the XML (it never expands an entity nor fetches a DTD; a declared
entity's reference stays as written), and a subclass per format decides, element by element,
what is text, what gets a synthetic label (``<article-id pub-id-type="pmid">`` -> ``PMID: ``),
where a record, a role or a reference entry starts and ends. Element names arrive lower-cased.
``pipeline.readers.xmlcheck`` says beside it whether the XML is well-formed.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser

from pipeline.readers import base
from pipeline.readers.base import LABELS, MARK, Builder, Piece
from pipeline.readers.html import LineIndex, marked_section

__all__ = ["Markup", "read_markup"]


class Markup(HTMLParser):
    """Element events -> scan text. Subclasses override :meth:`start` and :meth:`end`."""

    # Elements whose text is a block of its own (a blank line around it).
    blocks: frozenset[str] = frozenset()
    # Elements whose text is an entry's citation text (empty: all of the entry's text).
    citation: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.out = Builder()
        self.lines = LineIndex()
        self.stack: list[str] = []
        self.open: dict[str, int] = {}  # how many elements of each name are open (in stack)
        self.ready: list[Piece] = []
        self.rawbase = 0
        self.capture: list[str] | None = None  # citation text being collected
        self.entry_at = 0

    # -- feeding -------------------------------------------------------------------------------

    def feed_block(self, block: str) -> Iterator[Piece]:
        self.rawbase = self.lines.total - len(self.rawdata)
        self.lines.add(block)
        self.feed(block)
        yield from self.ready
        self.ready.clear()

    def where(self) -> tuple[int, int]:
        line, col = self.getpos()
        return self.lines.offset(line) + col, line

    # -- what subclasses call ------------------------------------------------------------------

    def blank(self) -> None:
        """A blank line: the end of an entry, and a place where a piece may end."""
        self.out.synth("\n\n")
        if self.capture is None and (
            self.out.size >= base.PIECE_SIZE or len(self.out.spans.pos) >= base.MAX_RUNS
        ):
            self.ready.append(self.out.take())
            self.out.synth("\n\n")

    def mark(self, name: str) -> None:
        self.out.synth("\n\n" + MARK + name + "\n\n")

    def label(self, scheme: str | None) -> None:
        if scheme:
            self.out.synth("\n" + LABELS[scheme])

    def attribute(self, attrs: list, name: str) -> None:
        """Scan an attribute's value (a link target) as text of its own line."""
        for key, value in attrs:
            if key == name and value:
                src, line = self.where()
                raw = self.get_starttag_text() or ""
                at = raw.find(value)
                self.out.synth("\n")
                if at >= 0 and "&" not in value:
                    self.out.real(value, src + at, line + raw.count("\n", 0, at))
                else:  # an escaped value: it maps to its tag
                    self.out.real(html.unescape(value), src, line, len(raw))
                self.out.synth("\n")

    def open_entry(self) -> None:
        self.blank()
        self.entry_at = self.out.size
        self.capture = []

    def close_entry(self, label: str | None = None) -> None:
        if self.capture is None:
            return
        # Elements are words apart ("<surname>Smith</surname>, <given-names>J</given-names>"),
        # but punctuation printed right after an element stays with it: "Smith J, Doe A (2004)".
        text = "".join(self.capture)[: base.ENTRY_TEXT_CHARS]
        text = _TIGHT.sub("", " ".join(text.split()))
        self.capture = None
        self.out.entry(self.entry_at, text, label)
        self.blank()

    # -- hooks -----------------------------------------------------------------------------------

    def is_block(self, tag: str) -> bool:
        """Whether ``tag``'s text is a block of its own (a blank line around it)."""
        return tag in self.blocks

    def key(self, tag: str) -> str:
        """The name :meth:`inside` knows an element by (its tag; a subclass may drop prefixes)."""
        return tag

    def inside(self, *tags: str) -> bool:
        """Whether an element of one of these names is open (constant time, whatever the
        depth: a file of 30,000 nested elements must not cost a scan of the stack each)."""
        return any(self.open.get(t) for t in tags)

    def pop(self) -> str:
        """Close the innermost open element."""
        tag = self.stack.pop()
        self.open[self.key(tag)] -= 1
        return tag

    def start(self, tag: str, attrs: list) -> None:
        """An element opens (``self.stack`` already holds it)."""

    def end(self, tag: str) -> None:
        """An element closes (``self.stack`` still holds it)."""

    # -- html.parser events ----------------------------------------------------------------------

    def _capturing(self) -> bool:
        if self.capture is None:
            return False
        return not self.citation or self.inside(*self.citation)

    def _separate(self, tag: str) -> None:
        """Element parts of a citation (surname, year, source) are words apart."""
        if self.capture is not None and tag not in _INLINE:
            self.capture.append(" ")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._separate(tag)
        self.stack.append(tag)
        key = self.key(tag)
        self.open[key] = self.open.get(key, 0) + 1
        if self.is_block(tag):
            self.blank()
        self.start(tag, attrs)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        key = self.key(tag)
        if not self.open.get(key):
            return  # a stray closer (malformed XML): ignored
        while self.key(self.stack[-1]) != key:  # unclosed elements inside it end with it
            self.end(self.stack[-1])
            self.pop()
        tag = self.stack[-1]  # as it opened: "<x:bibl>" closed by "</y:bibl>" (same key)
        self.end(tag)
        self.pop()
        self._separate(tag)
        if self.is_block(tag):
            self.blank()
        else:
            self.out.space()

    def handle_data(self, data: str) -> None:
        if data.isspace():
            self.out.space()
            if self.capture is not None:
                self.capture.append(" ")
            return
        src, line = self.where()
        self.out.real(data, src, line)
        if self._capturing():
            self.capture.append(data)

    def handle_entityref(self, name: str) -> None:
        self._reference(f"&{name}")

    def handle_charref(self, name: str) -> None:
        self._reference(f"&#{name}")

    def _reference(self, raw: str) -> None:
        src, line = self.where()
        if self.rawdata.startswith(";", src - self.rawbase + len(raw)):
            raw += ";"
        # Only XML's own five entities and character references decode; a declared entity
        # stays as written (never expanded).
        char = html.unescape(raw) if raw[1] == "#" or raw[1:].rstrip(";") in _XML_ENTITIES else raw
        self.out.real(char, src, line, len(raw))
        if self._capturing():
            self.capture.append(char)
        self.referenced(char)

    def referenced(self, char: str) -> None:
        """The text of a character or entity reference (``&#x2013;`` gives an en dash), as read."""

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        return marked_section(self, i, report)

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA["):  # <![CDATA[ text ]]>: its text, as written
            src, line = self.where()
            self.out.real(data[6:], src + 9, line)
            if self.capture is not None:
                self.capture.append(data[6:])


_TIGHT = re.compile(r"(?<=[(\[]) | (?=[)\]])| (?=[,.;:](?:[\s,.;:)\]]|$))")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_INLINE = frozenset("italic bold sup sub sc underline monospace i b u em strong span style".split())


def read_markup(parser: Markup, chars: Iterable[str]) -> Iterator[Piece]:
    """Feed ``chars`` to ``parser`` and yield its pieces."""
    parser.out.synth("\n\n")
    for block in chars:
        yield from parser.feed_block(block)
    parser.close()
    while parser.stack:
        parser.end(parser.pop())
    yield from parser.ready
    if parser.out.size:
        yield parser.out.take()
