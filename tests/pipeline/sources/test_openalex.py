"""pipeline.sources.openalex: batching, reconciliation, fallbacks, budget, paging, request counts."""

from __future__ import annotations

import copy
import json
import math
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
import responses

from pipeline import http
from pipeline.config import Settings
from pipeline.errors import BudgetExhausted
from pipeline.records import FetchBatch, Identifier
from pipeline.sources import openalex
from pipeline.sources.openalex import (
    COUNT_FIELDS,
    MAX_OR_VALUES,
    MAX_URL_CHARS,
    OpenAlexClient,
    classify_openalex_429,
    work_identifiers,
)

FIX = Path(__file__).parents[2] / "fixtures" / "clients" / "openalex"
BASE = "https://api.openalex.org"
WORKS = f"{BASE}/works"
JSON = "application/json"
ANY_SINGLETON = re.compile(r"https://api\.openalex\.org/works/.+")

PEERJ = Identifier("doi", "10.7717/peerj.4375")
FIXTURE2 = Identifier("doi", "10.5555/fixture.0002")
UNKNOWN = Identifier("doi", "10.5555/unknown.9999")

BUDGET_HEADERS = {
    "Retry-After": "53578",
    "X-RateLimit-Limit": "10000",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Credits-Required": "1",
    "X-RateLimit-Reset": "53578",
    "X-RateLimit-Limit-USD": "1",
    "X-RateLimit-Remaining-USD": "0.0000",
    "X-RateLimit-Cost-Required-USD": "0.0001",
}
THROTTLE_HEADERS = {
    "Retry-After": "1",
    "X-RateLimit-Limit": "10000",
    "X-RateLimit-Remaining": "9876",
    "X-RateLimit-Credits-Required": "1",
    "X-RateLimit-Remaining-USD": "0.9876",
    "X-RateLimit-Cost-Required-USD": "0.0001",
}


def text(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


class FakeClock:
    """monotonic() that only moves when something sleeps; records every sleep."""

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
def client() -> OpenAlexClient:
    return OpenAlexClient(Settings(max_attempts=3, openalex_rps=1000.0))


def outcomes(batches: list[FetchBatch]) -> dict[Identifier, str]:
    """identifier -> status, asserting each identifier appears exactly once across batches."""
    seen = Counter(o.identifier for b in batches for o in b.outcomes)
    assert all(n == 1 for n in seen.values()), seen
    return {o.identifier: o.status for b in batches for o in b.outcomes}


def query(call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url).query))


def filter_values(call) -> tuple[str, list[str]]:
    name, _, values = query(call)["filter"].partition(":")
    return name, values.split("|")


def template() -> dict:
    return json.loads(text("work_peerj_4375.json"))


def fake_work(n: int, *, doi: str | None = None, pmid: str | None = None) -> dict:
    w = copy.deepcopy(template())
    w["id"] = f"https://openalex.org/W49{n:08d}"
    w["doi"] = f"https://doi.org/{doi}" if doi else None
    ids = {"openalex": w["id"]}
    if doi:
        ids["doi"] = w["doi"]
    if pmid:
        ids["pmid"] = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}"
    w["ids"] = ids
    return w


def list_body(works: list[dict]) -> str:
    body = json.loads(text("list_empty.json"))
    body["meta"]["count"] = len(works)
    body["results"] = works
    return json.dumps(body)


# -- identifiers ---------------------------------------------------------------------------------


def test_work_identifiers_normalises_the_ids_urls():
    assert work_identifiers(template()) == {
        Identifier("openalex", "W2741809807"),
        Identifier("doi", "10.7717/peerj.4375"),
        Identifier("pmid", "29456894"),
        Identifier("pmcid", "PMC5815332"),
    }


@pytest.mark.parametrize(
    ("scheme", "raw", "expected"),
    [
        ("doi", "https://doi.org/10.1002/(SICI)1097-4636%3C469%3E", "10.1002/(sici)1097-4636<469>"),
        ("pmcid", "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5815332", "PMC5815332"),
        ("openalex", "https://openalex.org/w2741809807", "W2741809807"),
        ("mag", "2741809807", None),
        ("pmid", None, None),
    ],
)
def test_normalise_id_handles_each_url_shape(scheme, raw, expected):
    assert openalex.normalise_id(scheme, raw) == expected


