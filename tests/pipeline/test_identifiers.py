"""pipeline.identifiers: normalising and finding identifiers in text, in the forms they come in."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.identifiers import (
    Found,
    find_identifiers,
    normalise,
    normalise_arxiv,
    normalise_doi,
    normalise_openalex,
    normalise_pmcid,
    normalise_pmid,
)
from pipeline.records import SCHEMES


def pairs(text: str) -> list[tuple[str, str]]:
    return [(f.scheme, f.value) for f in find_identifiers(text)]


# --------------------------------------------------------------------------------------------
# Finding: each rule, in the real form it comes from
# --------------------------------------------------------------------------------------------

FIND_CASES = [
    # a link-out's query: the page's own DOI, then the cited work's, each %-encoded; an "&"
    # starting a parameter ends a DOI ("&amp;" as a page's text prints it too)
    (
        "https://www.tandfonline.com/servlet/linkout?suffix=CIT0001&dbid=16&doi=10.1080%2F"
        "00268976.2021.1234567&key=10.1080%2F00268970110089432",
        [("doi", "10.1080/00268976.2021.1234567"), ("doi", "10.1080/00268970110089432")],
    ),
    (
        "/servlet/linkout?suffix=e_1_2_7_2_1&amp;dbid=16&amp;doi=10.1002%2Fjfd.12505&amp;key="
        "10.3389%2Ffmicb.2015.01274",
        [("doi", "10.1002/jfd.12505"), ("doi", "10.3389/fmicb.2015.01274")],
    ),
    ("doi:10.1000/a&b and 10.1000/c&", [("doi", "10.1000/a&b"), ("doi", "10.1000/c")]),
    # a page's citation export and supplement links: the path after the DOI is the publisher's
    (
        "https://public-pages-files-2025.frontiersin.org/journals/psychology/articles/"
        "10.3389/fpsyg.2014.00781/bibTex",
        [("doi", "10.3389/fpsyg.2014.00781")],
    ),
    (
        "https://x.org/articles/10.3389/fpsyg.2014.00781/xml/nlm",
        [("doi", "10.3389/fpsyg.2014.00781")],
    ),
    (
        "https://media.springernature.com/original/springer-static/esm/art%3A10.1038%2F"
        "s41586-021-03819-2/MediaObjects/41586_2021_3819_MOESM3_ESM.mp4",
        [("doi", "10.1038/s41586-021-03819-2")],
    ),
    ("doi:10.1000/text.2020", [("doi", "10.1000/text.2020")]),
    # Project Euclid's abstract view: ".short", like HighWire's ".full" and ".abstract"
    (
        "https://projecteuclid.org/journals/duke-mathematical-journal/volume-164/issue-13/"
        "Delocalization/10.1215/00127094-3129809.short",
        [("doi", "10.1215/00127094-3129809")],
    ),
    # an apostrophe inside a word is part of the DOI; a closing quote is not
    ("doi:10.1234/o'neil.2020 (Crossref)", [("doi", "10.1234/o'neil.2020")]),
    ("cited as '10.1000/abc'.", [("doi", "10.1000/abc")]),
    ("doi='10.1000/abc'", [("doi", "10.1000/abc")]),
    # PubMed "Citing Articles" / "References" lines (seed 002)
    (
        "PMID: 39766419 PMC: 11727498. DOI: 10.3390/brainsci14121220.",
        [("pmid", "39766419"), ("pmcid", "PMC11727498"), ("doi", "10.3390/brainsci14121220")],
    ),
    (
        "Rosselle L STAR Protoc. 2024; 6(1):103529.\n\nPMID: 39739533 PMC: 11750262. "
        "DOI: 10.1016/j.xpro.2024.103529.",
        [("pmid", "39739533"), ("pmcid", "PMC11750262"), ("doi", "10.1016/j.xpro.2024.103529")],
    ),
    (
        "Nat Med. 2018; 24(6):731-738. PMC: 6410714. DOI: 10.1038/s41591-018-0041-7. View",
        [("pmcid", "PMC6410714"), ("doi", "10.1038/s41591-018-0041-7")],
    ),
    (
        "Br J Haematol. 2021; 195(3):388-398. PMC: 9293158. DOI: 10.1111/bjh.17673. View",
        [("pmcid", "PMC9293158"), ("doi", "10.1111/bjh.17673")],
    ),
    (
        "J Clin Oncol. 2021; 39(5):456-466. DOI: 10.1200/JCO.20.01616. View",
        [("doi", "10.1200/jco.20.01616")],
    ),
    ("» Articles » PMID: 36455991", [("pmid", "36455991")]),
    ("PMID: 27172445Free PMC article.", [("pmid", "27172445")]),
    (
        "Identifiers\n\nDOI\n10.1111/ejh.70051\nPMID\n41369097",
        [("doi", "10.1111/ejh.70051"), ("pmid", "41369097")],
    ),
    (
        "PubMed PMID: 21378355; PubMed Central PMCID: PMC3064287.",
        [("pmid", "21378355"), ("pmcid", "PMC3064287")],
    ),
    ("[PubMed: 21378355]", [("pmid", "21378355")]),
    ("PubMed ID 21378355", [("pmid", "21378355")]),
    ("PMID- 27172445\nPMC - PMC4861345", [("pmid", "27172445"), ("pmcid", "PMC4861345")]),
    # numbers that are not identifiers
    ("STAR Protoc. 2024; 6(1):103529.", []),
    ("Epub 2010 Nov 3. PMC: 2010 Dec 17.", []),
    ("Supported by NIH grants R01 CA123456, P30 CA016672 and K08 HL146991.", []),
    ("MD Anderson Cancer Center, Houston, TX 77030, USA; Bethesda, MD 20892-4874.", []),
    ("Blood. 2022; 139(18):2737-2746. One hundred and sixty-three patients since 2004.", []),
    ("Indexed in PubMed 2019 and PMC since 2020; 12345678 readers.", []),
    ("version 2101.00001 of the code; see 202006.0189 and W2741809807", []),
    ("p. 10.5; section 10.1234 without a slash", []),
    # resolver and publisher URLs
    ("https://pubmed.ncbi.nlm.nih.gov/27172445/", [("pmid", "27172445")]),
    ("https://www.ncbi.nlm.nih.gov/pubmed/27172445", [("pmid", "27172445")]),
    ("https://europepmc.org/article/MED/27172445", [("pmid", "27172445")]),
    ("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1234567/", [("pmcid", "PMC1234567")]),
    ("https://pmc.ncbi.nlm.nih.gov/articles/PMC11727498/", [("pmcid", "PMC11727498")]),
    ("PMCID: PMC6418502", [("pmcid", "PMC6418502")]),
    ("https://doi.org/10.1111/ejh.70051", [("doi", "10.1111/ejh.70051")]),
    ("http://dx.doi.org/10.1111/EJH.70051.", [("doi", "10.1111/ejh.70051")]),
    ("https://onlinelibrary.wiley.com/doi/full/10.1111/ejh.70051", [("doi", "10.1111/ejh.70051")]),
    (
        "https://onlinelibrary.wiley.com/doi/10.1111/ejh.70051/abstract",
        [("doi", "10.1111/ejh.70051")],
    ),
    (
        "https://onlinelibrary.wiley.com/doi/epdf/10.1111/ejh.70051?af=R",
        [("doi", "10.1111/ejh.70051")],
    ),
    (
        "https://link.springer.com/content/pdf/10.1007/s10555-024-10227-1.pdf",
        [("doi", "10.1007/s10555-024-10227-1")],
    ),
    (
        "https://www.tandfonline.com/doi/full/10.1080/1061186X.2020.1234567#abstract",
        [("doi", "10.1080/1061186x.2020.1234567")],
    ),
    ("https://api.crossref.org/works?filter=doi:10.1000%2Fabc", [("doi", "10.1000/abc")]),
    # a query string's last parameter: PMC's Google Scholar links end "...&doi=10.2196/12239&"
    (
        "https://scholar.google.com/scholar_lookup?pmid=31066697&doi=10.2196/12239&",
        [("pmid", "31066697"), ("doi", "10.2196/12239")],
    ),
    # a supplement's file after the article's DOI (ACS JATS ext-links, LimeSoup's acsnano.5b06675)
    (
        '(<ext-link xlink:href="http://pubs.acs.org/doi/suppl/10.1021/acsnano.5b06675/'
        'suppl_file/nn5b06675_si_001.pdf">Figure S2c',
        [("doi", "10.1021/acsnano.5b06675")],
    ),
    # NCBI's Entrez link, as Springer and Nature print every reference's "PubMed" link
    (
        "http://www.ncbi.nlm.nih.gov/entrez/query.fcgi?cmd=Retrieve&db=PubMed&dopt=Abstract"
        "&list_uids=32581360 PubMed; ...?cmd=Retrieve&amp;db=pubmed&amp;list_uids=1234567&x",
        [("pmid", "32581360"), ("pmid", "1234567")],
    ),
    # DOI shapes: labels, brackets, SICI, percent-encoding, markup
    (
        "doi:10.1000/ABC; DOI: 10.1000/def, doi: 10.1000/ghi:",
        [("doi", "10.1000/abc"), ("doi", "10.1000/def"), ("doi", "10.1000/ghi")],
    ),
    ("(doi:10.1016/0005-2795(76)90109-4)", [("doi", "10.1016/0005-2795(76)90109-4")]),
    ("[see 10.1000/xyz]", [("doi", "10.1000/xyz")]),
    (
        "J Biomed Mater Res. doi:10.1002/(SICI)1097-4636(199706)35:4<463::AID-JBM6>3.0.CO;2-X.",
        [("doi", "10.1002/(sici)1097-4636(199706)35:4<463::aid-jbm6>3.0.co;2-x")],
    ),
    ('<a href="https://doi.org/10.1000/xyz%3C1%3E">link</a>', [("doi", "10.1000/xyz<1>")]),
    ('<meta name="citation_doi" content="10.1111/ejh.70051">', [("doi", "10.1111/ejh.70051")]),
    ("<p>DOI: 10.1111/ejh.70051</p>", [("doi", "10.1111/ejh.70051")]),
    (
        '"10.1000/quoted" and \u201c10.1000/curly\u201d',
        [("doi", "10.1000/quoted"), ("doi", "10.1000/curly")],
    ),
    ("[a link](https://doi.org/10.1000/md-link)", [("doi", "10.1000/md-link")]),
    ("<https://doi.org/10.1000/autolink>", [("doi", "10.1000/autolink")]),
    ("  doi     = {10.1111/bjh.17673},", [("doi", "10.1111/bjh.17673")]),
    # TeX escapes in a DOI: DBLP's BibTeX ("\_"), Better BibTeX's SICI ("\%3C"), Markdown
    ("  doi          = {10.1007/11880561\\_13},", [("doi", "10.1007/11880561_13")]),
    (
        "doi = {10.1002/(SICI)1097-0258(19980815/30)17:15/16\\%3C1661::AID-SIM968\\%3E3.0.CO;2-2}",
        [("doi", "10.1002/(sici)1097-0258(19980815/30)17:15/16<1661::aid-sim968>3.0.co;2-2")],
    ),
    ("DO  - 10.1182/blood.2022015789", [("doi", "10.1182/blood.2022015789")]),
    (
        "https://doi.org/10.20944/preprints202006.0189.v1",
        [("doi", "10.20944/preprints202006.0189.v1")],
    ),
    # BibTeX / CSV field labels
    (
        "  pmid    = {34431082},\n  pmcid   = {PMC9293158},",
        [("pmid", "34431082"), ("pmcid", "PMC9293158")],
    ),
    ('pmid="34431082"', [("pmid", "34431082")]),
    # arXiv
    ("arXiv:2101.00001v2", [("arxiv", "2101.00001")]),
    ("arXiv preprint arXiv:1706.03762.", [("arxiv", "1706.03762")]),
    # natbib and ICML styles label the bare id "preprint" (Futoma et al. 2017's references)
    ("Arxiv preprint: 1106.6251, 2012.", [("arxiv", "1106.6251")]),
    ("arXiv preprint 1606.01865v2, 2016.", [("arxiv", "1606.01865")]),
    ("https://arxiv.org/abs/2101.00001v2", [("arxiv", "2101.00001")]),
    ("https://arxiv.org/pdf/2101.00001v1.pdf", [("arxiv", "2101.00001")]),
    ("arXiv:hep-th/9901001", [("arxiv", "hep-th/9901001")]),
    ("arXiv:math.GT/0309136v2", [("arxiv", "math.GT/0309136")]),
    (
        "https://doi.org/10.48550/arXiv.2101.00001",
        [("doi", "10.48550/arxiv.2101.00001"), ("arxiv", "2101.00001")],
    ),
    ("arXiv ID: 2101.00001", [("arxiv", "2101.00001")]),
    # a Wikipedia citation template
    (
        "{{cite journal |doi=10.1038/nature12373 |pmid=23903748 |pmc=3978418 |arxiv=1304.2362}}",
        [
            ("doi", "10.1038/nature12373"),
            ("pmid", "23903748"),
            ("pmcid", "PMC3978418"),
            ("arxiv", "1304.2362"),
        ],
    ),
    # a suffix that is only a publisher's path word is no DOI (found by fuzzing: "10.1000")
    ("10.1000/References\n\n", []),
    ("see 10.1000/abstract.", []),
    # OpenAlex
    ("https://openalex.org/W2741809807", [("openalex", "W2741809807")]),
    ("https://api.openalex.org/works/W2741809807", [("openalex", "W2741809807")]),
    ("OpenAlex ID: W2741809807", [("openalex", "W2741809807")]),
    ("https://openalex.org/A5023888391 is an author", []),
]


@pytest.mark.parametrize(("text", "expected"), FIND_CASES)
def test_find_identifiers_applies_each_rule(text, expected):
    assert pairs(text) == expected


@pytest.mark.parametrize(("text", "expected"), [c for c in FIND_CASES if c[1]])
def test_found_span_is_the_identifier_as_printed(text, expected):
    """text[start:end] is the identifier without its label, and normalises to the value."""
    for f in find_identifiers(text):
        assert normalise(f.scheme, text[f.start : f.end]) == f.value


def test_find_identifiers_reports_positions_in_order():
    text = "PMID: 39901030 DOI: 10.1038/s41573-024-01100-5."
    found = find_identifiers(text)
    assert found == [
        Found("pmid", "39901030", text.index("3990"), text.index("3990") + 8),
        Found("doi", "10.1038/s41573-024-01100-5", text.index("10."), text.rindex(".")),
    ]


def test_find_identifiers_sees_context_before_pos():
    text = "PMID: 27172445 and PMID: 30814057"
    assert [f.value for f in find_identifiers(text, text.index("and"))] == ["30814057"]
    # lookbehinds look before pos: "xPMC1" is not a PMCID even when scanning starts at "P"
    assert find_identifiers("xPMC1234567", 1) == []


# --------------------------------------------------------------------------------------------
# Normalising
# --------------------------------------------------------------------------------------------

NORMALISE_CASES = [
    ("doi", "10.1111/EJH.70051", "10.1111/ejh.70051"),
    ("doi", "https://doi.org/10.1111/ejh.70051", "10.1111/ejh.70051"),
    ("doi", "doi:10.1111/ejh.70051.", "10.1111/ejh.70051"),
    ("doi", "https://doi.org/10.1007/11880561\\_13", "10.1007/11880561_13"),
    ("doi", "DOI: 10.1000/xyz%3C1%3E", "10.1000/xyz<1>"),
    ("doi", "info:doi/10.1000/abc", "10.1000/abc"),
    ("doi", "10.1016/0005-2795(76)90109-4)", "10.1016/0005-2795(76)90109-4"),
    ("doi", "https://onlinelibrary.wiley.com/doi/full/10.1111/ejh.70051", "10.1111/ejh.70051"),
    ("doi", "not a doi", None),
    ("doi", "10.1000/", None),
    ("doi", "10.12/abc", None),
    ("pmid", "27172445", "27172445"),
    ("pmid", "PMID: 27172445", "27172445"),
    ("pmid", "https://pubmed.ncbi.nlm.nih.gov/27172445/", "27172445"),
    ("pmid", "0", None),
    ("pmid", "27172445a", None),
    ("pmcid", "PMC11727498", "PMC11727498"),
    ("pmcid", "pmc11727498", "PMC11727498"),
    ("pmcid", "PMC: 11727498", "PMC11727498"),
    ("pmcid", "11727498", "PMC11727498"),
    ("pmcid", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC1234567/", "PMC1234567"),
    ("pmcid", "PMC", None),
    ("arxiv", "arXiv:2101.00001v2", "2101.00001"),
    ("arxiv", "https://arxiv.org/abs/2101.00001", "2101.00001"),
    ("arxiv", "hep-th/9901001v1", "hep-th/9901001"),
    ("arxiv", "10.48550/arXiv.2101.00001", "2101.00001"),
    ("arxiv", "2113.00001", None),  # month 13
    ("openalex", "https://openalex.org/W2741809807", "W2741809807"),
    ("openalex", "w2741809807", "W2741809807"),
    ("openalex", "A5023888391", None),
]


@pytest.mark.parametrize(("scheme", "raw", "expected"), NORMALISE_CASES)
def test_normalise_gives_the_contract_form(scheme, raw, expected):
    assert normalise(scheme, raw) == expected


def test_scheme_normalisers_match_normalise():
    assert normalise_doi("DOI:10.1000/A") == normalise("doi", "DOI:10.1000/A") == "10.1000/a"
    assert normalise_pmid("PMID 1") == "1"
    assert normalise_pmcid("PMC: 2") == "PMC2"
    assert normalise_arxiv("arXiv:2101.00001v3") == "2101.00001"
    assert normalise_openalex("W123") == "W123"


def test_normalise_rejects_an_unknown_scheme():
    with pytest.raises(ValueError, match="isbn"):
        normalise("isbn", "978-3-16-148410-0")


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

_DOI_TEXT = st.from_regex(
    r"(?:https?://(?:dx\.)?doi\.org/|doi: ?|DOI )?10\.\d{4,6}/[A-Za-z0-9._;()/:<>%-]{1,30}[.,;)]?",
    fullmatch=True,
)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(SCHEMES), st.one_of(st.text(max_size=40), _DOI_TEXT))
def test_normalisation_is_idempotent(scheme, raw):
    value = normalise(scheme, raw)
    if value is not None:
        assert normalise(scheme, value) == value


_TOKEN = st.from_regex(r"[A-Za-z0-9]{1,8}", fullmatch=True)
_JOIN = st.sampled_from(list("-._;:/"))


@st.composite
def dois(draw) -> str:
    """A DOI whose end is unambiguous: its last character is a digit, brackets balanced."""
    prefix = f"10.{draw(st.integers(1000, 999999999))}"
    parts = [draw(_TOKEN)]
    for _ in range(draw(st.integers(0, 4))):
        parts += [draw(_JOIN), draw(_TOKEN)]
    if draw(st.booleans()):
        parts.insert(1, f"({draw(_TOKEN)})")
    digits = draw(st.from_regex(r"[0-9]{1,5}", fullmatch=True))
    return f"{prefix}/{''.join(parts)}{digits}"


_LEFT = ["", " ", "(", "[", '"', "doi:", "DOI: ", "https://doi.org/", "http://dx.doi.org/",
         '<a href="https://doi.org/', "<p>", "\n", "see ", "\u201c", "{", "doi = {"]  # fmt: skip
_RIGHT = ["", ".", ",", ";", ")", "]", '"', '">link</a>', "</p>", " ", ".\n", ":", "\u201d",
          "}", "},", ").", "?", "/abstract", "?download=true"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(dois(), st.sampled_from(_LEFT), st.sampled_from(_RIGHT), st.text(max_size=20))
def test_a_doi_in_punctuation_and_markup_is_recovered_exactly(doi, left, right, noise):
    noise = re.sub(r"[0-9A-Za-z]", "", noise)  # no letters/digits that could extend the DOI
    text = f"{noise} {left}{doi}{right} {noise}"
    found = [f for f in find_identifiers(text) if f.scheme == "doi"]
    assert [f.value for f in found] == [doi.lower()]
    assert text[found[0].start : found[0].end] == doi


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_find_identifiers_never_crashes_and_returns_normalised_values(text):
    for f in find_identifiers(text):
        assert 0 <= f.start < f.end <= len(text)
        assert normalise(f.scheme, f.value) == f.value
