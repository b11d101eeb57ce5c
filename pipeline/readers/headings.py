"""Section headings and the role they give what follows them: References -> ``reference``,
Cited by -> ``citing``, Identifiers / Cite this -> ``subject``; other known headings end a role's
section. Shared by the extractor (plain-text headings) and the readers that find headings
themselves (PDF lines, Word heading styles, JATS section titles)."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["REFERENCE_WORDS", "heading_role", "plain_heading"]

_ROLE_HEADINGS = {
    "reference": (
        "references",
        "reference",
        "reference list",
        "references cited",
        "bibliography",
        "works cited",
        "literature cited",
        "cited literature",
        "notes and references",
        "sources",
    ),
    "citing": (
        "citing articles",
        "cited by",
        "cited by articles",
        "cited by other articles",
        "cited by papers",
        "cited by works",
        "articles citing this article",
        "articles that cite this article",
        "citations to this article",
        "referenced by",
        "cited in",
        "citing papers",
        "citing works",
        "citing publications",
        "citing literature",
    ),
    "subject": (
        "identifiers",
        "identifier",
        "cite this",
        "cite this article",
        "cite this paper",
        "cite this work",
        "cite this page",
        "cite this record",
        "how to cite",
        "how to cite this article",
        "citation",
        "suggested citation",
        "article information",
        "article info",
        "publication info",
        "publication information",
        "bibliographic information",
        "article details",
        "about this article",
    ),
    # Headings that end a role's section without starting one (PubMed and publisher pages).
    "": (
        "abstract",
        "keywords",
        "introduction",
        "background",
        "methods",
        "materials and methods",
        "results",
        "discussion",
        "conclusion",
        "conclusions",
        "acknowledgements",
        "acknowledgments",
        "funding",
        "figures",
        "tables",
        "similar articles",
        "similar works",
        "related articles",
        "related publications",
        "related works",
        "supplementary material",
        "supplementary information",
        "supplementary data",
        "mesh terms",
        "substances",
        "grants and funding",
        "publication types",
        "linkout - more resources",
        "full text links",
        "full text sources",
        "comment in",
        "comment on",
        "affiliations",
        "affiliated institutions",
        "authors",
        "author information",
        "overview",
        "data quality",
        "social impact",
        "citation metrics",
        "metrics",
        "associated data",
        "data availability",
        "conflict of interest",
        "conflicts of interest",
        "competing interests",
        "footnotes",
        "notes",
        "appendix",
        "summary",
    ),
}
_KNOWN = {phrase: role or None for role, phrases in _ROLE_HEADINGS.items() for phrase in phrases}
# "1. Introduction", "## References", "References (25)", "Cited by 12 articles", "REFERENCES:"
# (the trailing run is tried only where a run starts: a heading of 40,000 dots and a letter
# was 8 s of retrying the run from each dot)
_NOISE = re.compile(r"^[\s#*_=>\d.)(\[\]-]+|(?<![\s:*_=.-])[\s:*_=.-]+$|\(\d+\)|\b\d+\b")
_GENERIC = re.compile(r"[A-Z][^\d.,;:!?]{0,59}")


def _without_bracketed_tail(key: str) -> str:
    """``key`` (ending in ``]``) without its bracketed tail: page furniture, not its title
    (Wikipedia's "References [ edit ]", "Notes [show]"). Found from the last ``[``, not by a
    pattern retried at each blank before it (quadratic on a long run of blanks)."""
    at = key.rfind("[")
    if at < 0 or "]" in key[at + 1 : -1]:
        return key
    return key[:at].rstrip()


def heading_role(title: str) -> tuple[bool, str | None]:
    """(is a known heading, its role or None): ``'References (25)'`` -> ``(True, 'reference')``."""
    key = title.lower().strip(" \t\r:.")
    if key in _KNOWN:  # the common case: one dict lookup
        return True, _KNOWN[key]
    if key.endswith("]") and "[" in key:
        key = _without_bracketed_tail(key).strip(" \t\r:.")
        if key in _KNOWN:
            return True, _KNOWN[key]
    if key[:1].isalpha() and key[-1:] != ")" and not key.startswith("cited by"):
        return False, None  # nothing _NOISE could remove
    key = " ".join(_NOISE.sub(" ", key).split())
    if key in _KNOWN:
        return True, _KNOWN[key]
    return False, None


@lru_cache(maxsize=4096)  # pages of one site repeat their short lines ("Year", "Abstract")
def plain_heading(cand: str, followed_by_blank: bool) -> tuple[str, str | None] | None:
    """A heading in plain text: a known title, or a short capitalised line between blank lines."""
    title = cand.strip()
    if len(title) > 60:
        return None
    known, role = heading_role(title)
    if known:
        return title, role
    if followed_by_blank and _GENERIC.fullmatch(title) and len(title.split()) <= 6:
        return title, None
    return None


# A cheap test for "this text may hold a reference-section heading" (see pipeline.extract).
REFERENCE_WORDS = re.compile(
    r"(?i)referen|bibliograph|works cited|literature cited|cited literature|sources"
)