def test_a_scheme_openalex_cannot_ask_is_refused_before_any_request(client):
    with responses.RequestsMock() as rs:
        with pytest.raises(ValueError, match="arxiv"):
            client.fetch([PEERJ, Identifier("arxiv", "2101.00001")])
        assert len(rs.calls) == 0


# -- batches and reconciliation ------------------------------------------------------------------


@responses.activate
def test_a_doi_missing_from_a_complete_answer_is_not_found_without_a_singleton(client):
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    batches = list(client.fetch([PEERJ, FIXTURE2, UNKNOWN]))
    assert outcomes(batches) == {PEERJ: "ok", FIXTURE2: "ok", UNKNOWN: "not_found"}
    assert len(responses.calls) == 1  # meta.count == 2 results: the answer settles the third
    name, values = filter_values(responses.calls[0])
    assert (name, values) == ("doi", [PEERJ.value, FIXTURE2.value, UNKNOWN.value])
    assert query(responses.calls[0])["per_page"] == "100"
    [batch] = batches
    [list_raw] = batch.raws
    assert list_raw.requested == (PEERJ, FIXTURE2, UNKNOWN) and list_raw.endpoint == "works"
    assert list_raw.body == text("list_partial_doi.json")
    [absent] = [o for o in batch.outcomes if o.identifier == UNKNOWN]
    assert (absent.http_status, absent.attempts) == (200, 1)
    assert absent.last_error.startswith("absent from a complete filter answer")
    assert batch.requests_made == 1


def _short_answer(works: list[dict], count: int) -> str:
    """A last page (no next_cursor) whose meta.count claims more works than it holds."""
    body = json.loads(list_body(works))
    body["meta"]["count"], body["meta"]["next_cursor"] = count, None
    return json.dumps(body)


@responses.activate
def test_an_answer_short_of_its_meta_count_is_no_evidence_every_miss_is_reasked(client):
    responses.get(WORKS, body=_short_answer([fake_work(1, doi=FIXTURE2.value)], 2),
                  content_type=JSON)  # fmt: skip
    responses.get(f"{WORKS}/doi:{UNKNOWN.value}", status=404, body=text("not_found.json"),
                  content_type=JSON)  # fmt: skip
    assert outcomes(list(client.fetch([FIXTURE2, UNKNOWN]))) == {
        FIXTURE2: "ok",
        UNKNOWN: "not_found",
    }
    assert len(responses.calls) == 2  # the singleton was asked


