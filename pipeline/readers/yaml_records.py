"""Citation files in YAML: CITATION.cff and CSL-YAML bibliographies (pandoc ``references:``).

- CITATION.cff (a top-level ``cff-version:``): the file describes one work, the software or data
  set itself: its ``doi`` and its ``identifiers`` of type ``doi`` are the subject. Its
  ``preferred-citation`` (the work to cite instead) and each of its ``references`` are reference
  entries, their ``doi``/``pmid``/``pmcid`` keys their ids;
- CSL-YAML (a top-level ``references:`` list, or a top-level list of items): each item is one
  reference entry, like a CSL-JSON item;
- Hayagriva (Typst's ``bibliography.yaml``: keys mapping to entries with ``type`` and
  ``title``): each entry is one reference entry, its ``serial-number: {doi: ...}`` its ids, its
  ``parent`` the journal or proceedings it is in.

An entry's citation text is rendered from its fields (``authors``/``author``, ``title``,
``journal``/``container-title``, ``year``/``issued``, ``volume``, ``start``-``end``/``page``).
Every scalar value is scan text of its own line, mapped back to where it stands in the file
(a DOI or a resolver URL names itself anywhere). The YAML is only composed into nodes (never
constructed into objects, no tags run); an alias is not followed twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import yaml

from pipeline.collector import collector_paused
from pipeline.readers import base
from pipeline.readers.base import LABELS, MARK, Builder, Piece
from pipeline.readers.citation import render
from pipeline.readers.text import read_text

__all__ = ["read_yaml"]

_ID_KEYS = {"doi": "doi", "pmid": "pmid", "pmcid": "pmcid", "arxiv": "arxiv"}
_CONTAINERS = ("journal", "container-title", "collection-title", "conference", "publisher")
_YEARS = ("year", "issued", "date", "date-published", "date-released")


class _Reader:
    """Walks the composed YAML nodes in file order, writing their scalars as scan text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out = Builder()
        self.seen: set[int] = set()
        self.ready: list[Piece] = []
        self.depth = 0  # entries open (a piece is cut only between them)

    def document(self, root) -> None:
        """The whole file: a CFF record, a CSL-YAML list or any other YAML (its values as text)."""
        items = _value(root, "references")
        if _value(root, "cff-version") is not None:
            self.cff(root)
        elif items is not None and _kind(items) == "seq":
            self.entries(items.value)
        elif _kind(root) == "seq":
            self.entries(root.value)
        elif _is_hayagriva(root):
            self.entries([v for _, v in root.value])
        else:
            self.node(root)

    def cff(self, root) -> None:
        for key, value in root.value:
            name = _scalar(key)
            if name == "doi":
                self.subject(value, "doi")
            elif name == "identifiers" and _kind(value) == "seq":
                for item in value.value:
                    is_doi = (_scalar(_value(item, "type")) or "").lower() == "doi"
                    self.subject(_value(item, "value"), "doi") if is_doi else self.node(item)
            elif name == "preferred-citation" and _kind(value) == "map":
                self.entries([value])
            elif name == "references" and _kind(value) == "seq":
                self.entries(value.value)
            else:
                self.node(value)

    def subject(self, node, scheme: str) -> None:
        if node is None:
            return
        self.mark("subject")
        self.scalar(node, scheme)
        self.mark("mention")

    def entries(self, items: list) -> None:
        self.mark("reference")
        for item in items:
            self.out.synth("\n\n")
            start = self.out.size
            self.depth += 1
            self.node(item)
            self.depth -= 1
            self.out.entry(start, _citation(item) if _kind(item) == "map" else "")
            self.cut()
        self.out.synth("\n\n")
        self.mark("mention")

    def node(self, node, key: str = "") -> None:
        """A node's scalars in file order; a value under an id key gets that scheme's label."""
        if node is None or id(node) in self.seen:
            return
        self.seen.add(id(node))
        kind = _kind(node)
        if kind == "map":
            for k, v in node.value:
                self.node(v, (_scalar(k) or "").lower())
        elif kind == "seq":
            for v in node.value:
                self.node(v, key)
        else:
            self.scalar(node, _ID_KEYS.get(key))

    def scalar(self, node, scheme: str | None) -> None:
        value = _scalar(node)
        if not value:
            return
        start, end = node.start_mark.index, node.end_mark.index
        raw = self.text[start:end]
        self.out.line_break()  # one value a line; a record's values stay one paragraph
        if scheme:
            self.out.synth(LABELS[scheme])
        line = node.start_mark.line + 1
        if raw == value or not node.style and "\n" in raw:  # plain: None (PyYAML), "" (libyaml)
            # a plain scalar over several lines (a Markdown body after a front matter) is
            # scanned as written: the same words, each id mapped to its own place
            self.out.real(raw, start, line)
        elif raw[1:-1] == value and raw[:1] in ("'", '"'):
            self.out.real(value, start + 1, line)
        else:  # escaped or folded: the value maps to its whole source
            self.out.real(value, start, line, max(end - start, 1))
        self.out.synth("\n")
        if not self.depth:
            self.cut()

    def cut(self) -> None:
        """End the piece here when it is large (between entries or top-level values)."""
        if self.out.size >= base.PIECE_SIZE or len(self.out.spans.pos) >= base.MAX_RUNS:
            self.out.synth("\n\n")
            self.ready.append(self.out.take())
            self.out.synth("\n\n")

    def mark(self, name: str) -> None:
        self.out.synth("\n\n" + MARK + name + "\n\n")


