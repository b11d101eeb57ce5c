"""NCBI answers -> records: efetch PubMed XML, PMC ID converter, esearch and elink JSON.

XML is parsed with defusedxml: a DOCTYPE that declares entities (billion laughs, external
entities) is refused with ParseError and never expanded. The DOCTYPE that real efetch answers
carry (a PUBLIC id, no internal subset) is harmless and accepted.

Choices:
- Abstract sections are "LABEL: text", joined by a blank line (PubMed's own display keeps
  sections as separate paragraphs, and a blank line survives CSV/markdown round trips).
- publication_date is the earliest of the journal issue's ``PubDate`` and the electronic
  ``ArticleDate``, as precise as stated: Crossref ``issued`` and OpenAlex ``publication_date``
  are both "earliest" dates, so the sources agree on ahead-of-print papers.
- A reference with several ids keeps one, in the order pmid, doi, pmcid (PubMed's own id is
  the one PubMed checked); ``pii`` and ``bookaccession`` are not project schemes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLSyntaxError

import defusedxml.ElementTree as safe_et
from defusedxml import DefusedXmlException

from pipeline import identifiers
from pipeline.errors import ParseError
from pipeline.normalise.text import (
    as_dict,
    as_list,
    canonical,
    clean,
    earliest_date,
    element_text,
    iso_date,
    load_json,
    make_id,
    missing,
    norm_issn,
    norm_orcid,
    parse_medline_date,
    require_answer,
    unique,
)
from pipeline.normalise.validate import skipped_note, validated
from pipeline.records import (
    AuthorRecord,
    CitationCount,
    CitationLink,
    FunderRecord,
    Identifier,
    IdentityLink,
    Normalised,
    RawResponse,
    ReferenceRecord,
    SourceRecord,
    TopicRecord,
    UpdateRecord,
    VersionRecord,
)

log = logging.getLogger(__name__)

ARTICLE_ID_SCHEMES = {"pubmed": "pmid", "doi": "doi", "pmc": "pmcid"}
REFERENCE_ID_ORDER = ("pubmed", "doi", "pmc")
CITEDIN = "pubmed_pubmed_citedin"


def normalise_pubmed(raw: RawResponse) -> Normalised:
    """Normalise one NCBI answer: endpoint ``efetch``, ``idconv``, ``esearch`` or
    ``elink_citedin``.

    efetch, trimmed::

        <PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>31452104</PMID>
          <Article><ArticleTitle>...</ArticleTitle>...</Article></MedlineCitation>
          <PubmedData><ArticleIdList><ArticleId IdType="doi">10.1/x</ArticleId>...
        </PubmedData></PubmedArticle></PubmedArticleSet>
    """
    handler = _HANDLERS.get(raw.endpoint)
    if handler is None:
        raise ParseError(f"pubmed: no normaliser for endpoint {raw.endpoint!r}")
    require_answer(raw)  # NCBI reports unknown ids inside 200 bodies (empty set, errmsg)
    return validated(handler(raw), source="pubmed", raw_id=raw.raw_id)


# --------------------------------------------------------------------------------------------
# efetch
# --------------------------------------------------------------------------------------------


def parse_xml(raw: RawResponse) -> Element:
    """Parse XML without entity expansion; anything unsafe or malformed is a ParseError."""
    try:
        return safe_et.fromstring(raw.body)
    except DefusedXmlException as exc:
        raise ParseError(
            f"pubmed {raw.endpoint}: refused unsafe XML ({type(exc).__name__})"
        ) from None
    except XMLSyntaxError as exc:
        raise ParseError(f"pubmed {raw.endpoint}: body is not XML ({exc})") from None
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"pubmed {raw.endpoint}: body is not XML ({exc})") from None


def _efetch(raw: RawResponse) -> Normalised:
    root = parse_xml(raw)
    if root.tag != "PubmedArticleSet":
        raise ParseError(f"pubmed efetch: root element is <{str(root.tag)[:40]}>, not a record set")
    records, notes = [], []
    for child in root:
        if child.tag == "PubmedArticle":
            record = _connected(_article(child, raw.raw_id), child)
        elif child.tag == "PubmedBookArticle":
            record = _book(child, raw.raw_id)
        else:
            continue  # DeleteCitation and friends describe no work
        if record is not None:
            records.append(record)
        else:
            pmid = child.findtext(".//PMID")
            notes.append(skipped_note("pubmed", "PMID", pmid, f"{child.tag} without a usable "
                                      "PMID", raw_id=raw.raw_id))  # fmt: skip
    found = [i for r in records for i in r.ids]
    return Normalised(
        records=tuple(records), not_found=missing(raw.requested, found), notes=tuple(notes)
    )


def _text(parent: Element | None, path: str) -> str | None:
    return element_text(parent.find(path)) if parent is not None else None


def _article(article: Element, raw_id: str) -> SourceRecord | None:
    """A ``PubmedArticle``: MedlineCitation (the citation) + PubmedData (ids, references)."""
    citation = article.find("MedlineCitation")
    pmid = make_id("pmid", _text(citation, "PMID"))
    if citation is None or pmid is None:
        log.warning("PubmedArticle without a PMID skipped")
        return None
    art = citation.find("Article")
    journal = art.find("Journal") if art is not None else None
    data = article.find("PubmedData")
    year, date = _article_date(art, journal)
    types = _publication_types(art.find("PublicationTypeList") if art is not None else None)
    references = _references(data)
    return SourceRecord(
        source="pubmed",
        source_key=pmid.value,
        ids=_ids(pmid, data, art),
        raw_id=raw_id,
        title=_text(art, "ArticleTitle") or _text(art, "VernacularTitle"),
        publication_year=year,
        publication_date=date,
        **_journal(journal, citation.find("MedlineJournalInfo")),
        pages=_pages(art.find("Pagination") if art is not None else None),
        abstract=_abstract(art.find("Abstract") if art is not None else None),
        language=_text(art, "Language"),
        is_retracted=True if "Retracted Publication" in types else None,
        authors=_authors(art),
        references=references,
        reference_count=len(references) or None,
        funders=_grants(art.find("GrantList") if art is not None else None),
        topics=_mesh(citation.find("MeshHeadingList")) + _keywords(citation),
        publication_types=types,
        updated_date=_ymd(citation.find("DateRevised")),
    )


def _book(book_article: Element, raw_id: str) -> SourceRecord | None:
    """A ``PubmedBookArticle`` (NCBI Bookshelf): a chapter of a book, or a whole book."""
    doc = book_article.find("BookDocument")
    pmid = make_id("pmid", _text(doc, "PMID"))
    if doc is None or pmid is None:
        log.warning("PubmedBookArticle without a PMID skipped")
        return None
    book = doc.find("Book")
    chapter, book_title = _text(doc, "ArticleTitle"), _text(book, "BookTitle")
    year, date = _pub_date(book.find("PubDate") if book is not None else None)
    types = unique(element_text(t) for t in doc.findall("PublicationType"))
    data = book_article.find("PubmedBookData")
    return SourceRecord(
        source="pubmed",
        source_key=pmid.value,
        ids=unique([pmid, *_article_ids(doc), *_article_ids(data)]),
        raw_id=raw_id,
        title=chapter or book_title,
        publication_year=year,
        publication_date=date,
        venue=book_title if chapter else None,
        publisher=_text(book, "Publisher/PublisherName"),
        volume=_text(book, "Volume"),
        abstract=_abstract(doc.find("Abstract")),
        language=_text(doc, "Language"),
        authors=_authors(doc) or _authors(book),
        funders=_grants(doc.find("GrantList")),
        topics=_keywords(doc),
        publication_types=types,
        updated_date=_ymd(doc.find("DateRevised")),
    )


def _ids(pmid: Identifier, data: Element | None, art: Element | None) -> tuple[Identifier, ...]:
    """Own PMID, the work's own ArticleIdList (never a reference's), the ELocationID DOI."""
    ids = [pmid, *_article_ids(data)]
    if art is not None and not any(i.scheme == "doi" for i in ids):
        for loc in art.findall("ELocationID"):
            if loc.get("EIdType") == "doi":
                ids.append(make_id("doi", element_text(loc)))
    return unique(ids)


def _article_ids(parent: Element | None) -> list[Identifier]:
    if parent is None:
        return []
    out = []
    for aid in parent.findall("ArticleIdList/ArticleId"):
        scheme = ARTICLE_ID_SCHEMES.get(aid.get("IdType", ""))
        ident = make_id(scheme, element_text(aid)) if scheme else None
        if ident:
            out.append(ident)
    return out


def _journal(journal: Element | None, info: Element | None) -> dict[str, Any]:
    issue = journal.find("JournalIssue") if journal is not None else None
    issns = [norm_issn(_text(journal, "ISSN"))] if journal is not None else []
    issn_l = norm_issn(_text(info, "ISSNLinking"))
    return {
        "venue": _text(journal, "Title"),
        "venue_abbrev": _text(journal, "ISOAbbreviation") or _text(info, "MedlineTA"),
        "issn_l": issn_l,
        "issns": unique([*issns, issn_l]),
        "volume": _text(issue, "Volume"),
        "issue": _text(issue, "Issue"),
    }


def _pages(pagination: Element | None) -> str | None:
    if pagination is None:
        return None
    pages = _text(pagination, "MedlinePgn")
    if pages:
        return pages
    start, end = _text(pagination, "StartPage"), _text(pagination, "EndPage")
    return f"{start}-{end}" if start and end else start


def _article_date(art: Element | None, journal: Element | None) -> tuple[int | None, str | None]:
    """Earliest of the issue's PubDate and the electronic ArticleDate (module docstring)."""
    _, issue_date = _pub_date(journal.find("JournalIssue/PubDate") if journal is not None else None)
    electronic = None
    if art is not None:
        for ad in art.findall("ArticleDate"):
            if ad.get("DateType", "Electronic") == "Electronic":
                electronic = iso_date(_text(ad, "Year"), _text(ad, "Month"), _text(ad, "Day"))[1]
    date = earliest_date(issue_date, electronic)
    return (int(date[:4]), date) if date else (None, None)


