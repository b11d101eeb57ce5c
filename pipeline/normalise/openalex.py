"""OpenAlex work objects (2025-26 "Walden" schema) -> records.

Endpoints: ``works`` (a singleton ``/works/{id}`` object or a ``{"meta", "results"}`` list) and
``counts`` (a list with ``select=id,doi,ids,cited_by_count,counts_by_year,updated_date``).

The new fields win over the removed/deprecated ones: ``primary_location`` over ``host_venue``,
``funders``/``awards`` over ``grants``. ``concepts`` are tolerated but not turned into topics:
they are a different, retired vocabulary, and ``topics`` replaces them.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Any

from pipeline import identifiers
from pipeline.errors import ParseError
from pipeline.normalise.change import OPENALEX_CHANGE_FIELDS, change_key
from pipeline.normalise.text import (
    MAX_YEAR,
    MIN_YEAR,
    as_bool,
    as_dict,
    as_int,
    as_list,
    as_str,
    canonical,
    iso_date,
    load_json,
    make_id,
    missing,
    norm_issn,
    norm_orcid,
    norm_ror,
    openalex_key,
    parse_iso_date,
    rebuild_inverted_abstract,
    require_answer,
    strip_inline_markup,
    unique,
)
from pipeline.normalise.validate import shape_notes, shapes, skipped_note, validated
from pipeline.records import (
    AuthorRecord,
    CitationCount,
    CitationLink,
    DataQualityNote,
    FunderRecord,
    Identifier,
    Institution,
    Normalised,
    RawResponse,
    ReferenceRecord,
    SourceRecord,
    TopicRecord,
    VersionRecord,
)

log = logging.getLogger(__name__)


def normalise_openalex(raw: RawResponse) -> Normalised:
    """Normalise one OpenAlex answer (endpoint ``works``, ``counts`` or ``cites``).

    A list answer, trimmed::

        {"meta": {"count": 1}, "results": [{"id": "https://openalex.org/W2741809807",
          "doi": "https://doi.org/10.7717/peerj.4375", "title": "The state of OA",
          "publication_year": 2018, "cited_by_count": 1200, "counts_by_year": [...]}]}

    ``not_found`` lists the requested identifiers no result asserts (OpenAlex silently drops
    unknown values from OR filters). A 404 answer means every requested identifier is absent.
    """
    if raw.http_status == 404:
        return Normalised(not_found=tuple(raw.requested))
    require_answer(raw)
    data = load_json(raw)
    works = _works(data, raw)
    if raw.endpoint not in ("works", "counts", "cites"):
        raise ParseError(f"openalex: no normaliser for endpoint {raw.endpoint!r}")
    notes = [n for w in works for n in _work_notes(w, raw.raw_id)]
    if raw.endpoint == "counts":
        counts = _counts(works, raw.requested)
        return validated(replace(counts, notes=tuple(notes)), source="openalex", raw_id=raw.raw_id)
    if raw.endpoint == "cites":
        cites = _cites(works, raw.requested, raw.raw_id)
        return validated(replace(cites, notes=tuple(notes)), source="openalex", raw_id=raw.raw_id)
    singleton = isinstance(data, dict) and "results" not in data
    records = tuple(r for r in (_record(w, raw.raw_id) for w in works) if r is not None)
    if singleton and records:
        records = (_with_aliases(records[0], raw.requested),)
    checked = validated(Normalised(records=records, notes=tuple(notes)), source="openalex",
                        raw_id=raw.raw_id)  # fmt: skip
    found = [i for r in checked.records for i in (*r.ids, *r.aliases)]
    return replace(checked, not_found=missing(raw.requested, found))


# The JSON shapes of the work fields this module reads (developers.openalex.org, the work
# object); a value of another shape is read as absent and noted (pipeline.normalise.validate).
WORK_SHAPES = shapes(
    {
        "id": "string", "doi": "string", "title": "string", "display_name": "string",
        "publication_year": "integer", "publication_date": "string", "ids": "object",
        "primary_location": "object", "host_venue": "object", "biblio": "object", "type": "string",
        "type_crossref": "string", "language": "string", "open_access": "object",
        "is_retracted": "boolean", "authorships": "array", "referenced_works": "array",
        "referenced_works_count": "integer", "funders": "array", "awards": "array",
        "grants": "array", "topics": "array", "primary_topic": "object", "keywords": "array",
        "mesh": "array", "abstract_inverted_index": "object", "cited_by_count": "integer",
        "counts_by_year": "array", "updated_date": "string", "locations": "array",
        "locations_count": "integer",
    }
)  # fmt: skip


def _work_notes(work: dict, raw_id: str) -> list[DataQualityNote]:
    """Shape notes for one work object, and a record_skipped note when it has no usable id."""
    key = openalex_key(work.get("id"))
    if key is None:
        return [skipped_note("openalex", "id", work.get("id"), "no usable OpenAlex id",
                             raw_id=raw_id)]  # fmt: skip
    return shape_notes(work, WORK_SHAPES, source="openalex", key=key, raw_id=raw_id)


def _works(data: Any, raw: RawResponse) -> list[dict]:
    """The work objects of a singleton or list answer; anything else is not an OpenAlex answer."""
    if isinstance(data, dict) and "results" in data:
        results = data["results"]
        if not isinstance(results, list):
            raise ParseError(f"openalex {raw.endpoint}: 'results' is not a list")
        return [w for w in results if isinstance(w, dict)]
    if isinstance(data, dict) and "id" in data:
        return [data]
    if isinstance(data, dict) and "error" in data:
        raise ParseError(f"openalex {raw.endpoint}: error answer: {str(data.get('error'))[:200]}")
    raise ParseError(f"openalex {raw.endpoint}: body is neither a work nor a work list")


def _with_aliases(record: SourceRecord, requested: tuple[Identifier, ...]) -> SourceRecord:
    """A singleton answered with another W-id than asked was merged (301): keep the old id."""
    own = Identifier("openalex", record.source_key)
    old = unique(canonical(i) for i in requested if i.scheme == "openalex" and canonical(i) != own)
    if not old:
        return record
    return replace(record, aliases=old)


def _record(work: dict, raw_id: str) -> SourceRecord | None:
    """One work object -> SourceRecord; a work without a readable W-id is skipped."""
    key = openalex_key(work.get("id"))
    if key is None:
        log.warning("openalex work without a usable id skipped: %r", str(work.get("id"))[:80])
        return None
    year, date = _publication(work)
    venue = _venue(work)
    ids = _ids(work, key)
    return SourceRecord(
        source="openalex",
        source_key=key,
        ids=ids,
        raw_id=raw_id,
        title=strip_inline_markup(as_str(work.get("title")) or as_str(work.get("display_name"))),
        publication_year=year,
        publication_date=date,
        **venue,
        type=as_str(work.get("type")) or as_str(work.get("type_crossref")),
        **_biblio(as_dict(work.get("biblio"))),
        abstract=rebuild_inverted_abstract(work.get("abstract_inverted_index")),
        language=as_str(work.get("language")),
        is_oa=as_bool(as_dict(work.get("open_access")).get("is_oa")),
        oa_status=as_str(as_dict(work.get("open_access")).get("oa_status")),
        license=_license(work),
        is_retracted=as_bool(work.get("is_retracted")),
        authors=_authors(work.get("authorships")),
        references=_references(work.get("referenced_works")),
        reference_count=_reference_count(work),
        funders=_funders(work),
        topics=_topics(work),
        cited_by_count=as_int(work.get("cited_by_count")),
        counts_by_year=fill_counts_by_year(work.get("counts_by_year")),
        updated_date=as_str(work.get("updated_date")),
        versions=location_versions(work, ids),
        change_key=change_key(work, OPENALEX_CHANGE_FIELDS),
    )


def _ids(work: dict, key: str) -> tuple[Identifier, ...]:
    """Own W-id plus ``ids`` (URLs) and the top-level ``doi``; ``mag`` is not a project scheme."""
    ids = as_dict(work.get("ids"))
    found = [
        Identifier("openalex", key),
        make_id("doi", ids.get("doi")) or make_id("doi", work.get("doi")),
        make_id("pmid", ids.get("pmid")),
        make_id("pmcid", ids.get("pmcid")),
    ]
    return unique(found)


def _publication(work: dict) -> tuple[int | None, str | None]:
    """``publication_date`` when it parses; else ``publication_year`` alone."""
    year, date = parse_iso_date(work.get("publication_date"))
    if year is not None:
        return year, date
    return iso_date(work.get("publication_year"))


def _venue(work: dict) -> dict[str, Any]:
    """Venue fields from ``primary_location.source``; legacy ``host_venue`` only if absent."""
    source = as_dict(as_dict(work.get("primary_location")).get("source"))
    if not source:
        legacy = as_dict(work.get("host_venue"))
        source = {**legacy, "host_organization_name": legacy.get("publisher")}
    issns = [norm_issn(i) for i in as_list(source.get("issn"))]
    return {
        "venue": as_str(source.get("display_name")),
        "issn_l": norm_issn(source.get("issn_l")),
        "issns": unique(issns),
        "publisher": as_str(source.get("host_organization_name")),
    }


def _biblio(biblio: dict) -> dict[str, str | None]:
    first, last = _scalar(biblio.get("first_page")), _scalar(biblio.get("last_page"))
    pages = f"{first}-{last}" if first and last and first != last else first or last
    return {
        "volume": _scalar(biblio.get("volume")),
        "issue": _scalar(biblio.get("issue")),
        "pages": pages,
    }


def _scalar(value: Any) -> str | None:
    """Volume/issue/page as text; OpenAlex sends strings but a bare number is not wrong."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return as_str(value)


