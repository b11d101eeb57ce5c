"""Word (``.docx``): paragraphs, hyperlink targets, footnotes and endnotes.

The *extracted text* (what offsets point into, and what ``enrich extract --format text``
prints) is one line per paragraph (a heading style gives a ``## `` heading in the scan text),
each hyperlink's target on a ``[link] URI`` line after its paragraph (section ``link``), then the
footnotes and endnotes under ``Notes and references`` (they hold a manuscript's citations, so
their identifiers are references). The XML parts are read with defusedxml (no entity expanded,
nothing fetched), each at most ``MAX_PART_BYTES`` uncompressed (a zip bomb stops there).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator

from defusedxml import ElementTree

from pipeline.readers.base import MARK, Builder, LinkMark, Piece
from pipeline.readers.source import BinaryFile, RawFile

__all__ = ["MAX_PART_BYTES", "read_docx"]

MAX_PART_BYTES = 64 << 20
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def read_docx(
    raw: RawFile, problems: list[str], text_sink: Callable[[str], None] | None = None
) -> Iterator[Piece]:
    """Pieces of a Word document's extracted text. Raises DocumentError / BinaryFile."""
    from pipeline.readers import DocumentError

    fh = raw.binary()
    try:
        zf = zipfile.ZipFile(fh)
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        if raw.path.lower().endswith(".docx"):
            raise DocumentError("damaged Word file (not a readable zip); not read") from None
        raise BinaryFile("binary file (NUL bytes or a binary signature); not read") from None
    try:
        main = _main_part(zf, names)
    except Exception:  # a damaged or hostile _rels/.rels: the usual name, if it is there
        main = "word/document.xml"
    if main not in names:
        if raw.path.lower().endswith(".docx"):
            raise DocumentError("not a Word document (a zip without word/document.xml); not read")
        raise BinaryFile("binary file (NUL bytes or a binary signature); not read")
    try:
        parts = [
            (name, _paragraphs(_xml(zf, name), _links(zf, name)))
            for name in (main, "word/footnotes.xml", "word/endnotes.xml")
            if name in names
        ]
    except _TooLarge as exc:
        raise DocumentError(str(exc)) from None
    except ElementTree.ParseError as exc:
        raise DocumentError(f"damaged Word file (malformed XML: {exc}); not read") from None
    except Exception as exc:  # defusedxml's refusals (entities, DTDs) among them
        raise DocumentError(f"Word file refused ({type(exc).__name__}); not read") from None
    return _Writer(text_sink).pieces(parts)


class _TooLarge(Exception):
    pass


_MAIN = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"


def _main_part(zf: zipfile.ZipFile, names: set[str]) -> str:
    """The main document part: ``word/document.xml`` as Word names it, or the part the package's
    ``_rels/.rels`` names (Word Online and other tools save ``word/document2.xml``)."""
    if "word/document.xml" in names or "_rels/.rels" not in names:
        return "word/document.xml"
    for r in _xml(zf, "_rels/.rels").iter(f"{_REL}Relationship"):
        if r.get("Type") == _MAIN and r.get("TargetMode") != "External":
            return r.get("Target", "").lstrip("/")
    return "word/document.xml"


def _xml(zf: zipfile.ZipFile, name: str):
    info = zf.getinfo(name)
    if info.file_size > MAX_PART_BYTES:
        raise _TooLarge(f"Word file part {name} is {info.file_size >> 20} MB unpacked; not read")
    with zf.open(info) as part:
        data = part.read(MAX_PART_BYTES + 1)  # the declared size may lie
    if len(data) > MAX_PART_BYTES:
        raise _TooLarge(f"Word file part {name} is over {MAX_PART_BYTES >> 20} MB; not read")
    return ElementTree.fromstring(data)


def _links(zf: zipfile.ZipFile, name: str) -> dict[str, str]:
    rels = name.replace("word/", "word/_rels/") + ".rels"
    if rels not in zf.namelist():
        return {}
    root = _xml(zf, rels)
    return {
        r.get("Id", ""): r.get("Target", "")
        for r in root.iter(f"{_REL}Relationship")
        if r.get("TargetMode") == "External"
    }


# A hyperlink of a paragraph: its target and the span of its text in the paragraph's text.
_Link = tuple[str, int, int]


