"""Property tests: the normalisers never crash (only ParseError may escape) and are deterministic.

Three kinds of input per source, 1,000 generated cases each kind at least once per source:
garbage bodies, real fixtures mutated at random paths, and random structurally-valid bodies.
The per-source functions are called directly: ``normalise()`` turns stray exceptions into
ParseError as a safety net, which would hide the bugs these tests exist to find.
"""

from __future__ import annotations

import copy
import functools
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.errors import ParseError
from pipeline.normalise import normalise, normalise_crossref, normalise_openalex, normalise_pubmed
from pipeline.records import Identifier, Normalised, RawResponse
from tests.pipeline.normalise import fixture_text, make_raw
from tests.pipeline.normalise.odd import REAL, mutate_odd, mutate_xml_values
from tests.strategies import sampled

FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SMALL_FUZZ = settings(FUZZ, max_examples=300)
ODD_FUZZ = settings(FUZZ, max_examples=500)  # targeted mutations of real answers

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def outcome(fn: Callable[[RawResponse], Normalised], raw: RawResponse) -> tuple[str, Any]:
    """("ok", result) or ("parse_error", message); any other exception fails the test."""
    try:
        return "ok", fn(raw)
    except ParseError as exc:
        message = str(exc)
        assert message and "\n" not in message, "ParseError messages are one line"
        return "parse_error", message


def check(fn: Callable[[RawResponse], Normalised], raw: RawResponse) -> Normalised | None:
    """Run twice: same raw -> same outcome (determinism); also through normalise()."""
    first = outcome(fn, raw)
    assert outcome(fn, raw) == first
    assert outcome(normalise, raw)[0] == first[0]
    return first[1] if first[0] == "ok" else None


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
# XML 1.0 cannot carry control characters or the noncharacters U+FFFE/U+FFFF (category Cn), so
# structurally-valid XML bodies draw their text without them.
xml_texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cn")), max_size=30)
scalars = st.none() | st.booleans() | st.integers() | st.floats() | texts
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)
identifiers = st.builds(
    Identifier,
    st.sampled_from(["doi", "pmid", "pmcid", "openalex", "arxiv"]),
    st.sampled_from(["10.7717/peerj.4375", "29456894", "PMC5815332", "W2741809807", "x", ""])
    | texts,
)
requested = st.lists(identifiers, max_size=4).map(tuple)
statuses = st.sampled_from([200, 200, 200, 404, 429, 500])


def mutate_json(draw: Callable, doc: Any, rounds: int) -> Any:
    """Replace or delete values at random paths of a parsed fixture."""
    doc = copy.deepcopy(doc)
    for _ in range(rounds):
        parent, key = None, None
        node = doc
        for _depth in range(draw(st.integers(0, 8))):
            keys = (
                list(node)
                if isinstance(node, dict)
                else list(range(len(node)))
                if isinstance(node, list)
                else []
            )
            if not keys:
                break
            parent, key = node, draw(sampled(*keys))
            node = node[key]
        if parent is None:
            continue
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = draw(json_values)
    return doc


_INSERTS = st.sampled_from(["<", ">", "&", "</i>", "<b>", "&amp;", "]]>"]) | texts


def mutate_text(draw: Callable, text: str, rounds: int) -> str:
    """Delete, duplicate or insert at random character offsets (breaks XML in many ways)."""
    for _ in range(rounds):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 200)))
        kind = draw(sampled("delete", "duplicate", "insert"))
        if kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        else:
            text = text[:i] + draw(_INSERTS) + text[i:]
    return text


def mutate_xml_tree(draw: Callable, text: str, rounds: int) -> str:
    """Well-formed mutations: drop elements, replace text and attributes at random."""
    root = ET.fromstring(text)  # our own fixture, parsed only to build mutants
    for _ in range(rounds):
        elements = list(root.iter())
        element = draw(st.sampled_from(elements))
        action = draw(sampled("drop", "text", "attr", "dup"))
        children = list(element)
        if action == "drop" and children:
            element.remove(draw(st.sampled_from(children)))
        elif action == "dup" and children:
            element.append(copy.deepcopy(draw(st.sampled_from(children))))
        elif action == "attr" and element.attrib:
            element.set(draw(sampled(*sorted(element.attrib))), draw(xml_texts))
        else:
            element.text = draw(xml_texts)
    return ET.tostring(root, encoding="unicode")


