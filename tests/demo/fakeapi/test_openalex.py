"""Fake OpenAlex over real sockets: singletons, lists, paging, select, budget headers."""

from __future__ import annotations

import pytest

from demo.fakeapi import FakeApi, generate_catalog

W = "W3183008008"  # 10.1111/bjh.17673
ID_FORMS = [
    W,
    W.lower(),
    f"https://openalex.org/{W}",
    "doi:10.1111/bjh.17673",
    "https://doi.org/10.1111/BJH.17673",
    "10.1111/bjh.17673",
    "pmid:34263445",
    "pmcid:PMC9293158",
    "pmcid:9293158",
]


@pytest.mark.parametrize("ident", ID_FORMS)
def test_singleton_resolves_every_id_form(api, http, ident):
    r = http.get(f"{api.base_urls['openalex']}/works/{ident}")
    assert r.status_code == 200
    assert r.json()["id"] == f"https://openalex.org/{W}"


def test_work_object_has_the_2025_schema(api, http):
    work = http.get(f"{api.base_urls['openalex']}/works/pmid:36455991").json()
    assert work["doi"] == "https://doi.org/10.36401/jipo-22-9"
    assert work["ids"]["pmid"] == "https://pubmed.ncbi.nlm.nih.gov/36455991"
    assert work["ids"]["pmcid"].endswith("/PMC9714414")
    assert work["primary_location"]["source"]["issn_l"] == "2666-2345"
    first = work["authorships"][0]
    assert first["author_position"] == "first" and first["institutions"][0]["ror"].startswith(
        "https://ror.org/"
    )
    assert all(r.startswith("https://openalex.org/W") for r in work["referenced_works"])
    assert isinstance(work["abstract_inverted_index"]["Cytokine"], list)
    years = [c["year"] for c in work["counts_by_year"]]
    assert years == sorted(years, reverse=True) and min(years) > 2016
    assert all(c["cited_by_count"] > 0 for c in work["counts_by_year"])
    for key in ("topics", "funders", "updated_date", "cited_by_count", "title", "biblio"):
        assert key in work


def test_ids_without_value_are_left_out(api, http):
    work = http.get(f"{api.base_urls['openalex']}/works/doi:10.1111/ejh.70051").json()
    assert "pmcid" not in work["ids"]


def test_unknown_work_is_a_json_404(api, http):
    r = http.get(f"{api.base_urls['openalex']}/works/doi:10.9999/nope")
    assert r.status_code == 404
    assert set(r.json()) == {"error", "message"}


def test_merged_work_redirects_to_the_survivor(api, http):
    url = f"{api.base_urls['openalex']}/works/W3185999999"
    r = http.get(url, allow_redirects=False)
    assert r.status_code == 301
    assert r.headers["Location"].endswith(f"/openalex/works/{W}")
    assert http.get(url).json()["id"] == f"https://openalex.org/{W}"


def test_or_filter_drops_unknown_values_silently(api, http):
    r = http.get(
        f"{api.base_urls['openalex']}/works",
        params={
            "filter": "doi:10.1111/bjh.17673|10.9999/nope|https://doi.org/10.1200/JCO.20.01616"
        },
    )
    body = r.json()
    assert r.status_code == 200 and body["meta"]["count"] == 2
    assert {w["doi"] for w in body["results"]} == {
        "https://doi.org/10.1111/bjh.17673",
        "https://doi.org/10.1200/jco.20.01616",
    }
    assert set(body["meta"]) >= {"count", "db_response_time_ms", "page", "per_page", "next_cursor"}
    assert body["group_by"] == []


@pytest.mark.parametrize(
    "flt",
    [
        "ids.pmid:34263445|30814055",
        "ids.pmcid:PMC9293158|PMC6418502",
        "openalex:W3183008008|W2916009009",
    ],
)
def test_filters_by_other_ids(api, http, flt):
    r = http.get(f"{api.base_urls['openalex']}/works", params={"filter": flt})
    assert r.json()["meta"]["count"] == 2


def test_more_than_100_or_values_is_a_400(api, http):
    values = "|".join(f"10.1/{i}" for i in range(101))
    r = http.get(f"{api.base_urls['openalex']}/works", params={"filter": f"doi:{values}"})
    assert r.status_code == 400 and "error" in r.json()


def test_comma_inside_a_filter_value_is_a_403(api, http):
    r = http.get(f"{api.base_urls['openalex']}/works", params={"filter": "doi:10.1/a,b"})
    assert r.status_code == 403


def test_select_root_fields_only(api, http):
    base = f"{api.base_urls['openalex']}/works"
    ok = http.get(base, params={"filter": f"openalex:{W}", "select": "id,cited_by_count"})
    assert ok.json()["results"] == [{"id": f"https://openalex.org/{W}", "cited_by_count": 120}]
    assert http.get(base, params={"select": "open_access.is_oa"}).status_code == 400
    assert http.get(f"{base}/{W}", params={"select": "id"}).json() == {
        "id": f"https://openalex.org/{W}"
    }


def test_cursor_paging_ends_with_null_cursor(http):
    with FakeApi(generate_catalog(250)) as api:
        seen, cursor, pages = [], "*", 0
        while cursor:
            meta_results = http.get(
                f"{api.base_urls['openalex']}/works",
                params={"per_page": 100, "cursor": cursor, "select": "id"},
            ).json()
            seen += [w["id"] for w in meta_results["results"]]
            cursor = meta_results["meta"]["next_cursor"]
            pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 250


def test_per_page_over_100_is_a_400(api, http):
    r = http.get(f"{api.base_urls['openalex']}/works", params={"per_page": 200})
    assert r.status_code == 400


def test_rate_limit_headers_and_credits(api, http):
    base = f"{api.base_urls['openalex']}/works"
    single = http.get(f"{base}/{W}")
    listed = http.get(base, params={"filter": f"openalex:{W}"})
    assert single.headers["X-RateLimit-Credits-Used"] == "0"
    assert listed.headers["X-RateLimit-Credits-Used"] == "1"
    assert (
        int(listed.headers["X-RateLimit-Remaining"]) == int(listed.headers["X-RateLimit-Limit"]) - 1
    )
    assert int(http.get(f"{base}/nope").headers["X-RateLimit-Reset"]) > 0


def test_exhausted_budget_answers_the_budget_429(http):
    with FakeApi(generate_catalog(5), openalex_budget=2) as api:
        base = f"{api.base_urls['openalex']}/works"
        assert [http.get(base).status_code for _ in range(3)] == [200, 200, 429]
        r = http.get(base)
        assert r.headers["X-RateLimit-Remaining"] == "0"
        assert int(r.headers["X-RateLimit-Credits-Required"]) > 0
        assert int(r.headers["Retry-After"]) >= 3600
        assert http.get(f"{base}/W6000000001").status_code == 200  # singletons stay free


def test_api_key_is_recorded_but_masked_in_stats(api, http):
    http.get(f"{api.base_urls['openalex']}/works/{W}", params={"api_key": "s3cret"})
    assert api.api_keys("openalex") == ["s3cret"]
    method, path, query = api.stats["openalex"]["received"][0]
    assert (method, path) == ("GET", f"/works/{W}")
    assert "s3cret" not in query and "api_key=***" in query
