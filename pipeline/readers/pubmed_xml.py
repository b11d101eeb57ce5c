"""PubMed XML (efetch ``retmode=xml`` or the site's XML export): many records a file.

Each ``<PubmedArticle>`` (or ``<PubmedBookArticle>``) is its own subject: its ``<PMID>``, the
``<ArticleId>``s of its ``PubmedData`` (pubmed, doi, pmc) and its ``<ELocationID EIdType="doi">``.
``pii`` and ``mid`` ids and the journal's ids (ISSN, NLM unique id) are not works. Each
``<Reference>`` of a ``<ReferenceList>`` is one reference entry (its ``<Citation>`` text, its
ArticleIds), and so is each ``<CommentsCorrections RefType="Cites">``: PubMed's list of the works
the article cites (its ``<RefSource>`` text, its PMID). The PMIDs of the other
``<CommentsCorrections>`` (comments, errata, retractions, updates) are mentions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pipeline.readers.base import Piece
from pipeline.readers.markup import Markup, read_markup

__all__ = ["read_pubmed_xml"]

_ID_TYPES = {"pubmed": "pmid", "doi": "doi", "pmc": "pmcid", "pmcid": "pmcid"}


class _PubMed(Markup):
    blocks = frozenset(
        "pubmedarticle pubmedbookarticle articletitle abstract abstracttext reference "
        "commentscorrections authorlist meshheadinglist".split()
    )

    citation = frozenset({"citation", "refsource"})

    def __init__(self) -> None:
        super().__init__()
        self.subject = 0

    def start(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        parent = self.stack[-2] if len(self.stack) > 1 else ""
        in_ref = self.inside("reference")
        if tag in ("pubmedarticle", "pubmedbookarticle"):
            self.mark("record")
            self.mark("mention")
        elif tag == "referencelist":
            self.mark("reference")
        elif tag == "reference":
            self.open_entry()
        elif tag == "commentscorrections" and (a.get("reftype") or "") == "Cites":
            self.mark("reference")  # PubMed's record of the article's own references
            self.open_entry()
        elif tag == "commentscorrections":
            self.mark("mention")
        elif tag == "pmid" and parent in ("medlinecitation", "bookdocument") and not in_ref:
            self._subject("pmid")
        elif tag == "articleid" and not in_ref and not self.inside("commentscorrections"):
            scheme = _ID_TYPES.get((a.get("idtype") or "").lower())
            if scheme:
                self._subject(scheme)
        elif tag == "elocationid" and (a.get("eidtype") or "").lower() == "doi":
            self._subject("doi")
        elif tag in ("articleid", "pmid"):  # a reference's or a comment's: labelled only
            scheme = "pmid" if tag == "pmid" else _ID_TYPES.get((a.get("idtype") or "").lower())
            self.label(scheme)

    def _subject(self, scheme: str) -> None:
        self.mark("subject")
        self.label(scheme)
        self.subject += 1

    def end(self, tag: str) -> None:
        if self.subject and tag in ("pmid", "articleid", "elocationid"):
            self.subject -= 1
            self.mark("mention")
        elif tag in ("reference", "commentscorrections"):
            self.close_entry()
            if tag == "commentscorrections":
                self.mark("mention")
        elif tag == "referencelist":
            self.mark("mention")


def read_pubmed_xml(chars: Iterable[str]) -> Iterator[Piece]:
    """Pieces of a PubMed XML file, one subject per record."""
    return read_markup(_PubMed(), chars)
