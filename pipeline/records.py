"""Typed records passed between the stages: extract -> fetch -> normalise -> load.

Data flows one way, as these frozen dataclasses, never as loose dicts:

    seeds/*  --extract-->  Mention[]  --plan-->  Identifier batches per source
             --fetch-->  FetchBatch(RawResponse[], LedgerEntry[])
             --normalise-->  Normalised(SourceRecord[], IdentityLink[], CitationCount[],
                                        CitationLink[])
             --load-->  DuckDB

Every record here is hashable and immutable; sequences are tuples. Nothing in this module does I/O.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Literal, NamedTuple

Scheme = Literal["doi", "pmid", "pmcid", "arxiv", "openalex"]
Role = Literal["subject", "citing", "reference", "mention"]
SourceName = Literal["openalex", "crossref", "pubmed"]
Status = Literal["ok", "not_found", "not_in_source", "failed", "pending"]

SCHEMES: tuple[str, ...] = ("doi", "pmid", "pmcid", "arxiv", "openalex")
SOURCES: tuple[str, ...] = ("openalex", "crossref", "pubmed")
# not_in_source: another registration agency holds the id (a DataCite DOI for Crossref), settled
# without asking the source; its last_error names the agency
STATUSES: tuple[str, ...] = ("ok", "not_found", "not_in_source", "failed", "pending")
SETTLED: frozenset[str] = frozenset({"ok", "not_found", "not_in_source"})
# The last_error of a not_in_source row: this prefix, then the agency ("registration agency: DataCite")
AGENCY_NOTE = "registration agency: "


class Identifier(NamedTuple):
    """One normalised identifier, e.g. ``Identifier("doi", "10.1111/ejh.70051")``.

    Values are always normalised (see ``pipeline.identifiers``): DOI lower-case without resolver
    prefix, PMID digits, PMCID ``PMC`` + digits, arXiv id without version, OpenAlex ``W`` + digits.
    """

    scheme: str
    value: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


# --------------------------------------------------------------------------------------------
# Extraction
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mention:
    """One occurrence of an identifier in a seed document (the contract's JSON shape)."""

    scheme: str
    value: str
    document: str  # the path as given by the user
    start: int  # character offset into the decoded text, inclusive
    end: int  # character offset, exclusive
    line: int  # 1-based
    section: str | None
    group: int  # mentions of one work share it within a document
    role: str  # subject | citing | reference | mention

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.scheme, self.value)

    def to_json(self) -> dict:
        """The contract's mention object, keys in contract order."""
        return {
            "scheme": self.scheme,
            "value": self.value,
            "document": self.document,
            "start": self.start,
            "end": self.end,
            "line": self.line,
            "section": self.section,
            "group": self.group,
            "role": self.role,
        }


# Extraction keeps mentions as rows (tuples of Mention's fields, in order) until a document is
# read: where each field is in such a row.
MENTION_ROW = {f.name: i for i, f in enumerate(fields(Mention))}


@dataclass(frozen=True, slots=True)
class DocumentProblem:
    """Something wrong with one input file; reported once per file, never fatal to the others."""

    path: str
    message: str  # one line, e.g. "not UTF-8; decoded as cp1252 with replacements"
    fatal: bool = False  # True when nothing could be extracted from the file
    # True when the file is no document enrich reads (an image, an archive, a scanned PDF)
    # found inside a folder: reported, never an error of the input (no exit 2).
    skipped: bool = False


_NOT_WORD = re.compile(r"[^\w]+|_+")


def fold_text(text: str) -> str:
    """``'Müller, J.-P. (2003) “Ökologie”'`` -> ``'muller j p 2003 okologie'``: NFKD, combining
    marks dropped, case-folded, every run of non-letters/digits one space (any script kept)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", stripped.casefold()).split())


def match_key(text: str) -> str:
    """The key a reference string is matched and settled under: sha256 of its folded text, 32
    hex digits. Printings that differ only in case, accents, punctuation or spacing share it."""
    return hashlib.sha256(fold_text(text).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ReferenceEntry:
    """One entry of a document's reference list, as printed: the unit reference matching reads.

    Every reader yields one per entry of a reference list (a numbered item, a hanging paragraph,
    a JATS ``<ref>``, a BibTeX/RIS record, a PubMed ``<Reference>``). An entry that carries an
    identifier keeps it in ``ids`` and is not matched; the others are matched by their text.
    """

    document: str  # the path as given by the user
    start: int  # character offset of the entry in the document's text (as for mentions)
    end: int  # exclusive
    line: int  # 1-based line of the entry's start
    text: str  # the entry on one line: whitespace collapsed, list numbering ("1.", "[12]") removed
    ids: tuple[Identifier, ...] = ()  # identifiers printed in (or attached to) the entry
    section: str | None = None  # the heading it was found under
    label: str | None = None  # the entry's own number or key as printed ("12", "smith2020")

    @property
    def key(self) -> str:
        """``match_key(self.text)``: the string's key in ``reference_matches``."""
        return match_key(self.text)


