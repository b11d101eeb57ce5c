"""EndNote XML export (``<xml><records><record>…``): every record is one reference.

``<electronic-resource-num>`` holds the DOI (a bare ``10.…`` names itself); a record's
``<urls>`` are scanned as links. ``<accession-num>`` (a WOS, PubMed or database key) and
``<isbn>`` are never taken as PMIDs: only a value that labels itself (``PMID: 123``) counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece
from pipeline.readers.citation import render
from pipeline.readers.markup import Markup, read_markup

__all__ = ["read_endnote"]

_FIELDS = {"author": "authors", "title": "title", "secondary-title": "container", "year": "year"}


class _EndNote(Markup):
    blocks = frozenset("record author title secondary-title url electronic-resource-num".split())

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self.field: str | None = None

    def start(self, tag: str, attrs: list) -> None:
        if tag == "record":
            self.open_entry()
            self.fields = {}
        elif tag in _FIELDS or tag in ("volume", "pages"):
            self.field = tag
            self.fields.setdefault(tag, []).append("")

    def end(self, tag: str) -> None:
        if tag == "record":
            self.capture = [self._citation()]
            self.close_entry()
        elif tag == self.field:
            self.field = None

    def handle_data(self, data: str) -> None:
        super().handle_data(data)
        if self.field is not None and self.fields.get(self.field):
            self.fields[self.field][-1] += data

    def _citation(self) -> str:
        f = {k: [" ".join(v.split()) for v in vs if v.strip()] for k, vs in self.fields.items()}
        first = lambda k: (f.get(k) or [None])[0]  # noqa: E731
        return render(
            f.get("author", []),
            first("title"),
            first("secondary-title"),
            first("year"),
            first("volume"),
            first("pages"),
        )


def read_endnote(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of an EndNote XML library."""
    return read_markup(_EndNote(), chars)
