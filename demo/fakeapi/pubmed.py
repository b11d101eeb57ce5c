"""Fake PubMed efetch XML: ``PubmedArticleSet`` records as the PubMed DTD (pubmed_250101) lays out.

Paths follow api-notes 3.3 (MedlineCitation/PMID, Article/ArticleTitle, Abstract/AbstractText
with Label, AuthorList, Journal, ELocationID, MeshHeadingList, PubmedData/ArticleIdList,
ReferenceList). Inline ``<i>``/``<sup>`` stay in titles and abstracts, as PubMed ships them.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from demo.fakeapi.catalog import PUBMED_REFTYPES, Author, Catalog, FakeWork, inline_markup

XML_HEAD = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n'
)
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_INLINE = {"i": "i", "sup": "sup", "sub": "sub", "b": "b"}
_PUBLICATION_TYPES = {
    "review": ("D016454", "Review"),
    "letter": ("D016422", "Letter"),
}


def _el(tag: str, text: str | None, **attrs: str) -> str:
    """``<Tag a="b">escaped text</Tag>``; empty string when text is None."""
    if text is None:
        return ""
    attr = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    return f"<{tag}{attr}>{escape(text)}</{tag}>"


def _title(w: FakeWork) -> str:
    # PubMed titles end with a period unless they end with ? or !
    title = w.title if w.title.endswith((".", "?", "!")) else w.title + "."
    return f"<ArticleTitle>{inline_markup(title, _INLINE)}</ArticleTitle>"


def _pub_date(w: FakeWork, index: int) -> str:
    """``PubDate`` comes in three shapes (api-notes 3.3); vary them deterministically."""
    year, month, day = w.date.split("-")
    mon = _MONTHS[int(month) - 1]
    if index % 13 == 12:
        nxt = _MONTHS[int(month) % 12]
        return f"<PubDate><MedlineDate>{year} {mon}-{nxt}</MedlineDate></PubDate>"
    if index % 7 == 6:
        return f"<PubDate><Year>{year}</Year></PubDate>"
    return f"<PubDate><Year>{year}</Year><Month>{mon}</Month><Day>{day}</Day></PubDate>"


def _journal(w: FakeWork, index: int) -> str:
    printed, electronic = w.issns
    issn = (
        _el("ISSN", printed, IssnType="Print")
        if printed
        else _el("ISSN", electronic, IssnType="Electronic")
    )
    issue = (
        '<JournalIssue CitedMedium="Internet">'
        + _el("Volume", w.volume)
        + _el("Issue", w.issue)
        + _pub_date(w, index)
        + "</JournalIssue>"
    )
    return (
        f"<Journal>{issn}{issue}{_el('Title', w.venue)}"
        f"{_el('ISOAbbreviation', w.venue_abbrev)}</Journal>"
    )


def _pagination(w: FakeWork) -> str:
    if not w.pages:
        return ""
    start, _, end = w.pages.partition("-")
    return (
        "<Pagination>"
        + _el("StartPage", start)
        + _el("EndPage", end or None)
        + _el("MedlinePgn", w.pages)
        + "</Pagination>"
    )


def _abstract(w: FakeWork) -> str:
    if not w.abstract:
        return ""
    parts = []
    for n, paragraph in enumerate(w.abstract.split("\n")):
        label = w.abstract_labels[n] if n < len(w.abstract_labels) else None
        attrs = f' Label="{label}" NlmCategory="{label}"' if label else ""
        parts.append(f"<AbstractText{attrs}>{inline_markup(paragraph, _INLINE)}</AbstractText>")
    return "<Abstract>" + "".join(parts) + "</Abstract>"


def _author(a: Author) -> str:
    orcid = _el("Identifier", a.orcid, Source="ORCID")
    aff = (
        f"<AffiliationInfo>{_el('Affiliation', a.affiliation)}</AffiliationInfo>"
        if a.affiliation
        else ""
    )
    return (
        '<Author ValidYN="Y">'
        + _el("LastName", a.family)
        + _el("ForeName", a.given)
        + _el("Initials", a.initials)
        + orcid
        + aff
        + "</Author>"
    )


def _article(w: FakeWork, index: int) -> str:
    doi = w.pubmed_doi or w.doi
    year, month, day = w.date.split("-")
    ptype_ui, ptype = _PUBLICATION_TYPES.get(w.type, ("D016428", "Journal Article"))
    retracted = (
        '<PublicationType UI="D016441">Retracted Publication</PublicationType>'
        if w.is_retracted
        else ""
    )
    authors = "".join(_author(a) for a in w.authors)
    grants = "".join(
        f"<Grant>{_el('GrantID', award)}{_el('Agency', name)}<Country>United States</Country></Grant>"
        for name, _fundref, award in w.funders
    )
    return (
        '<Article PubModel="Print-Electronic">'
        + _journal(w, index)
        + _title(w)
        + _pagination(w)
        + (_el("ELocationID", doi, EIdType="doi", ValidYN="Y") if doi else "")
        + _abstract(w)
        + (f'<AuthorList CompleteYN="Y">{authors}</AuthorList>' if authors else "")
        + "<Language>eng</Language>"
        + (f'<GrantList CompleteYN="Y">{grants}</GrantList>' if grants else "")
        + f'<PublicationTypeList><PublicationType UI="{ptype_ui}">{ptype}</PublicationType>'
        + retracted
        + "</PublicationTypeList>"
        + f'<ArticleDate DateType="Electronic"><Year>{year}</Year><Month>{month}</Month>'
        + f"<Day>{day}</Day></ArticleDate>"
        + "</Article>"
    )


def _mesh(w: FakeWork) -> str:
    if not w.mesh:
        return ""
    heads = "".join(
        f"<MeshHeading>{_el('DescriptorName', term, UI=ui, MajorTopicYN='Y' if major else 'N')}"
        "</MeshHeading>"
        for ui, term, major in w.mesh
    )
    return f"<MeshHeadingList>{heads}</MeshHeadingList>"


def _keywords(w: FakeWork) -> str:
    if not w.keywords:
        return ""
    words = "".join(_el("Keyword", k, MajorTopicYN="N") for k in w.keywords)
    return f'<KeywordList Owner="NOTNLM">{words}</KeywordList>'


def _comments_corrections(w: FakeWork) -> str:
    """CommentsCorrections for the notices that update the work (RetractionIn, ErratumIn...)."""
    entries = []
    for u in w.updates:
        ref_type = PUBMED_REFTYPES.get(u.kind)
        if ref_type is None:
            continue
        year, month, day = u.date[:10].split("-")
        cited = f"{w.venue_abbrev}. {year} {_MONTHS[int(month) - 1]} {int(day)}."
        cited += f" doi: {u.notice_doi}." if u.notice_doi else ""
        pmid = _el("PMID", u.notice_pmid, Version="1") if u.notice_pmid else ""
        entries.append(
            f'<CommentsCorrections RefType="{ref_type}">{_el("RefSource", cited)}{pmid}'
            "</CommentsCorrections>"
        )
    return (
        f"<CommentsCorrectionsList>{''.join(entries)}</CommentsCorrectionsList>" if entries else ""
    )


def _medline_citation(w: FakeWork, index: int) -> str:
    revised = w.last_modified if w.modified else None
    year, month, day = (
        (f"{revised.year}", f"{revised.month:02d}", f"{revised.day:02d}")
        if revised
        else w.date.split("-")
    )
    return (
        '<MedlineCitation Status="MEDLINE" Owner="NLM" IndexingMethod="Automated">'
        + _el("PMID", w.pmid, Version="1")
        + f"<DateRevised><Year>{year}</Year><Month>{month}</Month><Day>{day}</Day></DateRevised>"
        + _article(w, index)
        + "<MedlineJournalInfo>"
        + _el("MedlineTA", w.venue_abbrev)
        + _el("ISSNLinking", w.issn_l)
        + "</MedlineJournalInfo>"
        + "<CitationSubset>IM</CitationSubset>"
        + _comments_corrections(w)
        + _mesh(w)
        + _keywords(w)
        + "</MedlineCitation>"
    )


def _article_ids(pmid: str | None, pmcid: str | None, doi: str | None) -> str:
    ids = (
        _el("ArticleId", pmid, IdType="pubmed")
        + _el("ArticleId", pmcid, IdType="pmc")
        + _el("ArticleId", doi, IdType="doi")
    )
    return f"<ArticleIdList>{ids}</ArticleIdList>"


def _reference_list(w: FakeWork, catalog: Catalog) -> str:
    refs = []
    for wid in w.references:
        ref = catalog.by_openalex(wid)
        if ref is None:
            continue
        first = ref.authors[0].family if ref.authors else "Anonymous"
        citation = (
            f"{first} et al. {ref.plain_title}. {ref.venue_abbrev}. {ref.year};"
            f"{ref.volume or ''}:{ref.pages or ''}."
        )
        ids = _article_ids(ref.pmid, ref.pmcid, None if ref.pmid else ref.doi)
        refs.append(f"<Reference>{_el('Citation', citation)}{ids}</Reference>")
    if not refs:
        return ""
    textbook = "Doe J. Principles of haematology. 2nd ed. Fakeville: Fake Press; 2010."
    refs.append(f"<Reference>{_el('Citation', textbook)}</Reference>")
    return "<ReferenceList>" + "".join(refs) + "</ReferenceList>"


def _pubmed_data(w: FakeWork, catalog: Catalog) -> str:
    year, month, day = (int(p) for p in w.date.split("-"))
    history = "".join(
        f'<PubMedPubDate PubStatus="{status}"><Year>{year}</Year><Month>{month}</Month>'
        f"<Day>{day}</Day></PubMedPubDate>"
        for status in ("pubmed", "medline", "entrez")
    )
    return (
        "<PubmedData>"
        + f"<History>{history}</History>"
        + "<PublicationStatus>ppublish</PublicationStatus>"
        + _article_ids(w.pmid, w.pmcid, w.pubmed_doi or w.doi)
        + _reference_list(w, catalog)
        + "</PubmedData>"
    )


def pubmed_article(w: FakeWork, catalog: Catalog) -> str:
    """One ``<PubmedArticle>`` element for a work known to PubMed."""
    index = catalog.position(w)
    return (
        "<PubmedArticle>"
        + _medline_citation(w, index)
        + _pubmed_data(w, catalog)
        + "</PubmedArticle>"
    )


def article_set(works: list[FakeWork], catalog: Catalog) -> str:
    """The efetch body: ``<PubmedArticleSet>`` with one record per known work (maybe none)."""
    records = "\n".join(pubmed_article(w, catalog) for w in works)
    return (
        f"{XML_HEAD}<PubmedArticleSet>\n{records}\n</PubmedArticleSet>\n"
        if works
        else (f"{XML_HEAD}<PubmedArticleSet></PubmedArticleSet>\n")
    )
