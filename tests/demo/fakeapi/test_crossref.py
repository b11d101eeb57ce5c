"""Fake Crossref over real sockets: singletons, DOI-OR lists, pools, 404 text."""

from __future__ import annotations

import pytest

from demo.fakeapi import FakeApi, seed_catalog

DOI = "10.1111/bjh.17673"


@pytest.mark.parametrize("path", [DOI, "10.1111%2Fbjh.17673", "10.1111/BJH.17673"])
def test_singleton_envelope_and_lowercase_doi(api, http, path):
    r = http.get(f"{api.base_urls['crossref']}/works/{path}")
    body = r.json()
    assert r.status_code == 200
    assert (body["status"], body["message-type"], body["message-version"]) == (
        "ok",
        "work",
        "1.0.0",
    )
    assert body["message"]["DOI"] == DOI


def test_message_fields(api, http):
    msg = http.get(f"{api.base_urls['crossref']}/works/10.1038/s41591-018-0041-7").json()["message"]
    assert isinstance(msg["title"], list) and isinstance(msg["container-title"], list)
    assert msg["issued"]["date-parts"][0][:1] == [2018]
    assert msg["author"][0]["sequence"] == "first" and msg["author"][0]["ORCID"].startswith(
        "https://orcid.org/"
    )
    assert msg["author"][0]["affiliation"][0]["name"]
    assert msg["abstract"].startswith("<jats:")
    assert {"print", "electronic"} == {t["type"] for t in msg["issn-type"]}
    assert msg["reference-count"] == len(msg.get("reference", []))
    assert msg["funder"][0]["DOI"].startswith("10.13039/")
    for key in ("volume", "issue", "page", "publisher", "is-referenced-by-count", "type"):
        assert key in msg


def test_references_carry_dois(api, http):
    msg = http.get(f"{api.base_urls['crossref']}/works/10.36401/jipo-22-9").json()["message"]
    dois = [r.get("DOI") for r in msg["reference"]]
    assert "10.1111/bjh.17673" in dois and None in dois  # one unstructured-only reference


def test_unknown_doi_is_a_plain_text_404(api, http):
    r = http.get(f"{api.base_urls['crossref']}/works/10.9999/nope")
    assert r.status_code == 404 and r.text == "Resource not found."
    assert r.headers["Content-Type"].startswith("text/plain")


def test_absent_work_is_a_404():
    with FakeApi(seed_catalog(absent={"crossref": ["10.1200/jco.20.01616"]})) as api:
        import requests

        assert (
            requests.get(f"{api.base_urls['crossref']}/works/10.1200/jco.20.01616").status_code
            == 404
        )


def test_doi_list_drops_unknown_dois(api, http):
    r = http.get(
        f"{api.base_urls['crossref']}/works",
        params={
            "filter": f"doi:{DOI},doi:10.9999/nope,doi:10.1200/JCO.20.01616",
            "rows": 10,
            "select": "DOI,is-referenced-by-count",
            "mailto": "dev@example.org",
        },
    )
    body = r.json()
    assert body["message-type"] == "work-list"
    assert body["message"]["total-results"] == 2
    assert body["message"]["items-per-page"] == 10
    assert "query" in body["message"]
    assert {tuple(i) for i in body["message"]["items"]} == {("DOI", "is-referenced-by-count")}
    assert r.headers["x-api-pool"] == "polite-array"
    assert r.headers["x-rate-limit-limit"] == "3" and r.headers["x-rate-limit-interval"] == "1s"


def test_public_pool_without_mailto(api, http):
    r = http.get(f"{api.base_urls['crossref']}/works/{DOI}")
    assert r.headers["x-api-pool"] == "public-array"
    assert r.headers["x-concurrency-limit"] == "1"


def test_rows_over_1000_and_unknown_filters_are_400(api, http):
    base = f"{api.base_urls['crossref']}/works"
    assert http.get(base, params={"rows": 1001}).status_code == 400
    bad = http.get(base, params={"filter": "issn:1234-5678"})
    assert bad.status_code == 400 and bad.json()["message-type"] == "validation-failure"


def test_head_checks_existence(api, http):
    assert http.head(f"{api.base_urls['crossref']}/works/{DOI}").status_code == 200
    assert http.head(f"{api.base_urls['crossref']}/works/10.9/x").status_code == 404
