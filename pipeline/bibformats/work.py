"""The record a bibliographic writer receives: one work with its authors, plain values only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

# Characters a DOI may carry that a URL may not (SICI DOIs: 10.1002/(SICI)...<107::AID-...>3.0.CO;2-Y).
# RFC 3986 lets '(', ')', ';' and ':' stand; '<', '>', '#', '%', spaces and the rest are encoded.
_URL_SAFE = "/:;()[]@!$&'*+,=-._~"


@dataclass(frozen=True)
class BibAuthor:
    """One author as the warehouse holds it: split names when a source gave them, else the raw
    name as printed (``Rory A. Fisher``), or a collective name (``WHO Study Group``)."""

    raw_name: str
    family: str | None = None
    given: str | None = None
    is_collective: bool = False


@dataclass(frozen=True)
class BibWork:
    """One work to cite. ``title`` and ``abstract`` may carry the sources' inline markup
    (``<i>``, ``<sup>``, ``<sub>``, ``<b>``); each writer renders or strips it."""

    work_id: str
    type: str | None = None
    title: str | None = None
    container: str | None = None
    publication_year: int | None = None
    publication_date: str | None = None  # 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD'
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    openalex_id: str | None = None
    issn: str | None = None
    publisher: str | None = None
    language: str | None = None
    abstract: str | None = None
    authors: tuple[BibAuthor, ...] = ()

    @property
    def url(self) -> str | None:
        """The work's landing URL: its DOI resolver URL, else PubMed, else PMC, else OpenAlex."""
        if self.doi:
            return "https://doi.org/" + quote(self.doi, safe=_URL_SAFE)
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.pmcid:
            return f"https://pmc.ncbi.nlm.nih.gov/articles/{self.pmcid}/"
        if self.openalex_id:
            return f"https://openalex.org/{self.openalex_id}"
        return None

    @property
    def date_parts(self) -> tuple[int, ...]:
        """(year[, month[, day]]) from ``publication_date``, else (year,), else ()."""
        if self.publication_date:
            match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", self.publication_date)
            if match:
                parts = tuple(int(p) for p in match.groups() if p)
                limits = (9999, 12, 31)[: len(parts)]  # year, month, day
                if all(0 < p <= m for p, m in zip(parts, limits, strict=True)):
                    return parts
        return (self.publication_year,) if self.publication_year else ()

    @property
    def page_range(self) -> tuple[str | None, str | None]:
        """(first, last) page: '1437-1452' -> ('1437', '1452'); 'e1007226' -> ('e1007226', None)."""
        if not self.pages:
            return None, None
        parts = re.split(r"\s*[-\u2010-\u2015]+\s*", self.pages.strip(), maxsplit=1)
        last = parts[1] if len(parts) > 1 else None
        return parts[0] or None, last or None