# --------------------------------------------------------------------------------------------
# garbage bodies, every source and endpoint
# --------------------------------------------------------------------------------------------

ENDPOINTS = {
    "openalex": (normalise_openalex, ["works", "counts"]),
    "crossref": (normalise_crossref, ["works", "counts"]),
    "pubmed": (normalise_pubmed, ["efetch", "idconv", "esearch", "elink_citedin"]),
}
garbage = (
    texts
    | st.binary(max_size=200).map(lambda b: b.decode("latin-1"))
    | json_values.map(json.dumps)
    | st.sampled_from(
        [
            "",
            "null",
            "[]",
            "{}",
            "Resource not found.",
            "<a/>",
            "<PubmedArticleSet/>",
            "[" * 5000,
            '{"a":' * 3000,
        ]
    )
)


@FUZZ
@given(
    source=st.sampled_from(sorted(ENDPOINTS)),
    data=st.data(),
    body=garbage,
    asked=requested,
    status=statuses,
)
def test_garbage_bodies_raise_at_most_parse_error(source, data, body, asked, status):
    fn, endpoints = ENDPOINTS[source]
    raw = make_raw(source, data.draw(sampled(*endpoints)), body, *asked, status=status)
    check(fn, raw)


# --------------------------------------------------------------------------------------------
# OpenAlex
# --------------------------------------------------------------------------------------------

OPENALEX_FIXTURES = {
    name: json.loads(fixture_text("openalex", name))
    for name in [
        "work_full.json",
        "works_list_dropped.json",
        "work_merged.json",
        "work_sparse.json",
        "work_legacy.json",
        "counts_list.json",
    ]
}


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(OPENALEX_FIXTURES)), asked=requested)
def test_openalex_mutated_fixtures_never_crash(data, name, asked):
    doc = mutate_json(data.draw, OPENALEX_FIXTURES[name], data.draw(st.integers(1, 6)))
    endpoint = "counts" if name == "counts_list.json" else data.draw(sampled("works", "counts"))
    check(normalise_openalex, make_raw("openalex", endpoint, json.dumps(doc), *asked))