@pytest.mark.parametrize(
    "doubtful",
    [
        "10.1002/(sici)1097-4636(199706)35:4<469::aid-jbm6>3.0.co;2-h",  # SICI: : ; < >
        "10.5555/caf\u00e9.0001",  # non-ASCII
        "10.5555/r&d.0001",  # & needs encoding (pyalex#41)
        "10.5555/a[1]",
    ],
)
@responses.activate
def test_a_doi_of_doubtful_spelling_missing_from_the_answer_can_still_resolve_singly(
    client, doubtful
):
    ident = Identifier("doi", doubtful)
    responses.get(WORKS, body=text("list_empty.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, body=json.dumps(fake_work(3, doi=doubtful)), content_type=JSON)
    assert outcomes(list(client.fetch([ident]))) == {ident: "ok"}
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    ("ident", "settled"),
    [
        (Identifier("doi", "10.1016/s0168-1605(01)00734-6"), True),  # found by a filter: oR#310
        (Identifier("doi", "10.7717/peerj.4375"), True),
        (Identifier("pmid", "29456894"), True),
        (Identifier("pmcid", "PMC5815332"), False),  # the filter's spelling is UNCONFIRMED
        (Identifier("openalex", "W2400000001"), False),  # a merged W id answers 301 singly
        (Identifier("doi", "10.1002/(sici)1099-0771(199806)11:2<107::aid-bdm292>3.0.co;2-y"),
         False),
    ],
)  # fmt: skip
def test_which_values_a_complete_answer_settles(ident, settled):
    assert openalex.settled_by_list(ident) is settled


@responses.activate
def test_a_pmid_missing_from_a_complete_answer_is_settled_but_a_pmcid_is_reasked(client):
    found, pmid = Identifier("pmid", "38000002"), Identifier("pmid", "38000009")
    pmcid = Identifier("pmcid", "PMC9000009")
    w = fake_work(5, pmid=found.value)
    responses.get(WORKS, match=[responses.matchers.query_param_matcher(
        {"filter": "ids.pmid:38000002|38000009"}, strict_match=False)],
        body=list_body([w]), content_type=JSON)  # fmt: skip
    responses.get(WORKS, body=text("list_empty.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, status=404, body=text("not_found.json"), content_type=JSON)
    got = outcomes(list(client.fetch([found, pmid, pmcid])))
    assert got == {found: "ok", pmid: "not_found", pmcid: "not_found"}
    paths = [urlsplit(c.request.url).path for c in responses.calls if "/works/" in c.request.url]
    assert paths == ["/works/pmcid:PMC9000009", "/works/pmcid:9000009"]  # no pmid singleton


@responses.activate
def test_a_pmid_filter_that_never_found_anything_settles_nothing(client):
    """ids.pmid batches are UNCONFIRMED (api-notes 1.4): an answer of 0 results is no evidence
    until the filter has found some PMID in this run."""
    pmid = Identifier("pmid", "38000009")
    responses.get(WORKS, body=text("list_empty.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, status=404, body=text("not_found.json"), content_type=JSON)
    assert outcomes(list(client.fetch([pmid]))) == {pmid: "not_found"}
    assert [urlsplit(c.request.url).path for c in responses.calls][-1] == "/works/pmid:38000009"


@responses.activate
def test_a_merged_work_is_followed_to_its_surviving_id(client):
    old = Identifier("openalex", "W2400000001")
    responses.get(WORKS, body=text("list_empty.json"), content_type=JSON)
    responses.get(f"{WORKS}/W2400000001", status=301, headers={"Location": f"{WORKS}/W2741809807"})
    responses.get(f"{WORKS}/W2741809807", body=text("work_peerj_4375.json"), content_type=JSON)
    batches = list(client.fetch([old]))
    assert outcomes(batches) == {old: "ok"}
    raw = batches[-1].raws[0]
    assert raw.request_url.endswith("/works/W2741809807") and raw.requested == (old,)
    assert filter_values(responses.calls[0]) == ("openalex", ["W2400000001"])


@responses.activate
def test_sici_doi_rides_in_the_filter_encoded_exactly_once(client):
    sici = Identifier("doi", "10.1002/(sici)1097-4636(199706)35:4<469::aid-jbm6>3.0.co;2-h")
    w = fake_work(1, doi=sici.value)
    responses.get(WORKS, body=list_body([w]), content_type=JSON)
    assert outcomes(list(client.fetch([sici]))) == {sici: "ok"}
    wire = responses.calls[0].request.url
    assert "doi:10.1002/%28sici%291097-4636%28199706%2935:4%3C469::aid-jbm6%3E3.0.co%3B2-h" in wire
    assert "%25" not in wire


@responses.activate
def test_a_doi_with_a_comma_is_looked_up_singly_never_in_a_filter(client):
    comma = Identifier("doi", "10.5555/a,b")
    responses.get(ANY_SINGLETON, body=json.dumps(fake_work(2, doi=comma.value)), content_type=JSON)
    assert outcomes(list(client.fetch([comma]))) == {comma: "ok"}
    assert [urlsplit(c.request.url).path for c in responses.calls] == ["/works/doi:10.5555/a%2Cb"]


@responses.activate
def test_pmid_batch_refused_with_400_falls_back_to_singletons(client):
    found, absent = Identifier("pmid", "38000002"), Identifier("pmid", "38000009")
    responses.get(WORKS, status=400, body=text("filter_400.json"), content_type=JSON)
    responses.get(
        f"{WORKS}/pmid:38000002", body=text("single_pmid_38000002.json"), content_type=JSON
    )
    responses.get(f"{WORKS}/pmid:38000009", status=404, body=text("not_found.json"))
    batches = list(client.fetch([found, absent]))
    assert outcomes(batches) == {found: "ok", absent: "not_found"}
    assert filter_values(responses.calls[0]) == ("ids.pmid", ["38000002", "38000009"])
    assert len(responses.calls) == 3


@pytest.mark.parametrize(("first", "second", "status"), [(404, 200, "ok"), (404, 404, "not_found")])
@responses.activate
def test_pmcid_singleton_tries_both_spellings(client, first, second, status):
    pmcid = Identifier("pmcid", "PMC5815332")
    responses.get(WORKS, body=text("list_empty.json"), content_type=JSON)
    for path, code in ((f"pmcid:{pmcid.value}", first), ("pmcid:5815332", second)):
        body = text("work_peerj_4375.json") if code == 200 else text("not_found.json")
        responses.get(f"{WORKS}/{path}", status=code, body=body, content_type=JSON)
    batches = list(client.fetch([pmcid]))
    assert outcomes(batches) == {pmcid: status}
    assert len(batches[-1].raws) == (1 if status == "ok" else 2)


@responses.activate
def test_a_refused_singleton_is_failed_not_not_found(client):
    odd = Identifier("doi", "10.5555/x|y")
    responses.get(ANY_SINGLETON, status=403, body=text("filter_400.json"), content_type=JSON)
    [batch] = list(client.fetch([odd]))
    [entry] = batch.outcomes
    assert (entry.status, entry.http_status) == ("failed", 403)
    assert entry.last_error.startswith("HTTP 403")


# -- faults ------------------------------------------------------------------------------------------


@responses.activate
def test_html_200_is_retried_then_recorded_failed_never_not_found(client, offline):
    responses.get(WORKS, body=text("maintenance.html"), content_type="text/html")
    batches = list(client.fetch([PEERJ, FIXTURE2]))
    assert outcomes(batches) == {PEERJ: "failed", FIXTURE2: "failed"}
    entry = batches[0].outcomes[0]
    assert (entry.http_status, entry.attempts) == (200, 3) and "HTML" in entry.last_error
    assert len(offline) == 2 and batches[0].raws == ()


@responses.activate
def test_truncated_body_is_retried_and_the_complete_one_kept(client):
    responses.get(WORKS, body=text("list_truncated.json"), content_type=JSON)
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    batches = list(client.fetch([PEERJ, FIXTURE2]))
    assert outcomes(batches) == {PEERJ: "ok", FIXTURE2: "ok"}
    assert batches[0].raws[0].body == text("list_partial_doi.json")
    assert batches[0].outcomes[0].attempts == 2


@responses.activate
def test_500_is_retried_for_openalex(client):
    responses.get(WORKS, status=500, json={"error": "Internal Server Error", "message": "..."})
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    assert outcomes(list(client.fetch([PEERJ, FIXTURE2]))) == {PEERJ: "ok", FIXTURE2: "ok"}


@responses.activate
def test_per_second_429_waits_retry_after_and_retries(client, offline):
    responses.get(WORKS, status=429, headers=THROTTLE_HEADERS, body=text("throttle_429.json"))
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    assert outcomes(list(client.fetch([PEERJ, FIXTURE2]))) == {PEERJ: "ok", FIXTURE2: "ok"}
    assert offline == [1.0] and len(responses.calls) == 2


@responses.activate
def test_budget_spent_on_lists_falls_back_to_free_singletons(client):
    responses.get(WORKS, status=429, headers=BUDGET_HEADERS, body=text("budget_429.json"))
    responses.get(
        f"{WORKS}/doi:{PEERJ.value}", body=text("work_peerj_4375.json"), content_type=JSON
    )
    responses.get(f"{WORKS}/doi:{FIXTURE2.value}", status=404, body=text("not_found.json"))
    pmid = Identifier("pmid", "38000002")
    responses.get(
        f"{WORKS}/pmid:38000002", body=text("single_pmid_38000002.json"), content_type=JSON
    )
    batches = list(client.fetch([PEERJ, FIXTURE2, pmid]))
    assert outcomes(batches) == {PEERJ: "ok", FIXTURE2: "not_found", pmid: "ok"}
    lists = [c for c in responses.calls if urlsplit(c.request.url).path == "/works"]
    assert len(lists) == 1  # the pmid batch is not tried as a list once the budget is spent


@responses.activate
def test_budget_refused_for_singletons_too_leaves_the_rest_pending_unasked(client):
    responses.get(WORKS, status=429, headers=BUDGET_HEADERS, body=text("budget_429.json"))
    responses.get(ANY_SINGLETON, status=429, headers=BUDGET_HEADERS, body=text("budget_429.json"))
    ids = [PEERJ, FIXTURE2, UNKNOWN]
    batches = list(client.fetch(ids))
    assert outcomes(batches) == dict.fromkeys(ids, "pending")
    assert len(responses.calls) == 2  # one list, one singleton, then nothing more
    assert all(o.http_status == 429 for b in batches for o in b.outcomes)


@responses.activate
def test_unreachable_host_leaves_everything_pending_quickly(client):
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    responses.get(WORKS, body=refused)
    ids = [PEERJ, Identifier("doi", "10.5555/a,b"), Identifier("pmid", "1")]
    batches = list(client.fetch(ids))
    assert outcomes(batches) == dict.fromkeys(ids, "pending")
    assert len(responses.calls) == 2  # two tries of the first request, none after


def test_classify_openalex_429_tells_budget_from_throttle():
    def resp(headers):
        r = requests.Response()
        r.status_code = 429
        r.headers.update(headers)
        return r

    assert isinstance(classify_openalex_429(resp(BUDGET_HEADERS)), BudgetExhausted)
    assert classify_openalex_429(resp(THROTTLE_HEADERS)) is None
    assert isinstance(classify_openalex_429(resp({"Retry-After": "40000"})), BudgetExhausted)
    assert classify_openalex_429(resp({})) is None


# -- paging, counts, keys -------------------------------------------------------------------------


@responses.activate
def test_cursor_paging_follows_next_cursor_and_stops_at_meta_count(client, monkeypatch):
    monkeypatch.setattr(openalex, "PER_PAGE", 2)
    ids = [PEERJ, FIXTURE2, Identifier("doi", "10.5555/fixture.0003")]
    responses.get(WORKS, body=text("list_cursor_page1.json"), content_type=JSON)
    responses.get(WORKS, body=text("list_cursor_page2.json"), content_type=JSON)
    batches = list(client.fetch(ids))
    assert outcomes(batches) == dict.fromkeys(ids, "ok")
    page1 = json.loads(text("list_cursor_page1.json"))
    assert [query(c)["cursor"] for c in responses.calls] == ["*", page1["meta"]["next_cursor"]]
    assert len(batches[0].raws) == 2


@responses.activate
def test_fetch_counts_selects_the_count_fields(client):
    responses.get(WORKS, body=text("list_counts_doi.json"), content_type=JSON)
    [batch] = list(client.fetch_counts([PEERJ, FIXTURE2]))
    assert query(responses.calls[0])["select"] == COUNT_FIELDS
    assert batch.raws[0].endpoint == "counts"
    assert {o.status for o in batch.outcomes} == {"ok"}


@responses.activate
def test_api_key_is_sent_but_never_stored():
    c = OpenAlexClient(Settings(openalex_api_key="OA-K3Y", openalex_rps=1000.0))
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, status=404, body=text("not_found.json"))
    batches = list(c.fetch([PEERJ, FIXTURE2, UNKNOWN]))
    assert all(query(call)["api_key"] == "OA-K3Y" for call in responses.calls)
    assert all("OA-K3Y" not in r.request_url for b in batches for r in b.raws)


def test_duplicate_identifiers_get_one_outcome(client):
    with responses.RequestsMock() as rs:
        rs.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
        batches = list(client.fetch([PEERJ, FIXTURE2, PEERJ]))
        assert outcomes(batches) == {PEERJ: "ok", FIXTURE2: "ok"}


# -- request counts for 1,000 identifiers -----------------------------------------------------------


def serve_every_value(request):
    """A fake /works that knows every DOI and PMID it is asked about."""
    q = dict(parse_qsl(urlsplit(request.url).query))
    name, _, raw = q["filter"].partition(":")
    works = [
        fake_work(i, doi=v if name == "doi" else None, pmid=v if name == "ids.pmid" else None)
        for i, v in enumerate(raw.split("|"))
    ]
    return 200, {"Content-Type": JSON}, list_body(works)


def long_doi(i: int) -> str:
    return f"10.5555/enrich.request-count.{i:06d}.with-a-realistically-long-suffix"


@responses.activate
def test_request_count_for_1000_dois_and_1000_pmids(client, record_property):
    responses.add_callback(responses.GET, WORKS, callback=serve_every_value)
    dois = [Identifier("doi", f"10.5555/fixture.{i:05d}") for i in range(1000)]
    pmids = [Identifier("pmid", str(30000000 + i)) for i in range(1000)]
    batches = list(client.fetch(dois + pmids))
    assert outcomes(batches) == dict.fromkeys(dois + pmids, "ok")
    per_scheme = math.ceil(1000 / MAX_OR_VALUES)
    assert client.requests_made == len(responses.calls) == 2 * per_scheme
    record_property("openalex_requests_1000_dois_1000_pmids", client.requests_made)


@responses.activate
def test_long_dois_are_split_by_url_length_under_the_limit(client):
    responses.add_callback(responses.GET, WORKS, callback=serve_every_value)
    dois = [Identifier("doi", long_doi(i)) for i in range(300)]
    assert outcomes(list(client.fetch(dois))) == dict.fromkeys(dois, "ok")
    sizes = [len(filter_values(c)[1]) for c in responses.calls]
    assert all(len(c.request.url) <= MAX_URL_CHARS for c in responses.calls)
    assert sum(sizes) == 300 and max(sizes) < MAX_OR_VALUES  # length, not count, split them


@responses.activate
def test_request_count_when_the_pmid_filter_is_refused(client, record_property):
    def pmid_filter_refused(request):
        return 400, {"Content-Type": JSON}, text("filter_400.json")

    def singleton(request):
        pmid = unquote(urlsplit(request.url).path).rsplit(":", 1)[1]
        return 200, {"Content-Type": JSON}, json.dumps(fake_work(int(pmid), pmid=pmid))

    responses.add_callback(responses.GET, WORKS, callback=pmid_filter_refused)
    responses.add_callback(responses.GET, ANY_SINGLETON, callback=singleton)
    pmids = [Identifier("pmid", str(30000000 + i)) for i in range(1000)]
    assert outcomes(list(client.fetch(pmids))) == dict.fromkeys(pmids, "ok")
    # one refused list; the run then asks every PMID singly without retrying the filter
    assert client.requests_made == 1 + 1000
    assert len([c for c in responses.calls if urlsplit(c.request.url).path == "/works"]) == 1
    record_property("openalex_requests_1000_pmids_filter_refused", client.requests_made)


@responses.activate
def test_a_401_for_lists_switches_the_run_to_singletons(client):
    responses.get(WORKS, status=401, json={"error": "Unauthorized", "message": "API key required"})
    responses.get(
        f"{WORKS}/doi:{PEERJ.value}", body=text("work_peerj_4375.json"), content_type=JSON
    )
    responses.get(
        f"{WORKS}/pmid:38000002", body=text("single_pmid_38000002.json"), content_type=JSON
    )
    pmid = Identifier("pmid", "38000002")
    assert outcomes(list(client.fetch([PEERJ, pmid]))) == {PEERJ: "ok", pmid: "ok"}
    assert len([c for c in responses.calls if urlsplit(c.request.url).path == "/works"]) == 1


@responses.activate
def test_a_200_without_results_is_retried_as_transient(client):
    responses.get(WORKS, body=text("filter_400.json"), content_type=JSON)
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    batches = list(client.fetch([PEERJ, FIXTURE2]))
    assert outcomes(batches) == {PEERJ: "ok", FIXTURE2: "ok"}
    assert batches[0].outcomes[0].attempts == 2


@responses.activate
def test_a_rate_limit_403_is_retried_but_a_bad_parameter_403_is_not(client):
    throttled = {"error": "Rate limit exceeded", "message": "Rate limit exceeded; slow down."}
    responses.get(WORKS, status=403, json=throttled)
    responses.get(WORKS, body=text("list_partial_doi.json"), content_type=JSON)
    assert outcomes(list(client.fetch([PEERJ, FIXTURE2]))) == {PEERJ: "ok", FIXTURE2: "ok"}
    assert len(responses.calls) == 2
    odd = Identifier("doi", "10.5555/x|y")
    responses.get(ANY_SINGLETON, status=403, body=text("filter_400.json"), content_type=JSON)
    assert outcomes(list(client.fetch([odd]))) == {odd: "failed"}
    assert len(responses.calls) == 3


@responses.activate
def test_a_filter_miss_whose_singleton_is_refused_is_not_found_with_the_reason(client):
    amp = Identifier("doi", "10.5555/r&d.0001")
    responses.get(WORKS, body=text("list_empty.json"), content_type=JSON)
    responses.get(ANY_SINGLETON, status=403, body=text("filter_400.json"), content_type=JSON)
    [listed, single] = list(client.fetch([amp]))
    assert "doi:10.5555/r%26d.0001" in responses.calls[0].request.url  # & rides encoded
    [entry] = single.outcomes
    assert (entry.status, entry.http_status) == ("not_found", 403)
    assert entry.last_error.startswith("absent from its filter answer")
