"""The fake API keeps works current and connected: notices (Crossref updated-by/update-to,
PubMed CommentsCorrections, OpenAlex is_retracted), preprints (Crossref relation, OpenAlex
locations), change stamps with Crossref's from-index-date and PubMed's [mdat], who-cites pages,
and the change route a benchmark in another process uses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from demo.fakeapi import FakeUpdate, seed_catalog
from demo.fakeapi.catalog import FIXED_MODIFIED

DOI = "10.1111/bjh.17673"


@pytest.fixture
def work(api):
    return api.catalog.by_doi(DOI)


def crossref(api, http, path: str, **params) -> dict:
    return http.get(api.base_urls["crossref"] + path, params=params).json()["message"]


def test_a_retraction_shows_in_every_source(api, http, work):
    work.retract("10.1111/bjh.99999", notice_pmid="39999999", date="2026-01-15",
                 source="retraction-watch", record_id="4036")  # fmt: skip
    (entry,) = crossref(api, http, f"/works/{DOI}")["updated-by"]
    assert (entry["DOI"], entry["type"], entry["source"], entry["record-id"]) == (
        "10.1111/bjh.99999", "retraction", "retraction-watch", "4036",
    )  # fmt: skip
    assert entry["updated"]["date-parts"] == [[2026, 1, 15]]
    oa = http.get(f"{api.base_urls['openalex']}/works/doi:{DOI}").json()
    assert oa["is_retracted"] is True
    xml = http.get(api.base_urls["eutils"] + "efetch.fcgi", params={"id": work.pmid}).text
    assert '<CommentsCorrections RefType="RetractionIn">' in xml
    assert '<PMID Version="1">39999999</PMID>' in xml and "doi: 10.1111/bjh.99999." in xml
    assert "Retracted Publication" in xml


def test_a_notice_in_the_catalog_says_what_it_updates(api, http, work):
    work.update_to.append(("retraction", "10.9/retracted", "2025-03-26"))
    (entry,) = crossref(api, http, f"/works/{DOI}")["update-to"]
    assert (entry["DOI"], entry["type"]) == ("10.9/retracted", "retraction")


def test_a_record_without_notices_has_no_update_fields(api, http):
    message = crossref(api, http, f"/works/{DOI}")
    assert "updated-by" not in message and "update-to" not in message
    assert message["relation"] == {}


def test_a_new_preprint_is_a_crossref_relation_and_an_openalex_location(api, http, work):
    work.add_preprint("10.1101/2020.01.01.123456")
    relation = crossref(api, http, f"/works/{DOI}")["relation"]
    assert relation["has-preprint"][0]["id"] == "10.1101/2020.01.01.123456"
    oa = http.get(f"{api.base_urls['openalex']}/works/doi:{DOI}").json()
    ids = [loc["id"] for loc in oa["locations"]]
    assert "doi:10.1101/2020.01.01.123456" in ids and oa["locations_count"] == len(ids)


def test_crossref_from_index_date_keeps_only_works_indexed_since(api, http, work):
    others = [w.doi for w in api.catalog if w.doi and w.doi != DOI][:3]
    dois = ",".join(f"doi:{d}" for d in [DOI, *others])
    day = FIXED_MODIFIED.date().isoformat()
    assert len(crossref(api, http, "/works", filter=dois)["items"]) == 4
    assert crossref(api, http, "/works", filter=f"{dois},from-index-date:{day}")["items"]
    work.retitle("A corrected title")
    later = datetime.now(UTC).date().isoformat()
    (item,) = crossref(api, http, "/works", filter=f"{dois},from-index-date:{later}")["items"]
    assert item["DOI"] == DOI and item["title"] == ["A corrected title"]


def test_esearch_mdat_lists_only_pmids_modified_in_the_window(api, http, work):
    pmids = [*[w.pmid for w in api.catalog if w.pmid and w is not work][:3], work.pmid]
    term = " OR ".join(f"{p}[uid]" for p in pmids)
    params = {"db": "pubmed", "term": term, "retmode": "json", "datetype": "mdat",
              "mindate": "2030/01/01", "maxdate": "3000"}  # fmt: skip
    url = api.base_urls["eutils"] + "esearch.fcgi"
    assert http.get(url, params=params).json()["esearchresult"]["idlist"] == []
    work.touch(datetime(2030, 6, 1, tzinfo=UTC))
    assert http.get(url, params=params).json()["esearchresult"]["idlist"] == [work.pmid]
    xml = http.get(api.base_urls["eutils"] + "efetch.fcgi", params={"id": work.pmid}).text
    assert "<DateRevised><Year>2030</Year><Month>06</Month><Day>01</Day></DateRevised>" in xml


def test_cites_pages_with_select_list_the_catalogs_citing_works(api, http):
    catalog = seed_catalog()
    cited = next(w for w in catalog if any(w.openalex_id in c.references for c in catalog))
    citing = {c.openalex_id for c in catalog if cited.openalex_id in c.references}
    params = {"filter": f"cites:{cited.openalex_id}", "select": "id,doi,ids", "per_page": "1",
              "cursor": "*"}  # fmt: skip
    found = set()
    while params["cursor"]:
        body = http.get(f"{api.base_urls['openalex']}/works", params=params).json()
        assert all(set(r) == {"id", "doi", "ids"} for r in body["results"])
        found |= {r["id"].rsplit("/", 1)[-1] for r in body["results"]}
        params["cursor"] = body["meta"]["next_cursor"]
    assert found == citing


def test_the_change_route_changes_works_for_a_server_in_another_process(api, http):
    ids = [w.openalex_id for w in list(api.catalog)[:3]]
    answer = http.post(f"{api.url}/_fakeapi/change", params={"kind": "retract",
                                                              "ids": ",".join(ids)})  # fmt: skip
    assert answer.json() == {"changed": 3}
    assert all(api.catalog.by_openalex(i).is_retracted for i in ids)
    bad = http.post(f"{api.url}/_fakeapi/change", params={"kind": "nonsense", "ids": ids[0]})
    assert bad.status_code == 400


def test_a_fake_update_renders_its_label_from_its_kind():
    assert FakeUpdate("expression_of_concern", "10.1/x").label == "Expression of concern"