w_ids = st.integers(1, 10**10).map(lambda n: f"https://openalex.org/W{n}")
maybe = lambda strategy: st.none() | strategy  # noqa: E731 - a tiny local combinator
openalex_authorships = st.fixed_dictionaries(
    {},
    optional={
        "author_position": st.sampled_from(["first", "middle", "last"]),
        "author": st.fixed_dictionaries(
            {},
            optional={
                "id": maybe(st.integers(1, 10**9).map(lambda n: f"https://openalex.org/A{n}")),
                "display_name": maybe(texts),
                "orcid": maybe(st.sampled_from(["https://orcid.org/0000-0002-1825-0097"]) | texts),
            },
        ),
        "institutions": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": maybe(texts),
                    "display_name": maybe(texts),
                    "ror": maybe(texts),
                    "country_code": maybe(texts),
                    "type": maybe(texts),
                },
            ),
            max_size=2,
        ),
        "is_corresponding": maybe(st.booleans()),
        "raw_author_name": maybe(texts),
        "raw_affiliation_strings": st.lists(maybe(texts), max_size=2),
        "affiliations": st.lists(
            st.fixed_dictionaries(
                {
                    "raw_affiliation_string": maybe(texts),
                    "institution_ids": st.lists(texts, max_size=1),
                }
            ),
            max_size=2,
        ),
    },
)
openalex_works = st.fixed_dictionaries(
    {"id": w_ids},
    optional={
        "doi": maybe(
            st.sampled_from(["https://doi.org/10.7717/peerj.4375", "https://doi.org/10.1000/X"])
            | texts
        ),
        "title": maybe(texts),
        "display_name": maybe(texts),
        "publication_year": maybe(st.integers(-5, 10000)),
        "publication_date": maybe(st.dates().map(str) | texts),
        "ids": st.dictionaries(
            st.sampled_from(["openalex", "doi", "pmid", "pmcid", "mag"]),
            maybe(texts | st.integers()),
            max_size=5,
        ),
        "primary_location": maybe(
            st.fixed_dictionaries(
                {},
                optional={
                    "source": maybe(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "display_name": maybe(texts),
                                "issn_l": maybe(texts),
                                "issn": maybe(st.lists(maybe(texts), max_size=3)),
                                "host_organization_name": maybe(texts),
                            },
                        )
                    ),
                    "license": maybe(texts),
                },
            )
        ),
        "biblio": st.fixed_dictionaries(
            {},
            optional={
                k: maybe(texts | st.integers())
                for k in ("volume", "issue", "first_page", "last_page")
            },
        ),
        "open_access": st.fixed_dictionaries(
            {}, optional={"is_oa": maybe(st.booleans()), "oa_status": maybe(texts)}
        ),
        "authorships": st.lists(openalex_authorships, max_size=4),
        "referenced_works": st.lists(maybe(w_ids | texts), max_size=4),
        "funders": st.lists(
            st.fixed_dictionaries({}, optional={"id": maybe(texts), "display_name": maybe(texts)}),
            max_size=3,
        ),
        "awards": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "funder_id": maybe(texts),
                    "funder_display_name": maybe(texts),
                    "funder_award_id": maybe(texts),
                },
            ),
            max_size=3,
        ),
        "topics": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": maybe(texts),
                    "display_name": maybe(texts),
                    "score": maybe(st.floats()),
                },
            ),
            max_size=3,
        ),
        "keywords": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "id": maybe(texts),
                    "display_name": maybe(texts),
                    "score": maybe(st.floats()),
                },
            ),
            max_size=3,
        ),
        "mesh": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "descriptor_ui": maybe(texts),
                    "descriptor_name": maybe(st.sampled_from(["A", "B"])),
                    "qualifier_name": maybe(texts),
                    "is_major_topic": maybe(st.booleans()),
                },
            ),
            max_size=4,
        ),
        "abstract_inverted_index": maybe(
            st.dictionaries(
                texts, st.lists(st.integers(-2, 500) | st.booleans(), max_size=3), max_size=6
            )
        ),
        "counts_by_year": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "year": st.integers(1990, 2030) | texts,
                    "cited_by_count": st.integers(0, 10**6) | texts,
                },
            ),
            max_size=10,
        ),
        "cited_by_count": maybe(st.integers(0, 10**7)),
        "updated_date": maybe(texts),
        "host_venue": maybe(json_values),
        "grants": maybe(json_values),
        "concepts": maybe(json_values),
    },
)


@FUZZ
@given(
    works=st.lists(openalex_works, max_size=3),
    as_list=st.booleans(),
    endpoint=st.sampled_from(["works", "counts"]),
    asked=requested,
)
def test_openalex_structured_bodies_give_well_formed_records(works, as_list, endpoint, asked):
    body = {"meta": {"count": len(works)}, "results": works} if as_list or not works else works[0]
    result = check(normalise_openalex, make_raw("openalex", endpoint, json.dumps(body), *asked))
    assert result is not None
    for record in result.records:
        assert record.source == "openalex" and record.source_key.startswith("W")
        years = [y for y, _ in record.counts_by_year]
        assert years == list(range(years[0], years[0] + len(years))) if years else True
        assert [a.position for a in record.authors] == sorted({a.position for a in record.authors})
    asked_found = {i for r in result.records for i in (*r.ids, *r.aliases)} | {
        c.id for c in result.counts
    }
    assert not (set(result.not_found) & asked_found)


# --------------------------------------------------------------------------------------------
# Crossref
# --------------------------------------------------------------------------------------------

