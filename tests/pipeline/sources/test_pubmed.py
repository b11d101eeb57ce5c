"""PubMed client: batching, the wire format, reconciliation and fault handling (offline).

Fixture bodies live in tests/fixtures/clients/pubmed/ and are shaped like NCBI's real answers
(../shared/docs/api-notes.md section 3). Sleeps and the pacing clock are faked through
``pipeline.http.sleep`` / ``pipeline.http.monotonic``.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses

import pipeline.http
from pipeline.config import DEFAULT_EUTILS_URL, DEFAULT_IDCONV_URL, Settings
from pipeline.records import FetchBatch, Identifier
from pipeline.sources import pubmed
from pipeline.sources.pubmed import PubMedClient

FIX = Path(__file__).resolve().parents[2] / "fixtures" / "clients" / "pubmed"
EFETCH = DEFAULT_EUTILS_URL + "efetch.fcgi"
ESEARCH = DEFAULT_EUTILS_URL + "esearch.fcgi"
ELINK = DEFAULT_EUTILS_URL + "elink.fcgi"
IDCONV = DEFAULT_IDCONV_URL
SECRET = "sekret-ncbi-key-0123456789"
# The Content-Type headers NCBI sends (E-utilities and the converter declare UTF-8).
XML = "text/xml; charset=UTF-8"
JSON = "application/json; charset=UTF-8"
HTML = "text/html; charset=UTF-8"


def body(name: str) -> str:
    return (FIX / name).read_text(encoding="utf-8")


def content_type_of(name: str) -> str:
    return {"xml": XML, "json": JSON, "html": HTML}[name.rsplit(".", 1)[1]]


def pmid(value: str) -> Identifier:
    return Identifier("pmid", value)


def doi(value: str) -> Identifier:
    return Identifier("doi", value)


def pmcid(value: str) -> Identifier:
    return Identifier("pmcid", value)


class FakeClock:
    """Records every sleep and advances a fake monotonic clock by it."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.now += seconds

    def monotonic(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    pipeline.http.reset_host_state()
    fake = FakeClock()
    monkeypatch.setattr(pipeline.http, "sleep", fake.sleep)
    monkeypatch.setattr(pipeline.http, "monotonic", fake.monotonic)
    yield fake
    pipeline.http.reset_host_state()


def settings(**overrides: object) -> Settings:
    return Settings(mailto="dev@example.org", max_attempts=3, **overrides)


def run(batches) -> tuple[list, dict]:
    """All raws, and outcome per identifier (asserting each identifier appears exactly once)."""
    batches = list(batches)
    assert all(isinstance(b, FetchBatch) and b.source == "pubmed" for b in batches)
    raws = [r for b in batches for r in b.raws]
    entries = [e for b in batches for e in b.outcomes]
    seen = Counter(e.identifier for e in entries)
    assert all(n == 1 for n in seen.values()), seen
    return raws, {e.identifier: e for e in entries}


def wire(call) -> list[tuple[str, str]]:
    """The parameters a request carried: its query for a GET, its form body for a POST."""
    req = call.request
    if req.method == "POST":
        raw = req.body.decode() if isinstance(req.body, bytes) else req.body
        return parse_qsl(raw, keep_blank_values=True)
    return parse_qsl(urlsplit(req.url).query, keep_blank_values=True)


def param(call, name: str) -> list[str]:
    return [v for k, v in wire(call) if k == name]


def calls_to(url: str) -> list:
    return [c for c in responses.calls if c.request.url.split("?")[0] == url]


FIXTURE_PMIDS = list(pubmed.efetch_ids(body("efetch_set.xml")))


# --------------------------------------------------------------------------------------------
# efetch
# --------------------------------------------------------------------------------------------


@responses.activate
def test_efetch_set_with_markup_medlinedate_collective_author_and_book_is_all_ok():
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    ids = [pmid(p) for p in FIXTURE_PMIDS]

    raws, out = run(PubMedClient(settings()).fetch(ids))

    assert {i: out[i].status for i in ids} == {i: "ok" for i in ids}
    assert [r.endpoint for r in raws] == ["efetch"]
    assert raws[0].body == body("efetch_set.xml")  # untouched
    assert raws[0].requested == tuple(ids)
    assert all(out[i].http_status == 200 and out[i].attempts == 1 for i in ids)


def test_efetch_ids_reads_book_pmids_and_ignores_reference_list_dois():
    found = pubmed.efetch_ids(body("efetch_set.xml"))

    assert "20301462" in found  # the PubmedBookArticle
    assert found["31452104"] == {"10.3168/jds.2019-16533"}
    cited = "10.3168/jds.s0022-0302(93)77504-9"  # only in that record's ReferenceList
    assert all(cited not in dois for dois in found.values())


@responses.activate
def test_efetch_get_carries_db_retmode_comma_joined_ids_tool_and_email():
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    ids = [pmid(p) for p in FIXTURE_PMIDS]

    run(PubMedClient(settings()).fetch(ids))

    (call,) = responses.calls
    assert call.request.method == "GET"
    assert param(call, "db") == ["pubmed"] and param(call, "retmode") == ["xml"]
    assert param(call, "id") == [",".join(FIXTURE_PMIDS)]
    assert param(call, "tool") == ["enrich"] and param(call, "email") == ["dev@example.org"]


@responses.activate
def test_pmid_missing_from_a_partial_efetch_answer_is_not_found_and_the_rest_ok():
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    missing = pmid("39999999")
    ids = [pmid(p) for p in FIXTURE_PMIDS] + [missing]

    _, out = run(PubMedClient(settings()).fetch(ids))

    assert out[missing].status == "not_found"
    assert out[missing].http_status == 200
    assert missing.value in out[missing].last_error
    assert all(out[i].status == "ok" for i in ids if i != missing)


@responses.activate
def test_empty_pubmed_article_set_marks_every_pmid_not_found():
    responses.add(responses.GET, EFETCH, body=body("efetch_empty.xml"), content_type=XML)
    ids = [pmid("39999998"), pmid("39999999")]

    raws, out = run(PubMedClient(settings()).fetch(ids))

    assert [out[i].status for i in ids] == ["not_found", "not_found"]
    assert len(raws) == 1  # the empty answer is still evidence, kept


@responses.activate
def test_above_200_ids_efetch_goes_as_post_with_ids_in_the_form_body():
    responses.add(responses.POST, EFETCH, body=body("efetch_empty.xml"), content_type=XML)
    values = [str(30000000 + n) for n in range(pubmed.GET_MAX_IDS + 50)]

    raws, out = run(PubMedClient(settings(), efetch_batch=500).fetch([pmid(v) for v in values]))

    (call,) = responses.calls
    assert call.request.method == "POST"
    assert urlsplit(call.request.url).query == ""  # nothing in the URL
    assert param(call, "id") == [",".join(values)]
    assert param(call, "db") == ["pubmed"] and param(call, "tool") == ["enrich"]
    assert ",".join(values) in raws[0].request_url.replace(
        "%2C", ","
    )  # stored URL says what was asked
    assert len(out) == len(values)


@responses.activate
def test_exactly_200_ids_still_go_as_get():
    responses.add(responses.GET, EFETCH, body=body("efetch_empty.xml"), content_type=XML)
    values = [str(30000000 + n) for n in range(pubmed.GET_MAX_IDS)]

    run(PubMedClient(settings()).fetch([pmid(v) for v in values]))

    (call,) = responses.calls
    assert call.request.method == "GET"
    assert param(call, "id") == [",".join(values)]


@responses.activate
def test_default_batches_split_efetch_at_200_ids_and_yield_one_batch_each():
    responses.add(responses.GET, EFETCH, body=body("efetch_empty.xml"), content_type=XML)
    n = pubmed.EFETCH_BATCH * 2 + 1

    batches = list(PubMedClient(settings()).fetch([pmid(str(30000000 + k)) for k in range(n)]))

    assert [len(b.outcomes) for b in batches] == [pubmed.EFETCH_BATCH, pubmed.EFETCH_BATCH, 1]
    assert [b.requests_made for b in batches] == [1, 1, 1]


# --------------------------------------------------------------------------------------------
# errors inside 200, 429, 500 (these rely on the HTTP layer's retries)
# --------------------------------------------------------------------------------------------


@responses.activate
def test_ncbi_429_is_retried_at_the_pace_first_then_on_the_backoff_schedule(clock, monkeypatch):
    monkeypatch.setattr(pipeline.http._JITTER, "uniform", lambda low, high: high)
    for _ in range(2):
        responses.add(
            responses.GET, EFETCH, status=429, body=body("rate_limit_429.json"), content_type=JSON
        )
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    s = settings()
    ids = [pmid(p) for p in FIXTURE_PMIDS]

    _, out = run(PubMedClient(s).fetch(ids))

    # NCBI's 429 means over the per-second window: the first retry waits for the next slot only
    slot, backoff = 1 / s.effective_ncbi_rps, pipeline.http.backoff_delay(2, cap=s.max_backoff)
    assert clock.sleeps[0] == pytest.approx(slot) and backoff in clock.sleeps
    assert all(out[i].status == "ok" and out[i].attempts == 3 for i in ids)
    assert "Retry-After" not in responses.calls[0].response.headers


@responses.activate
def test_429_that_outlasts_the_retries_is_failed_never_not_found():
    responses.add(
        responses.GET, EFETCH, status=429, body=body("rate_limit_429.json"), content_type=JSON
    )
    ids = [pmid("31452104")]

    _, out = run(PubMedClient(settings()).fetch(ids))

    assert out[ids[0]].status == "failed"
    assert out[ids[0]].http_status == 429
    assert out[ids[0]].attempts == settings().max_attempts


@responses.activate
def test_ncbi_500_proxy_error_is_retried():
    responses.add(responses.GET, EFETCH, status=500, body="Internal Server Error")
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)

    _, out = run(PubMedClient(settings()).fetch([pmid("31452104")]))

    assert out[pmid("31452104")].status == "ok"
    assert out[pmid("31452104")].attempts == 2


