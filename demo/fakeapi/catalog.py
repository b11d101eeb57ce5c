"""The fake APIs' world: works with consistent identifiers across OpenAlex, Crossref and PubMed.

A ``FakeWork`` holds one work's facts once; every route renders them into its own API's shape, so
the DOI Crossref returns, the ArticleId PubMed lists and the ``ids`` OpenAlex shows always agree.
Works are mutable on purpose: a test may flip ``in_crossref`` off (-> 404 there) before a run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

CURRENT_YEAR = 2026  # the fake world's "now" for counts_by_year (kept fixed: deterministic bodies)
# When every work's metadata last changed until a test changes it (FakeWork.touch).
FIXED_MODIFIED = datetime(2026, 11, 20, 3, 14, 15, tzinfo=UTC)
SOURCE_FLAGS = {"openalex": "in_openalex", "crossref": "in_crossref", "pubmed": "in_pubmed"}

_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def strip_markup(text: str) -> str:
    """``'<i>In vivo</i> CAR T'`` -> ``'In vivo CAR T'`` (PubMed keeps inline tags, others don't)."""
    return _TAG.sub("", text)


def inline_markup(text: str, tags: Mapping[str, str]) -> str:
    """XML-escape ``text`` but keep its inline tags, renamed by ``tags`` (``{"i": "i"}``)."""
    out = escape(text)
    for src, dst in tags.items():
        out = out.replace(f"&lt;{src}&gt;", f"<{dst}>").replace(f"&lt;/{src}&gt;", f"</{dst}>")
    return out


@dataclass
class Institution:
    """An affiliation with its registry ids (ROR bare id, OpenAlex I-id)."""

    name: str
    ror: str | None = None  # bare, e.g. "00cvxb145"
    openalex_id: str | None = None  # "I…"
    country_code: str | None = None
    type: str = "education"


@dataclass
class Author:
    """One author of a work, in list order."""

    family: str
    given: str
    orcid: str | None = None  # bare "0000-0002-1825-0097"
    affiliation: str | None = None  # the raw affiliation string
    institution: Institution | None = None
    openalex_id: str | None = None  # "A…"

    @property
    def display_name(self) -> str:
        return f"{self.given} {self.family}"

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in re.split(r"[\s\-.]+", self.given) if part)


@dataclass
class CitedBy:
    """How many works cite this one, as each source would count it."""

    openalex: int = 0
    crossref: int = 0
    pubmed: list[str] = field(default_factory=list)  # PMIDs of citing works (elink citedin)


@dataclass
class FakeUpdate:
    """A notice that updates a work: how each source renders it (Crossref ``updated-by``,
    PubMed ``CommentsCorrections``, OpenAlex ``is_retracted``)."""

    kind: str  # Crossref's type: retraction | correction | expression_of_concern | ...
    notice_doi: str | None
    notice_pmid: str | None = None
    date: str = "2026-11-20"  # ISO
    source: str = "publisher"  # publisher | retraction-watch
    record_id: str | None = None  # Retraction Watch record id

    @property
    def label(self) -> str:
        return self.kind.replace("_", " ").capitalize()


# PubMed's CommentsCorrections RefType for a work updated by a notice of each kind
PUBMED_REFTYPES = {
    "retraction": "RetractionIn",
    "correction": "ErratumIn",
    "erratum": "ErratumIn",
    "expression_of_concern": "ExpressionOfConcernIn",
}


