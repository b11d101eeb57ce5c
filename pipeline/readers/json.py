"""JSON records, key-aware: CSL-JSON (Zotero, pandoc, manubot), OpenAlex works and lists,
Crossref works and lists, Semantic Scholar Graph papers; JSON Lines too.

A value counts as an identifier by its key: a bare number under ``PMID``/``pmid``/
``externalIds.PubMed`` is a PMID, under ``PMCID``/``PubMedCentral`` a PMCID, under ``ArXiv`` an
arXiv id; ``CorpusId``, ``MAG``, ``authorId``, counts and ISSNs never are. Strings are also
scanned as text (a DOI or a resolver URL names itself anywhere).

Roles: each record (the document itself, each element of a top-level list or of
``results``/``items``/``data``, Crossref's ``message``) is a subject, its id keys its ids. Its
``reference``/``references``/``referenced_works`` elements are reference entries, its
``citations``/``cited_by`` elements citing works, ``related_works`` mentions. CSL-JSON items
are a bibliography: each item is a reference entry.

The text is tokenized in one streaming pass (a regex, never ``json.loads`` of the whole), so
memory stays bounded; positions map back to the file, escapes (``\\/``, ``\\u00e9``) decoded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pipeline.readers import base
from pipeline.readers.base import LABELS, MARK, Builder, Piece
from pipeline.readers.citation import render

__all__ = ["read_json"]

_TOKEN = re.compile(r'[ \t\r\n]+|"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+|"')
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_ID_KEYS = {
    "doi": "doi",
    "pmid": "pmid",
    "pubmed": "pmid",
    "pubmed_id": "pmid",
    "pmcid": "pmcid",
    "pmc": "pmcid",
    "pubmedcentral": "pmcid",
    "arxiv": "arxiv",
    "arxiv_id": "arxiv",
    "arxivid": "arxiv",
    "openalex": "openalex",
}
_URL_KEYS = frozenset({"id", "url", "landing_page_url", "pdf_url", "link"})
_REFERENCE_KEYS = frozenset({"reference", "references", "referenced_works", "bibliography"})
_CITING_KEYS = frozenset({"citations", "cited_by", "citing", "citing_works"})
_MENTION_KEYS = frozenset({"related_works", "related"})
_LIST_KEYS = frozenset({"results", "items", "data"})
_CSL = re.compile(r'"(?:issued|container-title|citation-key)"\s*:')
_NOT_CSL = re.compile(r'"(?:is-referenced-by-count|reference-count|member|cited_by_count)"\s*:')
_TEXT_KEYS = {
    "unstructured": "text",
    "title": "title",
    "article-title": "title",
    "display_name": "title",
    "container-title": "container",
    "journal-title": "container",
    "venue": "container",
    "journal": "container",
    "family": "authors",
    "literal": "authors",
    "name": "authors",
    "author": "authors",
    "year": "year",
    "volume": "volume",
    "page": "pages",
    "first-page": "pages",
}


@dataclass
class _Frame:
    kind: str  # "obj" | "arr"
    key: str = ""  # the key this container is the value of
    record: bool = False  # a subject record
    entry: str | None = None  # the role of an entry ("reference", "citing", "mention")
    start: int = 0
    fields: dict[str, list[str]] = field(default_factory=dict)


class _Reader:
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.b = Builder()
        self.stack: list[_Frame] = []
        self.key = ""
        self.expect_key = False
        self.src = 0
        self.line = 1
        self.ready: list[Piece] = []
        self.seen = 0  # top-level values

    # -- tokens ----------------------------------------------------------------------------------

    def feed(self, buf: str, final: bool) -> int:
        """Consume tokens of ``buf``; returns how much was consumed (the rest waits)."""
        pos = 0
        for m in _TOKEN.finditer(buf):
            tok = m.group()
            if not final and m.end() == len(buf) and tok[0] not in "{}[]:,":
                break  # may go on in the next block
            if tok == '"':
                if final:
                    self.problems.append("malformed JSON (a string never closed); read up to it")
                break
            self._token(tok, buf, m.end())
            self._advance(tok)
            pos = m.end()
        return pos

    def _advance(self, tok: str) -> None:
        self.src += len(tok)
        self.line += tok.count("\n")

    def _token(self, tok: str, buf: str, end: int) -> None:
        c = tok[0]
        if c in " \t\r\n":
            return
        if c in "{[":
            self._open(c, buf[end : end + 4000])
        elif c in "}]":
            self._close()
        elif c == ":":
            self.expect_key = False
        elif c == ",":
            self.expect_key = bool(self.stack) and self.stack[-1].kind == "obj"
        elif c == '"' and self.expect_key:
            self.key = tok[1:-1]
            self.expect_key = False
        else:
            self._value(tok)

    # -- structure -------------------------------------------------------------------------------

    def _open(self, c: str, ahead: str) -> None:
        parent = self.stack[-1] if self.stack else None
        key = self.key if parent is not None and parent.kind == "obj" else ""
        frame = _Frame("obj" if c == "{" else "arr", key=key)
        if c == "{" and self._is_record(parent):  # its first keys say what it is
            if _CSL.search(ahead) and not _NOT_CSL.search(ahead):
                frame.entry = "reference"
            else:
                frame.record = True
        elif c == "{" and parent is not None and parent.kind == "arr":
            frame.entry = self._role_of(parent.key)
        if frame.record:
            self.b.synth("\n\n" + MARK + "record\n\n" + MARK + "mention\n\n")
        elif frame.entry is not None:
            self.b.synth("\n\n" + MARK + frame.entry + "\n\n")
            frame.start = self.b.size
        elif c == "[" and self._role_of(key) and key in _REFERENCE_KEYS | _CITING_KEYS:
            self.b.synth("\n\n" + MARK + self._role_of(key) + "\n\n")
        if parent is None:
            self.seen += 1
        self.stack.append(frame)
        self.expect_key = c == "{"

    def _is_record(self, parent: _Frame | None) -> bool:
        if parent is None:
            return True
        if parent.kind == "obj":
            return parent.key == "" and self.key == "message" and len(self.stack) == 1
        grand = self.stack[-2] if len(self.stack) > 1 else None
        return len(self.stack) == 1 or (
            parent.key in _LIST_KEYS and (grand is None or grand.record or len(self.stack) <= 3)
        )

    @staticmethod
    def _role_of(key: str) -> str | None:
        k = key.lower()
        if k in _REFERENCE_KEYS:
            return "reference"
        if k in _CITING_KEYS:
            return "citing"
        if k in _MENTION_KEYS:
            return "mention"
        return None

    def _close(self) -> None:
        if not self.stack:
            self.problems.append("malformed JSON (a closing bracket too many); read up to it")
            return
        frame = self.stack.pop()
        if frame.entry is not None:
            self.b.entry(frame.start, _citation(frame.fields))
            self.b.synth("\n\n" + MARK + "mention\n\n")
        elif frame.kind == "arr" and frame.key.lower() in _REFERENCE_KEYS | _CITING_KEYS:
            self.b.synth("\n\n" + MARK + "mention\n\n")
        self.expect_key = False
        if len(self.stack) <= 1 and (
            self.b.size >= base.PIECE_SIZE or len(self.b.spans.pos) >= base.MAX_RUNS
        ):
            self.ready.append(self.b.take())
            self.b.synth("\n\n")

    def _value(self, tok: str) -> None:
        if not self.stack:
            if self.seen == 0:
                from pipeline.readers import DocumentError

                raise DocumentError("JSON is not an object or a list of records; not read")
            return
        frame = self.stack[-1]
        key = self.key if frame.kind == "obj" else frame.key
        scheme = _ID_KEYS.get(key.lower().replace("-", "_"))
        entry = next((f for f in reversed(self.stack) if f.entry or f.record), None)
        text = _decoded(tok) if tok.startswith('"') else tok
        if entry is not None and entry.entry is not None and key.lower() in _TEXT_KEYS:
            entry.fields.setdefault(_TEXT_KEYS[key.lower()], []).append(text)
        subject = entry is not None and entry.record and (scheme or key.lower() in _URL_KEYS)
        if subject:
            self.b.synth("\n\n" + MARK + "subject\n")
        self.b.line_break()
        if scheme and (text.isdigit() or scheme in ("arxiv", "pmcid")) and "/" not in text:
            self.b.synth(LABELS[scheme])
        self._real(tok)
        self.b.synth("\n")
        if subject:
            self.b.synth("\n" + MARK + "mention\n\n")
        if frame.kind == "arr" and frame.key.lower() in _REFERENCE_KEYS | _CITING_KEYS:
            self.b.synth("\n")  # one work per element of a list of ids

    def _real(self, tok: str) -> None:
        """The token's text (a string without its quotes, escapes decoded) mapped to the file."""
        if not tok.startswith('"'):
            self.b.real(tok, self.src, self.line)
            return
        body, at = tok[1:-1], self.src + 1
        if "\\" not in body:
            self.b.real(body, at, self.line)
            return
        last = 0
        for m in _ESCAPE.finditer(body):
            self.b.real(body[last : m.start()], at + last, self.line)
            self.b.real(_unescape(m.group()), at + m.start(), self.line, len(m.group()))
            last = m.end()
        self.b.real(body[last:], at + last, self.line)