def _pub_date(pub_date: Element | None) -> tuple[int | None, str | None]:
    """``Year``/``Month``/``Day`` (Month may be "Jun"), or free-text ``MedlineDate``."""
    if pub_date is None:
        return None, None
    if pub_date.find("Year") is not None:
        return iso_date(_text(pub_date, "Year"), _text(pub_date, "Month"), _text(pub_date, "Day"))
    return parse_medline_date(_text(pub_date, "MedlineDate"))


def _ymd(element: Element | None) -> str | None:
    return iso_date(_text(element, "Year"), _text(element, "Month"), _text(element, "Day"))[1]


def _abstract(abstract: Element | None) -> str | None:
    """Every AbstractText, labelled "LABEL: text", sections separated by a blank line."""
    if abstract is None:
        return None
    sections = []
    for part in abstract.findall("AbstractText"):
        text, label = element_text(part), clean(part.get("Label"))
        if text:
            sections.append(f"{label}: {text}" if label else text)
    return "\n\n".join(sections) or None


def _authors(parent: Element | None) -> tuple[AuthorRecord, ...]:
    """Authors of the first AuthorList that is not an editors list; invalid names skipped."""
    if parent is None:
        return ()
    lists = [al for al in parent.findall("AuthorList") if al.get("Type", "authors") != "editors"]
    if not lists:
        return ()
    valid = [a for a in lists[0].findall("Author") if a.get("ValidYN", "Y") != "N"]
    authors = (_author(a, position) for position, a in enumerate(valid, start=1))
    return tuple(a for a in authors if a is not None)