@pytest.mark.parametrize(
    "bad, content_type",
    [
        ("maintenance.html", HTML),
        ("efetch_truncated.xml", XML),
        ("efetch_error.xml", XML),
        ("efetch_bare_error.xml", XML),
    ],
)
@responses.activate
def test_error_bodies_in_200_are_retried_and_recover(bad, content_type):
    responses.add(responses.GET, EFETCH, body=body(bad), content_type=content_type)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)

    raws, out = run(PubMedClient(settings()).fetch([pmid("31452104")]))

    assert out[pmid("31452104")].status == "ok"
    assert out[pmid("31452104")].attempts == 2
    assert [r.body for r in raws] == [body("efetch_set.xml")]  # the bad body is not kept


@pytest.mark.parametrize("bad", ["maintenance.html", "efetch_truncated.xml", "efetch_error.xml"])
@responses.activate
def test_error_bodies_in_200_that_persist_are_failed_not_not_found(bad):
    responses.add(responses.GET, EFETCH, body=body(bad), content_type=content_type_of(bad))
    ident = pmid("31452104")

    raws, out = run(PubMedClient(settings()).fetch([ident]))

    assert out[ident].status == "failed"
    assert out[ident].http_status == 200
    assert out[ident].attempts == settings().max_attempts
    assert "\n" not in out[ident].last_error
    assert raws == []


