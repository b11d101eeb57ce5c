"""Readers: one seed file in, pieces of scan text out, one format a module.

    RawFile (open once, hash, sniff, decode)  ->  reader  ->  Piece[]  ->  pipeline.extract

``open_reader(raw)`` sniffs a file (content first, extension second) and returns its kind and a
function yielding its pieces. Text formats read the decoded characters; PDF and DOCX read the
binary file and produce an *extracted text* of their own, which is what offsets point into (and
what ``enrich extract --format text`` prints).

==========  =================================================================================
kind        module
==========  =================================================================================
text        ``text``      plain text, also Markdown
html        ``html``      HTML (any other XML is read the same way)
bibtex      ``bibtex``    ris ``ris``, enw ``enw`` (EndNote tagged), refworks ``refworks``
csv/tsv     ``csv``
jats        ``jats``      JATS/NLM article XML (PMC ``.nxml``, eLife, PLOS)
pubmed_xml  ``pubmed_xml``  PubMed efetch/export XML
medline     ``medline``   MEDLINE/``.nbib`` tagged records
endnote     ``endnote``   EndNote XML export
bibxml      ``bibxml``    TEI (GROBID), Elsevier, Springer A++, Crossref, MODS, DataCite XML
json        ``json``      CSL-JSON, OpenAlex, Crossref, Semantic Scholar records; JSON Lines
yaml        ``yaml_records``  CITATION.cff and CSL-YAML bibliographies
pdf         ``pdf``       the PDF's text layer and link annotations (pypdfium2)
docx        ``docx``      Word paragraphs, hyperlinks, footnotes and endnotes
==========  =================================================================================
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator

from pipeline.readers.base import MARK, SNIFF_SIZE, EntryMark, Piece, SpanMap
from pipeline.readers.layout import Layout, layout_for
from pipeline.readers.limits import ReadLimits
from pipeline.readers.sniff import binary_kind, detect_kind
from pipeline.readers.source import BinaryFile, NotUtf8, RawFile

__all__ = [
    "MARK",
    "SNIFF_SIZE",
    "BinaryFile",
    "DocumentError",
    "EntryMark",
    "Layout",
    "NotUtf8",
    "Piece",
    "RawFile",
    "SpanMap",
    "ReadLimits",
    "detect_kind",
    "extracted_text",
    "layout_for",
    "open_reader",
    "read_pieces",
]


class DocumentError(Exception):
    """A document of a format enrich reads could not be read (damaged, encrypted...): one line.

    ``skipped`` is set when the file is no error of the input but something enrich does not
    read (a scanned PDF without a text layer).
    """

    def __init__(self, message: str, *, skipped: bool = False) -> None:
        super().__init__(message)
        self.skipped = skipped


def preload() -> None:
    """Import every reader now (they are otherwise imported on a document's first use, with the
    standard modules they need). A thread that then reads documents imports nothing, so it can
    never meet another thread's imports halfway: two threads importing overlapping modules can
    raise Python's import "deadlock detected" in either of them."""
    from pipeline.readers import docx, json, pdf, xmlcheck, yaml_records  # noqa: F401

    _text_readers()


def _text_readers() -> dict[str, Callable[[Iterable[str]], Iterator[Piece]]]:
    from pipeline.readers import (
        bibtex,
        bibxml,
        csv,
        endnote,
        enw,
        html,
        jats,
        medline,
        pubmed_xml,
        refworks,
        ris,
        text,
        wos,
    )

    return {
        "text": text.read_text,
        "markdown": text.read_text,
        "html": html.read_html,
        "xml": html.read_html,
        "bibtex": bibtex.read_bibtex,
        "ris": ris.read_ris,
        "enw": enw.read_enw,
        "refworks": refworks.read_refworks,
        "csv": csv.read_csv,
        "tsv": csv.read_tsv,
        "jats": jats.read_jats,
        "pubmed_xml": pubmed_xml.read_pubmed_xml,
        "endnote": endnote.read_endnote,
        "bibxml": bibxml.read_bibxml,
        "medline": medline.read_medline,
        "wos": wos.read_wos,
    }