def _author(author: Element, position: int) -> AuthorRecord | None:
    collective = _text(author, "CollectiveName")
    family, given = _text(author, "LastName"), _text(author, "ForeName")
    initials = _text(author, "Initials")
    raw_name = collective or " ".join(p for p in (given or initials, family) if p) or None
    if raw_name is None:
        return None
    orcids = [element_text(i) for i in author.findall("Identifier") if i.get("Source") == "ORCID"]
    return AuthorRecord(
        position=position,
        raw_name=raw_name,
        family=None if collective else family,
        given=None if collective else given,
        initials=None if collective else initials,
        orcid=next((o for o in map(norm_orcid, orcids) if o), None),
        is_collective=collective is not None,
        affiliations=unique(element_text(a) for a in author.findall("AffiliationInfo/Affiliation")),
    )


def _mesh(mesh_list: Element | None) -> tuple[TopicRecord, ...]:
    """MeSH headings: descriptor, its UI, qualifiers; major if descriptor or a qualifier is."""
    if mesh_list is None:
        return ()
    out = []
    for heading in mesh_list.findall("MeshHeading"):
        descriptor = heading.find("DescriptorName")
        term = element_text(descriptor)
        if descriptor is None or term is None:
            continue
        qualifiers = heading.findall("QualifierName")
        flags = [descriptor.get("MajorTopicYN"), *(q.get("MajorTopicYN") for q in qualifiers)]
        major = None if all(f is None for f in flags) else "Y" in flags
        out.append(
            TopicRecord(
                "mesh",
                term,
                term_id=clean(descriptor.get("UI")),
                qualifiers=unique(element_text(q) for q in qualifiers),
                is_major=major,
            )
        )
    return tuple(out)