@pytest.mark.parametrize("bad", ["esearch_error.json", "lbsm_neg.json", "maintenance.html"])
@responses.activate
def test_esearch_errors_in_200_are_retried(bad):
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body(bad), content_type=content_type_of(bad))
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    ident = doi("10.9999/not-in-pubmed")

    _, out = run(PubMedClient(settings()).fetch([ident]))

    assert len(calls_to(ESEARCH)) == 2
    assert out[ident].status == "not_found"


@responses.activate
def test_ncbi_json_error_that_persists_is_failed_and_named_in_last_error():
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("lbsm_neg.json"), content_type=JSON)
    ident = doi("10.9999/not-in-pubmed")

    _, out = run(PubMedClient(settings()).fetch([ident]))

    assert out[ident].status == "failed"
    assert json.loads(body("lbsm_neg.json"))["error"] in out[ident].last_error


@responses.activate
def test_truncated_json_from_the_converter_is_retried():
    whole = body("idconv_pmcid.json")
    responses.add(responses.GET, IDCONV, body=whole[: len(whole) // 2], content_type=JSON)
    responses.add(responses.GET, IDCONV, body=whole, content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)

    _, out = run(PubMedClient(settings()).fetch([pmcid("PMC6814520")]))

    assert len(calls_to(IDCONV)) == 2
    assert out[pmcid("PMC6814520")].status == "ok"


# --------------------------------------------------------------------------------------------
# PMC ID converter
# --------------------------------------------------------------------------------------------


@responses.activate
def test_converter_integer_pmid_resolves_a_pmcid_and_errmsg_is_not_found():
    responses.add(responses.GET, IDCONV, body=body("idconv_pmcid.json"), content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    known, unknown = pmcid("PMC6814520"), pmcid("PMC0000001")

    raws, out = run(PubMedClient(settings()).fetch([known, unknown]))

    assert out[known].status == "ok" and out[unknown].status == "not_found"
    resolved = json.loads(body("idconv_pmcid.json"))["records"][0]["pmid"]
    assert isinstance(resolved, int)
    assert param(calls_to(EFETCH)[0], "id") == [str(resolved)]
    assert [r.endpoint for r in raws] == ["idconv", "efetch"]
    assert raws[0].requested == (known, unknown)  # identity evidence kept with what it answers
    assert out[known].attempts == 2  # converter + efetch


@responses.activate
def test_converter_calls_always_send_idtype_format_tool_email_and_one_type_each():
    responses.add(responses.GET, IDCONV, body=body("idconv_pmcid.json"), content_type=JSON)
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    ids = [
        doi("10.3168/jds.2019-16533"),
        pmcid("PMC6814520"),
        doi("10.9999/not-in-pubmed"),
        pmcid("PMC0000001"),
        pmid("9873310"),
    ]

    run(PubMedClient(settings()).fetch(ids))

    conv = calls_to(IDCONV)
    assert len(conv) == 2
    for call in conv:
        (idtype,) = param(call, "idtype")
        sent = param(call, "ids")[0].split(",")
        assert {i.scheme for i in ids if i.value in sent} == {idtype}
        assert param(call, "format") == ["json"]
        assert param(call, "tool") == ["enrich"] and param(call, "email") == ["dev@example.org"]
    assert sorted(param(c, "idtype")[0] for c in conv) == ["doi", "pmcid"]


@responses.activate
def test_converter_400_is_failed_not_not_found():
    responses.add(
        responses.GET, IDCONV, status=400, body=body("idconv_400_mixed.json"), content_type=JSON
    )
    ident = pmcid("PMC6814520")

    _, out = run(PubMedClient(settings()).fetch([ident]))

    assert out[ident].status == "failed" and out[ident].http_status == 400
    assert not calls_to(EFETCH)


@responses.activate
def test_more_than_200_pmcids_are_split_into_converter_calls_of_at_most_200():
    responses.add(responses.GET, IDCONV, json={"status": "ok", "records": []})
    ids = [pmcid(f"PMC{100000 + n}") for n in range(pubmed.IDCONV_BATCH + 1)]

    _, out = run(PubMedClient(settings(), efetch_batch=1000).fetch(ids))

    sizes = [len(param(c, "ids")[0].split(",")) for c in calls_to(IDCONV)]
    assert sizes == [pubmed.IDCONV_BATCH, 1]
    assert {e.status for e in out.values()} == {
        "failed"
    }  # no record for them: not proof of absence


@responses.activate
def test_converter_is_always_a_get_with_long_doi_lists_cut_by_length():
    responses.add(responses.GET, IDCONV, json={"status": "ok", "records": []})
    responses.add_callback(responses.GET, ESEARCH, callback=esearch_naming_all_not_found)
    long_doi = "10.5555/" + "x" * 60 + ".{}"
    ids = [doi(long_doi.format(k)) for k in range(pubmed.IDCONV_BATCH)]

    run(PubMedClient(settings()).fetch(ids))

    conv = calls_to(IDCONV)
    assert {c.request.method for c in conv} == {"GET"}
    assert len(conv) > 1
    assert all(len(param(c, "ids")[0]) <= pubmed.IDCONV_MAX_IDS_CHARS for c in conv)
    assert sum(len(param(c, "ids")[0].split(",")) for c in conv) == len(ids)


# --------------------------------------------------------------------------------------------
# DOIs: converter, then esearch, mapped back through efetch
# --------------------------------------------------------------------------------------------


@responses.activate
def test_doi_the_converter_did_not_resolve_is_found_by_esearch_and_mapped_through_efetch():
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(
        responses.GET, ESEARCH, body=body("esearch_hits_one_not_found.json"), content_type=JSON
    )
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    in_pmc, not_in_pmc = doi("10.3168/jds.2019-16533"), doi("10.1038/25092")
    cited_only = doi("10.3168/jds.s0022-0302(93)77504-9")  # named not found by esearch

    raws, out = run(PubMedClient(settings()).fetch([in_pmc, not_in_pmc, cited_only]))

    assert out[in_pmc].status == "ok" and out[not_in_pmc].status == "ok"
    assert out[cited_only].status == "not_found"
    (search,) = calls_to(ESEARCH)
    (term,) = param(search, "term")
    assert term == f'"{not_in_pmc.value}"[doi] OR "{cited_only.value}"[doi]'
    assert param(search, "db") == ["pubmed"] and param(search, "retmode") == ["json"]
    assert [r.endpoint for r in raws] == ["idconv", "esearch", "efetch"]
    assert raws[1].requested == (not_in_pmc, cited_only)


@responses.activate
def test_doi_an_or_search_neither_found_nor_named_is_searched_again_alone():
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("esearch_hits.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    found = doi("10.1038/25092")
    cited_only = doi("10.3168/jds.s0022-0302(93)77504-9")  # only in a ReferenceList

    _, out = run(PubMedClient(settings()).fetch([found, cited_only]))

    assert out[found].status == "ok"
    assert out[cited_only].status == "not_found"
    terms = [param(c, "term")[0] for c in calls_to(ESEARCH)]
    assert terms[1] == f'"{cited_only.value}"[doi]'
    assert len(terms) == 2


@responses.activate
def test_doi_with_converter_errmsg_and_zero_esearch_hits_is_not_found():
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    ident = doi("10.9999/not-in-pubmed")

    raws, out = run(PubMedClient(settings()).fetch([ident]))

    assert out[ident].status == "not_found"
    assert out[ident].attempts == 2
    assert not calls_to(EFETCH)
    assert [r.endpoint for r in raws] == ["idconv", "esearch"]


@responses.activate
def test_converter_fault_then_zero_esearch_hits_keeps_the_fault_status():
    responses.add(responses.GET, IDCONV, status=503, body="Service Unavailable")
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    ident = doi("10.9999/not-in-pubmed")

    _, out = run(PubMedClient(settings()).fetch([ident]))

    assert out[ident].status == "failed"  # the converter never answered: not proof of absence
    assert len(calls_to(ESEARCH)) == 1


@responses.activate
def test_converter_fault_then_esearch_hits_of_other_dois_is_not_proof_of_absence():
    responses.add(responses.GET, IDCONV, status=503, body="Service Unavailable")
    responses.add(responses.GET, ESEARCH, body=body("esearch_hits.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    found, cited_only = doi("10.1038/25092"), doi("10.3168/jds.s0022-0302(93)77504-9")

    _, out = run(PubMedClient(settings()).fetch([found, cited_only]))

    assert out[found].status == "ok"
    assert out[cited_only].status == "failed"


@responses.activate
def test_unreachable_converter_leaves_dois_pending_unless_esearch_finds_them():
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    responses.add(responses.GET, IDCONV, body=refused)
    responses.add(responses.GET, ESEARCH, body=body("esearch_zero.json"), content_type=JSON)
    ids = [doi("10.9999/not-in-pubmed"), pmcid("PMC6814520")]

    _, out = run(PubMedClient(settings()).fetch(ids))

    assert {i: out[i].status for i in ids} == {i: "pending" for i in ids}


@responses.activate
def test_esearch_packs_at_most_the_batch_size_of_dois_per_term():
    responses.add(responses.GET, IDCONV, json={"status": "ok", "records": []})
    responses.add_callback(responses.GET, ESEARCH, callback=esearch_naming_all_not_found)
    n = pubmed.ESEARCH_DOI_BATCH + 3
    ids = [doi(f"10.5555/pack.{k}") for k in range(n)]

    _, out = run(PubMedClient(settings()).fetch(ids))

    sizes = [param(c, "term")[0].count("[doi]") for c in calls_to(ESEARCH)]
    assert sizes == [pubmed.ESEARCH_DOI_BATCH, 3]
    assert {e.status for e in out.values()} == {"not_found"}


def esearch_naming_all_not_found(request):
    """A zero-hit answer shaped like esearch_zero.json naming every phrase of the term."""
    term = dict(parse_qsl(urlsplit(request.url).query))["term"]
    answer = json.loads(body("esearch_zero.json"))
    answer["esearchresult"]["errorlist"]["phrasesnotfound"] = term.split(" OR ")
    return 200, {"Content-Type": JSON}, json.dumps(answer)


@responses.activate
def test_an_or_search_with_zero_hits_naming_no_doi_asks_each_again_alone():
    responses.add(responses.GET, IDCONV, json={"status": "ok", "records": []})
    responses.add(responses.GET, ESEARCH, json={"esearchresult": {"count": "0", "idlist": []}})
    ids = [doi("10.5555/a"), doi("10.5555/b")]

    _, out = run(PubMedClient(settings()).fetch(ids))

    terms = [param(c, "term")[0] for c in calls_to(ESEARCH)]
    assert terms == ['"10.5555/a"[doi] OR "10.5555/b"[doi]', '"10.5555/a"[doi]', '"10.5555/b"[doi]']
    assert {out[i].status for i in ids} == {"not_found"}


@responses.activate
def test_a_doi_with_square_brackets_is_searched_alone():
    responses.add(responses.GET, IDCONV, json={"status": "ok", "records": []})
    responses.add_callback(responses.GET, ESEARCH, callback=esearch_naming_all_not_found)
    sici = doi("10.1002/(sici)1097-4636(199603)30:3<339::aid-jbm8>3.0.co;2-[y]")
    ids = [doi("10.5555/a"), sici, doi("10.5555/b")]

    run(PubMedClient(settings()).fetch(ids))

    terms = sorted(param(c, "term")[0] for c in calls_to(ESEARCH))
    assert terms == sorted([f'"{sici.value}"[doi]', '"10.5555/a"[doi] OR "10.5555/b"[doi]'])


# --------------------------------------------------------------------------------------------
# elink cited-in counts
# --------------------------------------------------------------------------------------------


@responses.activate
def test_elink_sends_repeated_ids_and_reads_one_linkset_per_id():
    responses.add(responses.GET, ELINK, body=body("elink_citedin.json"), content_type=JSON)
    ids = [pmid(p) for p in FIXTURE_PMIDS]

    raws, out = run(PubMedClient(settings()).fetch_counts(ids))

    (call,) = responses.calls
    assert param(call, "id") == FIXTURE_PMIDS  # repeated id=, not comma-joined
    assert param(call, "linkname") == ["pubmed_pubmed_citedin"]
    assert param(call, "dbfrom") == ["pubmed"] and param(call, "retmode") == ["json"]
    assert {i: out[i].status for i in ids} == {i: "ok" for i in ids}
    assert [r.endpoint for r in raws] == ["elink_citedin"]
    counts = pubmed.elink_citedin(raws[0].body)
    linksets = json.loads(body("elink_citedin.json"))["linksets"]
    assert counts == {
        ls["ids"][0]: sum(len(db["links"]) for db in ls.get("linksetdbs", [])) for ls in linksets
    }


@responses.activate
def test_elink_answer_without_an_ids_linkset_is_failed_not_not_found():
    responses.add(responses.GET, ELINK, body=body("elink_citedin.json"), content_type=JSON)
    absent = pmid("39999999")

    _, out = run(PubMedClient(settings()).fetch_counts([pmid(FIXTURE_PMIDS[0]), absent]))

    assert out[absent].status == "failed"
    assert out[pmid(FIXTURE_PMIDS[0])].status == "ok"


@responses.activate
def test_elink_batches_stay_at_the_elink_batch_size():
    responses.add(responses.GET, ELINK, json={"header": {"type": "elink"}, "linksets": []})
    n = pubmed.ELINK_BATCH + 1

    run(PubMedClient(settings()).fetch_counts([pmid(str(30000000 + k)) for k in range(n)]))

    assert [len(param(c, "id")) for c in calls_to(ELINK)] == [pubmed.ELINK_BATCH, 1]


@responses.activate
def test_counts_for_a_pmcid_go_through_the_converter_then_elink():
    responses.add(responses.GET, IDCONV, body=body("idconv_pmcid.json"), content_type=JSON)
    responses.add(responses.GET, ELINK, body=body("elink_citedin.json"), content_type=JSON)
    known, unknown = pmcid("PMC6814520"), pmcid("PMC0000001")

    _, out = run(PubMedClient(settings()).fetch_counts([known, unknown]))

    assert out[known].status == "ok" and out[unknown].status == "not_found"
    assert param(calls_to(ELINK)[0], "id") == ["31452104"]


@responses.activate
def test_counts_for_dois_found_by_an_or_search_elink_only_the_pmid_whose_record_has_the_doi():
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(
        responses.GET, ESEARCH, body=body("esearch_hits_one_not_found.json"), content_type=JSON
    )
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    responses.add(responses.GET, ELINK, body=body("elink_citedin.json"), content_type=JSON)
    found, cited_only = doi("10.1038/25092"), doi("10.3168/jds.s0022-0302(93)77504-9")

    raws, out = run(PubMedClient(settings()).fetch_counts([found, cited_only]))

    assert out[found].status == "ok" and out[cited_only].status == "not_found"
    record_pmid = next(
        p for p, dois in pubmed.efetch_ids(body("efetch_set.xml")).items() if found.value in dois
    )
    assert param(calls_to(ELINK)[0], "id") == [record_pmid]
    assert [r.endpoint for r in raws] == ["idconv", "esearch", "efetch", "elink_citedin"]


@responses.activate
def test_records_with_cited_in_elink_the_pmids_efetch_returned_without_resolving_again():
    """fetch(cited_in=True): the counts reuse the records' resolution (one converter, esearch
    and efetch call, not two of each) and elink only the PMID whose record carries the DOI
    (the OR-ed search also hit 20301462, a record without it)."""
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    hits = json.loads(body("esearch_hits_one_not_found.json"))
    hits["esearchresult"]["idlist"] = ["9873310", "20301462"]
    responses.add(responses.GET, ESEARCH, json=hits)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    responses.add(responses.GET, ELINK, body=body("elink_citedin.json"), content_type=JSON)
    found, cited_only = doi("10.1038/25092"), doi("10.3168/jds.s0022-0302(93)77504-9")
    client = PubMedClient(settings())

    raws, out = run(client.fetch([found, cited_only], cited_in=True))

    assert out[found].status == "ok" and out[cited_only].status == "not_found"
    record_pmid = next(
        p for p, dois in pubmed.efetch_ids(body("efetch_set.xml")).items() if found.value in dois
    )
    assert param(calls_to(ELINK)[0], "id") == [record_pmid]
    assert [r.endpoint for r in raws] == ["idconv", "esearch", "efetch", "elink_citedin"]
    assert client.requests_made == 4


@responses.activate
def test_records_with_cited_in_make_one_elink_call_per_efetch_group():
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    responses.add(responses.POST, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    responses.add(responses.GET, ELINK, json={"header": {"type": "elink"}, "linksets": []})
    asked = [pmid(p) for p in FIXTURE_PMIDS] + [pmid(str(30000000 + k)) for k in range(250)]

    batches = list(PubMedClient(settings()).fetch(asked, cited_in=True))

    # 2 efetch groups (200 + the rest); only the fixture's PMIDs came back, all in the first
    assert len(calls_to(EFETCH)) == len(batches) == 2
    assert [param(c, "id") for c in calls_to(ELINK)] == [FIXTURE_PMIDS]
    assert [r.endpoint for r in batches[0].raws] == ["efetch", "elink_citedin"]
    assert [r.endpoint for r in batches[1].raws] == ["efetch"]


@responses.activate
def test_a_failed_cited_in_elink_leaves_the_records_outcomes_as_they_were():
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    responses.add(responses.GET, ELINK, status=400, body="bad request")
    ids = [pmid(p) for p in FIXTURE_PMIDS] + [pmid("39999999")]

    plain_raws, plain = run(PubMedClient(settings()).fetch(ids))
    responses.calls.reset()
    raws, counted = run(PubMedClient(settings()).fetch(ids, cited_in=True))

    assert len(calls_to(ELINK)) == 1
    assert {i: e.status for i, e in counted.items()} == {i: e.status for i, e in plain.items()}
    assert [r.endpoint for r in raws] == [r.endpoint for r in plain_raws] == ["efetch"]


# --------------------------------------------------------------------------------------------
# secrets, unreachable hosts, input validation, the invariant
# --------------------------------------------------------------------------------------------


@responses.activate
def test_api_key_is_sent_on_every_request_but_never_stored():
    responses.add(responses.GET, IDCONV, body=body("idconv_doi.json"), content_type=JSON)
    responses.add(responses.GET, ESEARCH, body=body("esearch_hits.json"), content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    responses.add(responses.POST, EFETCH, body=body("efetch_empty.xml"), content_type=XML)
    responses.add(responses.GET, ELINK, body=body("elink_citedin.json"), content_type=JSON)
    client = PubMedClient(settings(ncbi_api_key=SECRET), efetch_batch=500)
    many = [pmid(str(30000000 + k)) for k in range(pubmed.GET_MAX_IDS + 1)]

    raws, _ = run(client.fetch([doi("10.3168/jds.2019-16533"), doi("10.1038/25092"), *many]))
    raws += run(client.fetch_counts([pmid(FIXTURE_PMIDS[0])]))[0]

    assert {c.request.method for c in responses.calls} == {"GET", "POST"}
    assert all(param(c, "api_key") == [SECRET] for c in responses.calls)
    assert {r.endpoint for r in raws} == {"idconv", "esearch", "efetch", "elink_citedin"}
    for raw in raws:
        assert SECRET not in raw.request_url and "api_key" not in raw.request_url


@responses.activate
def test_unreachable_host_stops_further_requests_and_leaves_everything_pending():
    refused = requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))
    responses.add(responses.GET, EFETCH, body=refused)
    ids = [pmid(str(30000000 + k)) for k in range(5)]
    client = PubMedClient(settings(), efetch_batch=2)

    _, out = run(client.fetch(ids))

    assert {e.status for e in out.values()} == {"pending"}
    assert client.requests_made == pipeline.http.UNREACHABLE_ATTEMPTS  # later groups never sent
    assert len(responses.calls) == client.requests_made


def test_unknown_scheme_raises_value_error_before_any_request():
    with responses.RequestsMock() as mock:  # any request would fail: nothing is registered
        with pytest.raises(ValueError, match="arxiv"):
            PubMedClient(settings()).fetch([pmid("1"), Identifier("arxiv", "2101.00001")])
        with pytest.raises(ValueError, match="openalex"):
            PubMedClient(settings()).fetch_counts([Identifier("openalex", "W1")])
        assert len(mock.calls) == 0


@responses.activate
def test_every_identifier_gets_exactly_one_outcome_even_when_repeated_or_converging():
    responses.add(responses.GET, IDCONV, body=body("idconv_pmcid.json"), content_type=JSON)
    responses.add(responses.GET, EFETCH, body=body("efetch_set.xml"), content_type=XML)
    ids = [pmid("31452104"), pmid("31452104"), pmcid("PMC6814520"), pmcid("PMC0000001")]

    batches = list(PubMedClient(settings()).fetch(ids))
    _, out = run(batches)

    assert set(out) == set(ids)
    assert sum(len(b.outcomes) for b in batches) == len(set(ids))
    assert all(e.last_attempt_at.tzinfo is not None for e in out.values())


# --------------------------------------------------------------------------------------------
# cost: 1,000 PMIDs and 1,000 DOIs (half resolved by the converter, half by esearch)
# --------------------------------------------------------------------------------------------


class FakeNcbi:
    """Answers efetch / idconv / esearch from a table, with bodies shaped like the fixtures."""

    def __init__(self, doi_pmid: dict[str, str], via_converter: set[str]) -> None:
        self.doi_pmid = doi_pmid
        self.pmid_doi = {p: d for d, p in doi_pmid.items()}
        self.via_converter = via_converter
        article = body("efetch_set.xml")
        start = article.index("<PubmedArticle>", article.index("</PubmedArticle>"))
        self.template = article[start : article.index("</PubmedArticle>", start) + 16]
        self.head = article[: article.index("<PubmedArticleSet>") + len("<PubmedArticleSet>")]

    def efetch(self, request):
        ids = dict(parse_qsl(urlsplit(request.url).query or request.body))["id"].split(",")
        records = [
            self.template.replace("9873310", p).replace(
                "10.1038/25092", self.pmid_doi.get(p, "10.0/x")
            )
            for p in ids
        ]
        return 200, {}, self.head + "".join(records) + "</PubmedArticleSet>"

    def idconv(self, request):
        sent = dict(parse_qsl(urlsplit(request.url).query))["ids"].split(",")
        records = [
            {"requested-id": d, "pmid": int(self.doi_pmid[d]), "doi": d}
            if d in self.via_converter
            else {"requested-id": d, "status": "error", "errmsg": "Identifier not found in PMC"}
            for d in sent
        ]
        return 200, {}, json.dumps({"status": "ok", "records": records})

    def esearch(self, request):
        term = dict(parse_qsl(urlsplit(request.url).query))["term"]
        hits = [self.doi_pmid[d] for d in re.findall(r'"([^"]+)"\[doi\]', term)]
        result = {
            "count": str(len(hits)),
            "retmax": str(len(hits)),
            "retstart": "0",
            "idlist": hits,
        }
        return (
            200,
            {},
            json.dumps({"header": {"type": "esearch", "version": "0.3"}, "esearchresult": result}),
        )


@responses.activate
def test_request_count_for_1000_pmids_and_1000_dois():
    n = 1000
    pmids = [pmid(str(30000000 + k)) for k in range(n)]
    dois = [doi(f"10.5555/bench.{k}") for k in range(n)]
    doi_pmid = {d.value: str(40000000 + k) for k, d in enumerate(dois)}
    fake = FakeNcbi(doi_pmid, via_converter={d.value for d in dois[::2]})
    responses.add_callback(responses.GET, EFETCH, callback=fake.efetch)
    responses.add_callback(responses.GET, IDCONV, callback=fake.idconv)
    responses.add_callback(responses.GET, ESEARCH, callback=fake.esearch)
    client = PubMedClient(settings())

    batches = list(client.fetch(pmids + dois))
    _, out = run(batches)

    assert {e.status for e in out.values()} == {"ok"} and len(out) == 2 * n
    groups = math.ceil(n / pubmed.EFETCH_BATCH)  # DOI groups; PMID groups are as many
    per_doi_group = 1 + math.ceil(pubmed.EFETCH_BATCH / 2 / pubmed.ESEARCH_DOI_BATCH) + 1
    expected = {
        "efetch": 2 * groups,
        "idconv": groups,
        "esearch": groups * (per_doi_group - 2),
    }
    seen = Counter(
        "idconv"
        if c.request.url.startswith(IDCONV)
        else urlsplit(c.request.url).path.rsplit("/", 1)[1].split(".")[0]
        for c in responses.calls
    )
    assert dict(seen) == expected
    assert client.requests_made == sum(expected.values()) == sum(b.requests_made for b in batches)


def elink_answer(request):
    """Cited-in links per PMID, repeated ``id=`` (count: the PMID's last digit)."""
    ids = [v for k, v in parse_qsl(urlsplit(request.url).query) if k == "id"]
    linksets = [
        {"dbfrom": "pubmed", "ids": [p]}
        | (
            {"linksetdbs": [{"dbto": "pubmed", "linkname": "pubmed_pubmed_citedin",
                             "links": [str(50000000 + k) for k in range(int(p[-1]))]}]}
            if int(p[-1]) else {}
        )
        for p in ids
    ]  # fmt: skip
    return (
        200,
        {},
        json.dumps({"header": {"type": "elink", "version": "0.3"}, "linksets": linksets}),
    )


@responses.activate
def test_records_with_cited_in_give_the_same_records_outcomes_and_counts_as_a_counts_pass():
    """Differential: fetch(cited_in=True) against the old plan, fetch() then fetch_counts() on
    the ids it settled ``ok``: the same outcomes, records, citing links and counts (each count
    keyed by the PMID elink was asked about), with the second resolution gone."""
    from pipeline.normalise import normalise

    pmids = [pmid(str(30000000 + k)) for k in range(230)]
    pmcids = [Identifier("pmcid", f"PMC{7000000 + k}") for k in range(60)]
    dois = [doi(f"10.5555/diff.{k}") for k in range(90)]
    to_pmid = {i.value: str(40000000 + k) for k, i in enumerate(pmcids + dois)}
    fake = FakeNcbi(to_pmid, via_converter={i.value for i in pmcids + dois[::3]})
    responses.add_callback(responses.GET, EFETCH, callback=fake.efetch)
    responses.add_callback(responses.POST, EFETCH, callback=fake.efetch)
    responses.add_callback(responses.GET, IDCONV, callback=fake.idconv)
    responses.add_callback(responses.GET, ESEARCH, callback=fake.esearch)
    responses.add_callback(responses.GET, ELINK, callback=elink_answer)
    asked = pmids + pmcids + dois

    def facts(raws):
        done = [normalise(r) for r in raws]
        # sets: the old counts pass fetched some records a second time (to verify OR-ed hits)
        return (
            {rec.source_key for n in done for rec in n.records},
            {(c.id, c.cited_by_count) for n in done for c in n.counts},
            {(c.cited, c.citing) for n in done for c in n.citations},
        )

    old = PubMedClient(settings())
    old_raws, old_out = run(old.fetch(asked))
    ok = [i for i, e in old_out.items() if e.status == "ok"]
    count_raws, _ = run(old.fetch_counts(ok))
    new = PubMedClient(settings())
    new_raws, new_out = run(new.fetch(asked, cited_in=True))

    assert {i: e.status for i, e in new_out.items()} == {i: e.status for i, e in old_out.items()}
    assert facts(new_raws) == facts(old_raws + count_raws)
    assert len(facts(new_raws)[1]) == len(ok) == len(asked)
    assert new.requests_made < old.requests_made


@responses.activate
def test_resolution_fills_converter_and_search_batches_across_efetch_batches():
    n = 150  # each scheme: 450 ids = 3 efetch batches; old per-batch resolution made 12 calls
    pmids = [pmid(str(30000000 + k)) for k in range(n)]
    pmcids = [Identifier("pmcid", f"PMC{7000000 + k}") for k in range(n)]
    dois = [doi(f"10.5555/win.{k}") for k in range(n)]
    to_pmid = {i.value: str(40000000 + k) for k, i in enumerate(pmcids + dois)}
    fake = FakeNcbi(to_pmid, via_converter={i.value for i in pmcids + dois[::2]})
    responses.add_callback(responses.GET, EFETCH, callback=fake.efetch)
    responses.add_callback(responses.GET, IDCONV, callback=fake.idconv)
    responses.add_callback(responses.GET, ESEARCH, callback=fake.esearch)
    client = PubMedClient(settings())

    batches = list(client.fetch(pmids + pmcids + dois))
    _, out = run(batches)

    assert {e.status for e in out.values()} == {"ok"} and len(out) == 3 * n
    seen = Counter(
        "idconv"
        if c.request.url.startswith(IDCONV)
        else urlsplit(c.request.url).path.rsplit("/", 1)[1].split(".")[0]
        for c in responses.calls
    )
    # one converter call per scheme, ceil(75 / 20) OR-ed searches, ceil(450 / 200) efetches
    assert dict(seen) == {"idconv": 2, "esearch": 4, "efetch": 3}
    assert len(batches) == 3 and sum(len(b.outcomes) for b in batches) == 3 * n
    assert sum(b.requests_made for b in batches) == client.requests_made == 9


@responses.activate
def test_ids_settled_by_resolution_travel_with_their_windows_first_batch():
    pmids = [pmid(str(30000000 + k)) for k in range(250)]
    gone = Identifier("pmcid", "PMC9999999")
    fake = FakeNcbi({}, via_converter=set())
    responses.add_callback(responses.GET, EFETCH, callback=fake.efetch)
    responses.add_callback(responses.GET, IDCONV, callback=fake.idconv)

    batches = list(PubMedClient(settings()).fetch([*pmids, gone]))

    first = {(e.scheme, e.value): e.status for e in batches[0].outcomes}
    assert first[("pmcid", gone.value)] == "not_found"
    assert [len(b.outcomes) for b in batches] == [201, 50]
    assert [r.endpoint for r in batches[0].raws] == ["idconv", "efetch"]