CROSSREF_FIXTURES = {
    name: json.loads(fixture_text("crossref", name))
    for name in [
        "work_full.json",
        "work_null_issued.json",
        "works_list_dates.json",
        "counts_list.json",
        "work_retracted.json",
    ]
}


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(CROSSREF_FIXTURES)), asked=requested)
def test_crossref_mutated_fixtures_never_crash(data, name, asked):
    doc = mutate_json(data.draw, CROSSREF_FIXTURES[name], data.draw(st.integers(1, 6)))
    endpoint = data.draw(sampled("works", "counts"))
    check(normalise_crossref, make_raw("crossref", endpoint, json.dumps(doc), *asked))


jats_fragments = st.lists(
    st.sampled_from(
        [
            "<jats:p>",
            "</jats:p>",
            "<jats:title>",
            "</jats:title>",
            "<jats:sec>",
            "</jats:sec>",
            "<jats:italic>",
            "</jats:italic>",
            "&nbsp;",
            "&amp;",
            "<",
            "Abstract",
        ]
    )
    | texts,
    max_size=12,
).map("".join)
date_values = st.fixed_dictionaries(
    {"date-parts": st.lists(st.lists(maybe(st.integers(-3, 3000) | texts), max_size=4), max_size=2)}
)
crossref_people = st.fixed_dictionaries(
    {},
    optional={
        "given": maybe(texts),
        "family": maybe(texts),
        "name": maybe(texts),
        "ORCID": maybe(st.sampled_from(["http://orcid.org/0000-0002-1825-0097"]) | texts),
        "affiliation": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": maybe(texts),
                    "id": st.lists(
                        st.fixed_dictionaries(
                            {"id": texts, "id-type": st.sampled_from(["ROR", "ISNI"])}
                        ),
                        max_size=2,
                    ),
                },
            ),
            max_size=2,
        ),
    },
)
crossref_works = st.fixed_dictionaries(
    {"DOI": st.sampled_from(["10.1111/ejh.70051", "10.1000/ABC", "10.5555/x"]) | texts},
    optional={
        "title": maybe(st.lists(maybe(texts), max_size=3)),
        "container-title": maybe(st.lists(texts, max_size=2)),
        "short-container-title": maybe(st.lists(texts, max_size=2)),
        "issued": maybe(date_values),
        "published": maybe(date_values),
        "published-print": maybe(date_values),
        "abstract": maybe(jats_fragments),
        "author": st.lists(crossref_people, max_size=4),
        "reference": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "DOI": maybe(texts),
                    "unstructured": maybe(texts),
                    "author": maybe(texts),
                    "year": maybe(texts),
                },
            ),
            max_size=4,
        ),
        "funder": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "name": maybe(texts),
                    "DOI": maybe(texts),
                    "award": maybe(st.lists(maybe(texts), max_size=3)),
                },
            ),
            max_size=3,
        ),
        "license": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "URL": maybe(texts),
                    "content-version": st.sampled_from(["vor", "am", "tdm"]),
                },
            ),
            max_size=3,
        ),
        "ISSN": maybe(st.lists(maybe(texts), max_size=3)),
        "issn-type": maybe(json_values),
        "subject": maybe(st.lists(maybe(texts), max_size=3)),
        "is-referenced-by-count": maybe(st.integers(0, 10**6) | texts),
        "reference-count": maybe(st.integers(0, 500)),
        "updated-by": maybe(json_values),
        "indexed": maybe(json_values),
    },
)


@FUZZ
@given(
    works=st.lists(crossref_works, min_size=1, max_size=3),
    as_list=st.booleans(),
    endpoint=st.sampled_from(["works", "counts"]),
    asked=requested,
)
def test_crossref_structured_bodies_give_well_formed_records(works, as_list, endpoint, asked):
    message = {"items": works, "next-cursor": "x"} if as_list else works[0]
    body = {"status": "ok", "message-type": "work-list" if as_list else "work", "message": message}
    result = check(normalise_crossref, make_raw("crossref", endpoint, json.dumps(body), *asked))
    assert result is not None
    for record in result.records:
        assert record.source_key == record.source_key.lower() and record.ids[0].scheme == "doi"
        if record.publication_date is not None:
            assert record.publication_date[:4] == f"{record.publication_year:04d}"
        assert all(a.family is None for a in record.authors if a.is_collective)