def _keywords(parent: Element) -> tuple[TopicRecord, ...]:
    out = []
    for keyword in parent.findall("KeywordList/Keyword"):
        term, flag = element_text(keyword), keyword.get("MajorTopicYN")
        if term:
            out.append(TopicRecord("keyword", term, is_major=None if flag is None else flag == "Y"))
    return unique(out)


def _publication_types(type_list: Element | None) -> tuple[str, ...]:
    if type_list is None:
        return ()
    return unique(element_text(t) for t in type_list.findall("PublicationType"))


def _references(data: Element | None) -> tuple[ReferenceRecord, ...]:
    """``ReferenceList/Reference`` (lists may nest); one id each, in REFERENCE_ID_ORDER."""
    if data is None:
        return ()
    refs = []
    for ref_list in data.findall("ReferenceList"):
        for ref in ref_list.iter("Reference"):
            ident = _reference_id(ref)
            text = _text(ref, "Citation")
            if ident or text:
                scheme, value = ident if ident else (None, None)
                refs.append(ReferenceRecord(scheme, value, len(refs) + 1, text))
    return tuple(refs)


def _reference_id(ref: Element) -> Identifier | None:
    by_type = {
        aid.get("IdType"): element_text(aid) for aid in ref.findall("ArticleIdList/ArticleId")
    }
    for id_type in REFERENCE_ID_ORDER:
        ident = make_id(ARTICLE_ID_SCHEMES[id_type], by_type.get(id_type))
        if ident:
            return ident
    return None


def _grants(grant_list: Element | None) -> tuple[FunderRecord, ...]:
    """GrantList grouped by Agency, GrantIDs in document order."""
    if grant_list is None:
        return ()
    by_agency: dict[str | None, list[str | None]] = {}
    for grant in grant_list.findall("Grant"):
        by_agency.setdefault(_text(grant, "Agency"), []).append(_text(grant, "GrantID"))
    return tuple(
        FunderRecord(name=agency, award_ids=unique(ids))
        for agency, ids in by_agency.items()
        if agency or unique(ids)
    )


# --------------------------------------------------------------------------------------------
# CommentsCorrections: updates (retraction, erratum, expression of concern) and versions
# --------------------------------------------------------------------------------------------

# RefType -> (kind, side). "in": this record is the work updated and the entry names the notice
# (RetractionIn); "of": this record is the notice and the entry names the work it updates
# (RetractionOf). RefTypes from the PubMed DTD (pubmed_250101); comments (CommentIn/On), reprints
# and summaries for patients are not updates.
UPDATE_REFTYPES = {
    "RetractionIn": ("retraction", "in"), "RetractionOf": ("retraction", "of"),
    "RetractedandReplacedIn": ("retraction", "in"),
    "RetractedandReplacedFrom": ("retraction", "of"),
    "PartialRetractionIn": ("partial_retraction", "in"),
    "PartialRetractionOf": ("partial_retraction", "of"),
    "ErratumIn": ("erratum", "in"), "ErratumFor": ("erratum", "of"),
    "ExpressionOfConcernIn": ("expression_of_concern", "in"),
    "ExpressionOfConcernFor": ("expression_of_concern", "of"),
    "CorrectedandRepublishedIn": ("correction", "in"),
    "CorrectedandRepublishedFrom": ("correction", "of"),
}  # fmt: skip
# RefType -> relation: an updated version of the same work (Cochrane review updates; the NIH
# preprint pilot links a journal article to its preprint by UpdateOf). UpdateIn is carried by
# the older record and names the newer one.
VERSION_REFTYPES = {"UpdateOf": "update-of", "UpdateIn": "updated-in"}
# "Lancet. 2010 Feb 6;375(9713):445. doi: 10.1016/S0140-6736(10)60175-4." -> "2010 Feb 6"
_REF_DATE = re.compile(r"\.\s+(\d{4}(?:\s+[A-Z][a-z]{2}(?:\s+\d{1,2})?)?)\s*[;:.(]")