def _license(work: dict) -> str | None:
    location = as_dict(work.get("primary_location"))
    if location:
        return as_str(location.get("license"))
    return as_str(as_dict(work.get("host_venue")).get("license"))


def _authors(authorships: Any) -> tuple[AuthorRecord, ...]:
    """Authorships in list order (``author_position`` is first/middle/last, not a number)."""
    authors = []
    for position, authorship in enumerate(as_list(authorships), start=1):
        author = _author(as_dict(authorship), position)
        if author is not None:
            authors.append(author)
    return tuple(authors)


def _author(authorship: dict, position: int) -> AuthorRecord | None:
    person = as_dict(authorship.get("author"))
    raw_name = as_str(authorship.get("raw_author_name")) or as_str(person.get("display_name"))
    if raw_name is None:
        return None
    return AuthorRecord(
        position=position,
        raw_name=raw_name,
        orcid=norm_orcid(person.get("orcid")),
        openalex_id=openalex_key(person.get("id"), "A"),
        is_corresponding=as_bool(authorship.get("is_corresponding")),
        affiliations=_affiliation_strings(authorship),
        institutions=tuple(
            _institution(as_dict(i)) for i in as_list(authorship.get("institutions"))
        ),
    )


def _affiliation_strings(authorship: dict) -> tuple[str, ...]:
    """``raw_affiliation_strings`` plus any extra in ``affiliations[].raw_affiliation_string``."""
    strings = [as_str(s) for s in as_list(authorship.get("raw_affiliation_strings"))]
    strings += [
        as_str(as_dict(a).get("raw_affiliation_string"))
        for a in as_list(authorship.get("affiliations"))
    ]
    return unique(strings)