@dataclass
class FakeWork:
    """One work. ``title`` may carry PubMed inline markup (``<i>``, ``<sup>``).

    ``abstract`` paragraphs are separated by ``\\n``; ``abstract_labels`` (if any) names each one,
    which PubMed renders as structured ``AbstractText Label=…``.
    ``references`` are OpenAlex ids (``W…``) of other works in the same catalog.
    """

    openalex_id: str  # "W…"
    doi: str | None  # lower-case, bare (PubMed may spell it differently: ``pubmed_doi``)
    pmid: str | None
    pmcid: str | None  # "PMC…", None when not in PMC
    title: str
    year: int
    date: str  # ISO "YYYY-MM-DD"
    venue: str
    venue_abbrev: str
    issn_l: str
    issns: tuple[str | None, str | None] = (None, None)  # (print, electronic)
    publisher: str = "Fake Publisher"
    source_id: str = "S0"  # OpenAlex source id "S…"
    authors: list[Author] = field(default_factory=list)
    abstract: str | None = None
    abstract_labels: tuple[str, ...] = ()
    type: str = "article"  # OpenAlex type: article | review | …
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None  # "388-398" or an article number "1220"
    references: list[str] = field(default_factory=list)
    cited_by: CitedBy = field(default_factory=CitedBy)
    counts_by_year: dict[int, int] = field(default_factory=dict)
    merged_from: list[str] = field(default_factory=list)  # old W ids that 301 here
    mesh: list[tuple[str, str, bool]] = field(default_factory=list)  # (UI, term, major)
    keywords: list[str] = field(default_factory=list)
    funders: list[tuple[str, str, str]] = field(default_factory=list)  # (name, fundref DOI, award)
    license: str | None = None  # "cc-by" etc.; None = closed
    language: str = "en"
    updated_date: str = "2026-11-20T03:14:15.926535"
    pubmed_doi: str | None = None  # the DOI as PubMed prints it, e.g. upper-case suffix
    in_openalex: bool = True
    in_crossref: bool = True
    agency: str = "Crossref"  # the DOI's registration agency, as doi.org/doiRA/ names it
    in_pubmed: bool = True
    crossref_type: str = "journal-article"  # book, book-chapter, posted-content, component...
    updates: list[FakeUpdate] = field(default_factory=list)  # notices that update this work
    update_to: list[tuple[str, str, str]] = field(default_factory=list)  # a notice: (kind,
    # DOI of the work it updates, ISO date), rendered as Crossref ``update-to``
    preprints: list[str] = field(default_factory=list)  # DOIs of its preprints
    preprint_of: list[str] = field(default_factory=list)  # for a preprint: its journal DOIs
    # When its metadata last changed: Crossref's `indexed`, PubMed's [mdat] and DateRevised.
    # None: the fixed date of the fake world (deterministic bodies).
    modified: datetime | None = None

    @property
    def plain_title(self) -> str:
        """The title without PubMed's inline markup."""
        return strip_markup(self.title)

    @property
    def pmcid_number(self) -> str | None:
        return self.pmcid[3:] if self.pmcid else None

    def add_citations(
        self, openalex: int = 0, crossref: int = 0, pubmed: Iterable[str] = ()
    ) -> None:
        """New citations arrive (for refresh tests): counts grow, the latest year's bucket too."""
        self.cited_by.openalex += openalex
        self.cited_by.crossref += crossref
        self.cited_by.pubmed = list(pubmed) + self.cited_by.pubmed
        self.counts_by_year[CURRENT_YEAR] = self.counts_by_year.get(CURRENT_YEAR, 0) + openalex
        self.updated_date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")

    @property
    def last_modified(self) -> datetime:
        """Crossref's ``indexed``, PubMed's [mdat] and DateRevised."""
        return self.modified or FIXED_MODIFIED

    @property
    def is_retracted(self) -> bool:
        return any(u.kind in ("retraction", "removal", "withdrawal") for u in self.updates)

    def touch(self, when: datetime | None = None) -> None:
        """Its metadata changed now: every source's change stamp moves."""
        when = when or datetime.now(UTC)
        self.modified = when
        self.updated_date = when.strftime("%Y-%m-%dT%H:%M:%S.%f")

    def retitle(self, title: str) -> None:
        """A corrected title, as every source will show it from now on."""
        self.title = title
        self.touch()

    def retract(self, notice_doi: str | None, **notice: object) -> FakeUpdate:
        """A retraction notice (FakeUpdate fields: notice_pmid, date, source, record_id)."""
        update = FakeUpdate("retraction", notice_doi, **notice)  # type: ignore[arg-type]
        self.updates.append(update)
        self.touch()
        return update

    def add_preprint(self, doi: str) -> None:
        """A preprint of this work is registered (Crossref ``has-preprint``, an OpenAlex copy)."""
        self.preprints.append(doi.lower())
        self.touch()

    def known_to(self, source: str) -> bool:
        """Whether ``source`` (openalex|crossref|pubmed|pmc) has this work."""
        if source == "pmc":
            return self.in_pubmed and self.pmcid is not None
        return bool(getattr(self, SOURCE_FLAGS[source]))