def _connected(record: SourceRecord | None, article: Element) -> SourceRecord | None:
    """The record with the updates and versions of its CommentsCorrectionsList."""
    if record is None:
        return None
    own = Identifier("pmid", record.source_key)
    entries = article.findall("MedlineCitation/CommentsCorrectionsList/CommentsCorrections")
    ups = unique(_update(e, own) for e in entries)
    vers = unique(_version(e) for e in entries)
    if not ups and not vers:
        return record
    return replace(record, updates=ups, versions=vers)


def _reference_target(entry: Element) -> Identifier | None:
    """The work a CommentsCorrections entry names: its PMID, else a DOI printed in RefSource."""
    pmid = make_id("pmid", _text(entry, "PMID"))
    if pmid is not None:
        return pmid
    source = _text(entry, "RefSource") or ""
    for found in identifiers.find_identifiers(source):
        if found.scheme == "doi":
            return Identifier("doi", found.value)
    return None


def _update(entry: Element, own: Identifier) -> UpdateRecord | None:
    """``<CommentsCorrections RefType="RetractionIn"><RefSource>Lancet. 2010 Feb 6;375(9713):445.
    doi: 10.1016/S0140-6736(10)60175-4.</RefSource><PMID Version="1">20137807</PMID>``."""
    ref_type = entry.get("RefType", "")
    kind_side = UPDATE_REFTYPES.get(ref_type)
    if kind_side is None:
        return None
    kind, side = kind_side
    other = _reference_target(entry)
    note = _text(entry, "RefSource")
    date = _ref_date(note)
    if side == "in":
        return UpdateRecord(kind, own, other, date, ref_type, "pubmed", note=note)
    if other is None:  # a notice that does not say what it updates names no target
        return None
    return UpdateRecord(kind, other, own, None, ref_type, "pubmed", note=note)


def _ref_date(note: str | None) -> str | None:
    """The notice's publication date from its RefSource citation, as precise as printed."""
    match = _REF_DATE.search(note or "")
    if not match:
        return None
    parts = match.group(1).split()
    return iso_date(*(parts + [None, None])[:3])[1]


def _version(entry: Element) -> VersionRecord | None:
    relation = VERSION_REFTYPES.get(entry.get("RefType", ""))
    other = _reference_target(entry) if relation else None
    return VersionRecord(relation, other) if relation and other else None


# --------------------------------------------------------------------------------------------
# JSON endpoints
# --------------------------------------------------------------------------------------------


def _idconv(raw: RawResponse) -> Normalised:
    """PMC ID converter: one IdentityLink per matched record; ``errmsg`` records are not found.

    ``{"status": "ok", "records": [{"pmcid": "PMC3531190", "pmid": 23193287,
    "doi": "10.1093/nar/gks1195", "requested-id": "23193287"}]}`` (pmid is an integer)
    """
    body = as_dict(load_json(raw))
    if body.get("status") != "ok" or not isinstance(body.get("records"), list):
        raise ParseError(
            f"pubmed idconv: not a converter answer (status {str(body.get('status'))[:40]!r})"
        )
    links, not_found = [], []
    for record in map(as_dict, body["records"]):
        ids = unique(
            make_id(s, record.get(k))
            for k, s in (("pmid", "pmid"), ("pmcid", "pmcid"), ("doi", "doi"))
        )
        if record.get("status") == "error" or "errmsg" in record or len(ids) < 2:
            not_found.append(_requested_id(record.get("requested-id"), raw.requested))
        else:
            links.append(IdentityLink(source="pubmed", ids=ids))
    found = [i for link in links for i in link.ids]
    not_found += missing(raw.requested, found)
    return Normalised(links=tuple(unique(links)), not_found=unique(not_found))


