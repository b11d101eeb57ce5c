"""JATS/NLM article XML (PMC ``.nxml``, eLife, PLOS).

- ``<article-id>`` (pmid, pmc bare digits -> ``PMC…``, doi) is the article itself: the subject.
  So are the DOIs of its components (``<object-id>`` of figures, tables, supplements, and the
  article ids of its sub-articles: decision letters, replies), grouped with it, not works apart;
- each ``<ref>`` of a ``<ref-list>`` is one reference entry: its ``mixed-citation`` /
  ``element-citation`` text is kept for reference matching, its ``<pub-id>``s are its ids;
- ``<ext-link>``/``<uri>`` targets are scanned like HTML links; Funder Registry DOIs
  (``10.13039/…``, in ``<funding-group>``) are never works (``pipeline.extract`` drops them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece
from pipeline.readers.markup import Markup, read_markup

__all__ = ["read_jats"]

_PUB_IDS = {
    "pmid": "pmid",
    "pmc": "pmcid",
    "pmcid": "pmcid",
    "doi": "doi",
    "arxiv": "arxiv",
}
_LINKS = frozenset({"ext-link", "uri", "self-uri", "related-article", "related-object"})


class _Jats(Markup):
    blocks = frozenset(
        "p sec title abstract fig table-wrap caption list-item def-item fn kwd-group "
        "contrib-group aff article-meta journal-meta ref-list sub-article front-stub".split()
    )

    citation = frozenset("mixed-citation element-citation citation nlm-citation".split())

    def __init__(self) -> None:
        super().__init__()
        self.subject = 0  # inside a subject id

    def start(self, tag: str, attrs: list) -> None:
        kind = dict(attrs).get("pub-id-type") or dict(attrs).get("object-id-type")
        if tag in ("article-id", "object-id") and kind in _PUB_IDS:
            self.mark("subject")
            self.label(_PUB_IDS[kind])
            self.subject += 1
        elif tag == "ref-list":
            self.mark("reference")
        elif tag == "ref":
            self.open_entry()
        elif tag == "pub-id" and kind in _PUB_IDS:
            self.label(_PUB_IDS[kind])
        elif tag in _LINKS:
            self.attribute(attrs, "xlink:href")
        elif tag == "title" and "sec" in self.stack[-3:-1]:
            self.out.synth("\n\n## ")

    def end(self, tag: str) -> None:
        if tag in ("article-id", "object-id") and self.subject:
            self.subject -= 1
            self.mark("end")
        elif tag == "ref":
            label = None
            self.close_entry(label)
        elif tag == "ref-list":
            self.mark("end")


def read_jats(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of a JATS article."""
    return read_markup(_Jats(), chars)