def _institution(inst: dict) -> Institution:
    return Institution(
        name=as_str(inst.get("display_name")),
        ror=norm_ror(inst.get("ror")),
        openalex_id=openalex_key(inst.get("id"), "I"),
        country_code=as_str(inst.get("country_code")),
        type=as_str(inst.get("type")),
    )


def _references(referenced: Any) -> tuple[ReferenceRecord, ...]:
    # ~30 a work, nearly all "https://openalex.org/W<digits>": openalex_key's fast path
    refs = []
    for position, value in enumerate(as_list(referenced), start=1):
        key = openalex_key(value)
        if key:
            refs.append(ReferenceRecord("openalex", key, position))
    return tuple(refs)


def _reference_count(work: dict) -> int | None:
    count = as_int(work.get("referenced_works_count"))
    if count is None and isinstance(work.get("referenced_works"), list):
        count = len(work["referenced_works"])
    return count


def _funders(work: dict) -> tuple[FunderRecord, ...]:
    """``funders`` with the award ids of matching ``awards``; legacy ``grants`` if neither."""
    awards: dict[str | None, list[str]] = {}
    names: dict[str | None, str | None] = {}
    for award in map(as_dict, as_list(work.get("awards"))):
        fid = openalex_key(award.get("funder_id"), "F")
        names.setdefault(fid, as_str(award.get("funder_display_name")))
        awards.setdefault(fid, []).append(as_str(award.get("funder_award_id")))
    funders = []
    for funder in map(as_dict, as_list(work.get("funders"))):
        fid = openalex_key(funder.get("id"), "F")
        name = as_str(funder.get("display_name"))
        if fid or name:
            funders.append(FunderRecord(name, fid, unique(awards.pop(fid, []) if fid else [])))
    for fid, ids in awards.items():  # awards whose funder is not listed in funders[]
        if fid or names.get(fid) or unique(ids):
            funders.append(FunderRecord(names.get(fid), fid, unique(ids)))
    if not funders and not work.get("funders") and not work.get("awards"):
        funders = _legacy_grants(work.get("grants"))
    return tuple(funders)