def _requested_id(value: Any, requested: tuple[Identifier, ...]) -> Identifier | None:
    """The requested Identifier a converter record answers (matched on normalised value)."""
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if text is None:
        return None
    for ident in requested:
        if make_id(ident.scheme, text) == canonical(ident):
            return ident
    for scheme in ("doi", "pmcid", "pmid"):  # asked without `requested`: infer from the shape
        ident = make_id(scheme, text)
        if ident and (scheme != "pmcid" or text.upper().startswith("PMC")):
            return ident
    return None


def _esearch(raw: RawResponse) -> Normalised:
    """esearch for ``<doi>[doi]``: one DOI and one hit give a DOI-PMID link; zero hits mean
    every requested DOI is absent; several DOIs ORed give no links (efetch provides them)."""
    result = as_dict(load_json(raw)).get("esearchresult")
    if not isinstance(result, dict) or "ERROR" in result:
        reason = str(as_dict(result).get("ERROR", "no esearchresult"))[:120]
        raise ParseError(f"pubmed esearch: not a search result ({reason})")
    pmids = unique(make_id("pmid", p) for p in as_list(result.get("idlist")))
    dois = [i for i in raw.requested if i.scheme == "doi"]
    if not pmids:
        return Normalised(not_found=tuple(dois))
    if len(raw.requested) == 1 and len(dois) == 1 and len(pmids) == 1:
        return Normalised(links=(IdentityLink("pubmed", (canonical(dois[0]), pmids[0])),))
    return Normalised()


def _elink_citedin(raw: RawResponse) -> Normalised:
    """elink ``pubmed_pubmed_citedin``, one linkset per PMID (repeated ``id=``).

    ``{"linksets": [{"dbfrom": "pubmed", "ids": ["123"], "linksetdbs": [{"dbto": "pubmed",
    "linkname": "pubmed_pubmed_citedin", "links": ["1", "2"]}]}]}``; no linksetdbs = 0 citing.
    """
    body = as_dict(load_json(raw))
    if "ERROR" in body or not isinstance(body.get("linksets"), list):
        raise ParseError(f"pubmed elink: not a linkset answer ({str(body.get('ERROR', ''))[:120]})")
    counts, links = [], []
    seen: set[Identifier] = set()
    for linkset in map(as_dict, body["linksets"]):
        ids = unique(make_id("pmid", i) for i in as_list(linkset.get("ids")))
        if len(ids) != 1:
            log.warning("elink linkset with %d ids cannot be attributed; skipped", len(ids))
            continue
        if ids[0] in seen:  # the first linkset per id wins, for its count and its links
            continue
        seen.add(ids[0])
        citing = unique(
            make_id("pmid", link)
            for db in map(as_dict, as_list(linkset.get("linksetdbs")))
            if db.get("linkname") == CITEDIN
            for link in as_list(db.get("links"))
        )
        counts.append(CitationCount(source="pubmed", id=ids[0], cited_by_count=len(citing)))
        links += [
            CitationLink("pubmed", ids[0], (p,), position=n, raw_id=raw.raw_id)
            for n, p in enumerate(citing)
        ]
    return Normalised(
        counts=tuple(counts),
        not_found=missing(raw.requested, (c.id for c in counts)),
        citations=tuple(links),
    )


def _esearch_modified(raw: RawResponse) -> Normalised:
    """esearch over asked PMIDs limited to those modified since a date (``datetype=mdat``):
    ``{"esearchresult": {"count": "1", "idlist": ["9500320"], ...}}``. The PMIDs it lists are
    ``modified``; the others asked were not modified in that window (not "not found")."""
    result = as_dict(load_json(raw)).get("esearchresult")
    if not isinstance(result, dict) or "ERROR" in result:
        reason = str(as_dict(result).get("ERROR", "no esearchresult"))[:120]
        raise ParseError(f"pubmed esearch_modified: not a search result ({reason})")
    hits = {make_id("pmid", p) for p in as_list(result.get("idlist"))}
    return Normalised(modified=tuple(i for i in raw.requested if canonical(i) in hits))


_HANDLERS = {
    "efetch": _efetch,
    "idconv": _idconv,
    "esearch": _esearch,
    "elink_citedin": _elink_citedin,
    "esearch_modified": _esearch_modified,
}