# --------------------------------------------------------------------------------------------
# PubMed
# --------------------------------------------------------------------------------------------

PUBMED_XML = [
    fixture_text("pubmed", name)
    for name in [
        "efetch_article_full.xml",
        "efetch_medline_date_collective.xml",
        "efetch_book.xml",
        "efetch_empty.xml",
    ]
]
PUBMED_JSON = {
    "idconv": json.loads(fixture_text("pubmed", "idconv.json")),
    "esearch": json.loads(fixture_text("pubmed", "esearch_one.json")),
    "elink_citedin": json.loads(fixture_text("pubmed", "elink_citedin.json")),
}


@FUZZ
@given(data=st.data(), asked=requested)
def test_pubmed_mutated_fixtures_never_crash(data, asked):
    kind = data.draw(sampled("xml_text", "xml_tree", "json"))
    rounds = data.draw(st.integers(1, 6))
    if kind == "json":
        endpoint = data.draw(sampled(*sorted(PUBMED_JSON)))
        body = json.dumps(mutate_json(data.draw, PUBMED_JSON[endpoint], rounds))
    else:
        endpoint, xml = "efetch", data.draw(sampled(*PUBMED_XML))
        mutate = mutate_text if kind == "xml_text" else mutate_xml_tree
        body = mutate(data.draw, xml.split("\n", 2)[2] if kind == "xml_tree" else xml, rounds)
    check(normalise_pubmed, make_raw("pubmed", endpoint, body, *asked))


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = text
    return element


@functools.cache
def inline_markup(tag: str) -> st.SearchStrategy[ET.Element]:
    """An element whose text is split by <i>/<sup>/<sub>/<b> children (one strategy per tag,
    reused by every draw)."""
    return _inline_markup(tag)


@st.composite
def _inline_markup(draw, tag: str) -> ET.Element:
    element = ET.Element(tag)
    element.text = draw(xml_texts)
    for _ in range(draw(st.integers(0, 3))):
        child = _sub(element, draw(sampled("i", "sup", "sub", "b", "u")), draw(xml_texts))
        child.tail = draw(xml_texts)
    return element


# the parts of a generated article, built once (a strategy made inside the generator would be
# built and validated again at every draw)
_PMIDS = st.integers(1, 10**8).map(str) | xml_texts
_YEARS = st.integers(0, 3000).map(str) | xml_texts
_MONTHS = st.sampled_from(["Jun", "06", "13", "Spring"]) | xml_texts
_DAYS = st.integers(0, 40).map(str)
_MEDLINE_DATES = st.sampled_from(["2023 Jun-Jul", "1998 Dec-1999 Jan"]) | xml_texts
_ID_TYPES = st.lists(st.sampled_from(["pubmed", "doi", "pmc", "pii", ""]), max_size=4)