_TEXT_READERS: dict[str, Callable[[Iterable[str]], Iterator[Piece]]] = {}


def read_pieces(kind: str, chars: Iterable[str]) -> Iterator[Piece]:
    """The pieces of a text file of ``kind`` whose decoded text arrives as ``chars`` blocks."""
    if not _TEXT_READERS:
        _TEXT_READERS.update(_text_readers())
    return _TEXT_READERS[kind](chars)


def open_reader(
    raw: RawFile,
    problems: list[str],
    limits: ReadLimits | None = None,
    text_sink: Callable[[str], None] | None = None,
) -> tuple[str, Iterator[Piece]]:
    """(kind, its pieces) for the file ``raw`` has open. Raises BinaryFile (not a document
    enrich reads), DocumentError (a document it could not read), OSError, NotUtf8.

    ``problems`` receives the reader's one-line warnings (a limit reached, entities not
    expanded, malformed XML read leniently). ``text_sink``, if given, receives the document's
    text as offsets count it: the decoded file, or a PDF's or Word file's extracted text.
    """
    limits = limits or ReadLimits()
    head = raw.head()
    kind = binary_kind(raw.path, head)
    if kind == "pdf":
        from pipeline.readers import pdf

        return kind, pdf.read_pdf(raw, problems, limits, text_sink)
    if kind == "docx":
        from pipeline.readers import docx

        return kind, docx.read_docx(raw, problems, text_sink)
    chars = raw.chars()
    first = next(chars, "")  # the first block: the kind is sniffed from its start
    kind = detect_kind(raw.path, first[:SNIFF_SIZE])
    if kind in ("pdf", "docx"):  # named so, but its bytes are no PDF or zip
        raise DocumentError(f"not a {kind.upper()} file (no {kind.upper()} signature); not read")
    blocks: Iterable[str] = itertools.chain([first], chars)
    if text_sink is not None:
        blocks = _tee(blocks, text_sink)
    if kind in ("jats", "pubmed_xml", "endnote", "bibxml", "xml"):
        from pipeline.readers.xmlcheck import checked

        blocks = checked(blocks, problems)
    if kind == "yaml":
        from pipeline.readers import yaml_records

        size = os.path.getsize(raw.path)
        if size <= limits.yaml_max_mb << 20:
            return kind, yaml_records.read_yaml(blocks, problems)
        problems.append(
            f"YAML of {size >> 20} MB (over ENRICH_YAML_MAX_MB={limits.yaml_max_mb}): "
            "read as plain text, its keys not used"
        )
        kind = "text"
    if kind == "json":
        from pipeline.readers import json

        size = os.path.getsize(raw.path)
        if size <= limits.json_max_mb << 20 or first.lstrip()[:1] == "{" and _is_lines(first):
            return kind, json.read_json(blocks, problems)
        problems.append(
            f"JSON of {size >> 20} MB (over ENRICH_JSON_MAX_MB={limits.json_max_mb}): "
            "read as plain text, its keys not used"
        )
        kind = "text"
    if kind == "html":
        from pipeline.readers import html

        return kind, html.read_html(blocks, problems)
    return kind, read_pieces(kind, blocks)


def _tee(blocks: Iterable[str], sink: Callable[[str], None]) -> Iterator[str]:
    for block in blocks:
        sink(block)
        yield block


def _is_lines(head: str) -> bool:
    """JSON Lines: the first line is a whole JSON value (records are read one by one)."""
    import json as stdlib_json

    first = head.split("\n", 1)[0]
    try:
        stdlib_json.loads(first)
    except ValueError:
        return False
    return "\n" in head


def extracted_text(path: str, limits: ReadLimits | None = None) -> str:
    """The text a document's mentions' offsets point into: the decoded file, or a PDF's or
    Word file's extracted text (``enrich extract --format text``). Raises like open_reader."""
    out: list[str] = []
    raw = RawFile(path, fallback="cp1252")
    try:
        _, pieces = open_reader(raw, [], limits, out.append)
        for _ in pieces:
            pass
    finally:
        raw.close()
    return "".join(out)