def normalise_doi(value: str) -> str:
    """Lower-case, without resolver prefix or ``doi:`` label."""
    v = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi.org/"):
        if v.lower().startswith(prefix):
            v = v[len(prefix) :]
    if v.lower().startswith("doi:"):
        v = v[4:]
    return v.lower()


class Catalog:
    """Works plus look-up indexes by every identifier (indexes are built once, flags read live)."""

    def __init__(self, works: Iterable[FakeWork]):
        self.works: list[FakeWork] = list(works)
        self._by_w: dict[str, FakeWork] = {}
        self._merged: dict[str, str] = {}
        self._by_doi: dict[str, FakeWork] = {}
        self._by_pmid: dict[str, FakeWork] = {}
        self._by_pmcid: dict[str, FakeWork] = {}
        self._order: dict[str, int] = {}
        for i, w in enumerate(self.works):
            self._index(w, i)

    def _index(self, w: FakeWork, i: int) -> None:
        self._by_w[w.openalex_id.upper()] = w
        self._order[w.openalex_id] = i
        for old in w.merged_from:
            self._merged[old.upper()] = w.openalex_id
        if w.doi:
            self._by_doi[w.doi.lower()] = w
        if w.pmid:
            self._by_pmid[w.pmid] = w
        if w.pmcid:
            self._by_pmcid[w.pmcid.upper()] = w

    def __iter__(self) -> Iterator[FakeWork]:
        return iter(self.works)

    def __len__(self) -> int:
        return len(self.works)

    def position(self, w: FakeWork) -> int:
        """Catalog order, used to sort list answers deterministically."""
        return self._order[w.openalex_id]

    def by_openalex(self, wid: str) -> FakeWork | None:
        """Look up ``W123`` (any case, with or without the ``https://openalex.org/`` prefix)."""
        return self._by_w.get(wid.rsplit("/", 1)[-1].upper())

    def merged_target(self, wid: str) -> str | None:
        """The surviving W id for a merged-away one, else None."""
        return self._merged.get(wid.rsplit("/", 1)[-1].upper())

    def by_doi(self, doi: str) -> FakeWork | None:
        return self._by_doi.get(normalise_doi(doi))

    def by_pmid(self, pmid: str) -> FakeWork | None:
        return self._by_pmid.get(pmid.strip().rsplit("/", 1)[-1])

    def by_pmcid(self, pmcid: str) -> FakeWork | None:
        """``PMC123``, ``pmc123`` or the bare number ``123``."""
        v = pmcid.strip().rstrip("/").rsplit("/", 1)[-1].upper()
        return self._by_pmcid.get(v if v.startswith("PMC") else f"PMC{v}")

    def get(
        self,
        *,
        doi: str | None = None,
        pmid: str | None = None,
        pmcid: str | None = None,
        openalex: str | None = None,
    ) -> FakeWork:
        """The work with this identifier (exactly one keyword); KeyError if none."""
        found = (
            (doi and self.by_doi(doi))
            or (pmid and self.by_pmid(pmid))
            or (pmcid and self.by_pmcid(pmcid))
            or (openalex and self.by_openalex(openalex))
        )
        if not found:
            raise KeyError(doi or pmid or pmcid or openalex)
        return found