def _legacy_grants(grants: Any) -> list[FunderRecord]:
    out = []
    for grant in map(as_dict, as_list(grants)):
        name, fid = as_str(grant.get("funder_display_name")), openalex_key(grant.get("funder"), "F")
        if name or fid:
            out.append(FunderRecord(name, fid, unique([as_str(grant.get("award_id"))])))
    return out


def _topics(work: dict) -> tuple[TopicRecord, ...]:
    """Topics (``primary_topic`` only when ``topics`` is absent), keywords and MeSH."""
    topics = as_list(work.get("topics")) or [work.get("primary_topic")]
    out = [_topic(as_dict(t), "openalex_topic", "T") for t in topics]
    out += [_topic(as_dict(k), "openalex_keyword", None) for k in as_list(work.get("keywords"))]
    out += _mesh(work.get("mesh"))
    return unique(out)


def _topic(item: dict, vocabulary: str, prefix: str | None) -> TopicRecord | None:
    term = as_str(item.get("display_name"))
    if term is None:
        return None
    raw_id = as_str(item.get("id"))
    term_id = openalex_key(raw_id, prefix) if prefix else _slug(raw_id)
    return TopicRecord(vocabulary, term, term_id=term_id, score=_score(item.get("score")))


def _score(value: Any) -> float | None:
    """A finite float; NaN (which json.loads accepts) would make equal records unequal."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _slug(url: str | None) -> str | None:
    """Keyword ids are URLs such as "https://openalex.org/keywords/machine-learning"."""
    if not url:
        return None
    return url.rstrip("/").rsplit("/", 1)[-1] or None


def _mesh(mesh: Any) -> list[TopicRecord]:
    """OpenAlex lists one entry per (descriptor, qualifier); fold them into one heading each."""
    headings: dict[str, dict[str, Any]] = {}
    for entry in map(as_dict, as_list(mesh)):
        name = as_str(entry.get("descriptor_name"))
        if name is None:
            continue
        heading = headings.setdefault(
            name, {"ui": as_str(entry.get("descriptor_ui")), "quals": [], "major": None}
        )
        heading["quals"].append(as_str(entry.get("qualifier_name")))
        major = as_bool(entry.get("is_major_topic"))
        if major is not None:
            heading["major"] = bool(heading["major"]) or major
    return [
        TopicRecord(
            "mesh", name, term_id=h["ui"], qualifiers=unique(h["quals"]), is_major=h["major"]
        )
        for name, h in headings.items()
    ]


def fill_counts_by_year(counts: Any) -> tuple[tuple[int, int], ...]:
    """``counts_by_year`` as ascending (year, count), missing years between the earliest and the
    latest listed filled with 0 (OpenAlex omits zero years).

    >>> fill_counts_by_year([{"year": 2024, "cited_by_count": 3}, {"year": 2022, "cited_by_count": 1}])
    ((2022, 1), (2023, 0), (2024, 3))
    """
    by_year: dict[int, int] = {}
    for entry in map(as_dict, as_list(counts)):
        year, count = as_int(entry.get("year")), as_int(entry.get("cited_by_count"))
        if year is not None and MIN_YEAR <= year <= MAX_YEAR and count is not None:
            by_year.setdefault(year, count)
    if not by_year:
        return ()
    return tuple((y, by_year.get(y, 0)) for y in range(min(by_year), max(by_year) + 1))


def _counts(works: list[dict], requested: tuple[Identifier, ...]) -> Normalised:
    """Counts for a ``select=id,doi,ids,cited_by_count,...`` list, matched to what was asked.

    Each count is keyed by the work's W-id when that was asked (or nothing asked matches), else
    by the requested DOI/PMID/PMCID it answers: the caller looks works up by what it asked.
    """
    counts, found = [], []
    for work in works:
        key = openalex_key(work.get("id"))
        if key is None:
            continue
        ids = _ids(work, key)
        found += ids
        asked = [canonical(i) for i in requested if canonical(i) in ids]
        chosen = Identifier("openalex", key) if not asked or ids[0] in asked else asked[0]
        count = _count(work, chosen)
        if count is not None:
            counts.append(count)
    return Normalised(counts=tuple(counts), not_found=missing(requested, found))


def _count(work: dict, ident: Identifier) -> CitationCount | None:
    """One counts result; a result without ``cited_by_count`` gives no observation (not 0)."""
    count = as_int(work.get("cited_by_count"))
    if count is None:
        return None
    return CitationCount(
        source="openalex",
        id=ident,
        cited_by_count=count,
        counts_by_year=fill_counts_by_year(work.get("counts_by_year")),
        updated_date=as_str(work.get("updated_date")),
        change_key=change_key(work, OPENALEX_CHANGE_FIELDS),
    )


# --------------------------------------------------------------------------------------------
# Versions (other copies of the work) and who cites it
# --------------------------------------------------------------------------------------------


def location_versions(work: dict, own: tuple[Identifier, ...]) -> tuple[VersionRecord, ...]:
    """Copies of the work that carry an identifier of their own (relation ``location``): a
    preprint server's or repository's DOI, an arXiv id. OpenAlex merges a preprint into its
    journal version as one work with several locations; keeping them as links (never as ids of
    the work) lets a separate record of the preprint join its family without merging::

        "locations": [{"id": "doi:10.48550/arxiv.1706.03762", "version": "submittedVersion",
          "landing_page_url": "https://doi.org/10.48550/arxiv.1706.03762", ...},
          {"landing_page_url": "https://arxiv.org/abs/1706.03762", ...}]
    """
    mine = set(own)
    out = []
    for loc in map(as_dict, as_list(work.get("locations"))):
        version = as_str(loc.get("version"))
        for other in _location_ids(loc):
            if other not in mine:
                out.append(VersionRecord("location", other, version=version))
    return unique(out)


def _location_ids(loc: dict) -> list[Identifier]:
    """The DOI a location's ``id`` or landing page names, and an arXiv id from arxiv.org URLs."""
    out = []
    loc_id = as_str(loc.get("id")) or ""
    if loc_id.lower().startswith("doi:"):
        out.append(make_id("doi", loc_id[4:]))
    for url in (as_str(loc.get("landing_page_url")), as_str(loc.get("pdf_url"))):
        if not url:
            continue
        if "doi.org/" in url.lower():
            out.append(make_id("doi", url))
        elif "arxiv.org/" in url.lower():
            arxiv = identifiers.normalise_arxiv(url.rsplit("/", 1)[-1].removesuffix(".pdf"))
            out.append(Identifier("arxiv", arxiv) if arxiv else None)
    return list(unique(out))