def _unescape(esc: str) -> str:
    if esc[1] == "u":
        return chr(int(esc[2:], 16))
    return _SIMPLE.get(esc[1], esc[1])


def _decoded(tok: str) -> str:
    return _ESCAPE.sub(lambda m: _unescape(m.group()), tok[1:-1])


def _citation(fields: dict[str, list[str]]) -> str:
    if fields.get("text"):
        return fields["text"][0]
    first = lambda k: (fields.get(k) or [None])[0]  # noqa: E731
    return render(
        fields.get("authors", []),
        first("title"),
        first("container"),
        first("year"),
        first("volume"),
        first("pages"),
    )


def read_json(chars: Iterable[str], problems: list[str] | None = None) -> Iterator[Piece]:
    """Pieces of a JSON document or JSON Lines file."""
    reader = _Reader(problems if problems is not None else [])
    reader.b.synth("\n\n")
    buf = ""
    for block in chars:
        buf += block
        used = reader.feed(buf, final=False)
        buf = buf[used:]
        if len(buf) > 4 * base.PIECE_SIZE:  # one token of millions of characters
            reader.problems.append("JSON value over 8 M characters; read up to it")
            buf = ""
            break
        yield from reader.ready
        reader.ready.clear()
    if buf:
        reader.feed(buf, final=True)
    if reader.stack and not any(p.startswith("malformed JSON") for p in reader.problems):
        reader.problems.append("malformed JSON (it ends inside a value); read up to its end")
    yield from reader.ready
    if reader.b.size:
        yield reader.b.take()