@dataclass(frozen=True, slots=True)
class SeedDocument:
    """A seed file as read: its identity and what extraction found in it."""

    path: str
    sha256: str
    bytes: int
    mentions: tuple[Mention, ...] = ()
    problems: tuple[DocumentProblem, ...] = ()
    references: tuple[ReferenceEntry, ...] = ()  # its reference list, entry by entry

    @property
    def document_id(self) -> str:
        """Stable id: the content hash (the same file moved keeps its id)."""
        return self.sha256[:16]


# --------------------------------------------------------------------------------------------
# Fetching
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An HTTP answer kept exactly as received, before any normalising.

    ``endpoint`` says which normaliser reads it:
      openalex: "works" (full records), "counts" (select=id,cited_by_count,counts_by_year,updated_date
                and the metadata fields of a change key), "cites" (select= minimal works citing
                the requested W-ids)
      crossref: "works" (a /works/{doi} message or a /works?filter= list), "counts"
      pubmed:   "efetch" (PubmedArticleSet XML), "elink_citedin" (elink JSON), "idconv" (PMC ID
                converter JSON), "esearch" (esearch JSON for <doi>[doi]), "esearch_modified"
                (esearch JSON for PMIDs modified since a date, ``datetype=mdat``)
    ``request_url`` never carries secrets (api_key etc. are stripped before it is built).
    ``requested`` lists the identifiers this request asked about, for reconciliation and rebuild.
    """

    source: str
    endpoint: str
    request_url: str
    http_status: int
    content_type: str
    body: str
    fetched_at: datetime
    requested: tuple[Identifier, ...] = ()

    # Deterministic id: the same answer to the same request is stored once. Computed once here:
    # normalisers stamp it on every record, and hashing a 1 MB body per record cost 3x the
    # normalising itself (bench ingest).
    raw_id: str = field(init=False, repr=False, compare=False, default="")

    def __post_init__(self) -> None:
        h = hashlib.sha256()
        for part in (
            self.source,
            self.endpoint,
            self.request_url,
            str(self.http_status),
            self.body,
        ):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        object.__setattr__(self, "raw_id", h.hexdigest()[:24])


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """The outcome of asking one source about one identifier (one fetch_ledger row)."""

    source: str
    scheme: str
    value: str
    status: str  # ok | not_found | not_in_source | failed | pending
    http_status: int | None
    attempts: int
    last_error: str | None
    last_attempt_at: datetime

    @property
    def identifier(self) -> Identifier:
        return Identifier(self.scheme, self.value)


@dataclass(frozen=True, slots=True)
class FetchBatch:
    """What one client call yields: the raw answers and an outcome for every identifier asked.

    Invariant: every identifier passed to the client appears in exactly one outcome of exactly one
    batch the client yields, so nothing asked is ever silently dropped.
    """

    source: str
    raws: tuple[RawResponse, ...]
    outcomes: tuple[LedgerEntry, ...]
    requests_made: int = 0  # HTTP requests sent, retries included


# --------------------------------------------------------------------------------------------
# Normalised records
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Institution:
    name: str | None
    ror: str | None = None  # bare ROR id, e.g. "04fa4r544" (no https://ror.org/)
    openalex_id: str | None = None  # "I…"
    country_code: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class AuthorRecord:
    """One author of one work as one source states it (one authorships row)."""

    position: int  # 1-based order in the author list
    raw_name: str  # the name as printed, e.g. "Cunningham, Isabel" or a collective name
    family: str | None = None
    given: str | None = None
    initials: str | None = None
    orcid: str | None = None  # bare "0000-0002-1825-0097"
    openalex_id: str | None = None  # "A…"
    is_collective: bool = False
    is_corresponding: bool | None = None
    affiliations: tuple[str, ...] = ()  # raw affiliation strings
    institutions: tuple[Institution, ...] = ()


@dataclass(frozen=True, slots=True)
class ReferenceRecord:
    """One outgoing reference (citing -> cited) as the source states it."""

    scheme: str | None  # doi | pmid | pmcid | openalex | None when only text is known
    value: str | None
    position: int | None = None
    unstructured: str | None = None


@dataclass(frozen=True, slots=True)
class FunderRecord:
    name: str | None
    funder_id: str | None = None  # Crossref funder DOI, OpenAlex F-id or ROR
    award_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TopicRecord:
    """A subject term: OpenAlex topic/keyword, PubMed MeSH heading or keyword, Crossref subject."""

    vocabulary: (
        str  # "openalex_topic" | "openalex_keyword" | "mesh" | "keyword" | "crossref_subject"
    )
    term: str
    term_id: str | None = None  # T…, MeSH UI D…
    qualifiers: tuple[str, ...] = ()
    is_major: bool | None = None
    score: float | None = None


@dataclass(frozen=True, slots=True)
class UpdateRecord:
    """A notice that updates a work (a retraction, correction, expression of concern...), as one
    source states it: Crossref ``updated-by``/``update-to``, PubMed ``CommentsCorrections``.

    ``target`` is the work updated (the retracted one), ``notice`` the notice that updates it
    (None when the source names no identifier for it). A work's own record may state either side:
    a retracted work says "retracted by notice N", a notice says "retracts work T".
    """

    kind: str  # retraction | correction | expression_of_concern | withdrawal | removal | ...
    target: Identifier
    notice: Identifier | None = None
    date: str | None = None  # ISO, as precise as the source gives it
    label: str | None = None  # the source's own word: "Retraction", "RetractionIn"
    asserted_by: str | None = None  # Crossref's "source": publisher | retraction-watch; "pubmed"
    record_id: str | None = None  # Retraction Watch record id, when the entry carries one
    note: str | None = None  # PubMed's RefSource citation of the notice


@dataclass(frozen=True, slots=True)
class VersionRecord:
    """Another version of the same work (a preprint, the journal article, an updated review), as
    one source states it from the record's own side: Crossref ``relation``, OpenAlex ``locations``,
    PubMed ``UpdateOf``/``UpdateIn``. Ids are never merged on this evidence: two versions stay two
    works, linked."""

    relation: str  # has-preprint | is-preprint-of | has-version | is-version-of | update-of | ...
    other: Identifier
    version: str | None = None  # OpenAlex location version: submittedVersion | acceptedVersion
    asserted_by: str | None = None  # Crossref: subject | object


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One work as one source describes it. Missing fields are None / empty, never invented."""

    source: str  # openalex | crossref | pubmed
    source_key: str  # the source's own key: W-id, DOI, PMID
    ids: tuple[Identifier, ...]  # every identifier the record asserts for this work
    raw_id: str | None = None  # RawResponse.raw_id this came from
    title: str | None = None
    publication_year: int | None = None
    publication_date: str | None = None  # ISO "YYYY", "YYYY-MM" or "YYYY-MM-DD" as precise as given
    venue: str | None = None
    venue_abbrev: str | None = None
    issn_l: str | None = None
    issns: tuple[str, ...] = ()
    publisher: str | None = None
    type: str | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    abstract: str | None = None
    language: str | None = None
    is_oa: bool | None = None
    oa_status: str | None = None
    license: str | None = None
    is_retracted: bool | None = None
    authors: tuple[AuthorRecord, ...] = ()
    references: tuple[ReferenceRecord, ...] = ()
    reference_count: int | None = None
    funders: tuple[FunderRecord, ...] = ()
    topics: tuple[TopicRecord, ...] = ()
    publication_types: tuple[str, ...] = ()
    cited_by_count: int | None = None
    counts_by_year: tuple[tuple[int, int], ...] = ()  # (year, cited_by_count), gaps filled with 0
    aliases: tuple[Identifier, ...] = ()  # ids this work was merged from (OpenAlex 301)
    updated_date: str | None = None  # the source's own last-change timestamp, ISO
    updates: tuple[UpdateRecord, ...] = ()  # retractions, corrections... stated by this record
    versions: tuple[VersionRecord, ...] = ()  # other versions of this work
    # Digest of the metadata fields a counts answer also carries (pipeline.normalise.change):
    # a counts answer with another key says the record changed since it was fetched.
    change_key: str | None = None


