"""Fake E-utilities and PMC ID converter over real sockets."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from demo.fakeapi import FakeApi, seed_catalog


def _efetch(api, http, ids: str, method: str = "GET"):
    url = f"{api.base_urls['eutils']}efetch.fcgi"
    data = {"db": "pubmed", "id": ids, "retmode": "xml"}
    r = http.post(url, data=data) if method == "POST" else http.get(url, params=data)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/xml")
    return ET.fromstring(r.content)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_efetch_returns_full_records_and_skips_unknown(api, http, method):
    root = _efetch(api, http, "34263445,1,33434063", method)
    assert root.tag == "PubmedArticleSet"
    assert [a.findtext("MedlineCitation/PMID") for a in root] == ["34263445", "33434063"]
    art = root[0].find("MedlineCitation/Article")
    assert art.findtext("Journal/JournalIssue/Volume") == "195"
    assert art.find("Journal/ISSN").get("IssnType") == "Print"
    assert art.find("ELocationID[@EIdType='doi']").text == "10.1111/bjh.17673"
    assert art.find("AuthorList/Author/LastName").text == "Topp"
    assert art.find("AuthorList/Author/AffiliationInfo/Affiliation").text
    labels = [t.get("Label") for t in art.findall("Abstract/AbstractText")]
    assert labels == ["BACKGROUND", "CONCLUSIONS"]
    ids = {i.get("IdType"): i.text for i in root[0].findall("PubmedData/ArticleIdList/ArticleId")}
    assert ids == {"pubmed": "34263445", "pmc": "PMC9293158", "doi": "10.1111/bjh.17673"}


def test_efetch_keeps_inline_markup_and_pubmed_doi_case(api, http):
    root = _efetch(api, http, "39739533,33434063")
    assert root[0].find("MedlineCitation/Article/ArticleTitle/i").text == "T"
    assert root[1].find("MedlineCitation/Article/ELocationID").text == "10.1200/JCO.20.01616"


def test_efetch_reference_list_and_mesh(api, http):
    root = _efetch(api, http, "36455991")
    refs = root[0].findall("PubmedData/ReferenceList/Reference")
    assert len(refs) == 6 and refs[0].find("ArticleIdList/ArticleId[@IdType='pubmed']") is not None
    assert root[0].find("MedlineCitation/MeshHeadingList/MeshHeading/DescriptorName").get("UI")


def test_efetch_with_no_known_ids_is_an_empty_set(api, http):
    root = _efetch(api, http, "1,2")
    assert root.tag == "PubmedArticleSet" and len(root) == 0


def test_esearch_doi_terms_joined_with_or(api, http):
    term = '"10.1111/bjh.17673"[doi] OR "10.1200/JCO.20.01616"[doi] OR "10.9/x"[doi]'
    body = http.get(
        f"{api.base_urls['eutils']}esearch.fcgi",
        params={"db": "pubmed", "term": term, "retmode": "json"},
    ).json()
    result = body["esearchresult"]
    assert body["header"]["type"] == "esearch"
    assert result["count"] == "2" and sorted(result["idlist"]) == ["33434063", "34263445"]
    assert {"retmax", "retstart", "translationset", "querytranslation"} <= set(result)


def test_elink_repeated_ids_give_one_linkset_each(api, http):
    params = [("dbfrom", "pubmed"), ("db", "pubmed"), ("linkname", "pubmed_pubmed_citedin")]
    params += [("retmode", "json"), ("id", "36455991"), ("id", "41369097")]
    body = http.get(f"{api.base_urls['eutils']}elink.fcgi", params=params).json()
    first, second = body["linksets"]
    assert first["ids"] == ["36455991"]
    links = first["linksetdbs"][0]
    assert links["linkname"] == "pubmed_pubmed_citedin" and "39901030" in links["links"]
    assert "linksetdbs" not in second  # nothing cites the 2025 paper


def test_elink_comma_joined_ids_merge_into_one_linkset(api, http):
    data = {"dbfrom": "pubmed", "db": "pubmed", "id": "36455991,29808007", "retmode": "json"}
    body = http.post(f"{api.base_urls['eutils']}elink.fcgi", data=data).json()
    assert len(body["linksets"]) == 1 and body["linksets"][0]["ids"] == ["36455991", "29808007"]


def test_ncbi_rate_limit_answers_json_429_without_retry_after(http):
    with FakeApi(seed_catalog(), rate_limits={"eutils": 3}) as api:
        url = f"{api.base_urls['eutils']}esearch.fcgi"
        answers = [http.get(url, params={"term": "1[pmid]", "retmode": "json"}) for _ in range(5)]
        assert [r.status_code for r in answers][:3] == [200, 200, 200]
        limited = answers[3]
        assert limited.status_code == 429 and "Retry-After" not in limited.headers
        assert limited.json()["error"] == "API rate limit exceeded"
        assert limited.json()["limit"] == "3"
        assert api.stats["eutils"]["429s"] == 2


def test_idconv_records(api, http):
    body = http.get(
        api.base_urls["idconv"],
        params={"ids": "36455991,41369097,1", "idtype": "pmid", "format": "json", "tool": "t"},
    ).json()
    assert body["status"] == "ok" and "responseDate" in body and "request" in body
    found, not_pmc, unknown = body["records"]
    assert found == {
        "pmcid": "PMC9714414",
        "pmid": 36455991,
        "doi": "10.36401/jipo-22-9",
        "requested-id": "36455991",
    }
    assert not_pmc["status"] == unknown["status"] == "error" and "errmsg" in unknown


def test_idconv_by_doi_and_pmcid(api, http):
    base = api.base_urls["idconv"]
    by_doi = http.get(base, params={"ids": "10.1111/BJH.17673", "idtype": "doi", "format": "json"})
    assert by_doi.json()["records"][0]["pmcid"] == "PMC9293158"
    by_pmc = http.get(base, params={"ids": "PMC9293158", "format": "json"})
    assert by_pmc.json()["records"][0]["pmid"] == 34263445


@pytest.mark.parametrize(
    "params",
    [
        {"ids": "10.1111/bjh.17673"},  # a DOI without idtype=doi
        {"ids": "123", "idtype": "doi"},
        {"ids": ",".join(str(i) for i in range(1, 202)), "idtype": "pmid"},
    ],
)
def test_idconv_rejects_bad_requests_with_json_400(api, http, params):
    r = http.get(api.base_urls["idconv"], params={**params, "format": "json"})
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == "error" and body["errors"][0]["code"]
