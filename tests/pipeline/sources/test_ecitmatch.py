"""pipeline.sources.ecitmatch: fields read from real strings, the request, the answer."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from pipeline.config import Settings
from pipeline.refstring import RefString
from pipeline.sources.ecitmatch import Citation, EcitFault, EcitMatch, citation_fields, parse_answer

EUTILS = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
PUBMED_FIX = Path(__file__).parents[2] / "fixtures" / "pubmed"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (  # Vancouver (PLOS, real)
            "Woodson SA. Metal ions and RNA folding: a highly charged topic with a dynamic future. "
            "Curr Opin Chem Biol. 2005;9: 104–109.",
            Citation("Curr Opin Chem Biol", "2005", "9", "104", "Woodson"),
        ),
        (  # PLOS author-year (real)
            "von Herrath MG, Oldstone MB (1996) Virus-induced autoimmune disease. Curr Opin "
            "Immunol 8: 878-885.",
            Citation("Curr Opin Immunol", "1996", "8", "878", "von"),
        ),
        (  # APA (CrossRef/reference-matching-evaluation)
            "Tan, Z., & Li, F. (2012). Cloud-point extraction and preconcentration of bisphenol A "
            "from water samples. Journal of Central South University, 19(8), 2136–2141.",
            Citation("Journal of Central South University", "2012", "19", "2136", "Tan"),
        ),
        (  # AIP
            "1 M.J. Shea and R.N. Compton, Physical Review B 47, 9967 (1993).",
            Citation("Physical Review B", "1993", "47", "9967", "M"),
        ),
        (  # real (Crossref deposit), journal run into the year
            "Katsouyanni K, Zmirou D. Short-term effects of air pollution on health. Eur Respir "
            "J 1995;8:1030–1038.",
            Citation("Eur Respir J", "1995", "8", "1030", "Katsouyanni"),
        ),
    ],
)
def test_journal_year_volume_and_first_page_are_read_from_real_strings(text, expected):
    got = citation_fields(RefString(text))
    assert (got.journal, got.year, got.volume, got.page) == (
        expected.journal, expected.year, expected.volume, expected.page,
    )  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Darwin C. On the Origin of Species by Means of Natural Selection. London: John Murray; 1859.",
        "Rogers, E. (1995). Diffusion of Innovations. New York: Free Press.",
    ],
)
def test_books_have_no_journal_citation(text):
    assert citation_fields(RefString(text)) is None


def test_answers_map_keys_to_pmids_and_misses_to_none():
    answer = (
        "proc natl acad sci u s a|1991|88|3248|mann bj|r0|2014248\n"
        "science|1987|235|182|palmenberg ac|r1|NOT_FOUND;INVALID_JOURNAL\n"
        "bioinformatics|2015|31||||r2|AMBIGUOUS (783 citations)\n"
        "nature|2001|1|1||r3|NOT_FOUND\n"
    )
    assert parse_answer(answer) == {"r0": "2014248", "r1": None, "r2": None, "r3": None}


@responses.activate
def test_citations_go_as_lines_of_one_request_and_come_back_by_key():
    responses.get(
        EUTILS + "ecitmatch.cgi",
        body="curr opin chem biol|2005|9|104|woodson|r0|15811793\nx|2001|1|1||r1|NOT_FOUND\n",
        content_type="text/plain",
    )
    cites = [Citation("Curr Opin Chem Biol", "2005", "9", "104", "Woodson"),
             Citation("X", "2001", "1", "1")]  # fmt: skip
    pmids = EcitMatch(Settings(mailto="team@example.org")).pmids(cites)
    assert pmids == ["15811793", None]
    q = dict(parse_qsl(urlsplit(responses.calls[0].request.url).query))
    assert q["db"] == "pubmed" and q["tool"] == "enrich" and q["email"] == "team@example.org"
    assert q["bdata"] == "Curr Opin Chem Biol|2005|9|104|Woodson|r0|\rX|2001|1|1||r1|"


@responses.activate
def test_a_failing_ecitmatch_raises_a_fault_not_an_empty_answer():
    responses.get(EUTILS + "ecitmatch.cgi", status=503)
    with pytest.raises(EcitFault) as err:
        EcitMatch(Settings(max_attempts=2)).pmids([Citation("X", "2001", "1", "1")])
    assert err.value.status == "failed"


@responses.activate
def test_the_pmids_record_becomes_a_pubmed_candidate_with_its_doi():
    body = (PUBMED_FIX / "efetch_article_full.xml").read_text(encoding="utf-8")
    responses.get(EUTILS + "efetch.fcgi", body=body, content_type="text/xml")
    found = EcitMatch(Settings()).records(["36455991"])
    ((pmid, cand),) = found.items()
    assert cand.source == "pubmed" and cand.pmid == pmid and cand.title
    assert cand.authors and cand.years