@st.composite
def pubmed_articles(draw) -> ET.Element:
    article = ET.Element("PubmedArticle")
    citation = _sub(article, "MedlineCitation")
    _sub(citation, "PMID", draw(_PMIDS))
    art = _sub(citation, "Article")
    journal = _sub(art, "Journal")
    issue = _sub(journal, "JournalIssue")
    pub_date = _sub(issue, "PubDate")
    if draw(st.booleans()):
        _sub(pub_date, "Year", draw(_YEARS))
        _sub(pub_date, "Month", draw(_MONTHS))
        _sub(pub_date, "Day", draw(_DAYS))
    else:
        _sub(
            pub_date,
            "MedlineDate",
            draw(_MEDLINE_DATES),
        )
    art.append(draw(inline_markup("ArticleTitle")))
    abstract = _sub(art, "Abstract")
    for _ in range(draw(st.integers(0, 3))):
        section = draw(inline_markup("AbstractText"))
        if draw(st.booleans()):
            section.set("Label", draw(xml_texts))
        abstract.append(section)
    authors = _sub(art, "AuthorList")
    for _ in range(draw(st.integers(0, 3))):
        author = _sub(authors, "Author", ValidYN=draw(sampled("Y", "N")))
        if draw(st.booleans()):
            _sub(author, "CollectiveName", draw(xml_texts))
        else:
            _sub(author, "LastName", draw(xml_texts))
            _sub(author, "ForeName", draw(xml_texts))
        _sub(author, "Identifier", draw(xml_texts), Source="ORCID")
        _sub(_sub(author, "AffiliationInfo"), "Affiliation", draw(xml_texts))
    _sub(_sub(art, "GrantList"), "Grant").extend([ET.Element("GrantID"), ET.Element("Agency")])
    _sub(art, "ArticleDate", DateType="Electronic").extend([_el("Year", draw(xml_texts))])
    mesh = _sub(_sub(citation, "MeshHeadingList"), "MeshHeading")
    _sub(
        mesh,
        "DescriptorName",
        draw(xml_texts),
        UI="D1",
        MajorTopicYN=draw(sampled("Y", "N")),
    )
    _sub(mesh, "QualifierName", draw(xml_texts), MajorTopicYN="Y")
    data = _sub(article, "PubmedData")
    ids = _sub(data, "ArticleIdList")
    for id_type in draw(_ID_TYPES):
        _sub(ids, "ArticleId", draw(xml_texts), IdType=id_type)
    references = _sub(data, "ReferenceList")
    for _ in range(draw(st.integers(0, 3))):
        reference = _sub(references, "Reference")
        _sub(reference, "Citation", draw(xml_texts))
        _sub(
            _sub(reference, "ArticleIdList"),
            "ArticleId",
            draw(xml_texts),
            IdType=draw(sampled("pubmed", "doi", "pmc")),
        )
    return article


def _el(tag: str, text: str) -> ET.Element:
    element = ET.Element(tag)
    element.text = text
    return element


@FUZZ
@given(articles=st.lists(pubmed_articles(), max_size=3), asked=requested)
def test_pubmed_structured_efetch_gives_well_formed_records(articles, asked):
    root = ET.Element("PubmedArticleSet")
    root.extend(articles)
    body = '<?xml version="1.0" ?>\n' + ET.tostring(root, encoding="unicode")
    result = check(normalise_pubmed, make_raw("pubmed", "efetch", body, *asked))
    assert result is not None
    for record in result.records:
        assert record.source_key.isdigit() and record.ids[0] == Identifier(
            "pmid", record.source_key
        )
        assert record.title is None or "\n" not in record.title


@SMALL_FUZZ
@given(
    linksets=st.lists(
        st.fixed_dictionaries(
            {
                "dbfrom": st.just("pubmed"),
                "ids": st.lists(st.integers(1, 10**8).map(str) | texts, max_size=2),
            },
            optional={
                "linksetdbs": st.lists(
                    st.fixed_dictionaries(
                        {
                            "linkname": st.sampled_from(
                                ["pubmed_pubmed_citedin", "pubmed_pubmed_refs"]
                            ),
                            "links": st.lists(st.integers(1, 10**8).map(str), max_size=5),
                        }
                    ),
                    max_size=2,
                )
            },
        ),
        max_size=4,
    ),
    asked=requested,
)
def test_pubmed_structured_elink_counts_are_never_negative(linksets, asked):
    result = check(
        normalise_pubmed,
        make_raw("pubmed", "elink_citedin", json.dumps({"linksets": linksets}), *asked),
    )
    assert result is not None and all(c.cited_by_count >= 0 for c in result.counts)
    assert len({c.id for c in result.counts}) == len(result.counts)


# --------------------------------------------------------------------------------------------
# the dispatcher's own guarantees
# --------------------------------------------------------------------------------------------


def test_unknown_source_is_a_parse_error():
    with pytest.raises(ParseError, match="semanticscholar"):
        normalise(make_raw("semanticscholar", "works", "{}"))


