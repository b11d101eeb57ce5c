"""pipeline.sources.crossref: filter batches, singletons, encoding, faults, pacing, request counts."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
import responses

from pipeline import http
from pipeline.config import Settings
from pipeline.http import WINDOW_MARGIN
from pipeline.records import FetchBatch, Identifier
from pipeline.sources.crossref import (
    BATCH_SIZE,
    COUNT_FIELDS,
    MAX_URL_CHARS,
    CrossrefClient,
)

FIX = Path(__file__).parents[2] / "fixtures" / "clients" / "crossref"
WORKS = "https://api.crossref.org/works"
ANY_SINGLETON = re.compile(r"https://api\.crossref\.org/works/.+")
JSON = "application/json"
POLITE = {"x-rate-limit-limit": "3", "x-rate-limit-interval": "1s", "x-concurrency-limit": "3"}

PEERJ = Identifier("doi", "10.7717/peerj.4375")
F2, F3, F4 = (Identifier("doi", f"10.5555/fixture.000{n}") for n in (2, 3, 4))
UNKNOWN = Identifier("doi", "10.5555/unknown.9999")
SICI = Identifier("doi", "10.1002/(sici)1097-4636(199706)35:4<469::aid-jbm6>3.0.co;2-h")


def text(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 1000.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(autouse=True)
def offline(monkeypatch) -> list[float]:
    """Fresh limiters/breaker, a fake clock and recorded instant sleeps for every test."""
    http.reset_host_state()
    clock = FakeClock()
    monkeypatch.setattr(http, "sleep", clock.sleep)
    monkeypatch.setattr(http, "monotonic", lambda: clock.now)
    yield clock.sleeps
    http.reset_host_state()


@pytest.fixture
def client() -> CrossrefClient:
    return CrossrefClient(Settings(mailto="team@example.org", max_attempts=3))


def outcomes(batches: list[FetchBatch]) -> dict[Identifier, str]:
    """identifier -> status, asserting each identifier appears exactly once across batches."""
    seen = Counter(o.identifier for b in batches for o in b.outcomes)
    assert all(n == 1 for n in seen.values()), seen
    return {o.identifier: o.status for b in batches for o in b.outcomes}


def query(call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url).query))


def filter_dois(call) -> list[str]:
    return [part.removeprefix("doi:") for part in query(call)["filter"].split(",")]


def lists(calls) -> list:
    return [c for c in calls if urlsplit(c.request.url).path == "/works"]


# -- batches, reconciliation, encoding ---------------------------------------------------------


def test_a_scheme_crossref_cannot_ask_is_refused_before_any_request(client):
    with responses.RequestsMock() as rs:
        with pytest.raises(ValueError, match="pmid"):
            client.fetch([PEERJ, Identifier("pmid", "29456894")])
        assert len(rs.calls) == 0


@responses.activate
def test_a_doi_missing_from_a_complete_answer_is_not_found_without_a_singleton(client):
    responses.get(WORKS, body=text("list_partial.json"), content_type=JSON, headers=POLITE)
    asked = [PEERJ, F2, F3, UNKNOWN]
    batches = list(client.fetch(asked))
    assert outcomes(batches) == {PEERJ: "ok", F2: "ok", F3: "ok", UNKNOWN: "not_found"}
    assert len(responses.calls) == 1  # total-results 3 == 3 items: the answer settles the fourth
    first = responses.calls[0]
    assert filter_dois(first) == [i.value for i in asked]
    assert int(query(first)["rows"]) >= len(asked)
    assert query(first)["mailto"] == "team@example.org"
    [batch] = batches
    assert batch.raws[0].requested == tuple(asked) and batch.raws[0].endpoint == "works"
    [absent] = [o for o in batch.outcomes if o.identifier == UNKNOWN]
    assert (absent.http_status, absent.attempts) == (200, 1)
    assert absent.last_error.startswith("absent from a complete filter answer")


def _total(name: str, total: int) -> str:
    body = json.loads(text(name))
    body["message"]["total-results"] = total
    return json.dumps(body)


@responses.activate
def test_an_answer_short_of_its_total_reasks_the_missing_doi_singly(client):
    responses.get(WORKS, body=_total("list_partial.json", 4), content_type=JSON)
    responses.get(
        f"{WORKS}/10.5555/unknown.9999",
        status=404,
        body=text("not_found.txt"),
        content_type="text/plain",
    )
    batches = list(client.fetch([PEERJ, F2, F3, UNKNOWN]))
    assert outcomes(batches)[UNKNOWN] == "not_found"
    miss = batches[-1].raws[0]
    assert (miss.http_status, miss.content_type, miss.body) == (
        404,
        "text/plain",
        "Resource not found.",
    )


@responses.activate
def test_a_sici_doi_missing_from_a_complete_answer_is_still_asked_singly(client):
    responses.get(WORKS, body=text("list_partial.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, status=404, body=text("not_found.txt"), content_type="text/plain")
    batches = list(client.fetch([PEERJ, F2, F3, SICI]))
    assert outcomes(batches)[SICI] == "not_found"
    assert len(responses.calls) == 2 and batches[-1].raws[0].http_status == 404


@responses.activate
def test_sici_doi_in_a_filter_is_encoded_exactly_once(client):
    responses.get(WORKS, body=text("list_sici.json"), content_type=JSON)
    asked = [PEERJ, F2, F3, SICI]
    assert outcomes(list(client.fetch(asked))) == dict.fromkeys(asked, "ok")
    wire = responses.calls[0].request.url
    assert "doi:10.1002/%28sici%291097-4636%28199706%2935:4%3C469::aid-jbm6%3E3.0.co%3B2-h" in wire
    assert "%25" not in wire


@responses.activate
def test_sici_doi_singleton_path_is_encoded_once_with_its_slash_literal(client):
    responses.get(ANY_SINGLETON, status=404, body=text("not_found.txt"), content_type="text/plain")
    assert outcomes(list(client.fetch([SICI]))) == {SICI: "not_found"}
    path = urlsplit(responses.calls[0].request.url).path
    assert path == "/works/" + quote(SICI.value, safe="/")
    assert path.startswith("/works/10.1002/%28sici%29") and "%25" not in path


@responses.activate
def test_fewer_dois_than_the_break_even_go_as_singletons(client):
    responses.get(ANY_SINGLETON, body=text("work_peerj_4375.json"), content_type=JSON)
    few = [PEERJ, F2, F3]  # below the break-even of 4: singletons are no slower
    assert outcomes(list(client.fetch(few))) == dict.fromkeys(few, "ok")
    assert lists(responses.calls) == [] and len(responses.calls) == len(few)
    assert all(query(c)["mailto"] == "team@example.org" for c in responses.calls)


@responses.activate
def test_a_doi_with_a_comma_never_rides_in_a_filter(client):
    comma = Identifier("doi", "10.5555/a,b")
    responses.get(ANY_SINGLETON, body=text("work_peerj_4375.json"), content_type=JSON)
    assert outcomes(list(client.fetch([comma]))) == {comma: "ok"}
    assert urlsplit(responses.calls[0].request.url).path == "/works/10.5555/a%2Cb"


# -- faults ----------------------------------------------------------------------------------------


@responses.activate
def test_429_with_html_body_is_retried(client, offline):
    responses.get(WORKS, status=429, body=text("too_many_requests.html"), content_type="text/html")
    responses.get(WORKS, body=text("list_partial.json"), content_type=JSON)
    responses.get(f"{WORKS}/10.5555/unknown.9999", status=404, body=text("not_found.txt"))
    batches = list(client.fetch([PEERJ, F2, F3, UNKNOWN]))
    assert outcomes(batches)[PEERJ] == "ok"
    assert len(lists(responses.calls)) == 2
    assert len(offline) >= 1 and offline[0] >= http.BACKOFF_FLOOR
    assert batches[0].outcomes[0].attempts == 2


@responses.activate
def test_persistent_429_ends_failed_never_not_found(client):
    responses.get(WORKS, status=429, body=text("too_many_requests.html"), content_type="text/html")
    asked = [PEERJ, F2, F3, UNKNOWN]
    [batch] = list(client.fetch(asked))
    assert outcomes([batch]) == dict.fromkeys(asked, "failed")
    assert {(o.http_status, o.attempts) for o in batch.outcomes} == {(429, 3)}


@responses.activate
def test_html_200_on_a_list_is_retried_then_failed(client):
    responses.get(WORKS, body="<html><body>Maintenance</body></html>", content_type="text/html")
    asked = [PEERJ, F2, F3, F4]
    assert outcomes(list(client.fetch(asked))) == dict.fromkeys(asked, "failed")
    assert len(responses.calls) == 3


@responses.activate
def test_500_is_not_retried_and_a_list_500_falls_back_to_singletons(client):
    responses.get(WORKS, status=500, body="Internal Server Error", content_type="text/plain")
    responses.get(ANY_SINGLETON, body=text("work_peerj_4375.json"), content_type=JSON)
    asked = [PEERJ, F2, F3, F4]
    assert outcomes(list(client.fetch(asked))) == dict.fromkeys(asked, "ok")
    assert len(lists(responses.calls)) == 1 and len(responses.calls) == 1 + len(asked)


@responses.activate
def test_a_singleton_500_is_failed_after_one_request(client):
    responses.get(
        ANY_SINGLETON, status=500, body="Internal Server Error", content_type="text/plain"
    )
    [batch] = list(client.fetch([PEERJ]))
    [entry] = batch.outcomes
    assert (entry.status, entry.http_status, entry.attempts) == ("failed", 500, 1)
    assert len(responses.calls) == 1


@responses.activate
def test_filter_refused_with_400_falls_back_to_singletons(client):
    responses.get(WORKS, status=400, body=text("filter_400.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, status=404, body=text("not_found.txt"), content_type="text/plain")
    asked = [PEERJ, F2, F3, F4]
    assert outcomes(list(client.fetch(asked))) == dict.fromkeys(asked, "not_found")
    assert len(responses.calls) == 1 + len(asked)


# -- pacing and counts --------------------------------------------------------------------------------


@responses.activate
def test_lists_and_singletons_are_paced_in_separate_buckets(offline):
    s = Settings(mailto="team@example.org", crossref_rps=10.0, crossref_list_rps=3.0)
    c = CrossrefClient(s)
    responses.get(WORKS, body=text("list_counts.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, body=text("work_peerj_4375.json"), content_type=JSON)
    batch = [PEERJ, F2, F3, F4]
    list(c.fetch_counts(batch))
    list(c.fetch_counts(batch))  # second list waits for its own slot
    list(c.fetch([Identifier("doi", "10.5555/single")]))  # the singleton bucket is free
    assert offline == pytest.approx([1 / 3])


@responses.activate
def test_server_advertised_limits_replace_the_assumed_ones(client, offline):
    slower = {"x-rate-limit-limit": "1", "x-rate-limit-interval": "1s", "x-concurrency-limit": "1"}
    responses.get(WORKS, body=text("list_counts.json"), content_type=JSON, headers=slower)
    batch = [PEERJ, F2, F3, F4]
    list(client.fetch_counts(batch))
    list(client.fetch_counts(batch))
    assert offline == pytest.approx([1.0, WINDOW_MARGIN])  # the slot, then the window margin
    assert http.gate_for(client.http.pace_key("api.crossref.org"), 3).limit == 1


@responses.activate
def test_fetch_counts_selects_the_count_fields(client):
    responses.get(WORKS, body=text("list_counts.json"), content_type=JSON)
    asked = [PEERJ, F2, F3, F4]
    [batch] = list(client.fetch_counts(asked))
    assert query(responses.calls[0])["select"] == COUNT_FIELDS
    assert batch.raws[0].endpoint == "counts"
    assert outcomes([batch]) == dict.fromkeys(asked, "ok")


def every_doi(request):
    """A fake /works?filter= that knows every DOI it is asked about."""
    template = json.loads(text("work_peerj_4375.json"))["message"]
    dois = [
        p.removeprefix("doi:")
        for p in dict(parse_qsl(urlsplit(request.url).query))["filter"].split(",")
    ]
    items = [{**template, "DOI": d, "URL": f"https://doi.org/{d}"} for d in dois]
    body = json.loads(text("list_partial.json"))
    body["message"].update({"items": items, "total-results": len(items)})
    return 200, {"Content-Type": JSON, **POLITE}, json.dumps(body)


@responses.activate
def test_request_count_for_1000_dois(client, record_property):
    responses.add_callback(responses.GET, WORKS, callback=every_doi)
    dois = [Identifier("doi", f"10.5555/fixture.{i:05d}") for i in range(1000)]
    assert outcomes(list(client.fetch(dois))) == dict.fromkeys(dois, "ok")
    assert client.requests_made == len(responses.calls) == math.ceil(1000 / BATCH_SIZE)
    record_property("crossref_requests_1000_dois", client.requests_made)


@responses.activate
def test_long_dois_are_split_by_url_length(client):
    responses.add_callback(responses.GET, WORKS, callback=every_doi)
    dois = [Identifier("doi", f"10.5555/{'x' * 90}.{i:04d}") for i in range(120)]
    assert outcomes(list(client.fetch(dois))) == dict.fromkeys(dois, "ok")
    assert all(len(c.request.url) <= MAX_URL_CHARS for c in responses.calls)
    assert max(len(filter_dois(c)) for c in responses.calls) < BATCH_SIZE


@responses.activate
def test_a_200_without_a_work_is_retried_then_failed(client):
    responses.get(ANY_SINGLETON, body=text("filter_400.json"), content_type=JSON)
    [batch] = list(client.fetch([PEERJ]))
    [entry] = batch.outcomes
    assert (entry.status, entry.http_status, entry.attempts) == ("failed", 200, 3)
    assert "message.DOI" in entry.last_error


@responses.activate
def test_without_mailto_the_public_pool_limits_are_assumed(offline):
    c = CrossrefClient(Settings(mailto=None))
    responses.get(WORKS, body=text("list_counts.json"), content_type=JSON)
    batch = [PEERJ, F2, F3, F4]
    list(c.fetch_counts(batch))
    list(c.fetch_counts(batch))
    # 1 list/s, not the polite 3/s: the slot, then the sliding-window margin
    assert offline == pytest.approx([1.0, WINDOW_MARGIN])
    assert "mailto" not in query(responses.calls[0])
