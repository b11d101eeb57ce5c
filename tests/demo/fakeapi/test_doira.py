"""The fake of doi.org's "Which RA?" lookup: one object per DOI, in the order asked."""

from __future__ import annotations

from urllib.parse import quote

from pipeline.config import Settings
from pipeline.sources.doira import DoiRaClient


def test_catalog_dois_answer_their_agency_and_others_by_prefix_or_not_at_all(api, http):
    works = list(api.catalog)
    works[1].agency = "mEDRA"
    asked = [works[0].doi, works[1].doi, "10.5281/zenodo.1", "10.9999/nope", "not-a-doi"]
    url = api.base_urls["doira"] + ",".join(quote(d, safe="/") for d in asked)
    answer = http.get(url, timeout=5)
    assert answer.status_code == 200
    assert answer.json() == [
        {"DOI": works[0].doi, "RA": "Crossref"},
        {"DOI": works[1].doi, "RA": "mEDRA"},
        {"DOI": "10.5281/zenodo.1", "RA": "DataCite"},
        {"DOI": "10.9999/nope", "status": "DOI does not exist"},
        {"DOI": "not-a-doi", "status": "Invalid DOI"},
    ]
    assert api.stats["doira"]["requests"] == 1


def test_a_comma_inside_a_doi_stays_inside_it(api, http):
    answer = http.get(api.base_urls["doira"] + "10.5281/a%2Cb,10.5281/c", timeout=5)
    assert [o["DOI"] for o in answer.json()] == ["10.5281/a,b", "10.5281/c"]


def test_the_client_reads_the_fake_through_enrich_doira_url(api):
    settings = Settings.from_env(api.env())
    [lookup] = DoiRaClient(settings).lookups(["10.48550/arxiv.7", "10.9999/x"])
    assert lookup.verdicts == {"10.48550/arxiv.7": "DataCite", "10.9999/x": "DOI does not exist"}
    assert api.stats["doira"]["requests"] == 1


def test_faults_can_be_armed_for_it(api, http):
    api.inject("doira", "503", times=1)
    assert http.get(api.base_urls["doira"] + "10.5281/z", timeout=5).status_code == 503
    assert http.get(api.base_urls["doira"] + "10.5281/z", timeout=5).status_code == 200