def _is_hayagriva(root) -> bool:
    """Typst's Hayagriva bibliography: a mapping of keys to entries with a type and a title."""
    if _kind(root) != "map" or not root.value:
        return False
    entries = [v for _, v in root.value[:5]]
    return all(_kind(e) == "map" and _value(e, "type") and _value(e, "title") for e in entries)


def _kind(node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "map"
    return "seq" if isinstance(node, yaml.SequenceNode) else "scalar"


def _scalar(node) -> str | None:
    if node is None or _kind(node) != "scalar":
        return None
    return str(node.value).strip()


def _value(node, key: str):
    """The value node of ``key`` in a mapping node, or None."""
    if node is None or _kind(node) != "map":
        return None
    return next((v for k, v in node.value if _scalar(k) == key), None)


def _fields(node) -> dict:
    """A mapping node's value nodes by key (the first of a repeated key, as :func:`_value`)."""
    fields: dict = {}
    if node is not None and _kind(node) == "map":
        for k, v in node.value:
            fields.setdefault(_scalar(k), v)
    return fields


def _citation(item) -> str:
    """An item's fields as one citation line."""
    fields = _fields(item)  # one pass over its keys, not one per field asked for
    first = lambda *keys: next(  # noqa: E731
        (t for k in keys if (t := _text(fields.get(k)))), None
    )
    parent = _fields(fields.get("parent"))  # Hayagriva: the journal, proceedings or book
    in_parent = lambda key: _text(parent.get(key))  # noqa: E731
    year = first(*_YEARS)
    pages = first("page", "pages", "page-range")
    start, end = first("start"), first("end")
    if start:
        pages = f"{start}-{end}" if end else start
    return render(
        _authors(item),
        first("title"),
        first(*_CONTAINERS) or in_parent("title"),
        year[:4] if year else None,
        first("volume") or in_parent("volume"),
        pages,
    )


def _authors(item) -> list[str]:
    people = _value(item, "authors") or _value(item, "author")
    if people is None or _kind(people) == "map":
        return []
    if _kind(people) == "scalar":  # Hayagriva: "author: Mädje, Laurenz"
        return [_scalar(people) or ""]
    names = []
    for person in people.value:
        if _kind(person) == "scalar":  # Hayagriva: "- Haas, Andreas"
            names.append(_scalar(person) or "")
            continue
        family = _scalar(_value(person, "family-names")) or _scalar(_value(person, "family"))
        given = _scalar(_value(person, "given-names")) or _scalar(_value(person, "given"))
        whole = _scalar(_value(person, "name")) or _scalar(_value(person, "literal"))
        if family:
            names.append(f"{family}, {given}" if given else family)
        elif whole:
            names.append(whole)
    return names


def _text(node) -> str | None:
    """A field's text: a scalar, a CSL date's year (``date-parts: [[2019]]``, ``[{year: 2019}]``),
    an entity's name (CFF ``conference: {name: ...}``). A list is followed to its first item a
    few levels deep at most: an alias inside its own list (``date-parts: &d [*d]``) costs that
    field, not the file (it was an endless loop)."""
    for _ in range(_MAX_DESCENT):
        if node is None:
            return None
        if _kind(node) == "scalar":
            return _scalar(node) or None
        if _kind(node) != "seq":
            break
        node = node.value[0] if node.value else None  # "issued: [{year: 2009, month: 3}]"
    else:
        return None
    if _value(node, "year") is not None:
        return _scalar(_value(node, "year"))
    parts = _value(node, "date-parts")
    if parts is None:
        return _scalar(_value(node, "name"))
    for _ in range(_MAX_DESCENT):
        if _kind(parts) != "seq" or not parts.value:
            break
        parts = parts.value[0]
    return _scalar(parts)


_MAX_DESCENT = 8  # list levels a field's value is followed into (CSL's date-parts: 2)


def read_yaml(chars: Iterable[str], problems: list[str]) -> Iterator[Piece]:
    """Pieces of a CITATION.cff or CSL-YAML file, each of its documents in turn; a file YAML
    cannot read is read as plain text (one problem line)."""
    text = "".join(chars)
    reader = _Reader(text)
    try:
        with collector_paused():
            _compose(text, reader)
    except (yaml.YAMLError, RecursionError) as exc:
        problems.append(f"not readable as YAML ({_reason(exc)}); read as plain text")
        step = base.BLOCK_SIZE  # in blocks, as the file came: pieces of bounded size
        yield from read_text(text[i : i + step] for i in range(0, len(text), step))
        return
    yield from reader.ready
    yield reader.out.take()


def _compose(text: str, reader: _Reader) -> None:
    """Every document of the stream: pandoc's references between "---" lines (a second, empty
    document), a Markdown body after a front matter (one plain scalar)."""
    reader.out.synth("\n\n")
    for root in yaml.compose_all(text, Loader=_loader(text)):
        if root is not None:
            reader.document(root)


def _loader(text: str) -> type:
    """libyaml's composer when PyYAML has it (20 MB of CFF: seconds, not minutes; it refuses
    nesting deeper than 1,000 levels), else PyYAML's own. Both count marks in characters; a
    text opening with a BOM goes to PyYAML's, which counts the BOM as the file does."""
    fast = getattr(yaml, "CSafeLoader", None)
    return fast if fast is not None and not text.startswith("\ufeff") else yaml.SafeLoader


def _reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or "syntax error"
    return f"{problem} at line {mark.line + 1}" if mark is not None else problem
