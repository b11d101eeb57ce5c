"""What kind of entry a work is in each format, from ``works.type``.

``works.type`` holds whichever source won the bibliographic precedence: Crossref's vocabulary
(``journal-article``, ``book-chapter``, ``proceedings-article``, ``posted-content``, ...;
api.crossref.org/types) or OpenAlex's (``article``, ``preprint``, ``review``, ``letter``, ...).
Each maps to (BibTeX entry type, CSL type, RIS ``TY``).
"""

from __future__ import annotations

ARTICLE = ("article", "article-journal", "JOUR")

_KINDS = {
    "journal-article": ARTICLE, "article": ARTICLE, "review": ARTICLE, "letter": ARTICLE,
    "editorial": ARTICLE, "erratum": ARTICLE, "retraction": ARTICLE, "journal-issue": ARTICLE,
    "book-chapter": ("incollection", "chapter", "CHAP"),
    "book-section": ("incollection", "chapter", "CHAP"),
    "book-part": ("incollection", "chapter", "CHAP"),
    "reference-entry": ("incollection", "entry-encyclopedia", "CHAP"),
    "book": ("book", "book", "BOOK"), "monograph": ("book", "book", "BOOK"),
    "edited-book": ("book", "book", "EDBOOK"), "reference-book": ("book", "book", "BOOK"),
    "proceedings-article": ("inproceedings", "paper-conference", "CPAPER"),
    "proceedings": ("proceedings", "book", "CONF"),
    "posted-content": ("misc", "article", "UNPB"), "preprint": ("misc", "article", "UNPB"),
    "dataset": ("misc", "dataset", "DATA"),
    "dissertation": ("phdthesis", "thesis", "THES"),
    "report": ("techreport", "report", "RPRT"),
    "standard": ("misc", "standard", "STAND"),
}  # fmt: skip

OTHER = ("misc", "document", "GEN")


def kind(work_type: str | None, *, has_container: bool) -> tuple[str, str, str]:
    """(bibtex, csl, ris) for a ``works.type``; an unknown type with a container is an article."""
    found = _KINDS.get((work_type or "").strip().lower())
    if found:
        return found
    return ARTICLE if has_container else OTHER