def test_unexpected_exception_in_a_normaliser_leaves_normalise_as_parse_error(monkeypatch):
    import pipeline.normalise as dispatcher

    def broken(raw: RawResponse) -> Normalised:
        raise KeyError("bug")

    monkeypatch.setitem(dispatcher._BY_SOURCE, "openalex", broken)
    with pytest.raises(ParseError, match="KeyError") as caught:
        normalise(make_raw("openalex", "works", "{}"))
    assert isinstance(caught.value.__cause__, KeyError)


# --------------------------------------------------------------------------------------------
# odd values in real answers: what comes out fits the warehouse, and says what it repaired
# --------------------------------------------------------------------------------------------

REAL_JSON = {
    ("openalex", "works"): [
        json.loads((REAL / name).read_text(encoding="utf-8"))
        for name in (
            "openalex_work_W3123223998.json",
            "openalex_work_W4234549826.json",
            "openalex_list_5_works.json",
        )
    ],
    ("crossref", "works"): [
        json.loads((REAL / name).read_text(encoding="utf-8"))
        for name in (
            "crossref_work_10.1002_jor.1100150407.json",
            "crossref_work_10.1109_icdcsw.2003.1203662.json",
            "crossref_work_10.3892_ijo_00000353.json",
        )
    ],
}
REAL_EFETCH = (REAL / "pubmed_efetch_11748933_11700088.xml").read_text(encoding="utf-8")
INT64_MAX = 2**63 - 1


def assert_storable(result: Normalised) -> None:
    """Every value that goes to a constrained column is within it (independently of the
    validator), validating again changes nothing, and every note is well-formed."""
    from pipeline.normalise.validate import validated
    from pipeline.records import NOTE_ACTIONS

    for r in result.records:
        assert r.cited_by_count is None or 0 <= r.cited_by_count <= INT64_MAX
        assert r.reference_count is None or 0 <= r.reference_count < 2**31
        assert r.publication_year is None or -(2**31) <= r.publication_year < 2**31
        assert all(0 <= c <= INT64_MAX and -(2**31) <= y < 2**31 for y, c in r.counts_by_year)
        assert all(1 <= a.position < 2**31 for a in r.authors)
        assert r.ids or r.aliases
    for c in result.counts:
        assert 0 <= c.cited_by_count <= INT64_MAX
    again = validated(result, source="x", raw_id=None)
    assert again.records == result.records and again.counts == result.counts
    for note in result.notes:
        assert note.action in NOTE_ACTIONS and note.field and note.problem
        assert note.raw_value is None or len(note.raw_value) <= 200


@ODD_FUZZ
@given(data=st.data(), key=st.sampled_from(sorted(REAL_JSON)), asked=requested)
def test_real_json_answers_with_odd_values_give_storable_records(data, key, asked):
    source, endpoint = key
    doc = data.draw(st.sampled_from(REAL_JSON[key]))
    mutated = mutate_odd(data.draw, doc, data.draw(st.integers(1, 5)))
    endpoint = data.draw(sampled(endpoint, "counts"))
    fn = ENDPOINTS[source][0]
    result = check(fn, make_raw(source, endpoint, json.dumps(mutated), *asked))
    if result is not None:
        assert_storable(result)


@ODD_FUZZ
@given(data=st.data(), asked=requested)
def test_real_efetch_with_odd_values_gives_storable_records(data, asked):
    body = mutate_xml_values(data.draw, REAL_EFETCH, data.draw(st.integers(1, 6)))
    result = check(normalise_pubmed, make_raw("pubmed", "efetch", body, *asked))
    if result is not None:
        assert_storable(result)


def test_the_real_answers_normalise_without_a_note():
    """The unmutated answers are clean: every note in the tests above comes from a mutation."""
    for (source, endpoint), docs in REAL_JSON.items():
        for doc in docs:
            result = ENDPOINTS[source][0](make_raw(source, endpoint, json.dumps(doc)))
            assert result.records and result.notes == ()
    result = normalise_pubmed(make_raw("pubmed", "efetch", REAL_EFETCH))
    assert len(result.records) == 2 and result.notes == ()
