"""Crossref REST API works -> records.

Endpoints: ``works`` (``/works/{doi}`` singleton or ``/works?filter=doi:...`` list) and
``counts`` (a list with ``select=DOI,is-referenced-by-count,...``; ``indexed`` if selected).

Date choice: ``issued`` first, then ``published``, ``published-online``, ``published-print``.
``issued`` is the one date Crossref documents as always present and defines exactly ("earliest of
published-print and published-online", api_format.md), so it is the same rule across records;
``published`` is its newer twin and only fills in when ``issued`` has no year (``[[null]]``).
Record-event dates (``created``, ``deposited``, ``indexed``) are never used as publication
dates: a work registered in 2024 for a 1970 article was not published in 2024.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from pipeline.errors import ParseError
from pipeline.normalise.change import CROSSREF_CHANGE_FIELDS, change_key
from pipeline.normalise.text import (
    as_dict,
    as_int,
    as_list,
    as_str,
    first_str,
    iso_date,
    jats_to_text,
    load_json,
    make_id,
    missing,
    norm_doi,
    norm_issn,
    norm_orcid,
    norm_ror,
    require_answer,
    strip_inline_markup,
    unique,
)
from pipeline.normalise.validate import shape_notes, shapes, skipped_note, validated
from pipeline.records import (
    AuthorRecord,
    CitationCount,
    DataQualityNote,
    FunderRecord,
    Identifier,
    Institution,
    Normalised,
    RawResponse,
    ReferenceRecord,
    SourceRecord,
    TopicRecord,
    UpdateRecord,
    VersionRecord,
)

log = logging.getLogger(__name__)

DATE_FIELDS = ("issued", "published", "published-online", "published-print")


def normalise_crossref(raw: RawResponse) -> Normalised:
    """Normalise one Crossref answer (endpoint ``works`` or ``counts``).

    A singleton, trimmed::

        {"status": "ok", "message-type": "work", "message": {"DOI": "10.1111/ejh.70051",
          "title": ["Cohort study"], "container-title": ["Eur J Haematol"],
          "issued": {"date-parts": [[2025, 3]]}, "is-referenced-by-count": 4}}

    A 404 (plain-text body ``Resource not found.``) means every requested DOI is unknown.
    Endpoint ``agency`` (doi.org's registration-agency answer, kept with Crossref's because it
    decided which DOIs Crossref was asked about) holds no record: nothing to load.
    """
    if raw.endpoint == "agency":
        return Normalised()
    if raw.http_status == 404:
        return Normalised(not_found=tuple(raw.requested))
    require_answer(raw)
    items = _items(load_json(raw), raw)
    if raw.endpoint not in ("works", "counts"):
        raise ParseError(f"crossref: no normaliser for endpoint {raw.endpoint!r}")
    notes = tuple(n for item in items for n in _item_notes(item, raw.raw_id))
    if raw.endpoint == "counts":
        counts = tuple(c for c in map(_count, items) if c is not None)
        checked = validated(Normalised(counts=counts, notes=notes), source="crossref",
                            raw_id=raw.raw_id)  # fmt: skip
        return replace(checked, not_found=missing(raw.requested, (c.id for c in checked.counts)))
    records = tuple(r for r in (_record(i, raw.raw_id) for i in items) if r is not None)
    checked = validated(Normalised(records=records, notes=notes), source="crossref",
                        raw_id=raw.raw_id)  # fmt: skip
    found = [i for r in checked.records for i in r.ids]
    return replace(checked, not_found=missing(raw.requested, found))


# The JSON shapes of the work fields this module reads (CrossRef/rest-api-doc api_format.md);
# a value of another shape is read as absent and noted (pipeline.normalise.validate).
ITEM_SHAPES = shapes(
    {
        "DOI": "string", "title": ("array", "string"), "container-title": ("array", "string"),
        "short-container-title": ("array", "string"), "ISSN": "array", "issn-type": "array",
        "publisher": "string", "type": "string", "volume": "string", "issue": "string",
        "page": "string", "abstract": "string", "language": "string", "license": "array",
        "updated-by": "array", "update-to": "array", "relation": "object", "author": "array", "reference": "array",
        "reference-count": "integer", "references-count": "integer", "funder": "array",
        "subject": "array", "is-referenced-by-count": "integer", "indexed": "object",
        "deposited": "object", "issued": "object", "published": "object",
        "published-online": "object", "published-print": "object",
    }
)  # fmt: skip


def _item_notes(item: dict, raw_id: str) -> list[DataQualityNote]:
    """Shape notes for one work message, and a record_skipped note when its DOI is unusable."""
    doi = norm_doi(item.get("DOI"))
    if doi is None:
        return [skipped_note("crossref", "DOI", item.get("DOI"), "no valid DOI", raw_id=raw_id)]
    return shape_notes(item, ITEM_SHAPES, source="crossref", key=doi, raw_id=raw_id)


def _items(data: Any, raw: RawResponse) -> list[dict]:
    """Work messages of a ``work`` or ``work-list`` answer; anything else is not an answer."""
    body = as_dict(data)
    kind, message = body.get("message-type"), body.get("message")
    if body.get("status") != "ok" or not isinstance(message, dict):
        reason = str(body.get("message-type") or body.get("status") or type(data).__name__)
        raise ParseError(f"crossref {raw.endpoint}: not a works answer ({reason[:80]})")
    if kind == "work":
        return [message]
    if kind == "work-list" and isinstance(message.get("items"), list):
        return [i for i in message["items"] if isinstance(i, dict)]
    raise ParseError(f"crossref {raw.endpoint}: unexpected message-type {str(kind)[:80]!r}")


def _record(work: dict, raw_id: str) -> SourceRecord | None:
    """One work message -> SourceRecord; an item without a valid DOI is skipped."""
    doi = norm_doi(work.get("DOI"))
    if doi is None:
        log.warning("crossref item without a valid DOI skipped: %r", str(work.get("DOI"))[:80])
        return None
    year, date = publication_date(work)
    return SourceRecord(
        source="crossref",
        source_key=doi,
        ids=(Identifier("doi", doi),),
        raw_id=raw_id,
        title=strip_inline_markup(first_str(work.get("title"))),
        publication_year=year,
        publication_date=date,
        venue=strip_inline_markup(first_str(work.get("container-title"))),
        venue_abbrev=first_str(work.get("short-container-title")),
        issns=_issns(work),
        publisher=as_str(work.get("publisher")),
        type=as_str(work.get("type")),
        volume=as_str(work.get("volume")),
        issue=as_str(work.get("issue")),
        pages=as_str(work.get("page")),
        abstract=jats_to_text(work.get("abstract")),
        language=as_str(work.get("language")),
        license=_license(work.get("license")),
        is_retracted=_is_retracted(work),
        authors=_authors(work.get("author")),
        references=_references(work.get("reference")),
        reference_count=_reference_count(work),
        funders=_funders(work.get("funder")),
        topics=_subjects(work.get("subject")),
        cited_by_count=as_int(work.get("is-referenced-by-count")),
        updated_date=_timestamp(work.get("indexed")) or _timestamp(work.get("deposited")),
        **_connections(work, Identifier("doi", doi)),
    )


def date_parts(value: Any) -> tuple[int | None, str | None]:
    """A Crossref partial date ``{"date-parts": [[Y, M, D]]}`` with 1-3 parts.

    ``[[null]]`` has no year, and none is invented: ``(None, None)``.

    >>> date_parts({"date-parts": [[2021, 7]]})
    (2021, '2021-07')
    """
    parts = as_list(as_dict(value).get("date-parts"))
    first = as_list(parts[0]) if parts else []
    if not first or first[0] is None:
        return None, None
    return iso_date(*(first + [None, None])[:3])


def publication_date(work: dict) -> tuple[int | None, str | None]:
    """The first of DATE_FIELDS that has a year (see the module docstring for why)."""
    for name in DATE_FIELDS:
        year, date = date_parts(work.get(name))
        if year is not None:
            return year, date
    return None, None


def _issns(work: dict) -> tuple[str, ...]:
    typed = [as_dict(t).get("value") for t in as_list(work.get("issn-type"))]
    return tuple(unique(norm_issn(i) for i in [*as_list(work.get("ISSN")), *typed]))


def _license(licenses: Any) -> str | None:
    """The version-of-record licence URL; am/tdm licences do not describe the published work."""
    for entry in map(as_dict, as_list(licenses)):
        if entry.get("content-version") == "vor":
            url = as_str(entry.get("URL"))
            if url:
                return url
    return None


def _is_retracted(work: dict) -> bool | None:
    """True when ``updated-by`` carries a retraction, or ``update-to`` retracts the record itself
    (an in-place notice: Elsevier's "RETRACTED:" records update their own DOI); absence proves
    nothing, so None."""
    own = norm_doi(work.get("DOI"))
    for update in map(as_dict, as_list(work.get("updated-by"))):
        if as_str(update.get("type")) in ("retraction", "removal"):
            return True
    for update in map(as_dict, as_list(work.get("update-to"))):
        if as_str(update.get("type")) in ("retraction", "removal"):
            if own is not None and norm_doi(update.get("DOI")) == own:
                return True
    return None


def _authors(authors: Any) -> tuple[AuthorRecord, ...]:
    out = []
    for position, author in enumerate(map(as_dict, as_list(authors)), start=1):
        record = _author(author, position)
        if record is not None:
            out.append(record)
    return tuple(out)


def _author(author: dict, position: int) -> AuthorRecord | None:
    """A person (``family``/``given``) or a collective (``name`` only, e.g. a consortium)."""
    family, given = as_str(author.get("family")), as_str(author.get("given"))
    collective = as_str(author.get("name")) if family is None else None
    raw_name = collective or " ".join(p for p in (given, family) if p) or None
    if raw_name is None:
        return None
    affiliations = [as_dict(a) for a in as_list(author.get("affiliation"))]
    return AuthorRecord(
        position=position,
        raw_name=raw_name,
        family=family,
        given=given,
        orcid=norm_orcid(author.get("ORCID")),
        is_collective=collective is not None,
        affiliations=unique(as_str(a.get("name")) for a in affiliations),
        institutions=tuple(i for i in map(_institution, affiliations) if i is not None),
    )


def _institution(affiliation: dict) -> Institution | None:
    """Only affiliations that carry a ROR id (``id: [{"id": ..., "id-type": "ROR"}]``)."""
    for ident in map(as_dict, as_list(affiliation.get("id"))):
        if str(ident.get("id-type", "")).upper() == "ROR":
            ror = norm_ror(ident.get("id"))
            if ror:
                return Institution(name=as_str(affiliation.get("name")), ror=ror)
    return None


def _references(references: Any) -> tuple[ReferenceRecord, ...]:
    out = []
    for position, ref in enumerate(map(as_dict, as_list(references)), start=1):
        doi = norm_doi(ref.get("DOI"))
        text = as_str(ref.get("unstructured")) or _citation_text(ref)
        if doi or text:
            out.append(ReferenceRecord("doi" if doi else None, doi, position, text))
    return tuple(out)


def _citation_text(ref: dict) -> str | None:
    """Structured-only references (no ``unstructured``) as one readable line of their fields."""
    keys = ("author", "year", "article-title", "volume-title", "journal-title", "volume")
    parts = [as_str(ref.get(k)) for k in keys] + [as_str(ref.get("first-page"))]
    return ". ".join(p for p in parts if p) or None


def _reference_count(work: dict) -> int | None:
    count = as_int(work.get("reference-count"))
    return count if count is not None else as_int(work.get("references-count"))


def _funders(funders: Any) -> tuple[FunderRecord, ...]:
    out = []
    for funder in map(as_dict, as_list(funders)):
        name, fid = as_str(funder.get("name")), norm_doi(funder.get("DOI"))
        awards = unique(as_str(a) for a in as_list(funder.get("award")))
        if name or fid or awards:
            out.append(FunderRecord(name=name, funder_id=fid, award_ids=awards))
    return tuple(out)


def _subjects(subjects: Any) -> tuple[TopicRecord, ...]:
    return unique(
        TopicRecord("crossref_subject", s) for s in (as_str(x) for x in as_list(subjects)) if s
    )


def _timestamp(value: Any) -> str | None:
    return as_str(as_dict(value).get("date-time"))


# --------------------------------------------------------------------------------------------
# Updates (retractions, corrections...) and versions (preprint <-> published)
# --------------------------------------------------------------------------------------------

# relation types that link two versions of one work (Crossref schema "relations"); the others
# (is-review-of, references, is-supplement-to...) link different works
VERSION_RELATIONS = frozenset(
    {"has-preprint", "is-preprint-of", "has-version", "is-version-of", "is-identical-to"}
)


def _connections(work: dict, own: Identifier) -> dict[str, Any]:
    """The record's updates, versions and change key (SourceRecord keyword arguments)."""
    return {
        "updates": updates(work, own),
        "versions": versions(work),
        "change_key": change_key(work, CROSSREF_CHANGE_FIELDS),
    }


def updates(work: dict, own: Identifier) -> tuple[UpdateRecord, ...]:
    """``updated-by`` (notices that update this work) and ``update-to`` (works this notice
    updates), e.g. Retraction Watch's entry on a retracted work::

        "updated-by": [{"DOI": "10.1016/s0140-6736(10)60175-4", "type": "retraction",
          "label": "Retraction", "source": "retraction-watch", "record-id": "4036",
          "updated": {"date-parts": [[2010, 2, 6]], "date-time": "2010-02-06T00:00:00Z"}}]

    An entry without a DOI still says the work was updated (target = this work, notice None
    for ``updated-by``); an ``update-to`` entry without one names no target and is skipped.
    """
    out = []
    for entry in map(as_dict, as_list(work.get("updated-by"))):
        notice = make_id("doi", entry.get("DOI"))
        out.append(_update(entry, target=own, notice=notice))
    for entry in map(as_dict, as_list(work.get("update-to"))):
        target = make_id("doi", entry.get("DOI"))
        if target is not None:
            out.append(_update(entry, target=target, notice=own))
    return unique(u for u in out if u is not None)


def _update(entry: dict, *, target: Identifier, notice: Identifier | None) -> UpdateRecord | None:
    kind = as_str(entry.get("type"))
    if kind is None:
        return None
    date = date_parts(entry.get("updated"))[1] or _date_only(_timestamp(entry.get("updated")))
    return UpdateRecord(
        kind=kind.lower().replace("-", "_").replace(" ", "_"),
        target=target,
        notice=notice,
        date=date,
        label=as_str(entry.get("label")),
        asserted_by=as_str(entry.get("source")),
        record_id=_record_id(entry.get("record-id")),
    )


def _date_only(timestamp: str | None) -> str | None:
    return timestamp[:10] if timestamp and len(timestamp) >= 10 else None


def _record_id(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return as_str(value)


def versions(work: dict) -> tuple[VersionRecord, ...]:
    """Version links from ``relation``: ``{"has-preprint": [{"id-type": "doi", "id":
    "10.1101/2020.01.01.123", "asserted-by": "object"}]}``; ids that are not DOIs are skipped."""
    out = []
    for relation, entries in as_dict(work.get("relation")).items():
        if relation not in VERSION_RELATIONS:
            continue
        for entry in map(as_dict, as_list(entries)):
            id_type = (as_str(entry.get("id-type")) or "doi").lower()
            other = make_id("doi", entry.get("id")) if id_type == "doi" else None
            if other is not None:
                out.append(
                    VersionRecord(relation, other, asserted_by=as_str(entry.get("asserted-by")))
                )
    return unique(out)


def _count(item: dict) -> CitationCount | None:
    """One ``select=DOI,is-referenced-by-count,indexed`` item; no count, no observation."""
    ident, count = make_id("doi", item.get("DOI")), as_int(item.get("is-referenced-by-count"))
    if ident is None or count is None:
        return None
    return CitationCount(
        source="crossref",
        id=ident,
        cited_by_count=count,
        updated_date=_timestamp(item.get("indexed")),
        change_key=change_key(item, CROSSREF_CHANGE_FIELDS),
    )
