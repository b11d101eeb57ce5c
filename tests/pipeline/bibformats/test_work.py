from __future__ import annotations

import pytest

from pipeline.bibformats import BibWork


def test_the_url_of_a_sici_doi_is_percent_encoded_once(article):
    assert article.url == (
        "https://doi.org/10.1002/(SICI)1099-0771(199706)10:2%3C107::AID-BDM292%3E3.0.CO;2-Y"
    )
    assert BibWork("w", doi="10.1/a%b").url == "https://doi.org/10.1/a%25b"


def test_without_a_doi_the_url_is_pubmed_then_pmc_then_openalex():
    assert BibWork("w", pmid="1", pmcid="PMC2").url == "https://pubmed.ncbi.nlm.nih.gov/1/"
    assert BibWork("w", pmcid="PMC2").url == "https://pmc.ncbi.nlm.nih.gov/articles/PMC2/"
    assert BibWork("w", openalex_id="W3").url == "https://openalex.org/W3"
    assert BibWork("w").url is None


@pytest.mark.parametrize(
    ("date", "year", "parts"),
    [("2021-03-04", 2021, (2021, 3, 4)), ("2021-03", 2021, (2021, 3)), ("2021", None, (2021,)),
     (None, 2020, (2020,)), ("garbage", 2019, (2019,)), ("2021-13-01", 2021, (2021,)), ("2021-02-32", 2021, (2021,)),
     (None, None, ())],
)  # fmt: skip
def test_date_parts_come_from_the_date_else_the_year(date, year, parts):
    assert BibWork("w", publication_date=date, publication_year=year).date_parts == parts


@pytest.mark.parametrize(
    ("pages", "expected"),
    [("1437-1452", ("1437", "1452")), ("1437 – 1452", ("1437", "1452")),
     ("e1007226", ("e1007226", None)), ("1866--1876.e5", ("1866", "1876.e5")), (None, (None, None))],
)  # fmt: skip
def test_page_range_splits_on_any_dash(pages, expected):
    assert BibWork("w", pages=pages).page_range == expected