def _cites(works: list[dict], requested: tuple[Identifier, ...], raw_id: str) -> Normalised:
    """A ``filter=cites:W1|W2`` page -> one CitationLink per (citing work, cited W-id asked).

    ``{"meta": {"count": 1254, "next_cursor": "IlsxMDAuMCwg..."}, "results": [{"id":
    "https://openalex.org/W3137875885", "doi": "https://doi.org/10.3390/publications9010012",
    "ids": {...}, "referenced_works": ["https://openalex.org/W2741809807", ...]}]}``

    With one W-id asked, every result cites it. With several, a result is attributed through its
    ``referenced_works`` (the client selects them for OR-ed asks); one that lists none of the
    asked ids cannot be attributed and is skipped.
    """
    asked = [c for c in (canonical(i) for i in requested) if c.scheme == "openalex"]
    links = []
    for n, work in enumerate(works):
        key = openalex_key(work.get("id"))
        if key is None:
            continue
        cited = asked if len(asked) == 1 else _cited_among(work, asked)
        citing = _ids(work, key)
        links += [CitationLink("openalex", c, citing, n, raw_id) for c in cited]
    return Normalised(citations=tuple(links))


def _cited_among(work: dict, asked: list[Identifier]) -> list[Identifier]:
    refs = {openalex_key(r) for r in as_list(work.get("referenced_works"))}
    return [c for c in asked if c.value in refs]