@dataclass(frozen=True, slots=True)
class IdentityLink:
    """Identifiers a source says name one work (PMC ID converter, esearch), without a record."""

    source: str
    ids: tuple[Identifier, ...]


@dataclass(frozen=True, slots=True)
class CitationCount:
    """One observation of a work's citation count by one source."""

    source: str
    id: Identifier  # how to find the work (the identifier the source was asked about)
    cited_by_count: int
    counts_by_year: tuple[tuple[int, int], ...] = ()
    updated_date: str | None = None
    change_key: str | None = None  # the counts answer's digest of the work's metadata


@dataclass(frozen=True, slots=True)
class CitationLink:
    """One work citing another, as a source lists it (OpenAlex ``cites:``, PubMed cited-in).

    ``cited`` is how to find the cited work (the identifier the source was asked about);
    ``citing`` every identifier the source gives for the citing work (an OpenAlex W-id with its
    DOI and PMID, or a bare PMID); ``position`` its place in the answer (a cap keeps the first).
    """

    source: str
    cited: Identifier
    citing: tuple[Identifier, ...]
    position: int = 0
    raw_id: str | None = None  # RawResponse.raw_id this came from (when it was seen)


class CitingAsk(NamedTuple):
    """A work to ask a source who cites: its id, the count the source gave for it (to pack
    small asks together), and the most citing works to list (None: all of them)."""

    ident: Identifier
    expected: int
    cap: int | None


