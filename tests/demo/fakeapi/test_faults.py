"""Injected faults, rate limits, latency, stats and the standalone entry point."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from demo.fakeapi import FakeApi, seed_catalog

DOI = "10.1111/bjh.17673"


def _crossref(api, http, doi: str = DOI, **kw):
    return http.get(f"{api.base_urls['crossref']}/works/{doi}", **kw)


def test_env_points_every_source_at_the_server(api):
    env = api.env()
    assert set(env) == {
        "ENRICH_OPENALEX_URL",
        "ENRICH_CROSSREF_URL",
        "ENRICH_EUTILS_URL",
        "ENRICH_IDCONV_URL",
        "ENRICH_DOIRA_URL",
    }
    assert env["ENRICH_EUTILS_URL"].endswith("/eutils/")
    assert env["ENRICH_IDCONV_URL"].endswith("/idconv/")
    assert env["ENRICH_OPENALEX_URL"].startswith("http://127.0.0.1:")


def test_fault_fires_times_then_stops(api, http):
    api.inject("crossref", "503", times=2)
    assert [_crossref(api, http).status_code for _ in range(3)] == [503, 503, 200]
    assert api.stats["crossref"]["faults"] == 2


def test_fault_match_restricts_to_matching_requests(api, http):
    api.inject("crossref", "500", match="bjh", times=None)
    assert _crossref(api, http, "10.1038/s41591-018-0041-7").status_code == 200
    assert _crossref(api, http).status_code == 500
    assert _crossref(api, http).status_code == 500  # persistent
    api.clear_faults()
    assert _crossref(api, http).status_code == 200


def test_429_with_and_without_retry_after(api, http):
    api.inject("openalex", "429", retry_after=7)
    api.inject("crossref", "429")
    r = http.get(f"{api.base_urls['openalex']}/works/W3183008008")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    r = _crossref(api, http)
    assert r.status_code == 429 and "Retry-After" not in r.headers


def test_budget429_headers(api, http):
    api.inject("openalex", "budget429")
    r = http.get(f"{api.base_urls['openalex']}/works", params={"filter": "doi:" + DOI})
    assert r.status_code == 429
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["X-RateLimit-Credits-Required"]) > 0
    assert int(r.headers["Retry-After"]) >= 3600


def test_html429_is_an_html_page(api, http):
    api.inject("crossref", "html429")
    r = _crossref(api, http)
    assert r.status_code == 429 and r.headers["Content-Type"].startswith("text/html")
    assert "too many requests" in r.text.lower()


def test_reset_breaks_the_connection(api, http):
    api.inject("idconv", "reset")
    with pytest.raises(requests.ConnectionError):
        http.get(api.base_urls["idconv"], params={"ids": "1", "idtype": "pmid"})
    assert http.get(api.base_urls["idconv"], params={"ids": "1", "idtype": "pmid"}).ok


@pytest.mark.parametrize("mode", ["length", "chunked"])
def test_truncated_body_breaks_the_client(api, http, mode):
    api.inject("eutils", "truncated", mode=mode)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        http.get(f"{api.base_urls['eutils']}efetch.fcgi", params={"db": "pubmed", "id": "36455991"})


def test_timeout_delays_past_the_client_timeout(api, http):
    api.inject("openalex", "timeout", delay=2)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{api.base_urls['openalex']}/works/W3183008008", timeout=0.3)
    assert time.monotonic() - started < 1.5


def test_slow_answers_after_the_delay(api, http):
    api.inject("crossref", "slow", delay=0.3)
    started = time.monotonic()
    assert _crossref(api, http).ok
    assert time.monotonic() - started >= 0.3


def test_html200_maintenance_page(api, http):
    api.inject("openalex", "html200")
    r = http.get(f"{api.base_urls['openalex']}/works/W3183008008")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")


def test_ncbi_errors_inside_200(api, http):
    api.inject("eutils", "ncbi_error_json", match="esearch")
    api.inject("eutils", "ncbi_error_xml", match="efetch")
    base = api.base_urls["eutils"]
    search = http.get(f"{base}esearch.fcgi", params={"term": "x[doi]", "retmode": "json"})
    assert search.status_code == 200 and "ERROR" in search.json()["esearchresult"]
    fetch = http.get(f"{base}efetch.fcgi", params={"id": "36455991"})
    assert fetch.status_code == 200 and "<ERROR>" in fetch.text


def test_injected_404_uses_the_sources_shape(api, http):
    api.inject("crossref", "404")
    assert _crossref(api, http).text == "Resource not found."


def test_unknown_fault_kind_or_source_is_rejected(api):
    with pytest.raises(ValueError):
        api.inject("crossref", "418")
    with pytest.raises(ValueError):
        api.inject("pubmed", "500")


def test_crossref_list_rate_limit_is_separate_from_singletons(http):
    with FakeApi(seed_catalog(), rate_limits={"crossref_list": 2, "crossref": 10}) as api:
        lists = [
            http.get(f"{api.base_urls['crossref']}/works", params={"filter": f"doi:{DOI}"})
            for _ in range(3)
        ]
        assert [r.status_code for r in lists] == [200, 200, 429]
        assert lists[2].headers["Content-Type"].startswith("text/html")
        assert _crossref(api, http).status_code == 200


def test_rate_limit_window_slides(http):
    with FakeApi(seed_catalog(), rate_limits={"idconv": 2}) as api:
        url, params = api.base_urls["idconv"], {"ids": "1", "idtype": "pmid"}
        assert [http.get(url, params=params).status_code for _ in range(3)] == [200, 200, 429]
        time.sleep(1.05)
        assert http.get(url, params=params).status_code == 200


def test_the_rate_window_counts_a_request_when_it_arrives_not_after_its_latency(http):
    # a late wake from the simulated latency is the fake's own jitter, not the client's sending
    with FakeApi(seed_catalog(), rate_limits={"idconv": 1}, latency=0.01) as api:
        waits = iter([1.5])
        wait = api._wait
        api._wait = lambda seconds: wait(next(waits, seconds))  # the first answer wakes late
        url, params = api.base_urls["idconv"], {"ids": "1", "idtype": "pmid"}
        started = time.monotonic()
        assert http.get(url, params=params).status_code == 200
        time.sleep(max(0.0, started + 1.7 - time.monotonic()))
        # arrivals 1.7 s apart (0.7 s of slack for a loaded machine); counted after the late wake
        # they would be 0.2 s apart: a 429
        assert http.get(url, params=params).status_code == 200


def test_latency_is_added_to_every_answer(http):
    with FakeApi(seed_catalog(), latency=0.2) as api:
        started = time.monotonic()
        _crossref(api, http)
        assert time.monotonic() - started >= 0.2


def test_stats_count_requests_statuses_and_bytes(api, http):
    _crossref(api, http)
    _crossref(api, http, "10.9/none")
    st = api.stats["crossref"]
    assert st["requests"] == 2 and st["by_status"] == {200: 1, 404: 1}
    assert st["bytes_sent"] > 1000 and len(st["received"]) == 2
    api.reset_stats()
    assert api.stats["crossref"]["requests"] == 0


def test_stop_is_clean_even_with_a_pending_delay(http):
    api = FakeApi(seed_catalog()).start()
    api.inject("crossref", "timeout", delay=30)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _crossref(api, http, timeout=0.2)
    started = time.monotonic()
    api.stop()
    assert time.monotonic() - started < 2


def test_standalone_prints_export_lines():
    root = Path(__file__).parents[3]
    proc = subprocess.Popen(
        [sys.executable, "-m", "demo.fakeapi", "--port", "0", "--seeds"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [proc.stdout.readline().strip() for _ in range(5)]
        assert [line.split("=")[0] for line in lines] == [
            "export ENRICH_OPENALEX_URL",
            "export ENRICH_CROSSREF_URL",
            "export ENRICH_EUTILS_URL",
            "export ENRICH_IDCONV_URL",
            "export ENRICH_DOIRA_URL",
        ]
        url = lines[1].split("=", 1)[1]
        assert requests.get(f"{url}/works/{DOI}", timeout=5).ok
        stats = requests.get(url.replace("/crossref", "/_fakeapi/stats"), timeout=5).json()
        assert stats["crossref"]["requests"] == 1 and stats["crossref"]["by_status"] == {"200": 1}
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_concurrency_limit_answers_429_to_the_extra_request():
    from concurrent.futures import ThreadPoolExecutor

    with FakeApi(seed_catalog(), latency=0.3, concurrency={"crossref": 1}) as api:
        url = f"{api.base_urls['crossref']}/works/{DOI}"
        with ThreadPoolExecutor(3) as pool:
            statuses = sorted(
                pool.map(lambda _: requests.get(url, timeout=5).status_code, range(3))
            )
        assert statuses[0] == 200 and 429 in statuses
        assert api.stats["crossref"]["max_in_flight"] >= 2


@pytest.mark.parametrize("status", ["400", "401", "403"])
def test_client_error_kinds(api, http, status):
    api.inject("openalex", status)
    r = http.get(f"{api.base_urls['openalex']}/works", params={"cursor": "*"})
    assert r.status_code == int(status) and set(r.json()) == {"error", "message"}


def test_timeout_never_answers(api):
    api.inject("crossref", "timeout", delay=0.2)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{api.base_urls['crossref']}/works/{DOI}", timeout=5)


def test_openalex_urls_longer_than_4094_characters_are_refused(api, http):
    values = "|".join(f"10.5555/a-rather-long-doi-suffix-{i:04d}" for i in range(100))
    r = http.get(f"{api.base_urls['openalex']}/works", params={"filter": f"doi:{values}"})
    assert r.status_code == 414


def test_keyed_ncbi_requests_have_their_own_limit(http):
    with FakeApi(seed_catalog(), rate_limits={"eutils": 1, "eutils_keyed": 10}) as api:
        url = f"{api.base_urls['eutils']}esearch.fcgi"
        keyed = [http.get(url, params={"term": "1[pmid]", "api_key": "k"}) for _ in range(3)]
        assert [r.status_code for r in keyed] == [200, 200, 200]
        assert keyed[0].headers["X-RateLimit-Limit"] == "10"


def test_ncbi_limit_is_shared_by_eutils_and_the_converter(http):
    with FakeApi(seed_catalog(), rate_limits={"ncbi": 2}) as api:
        http.get(f"{api.base_urls['eutils']}esearch.fcgi", params={"term": "1[pmid]"})
        http.get(api.base_urls["idconv"], params={"ids": "1", "idtype": "pmid"})
        r = http.get(api.base_urls["idconv"], params={"ids": "1", "idtype": "pmid"})
        assert r.status_code == 429 and r.json()["error"] == "API rate limit exceeded"