def _paragraphs(root, links: dict[str, str]) -> list[tuple[str, bool, list[_Link]]]:
    """(text, is a heading, hyperlinks in the order they begin) for each paragraph."""
    out = []
    for p in root.iter(f"{_W}p"):
        chunks: list[str] = []
        size = 0
        targets: list[list] = []  # [target, start, end]; a field's end is known at its end
        fields: list[int | None] = []  # open fields: the index of a HYPERLINK's target
        for el in p.iter():
            chunk = _chunk(el)
            if chunk:
                chunks.append(chunk)
                size += len(chunk)
            elif el.tag == f"{_W}hyperlink" and el.get(f"{_R}id") in links:
                targets.append([links[el.get(f"{_R}id")], size, size + _text_size(el)])
            elif el.tag == f"{_W}fldChar":
                kind = el.get(f"{_W}fldCharType")
                if kind == "begin":
                    fields.append(None)
                elif kind == "end" and fields and (k := fields.pop()) is not None:
                    targets[k][2] = size  # the field's shown text ends here
            elif el.tag == f"{_W}instrText" and el.text and "HYPERLINK" in el.text:
                quoted = el.text.split('"')
                if len(quoted) > 1:
                    # A field begun in this paragraph shows the text up to its end (or the
                    # paragraph's); one begun before it: the whole paragraph (end = start).
                    own = bool(fields) and fields[-1] is None
                    targets.append([quoted[1], size if own else 0, size if own else 0])
                    if own:
                        fields[-1] = len(targets) - 1
        for k in fields:  # a field going on past the paragraph: to the paragraph's end
            if k is not None:
                targets[k][2] = size
        style = p.find(f"{_W}pPr/{_W}pStyle")
        heading = style is not None and (style.get(f"{_W}val") or "").lower().startswith(
            ("heading", "title")
        )
        text = "".join(chunks)
        if text.strip() or targets:
            out.append((text, heading, [(t, first, end) for t, first, end in targets]))
    return out


def _chunk(el) -> str:
    """The text an element of a paragraph adds: a run's text, a tab, a break as a blank."""
    if el.tag == f"{_W}t":
        return el.text or ""
    if el.tag == f"{_W}tab":
        return "\t"
    if el.tag in (f"{_W}br", f"{_W}cr"):
        return " "
    return ""


def _text_size(el) -> int:
    """The length of the text an element (a hyperlink) shows."""
    return sum(len(_chunk(x)) for x in el.iter())


class _Writer:
    def __init__(self, sink: Callable[[str], None] | None) -> None:
        self.sink = sink
        self.b = Builder()
        self.src = 0
        self.line = 1

    def pieces(self, parts) -> Iterator[Piece]:
        for i, (_, paragraphs) in enumerate(parts):
            if i and paragraphs:  # the main document comes first, then its notes
                self.b.synth("\n\n## ")
                self._line("Notes and references")
                self.b.synth("\n")
            for text, heading, targets in paragraphs:
                self.b.synth("\n\n## " if heading else "\n")
                start = self.src
                self._line(text)
                if targets:
                    self._targets(targets, start, len(text))
                if heading:
                    self.b.synth("\n")
        if self.b.size:
            yield self.b.take()

    def _targets(self, targets: list[_Link], start: int, size: int) -> None:
        """A paragraph's link targets, one ``[link] URI`` line each, and a ``LinkMark`` per
        hyperlink from its target to its text (the paragraph's, when it shows none), so that
        a reference entry's hyperlinked DOI or PubMed page is that entry's id."""
        self.b.synth("\n" + MARK + "link\n")
        spans = {}
        for uri in dict.fromkeys(uri for uri, _, _ in targets):
            self._write("[link] ")
            spans[uri] = (self.src, self.src + len(uri))
            self._line(uri)
        self.b.synth("\n" + MARK + "unlink\n")
        for uri, first, end in targets:
            anchor = (start + first, start + end) if end > first else (start, start + size)
            self.b.links.append(LinkMark(spans[uri], anchor))

    def _line(self, text: str) -> None:
        self.b.real(text + "\n", self.src, self.line)
        self._write(text + "\n", counted=True)

    def _write(self, text: str, *, counted: bool = False) -> None:
        if self.sink is not None:
            self.sink(text)
        if not counted:
            pass
        self.src += len(text)
        self.line += text.count("\n")