NOTE_ACTIONS: tuple[str, ...] = ("nulled", "dropped", "ignored", "record_skipped", "answer_skipped")


@dataclass(frozen=True, slots=True)
class DataQualityNote:
    """An odd value in an answer and what was done about it (one data_quality_notes row).

    e.g. ``DataQualityNote("openalex", "W2741809807", "cited_by_count", "-5", "negative",
    "nulled", raw_id)``: the record loaded without its count. ``action`` is one of NOTE_ACTIONS:
    ``nulled`` (the field loaded as null), ``dropped`` (one entry of a list left out),
    ``ignored`` (a value of the wrong shape read as absent), ``record_skipped`` (the record could
    not load at all), ``answer_skipped`` (the whole answer could not be read).
    """

    source: str
    record_key: str | None  # the source's key of the record (W-id, DOI, PMID), when known
    field: str  # "cited_by_count", "counts_by_year[2].cited_by_count", "ids", "body"
    raw_value: str | None  # the value as received (JSON text), cut short
    problem: str  # "negative", "over the int64 range", "an array where an object belongs"
    action: str
    raw_id: str | None = None  # RawResponse.raw_id of the answer it came from


@dataclass(frozen=True, slots=True)
class Normalised:
    """Everything one raw response yields."""

    records: tuple[SourceRecord, ...] = ()
    links: tuple[IdentityLink, ...] = ()
    counts: tuple[CitationCount, ...] = ()
    not_found: tuple[Identifier, ...] = field(default=())  # asked, answered, absent
    citations: tuple[CitationLink, ...] = ()  # who cites the works asked about
    modified: tuple[Identifier, ...] = ()  # asked ids the source says changed since a date
    notes: tuple[DataQualityNote, ...] = ()  # odd values met and what was done about them


# --------------------------------------------------------------------------------------------
# Reference matching (strings without identifiers -> works)
# --------------------------------------------------------------------------------------------

MatchStatus = Literal["matched", "ambiguous", "unmatched", "failed", "pending"]
MATCH_STATUSES: tuple[str, ...] = ("matched", "ambiguous", "unmatched", "failed", "pending")
MATCH_SETTLED: frozenset[str] = frozenset({"matched", "ambiguous", "unmatched"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """A work a search proposed for a reference string, with the fields validation reads.

    Built from a Crossref ``message.items[]`` entry (``source="crossref"``, ``score`` its
    relevance) or from a PubMed record an ECitMatch answer named (``source="pubmed"``).
    """

    source: str  # crossref | pubmed
    doi: str | None
    pmid: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()  # family names (or collective names), in order
    years: tuple[int, ...] = ()  # issued first, then print / online (online-first differs)
    containers: tuple[str, ...] = ()  # journal / book / proceedings title, full and short
    volume: str | None = None
    issue: str | None = None
    page: str | None = None  # "1655-1664", "e19816", "388"
    type: str | None = None  # Crossref type: journal-article, book-chapter, posted-content...
    score: float | None = None  # the search engine's own relevance, never trusted alone

    @property
    def year(self) -> int | None:
        return self.years[0] if self.years else None

    def to_json(self, similarity: float | None = None) -> dict:
        """The candidate as ``enrich match`` prints it."""
        return {
            "doi": self.doi,
            "pmid": self.pmid,
            "score": round(similarity, 3) if similarity is not None else None,
            "title": self.title,
            "year": self.year,
        }


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The decision about one reference string (one ``reference_matches`` row).

    ``status``: matched (``doi``/``pmid`` set), ambiguous (two candidates validate and neither
    clearly wins), unmatched (no candidate validates, or the string is not a reference: see
    ``reason``), failed / pending (an API fault: asked again by the next run, never unmatched).
    ``candidates`` keep every candidate looked at with its similarity, best first.
    """

    text_hash: str
    text: str
    status: str
    doi: str | None = None
    pmid: str | None = None
    score: float | None = None  # the chosen candidate's similarity, 0..1
    candidates: tuple[tuple[Candidate, float], ...] = ()
    matched_by: str | None = None  # crossref | ecitmatch | override
    reason: str | None = None  # one line: why unmatched / ambiguous / failed
    requests: int = 0  # HTTP requests this decision cost (0 when settled before)
    http_status: int | None = None

    @property
    def settled(self) -> bool:
        return self.status in MATCH_SETTLED
