"""JATS/NLM article XML (PMC ``.nxml``, eLife, PLOS).

- ``<article-id>`` (pmid, pmc bare digits -> ``PMC…``, doi) is the article itself: the subject
  (as an aside: the section it stands in goes on after it), and so are the article ids of its
  sub-articles (decision letters, replies). The DOIs of its components (the ``<object-id>`` of a
  figure, a table, a supplement; the same DOI printed as a link) extend the article's and join
  it in ``pipeline.extract``: grouped with it, not works apart. An ``<object-id>`` naming
  another work (an externally hosted dataset or molecule) stays a mention;
- each ``<ref>`` of a ``<ref-list>`` is one reference entry: its ``mixed-citation`` /
  ``element-citation`` text is kept for reference matching, its ``<pub-id>``s (and the
  ``<object-id pub-id-type="pmid">`` PLOS puts there) are its ids, its ``<label>`` its label.
  A ref printing one work twice (SciELO's and Redalyc's ``mixed-citation`` then
  ``element-citation``, JATS's ``<citation-alternatives>``) keeps the first one's text: the
  entry is that one work, not its text twice;
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
        self.ref_label: list[str] | None = None  # the <label> of the open <ref>, as printed
        self.cited = False  # the open <ref> has had one whole citation element already

    def start(self, tag: str, attrs: list) -> None:
        kind = dict(attrs).get("pub-id-type") or dict(attrs).get("object-id-type")
        if tag == "article-id" and kind in _PUB_IDS and self.capture is None:
            self.mark("aside")  # the subject, inside the section it stands in
            self.label(_PUB_IDS[kind])
            self.subject += 1
        elif tag in ("article-id", "object-id") and kind in _PUB_IDS:
            # A component's DOI (a figure's, a video's: it extends the article's) joins the
            # subject in pipeline.extract; an externally hosted object's DOI (eLife's
            # figshare molecules) is a work of its own; PLOS puts a reference's PMID here.
            self.label(_PUB_IDS[kind])
        elif tag == "ref-list":
            self.mark("reference")
        elif tag == "ref":
            self.open_entry()
            self.ref_label = None
            self.cited = False
        elif tag == "label" and self.stack[-2:-1] == ["ref"]:
            self.ref_label = []
        elif tag == "pub-id" and kind in _PUB_IDS:
            self.label(_PUB_IDS[kind])
        elif tag in _LINKS:
            self.attribute(attrs, "xlink:href")
        elif tag == "title" and "sec" in self.stack[-3:-1]:
            self.out.synth("\n\n## ")

    def end(self, tag: str) -> None:
        if tag == "article-id" and self.subject:
            self.subject -= 1
            self.mark("unaside")
        elif tag == "ref":
            label = "".join(self.ref_label or ()).strip() or None
            self.close_entry(label)
            self.ref_label = None
        elif tag == "ref-list":
            self.mark("end")
        elif tag in self.citation and not any(t in self.citation for t in self.stack[:-1]):
            self.cited = True  # an alternative rendering of the same work may follow

    def _capturing(self) -> bool:
        return not self.cited and super()._capturing()

    def handle_data(self, data: str) -> None:
        if self.ref_label is not None and self.stack[-1:] == ["label"]:
            self.ref_label.append(data)
        super().handle_data(data)


def read_jats(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of a JATS article."""
    return read_markup(_Jats(), chars)
