"""pipeline.http: retry schedules, statuses, body checks, the circuit breaker, pacing, redaction.

Every schedule is asserted from the sleeps recorded through ``pipeline.http.sleep`` on a fake
clock (``pipeline.http.monotonic``), never from wall time.
"""

from __future__ import annotations

import email.utils
import random
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import responses
import urllib3

from pipeline import http
from pipeline.config import Settings
from pipeline.errors import BudgetExhausted, Deferred, RetriesExhausted, Unreachable
from pipeline.http import (
    BACKOFF_BASE,
    BACKOFF_FLOOR,
    RETRY_STATUSES,
    RETRY_STATUSES_WITH_500,
    UNREACHABLE_RETRY_DELAY,
    HttpAnswer,
    SourceHttp,
    TransientBody,
)
from pipeline.sources.openalex import classify_openalex_429

FIXTURES = Path(__file__).parent.parent / "fixtures" / "clients"
URL = "https://api.example.org/works"


class FakeClock:
    """monotonic() that only moves when something sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture(autouse=True)
def fresh_hosts():
    http.reset_host_state()
    yield
    http.reset_host_state()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    c = FakeClock()
    monkeypatch.setattr(http, "monotonic", c.monotonic)
    monkeypatch.setattr(http, "sleep", c.sleep)
    return c


@pytest.fixture
def settings() -> Settings:
    return Settings(mailto="team@example.org", max_attempts=4, max_retry_after=60.0)


def make_http(settings: Settings, **kw) -> SourceHttp:
    kw.setdefault("rate", 1000.0)
    return SourceHttp("testsrc", settings, **kw)


def fixture_text(*parts: str) -> str:
    return FIXTURES.joinpath(*parts).read_text(encoding="utf-8")


# -- pure helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        ("1.5", 1.5),
        ("0", 0.0),
        ("-5", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_seconds_reads_delta_seconds(header, expected):
    assert http.retry_after_seconds(header) == expected


def test_retry_after_seconds_reads_an_http_date():
    now = datetime(2026, 11, 21, 1, 0, 0, tzinfo=UTC)
    header = email.utils.format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert http.retry_after_seconds(header, now=now) == 90.0


def test_retry_after_seconds_in_the_past_is_zero():
    now = datetime(2026, 11, 21, 1, 0, 0, tzinfo=UTC)
    header = email.utils.format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert http.retry_after_seconds(header, now=now) == 0.0


@pytest.mark.parametrize("retry", [1, 2, 3, 4, 8])
def test_backoff_delay_is_full_jitter_between_floor_and_capped_exponential(retry):
    cap = 5.0
    ceiling = min(cap, BACKOFF_BASE * 2 ** (retry - 1))
    draws = [http.backoff_delay(retry, cap=cap) for _ in range(300)]
    assert all(BACKOFF_FLOOR <= d <= max(BACKOFF_FLOOR, ceiling) for d in draws)
    if ceiling > BACKOFF_FLOOR:
        assert len(set(draws)) > 1  # jittered, not a fixed schedule


def test_backoff_jitter_leaves_the_process_wide_random_sequence_alone():
    random.seed(7)
    expected = [random.random() for _ in range(3)]
    random.seed(7)
    for retry in range(1, 6):
        http.backoff_delay(retry, cap=5.0)
    assert [random.random() for _ in range(3)] == expected


def test_encode_query_encodes_a_sici_doi_exactly_once():
    doi = "10.1002/(sici)1097-4636(199706)35:4<469::aid-jbm6>3.0.co;2-h"
    query = http.encode_query([("filter", f"doi:{doi}|10.1/a&b#c?d")])
    assert query == (
        "filter=doi:10.1002/%28sici%291097-4636%28199706%2935:4%3C469::aid-jbm6%3E3.0.co%3B2-h"
        "%7C10.1/a%26b%23c%3Fd"
    )
    assert "%25" not in query  # no double encoding


def test_redact_url_drops_secret_params_and_keeps_the_rest_byte_for_byte():
    url = "https://api.openalex.org/works?filter=doi:10.1/a%7C10.2/b&api_key=S3CRET&per_page=100"
    out = http.redact_url(url, ["S3CRET"])
    assert out == "https://api.openalex.org/works?filter=doi:10.1/a%7C10.2/b&per_page=100"


def test_redact_url_removes_a_secret_wherever_it_appears():
    out = http.redact_url("https://h.org/p/S3CRET?x=S3CRET&custom=1", ["S3CRET"], names=["custom"])
    assert "S3CRET" not in out and "custom" not in out


def test_advertised_rate_reads_crossref_headers():
    assert http.advertised_rate({"x-rate-limit-limit": "50", "x-rate-limit-interval": "1s"}) == 50
    assert http.advertised_rate({"x-rate-limit-limit": "3", "x-rate-limit-interval": "2s"}) == 1.5
    assert http.advertised_rate({"x-rate-limit-limit": "x", "x-rate-limit-interval": "1s"}) is None


# -- retry schedules ---------------------------------------------------------------------------


@responses.activate
def test_retry_after_seconds_is_waited_exactly(clock, settings):
    responses.get(URL, status=503, headers={"Retry-After": "7"})
    responses.get(URL, json={"ok": True})
    answer = make_http(settings).get(URL)
    assert (answer.status, answer.attempts) == (200, 2)
    assert clock.sleeps == [7.0]


@responses.activate
def test_retry_after_http_date_is_waited_until_that_time(clock, settings):
    when = datetime.now(UTC) + timedelta(seconds=30)
    responses.get(URL, status=429, headers={"Retry-After": email.utils.format_datetime(when, True)})
    responses.get(URL, json={"ok": True})
    make_http(settings).get(URL)
    [wait] = clock.sleeps
    assert 28.0 <= wait <= 30.0  # HTTP dates have whole seconds


@pytest.mark.parametrize("header", ["0", "-3", "tomorrow-ish"])
@responses.activate
def test_retry_after_zero_negative_or_garbage_waits_at_least_the_floor(clock, settings, header):
    responses.get(URL, status=429, headers={"Retry-After": header})
    responses.get(URL, json={"ok": True})
    make_http(settings).get(URL)
    [wait] = clock.sleeps
    assert wait >= BACKOFF_FLOOR
    assert wait <= max(BACKOFF_FLOOR, BACKOFF_BASE)


@responses.activate
def test_retry_after_over_the_cap_defers_without_waiting(clock, settings):
    responses.get(URL, status=503, headers={"Retry-After": "3600"})
    with pytest.raises(Deferred) as err:
        make_http(settings).get(URL)
    assert err.value.retry_after == 3600.0
    assert (err.value.http_status, err.value.attempts, err.value.status) == (503, 1, "pending")
    assert clock.sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_no_hint_backs_off_exponentially_with_jitter_within_bounds(clock, settings):
    for _ in range(3):
        responses.get(URL, status=502)
    responses.get(URL, json={"ok": True})
    answer = make_http(settings).get(URL)
    assert answer.attempts == 4
    assert len(clock.sleeps) == 3
    for retry, wait in enumerate(clock.sleeps, start=1):
        ceiling = min(settings.max_backoff, BACKOFF_BASE * 2 ** (retry - 1))
        assert BACKOFF_FLOOR <= wait <= max(BACKOFF_FLOOR, ceiling)


@responses.activate
def test_backoff_is_capped_by_max_backoff(clock):
    s = Settings(max_attempts=8, max_backoff=2.0)
    for _ in range(7):
        responses.get(URL, status=504)
    responses.get(URL, json={"ok": True})
    make_http(s).get(URL)
    assert len(clock.sleeps) == 7 and max(clock.sleeps) <= 2.0


@responses.activate
def test_attempts_run_out_as_retries_exhausted_with_the_last_status(clock, settings):
    responses.get(URL, status=503)
    h = make_http(settings)
    with pytest.raises(RetriesExhausted) as err:
        h.get(URL)
    assert (err.value.http_status, err.value.attempts, err.value.status) == (503, 4, "failed")
    assert len(responses.calls) == 4 and len(clock.sleeps) == 3
    assert h.requests_made == 4


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
@responses.activate
def test_transient_statuses_are_retried(clock, settings, status):
    responses.get(URL, status=status)
    responses.get(URL, json={"ok": True})
    assert make_http(settings).get(URL).status == 200
    assert len(responses.calls) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 500, 501])
@responses.activate
def test_other_statuses_come_back_as_answers_without_retrying(clock, settings, status):
    responses.get(URL, status=status, body="nope", content_type="text/plain")
    answer = make_http(settings).get(URL)
    assert (answer.status, answer.attempts, answer.text) == (status, 1, "nope")
    assert clock.sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_500_is_retried_only_where_the_source_says_so(clock, settings):
    responses.get(URL, status=500)
    responses.get(URL, json={"ok": True})
    assert make_http(settings, retry_statuses=RETRY_STATUSES_WITH_500).get(URL).status == 200
    assert len(responses.calls) == 2


@pytest.mark.parametrize(
    "exc",
    [
        requests.ReadTimeout("read timed out"),
        requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"),
        requests.ConnectionError("Connection aborted: RemoteDisconnected"),
    ],
)
@responses.activate
def test_timeouts_and_broken_connections_are_retried(clock, settings, exc):
    responses.get(URL, body=exc)
    responses.get(URL, json={"ok": True})
    answer = make_http(settings).get(URL)
    assert answer.attempts == 2 and len(clock.sleeps) == 1


# -- errors inside a 200 -------------------------------------------------------------------------


@responses.activate
def test_html_page_with_200_is_retried_then_exhausted(clock, settings):
    html = fixture_text("openalex", "maintenance.html")
    responses.get(URL, body=html, content_type="text/html; charset=utf-8")
    with pytest.raises(RetriesExhausted) as err:
        make_http(settings).get(URL, check=http.check_json)
    assert err.value.http_status == 200 and err.value.attempts == settings.max_attempts
    assert "HTML" in str(err.value)


@responses.activate
def test_truncated_json_is_retried_until_complete(clock, settings):
    responses.get(URL, body=fixture_text("openalex", "list_truncated.json"), content_type=JSON)
    responses.get(URL, body=fixture_text("openalex", "list_partial_doi.json"), content_type=JSON)
    answer = make_http(settings).get(URL, check=http.check_json)
    assert answer.attempts == 2 and answer.text.endswith("}\n")


JSON = "application/json"


def _answer(text: str, content_type: str = "application/xml") -> HttpAnswer:
    return HttpAnswer(200, URL, {}, content_type, text, 1)


@pytest.mark.parametrize(
    "text",
    [
        "<PubmedArticleSet><PubmedArticle><MedlineCitation>",
        "<!DOCTYPE html><html><body>Service unavailable</body></html>",
        "",
    ],
)
def test_check_xml_flags_truncated_or_html_bodies(text):
    with pytest.raises(TransientBody):
        http.check_xml(_answer(text))


def test_check_xml_accepts_well_formed_xml():
    http.check_xml(_answer("<PubmedArticleSet><PubmedArticle/></PubmedArticleSet>"))


def test_check_json_flags_html_even_with_a_json_content_type():
    with pytest.raises(TransientBody):
        http.check_json(_answer("<html><body>503</body></html>", JSON))


# -- 429 classification ------------------------------------------------------------------------

BUDGET_HEADERS = {
    "Retry-After": "53578",
    "X-RateLimit-Limit": "10000",
    "X-RateLimit-Remaining": "0",
    "X-RateLimit-Credits-Used": "0",
    "X-RateLimit-Credits-Required": "1",
    "X-RateLimit-Reset": "53578",
    "X-RateLimit-Limit-USD": "1",
    "X-RateLimit-Remaining-USD": "0.0000",
    "X-RateLimit-Cost-Required-USD": "0.0001",
}


@responses.activate
def test_budget_429_raises_budget_exhausted_without_retrying(clock, settings):
    responses.get(
        URL, status=429, headers=BUDGET_HEADERS, body=fixture_text("openalex", "budget_429.json")
    )
    h = make_http(
        settings, retry_statuses=RETRY_STATUSES_WITH_500, classify_429=classify_openalex_429
    )
    with pytest.raises(BudgetExhausted) as err:
        h.get(URL)
    assert (err.value.status, err.value.http_status, err.value.attempts) == ("pending", 429, 1)
    assert clock.sleeps == [] and len(responses.calls) == 1


@responses.activate
def test_per_second_429_with_budget_left_is_waited_out(clock, settings):
    headers = {**BUDGET_HEADERS, "Retry-After": "1", "X-RateLimit-Remaining": "9412"}
    headers["X-RateLimit-Remaining-USD"] = "0.9412"
    responses.get(
        URL, status=429, headers=headers, body=fixture_text("openalex", "throttle_429.json")
    )
    responses.get(URL, json={"ok": True})
    h = make_http(settings, classify_429=classify_openalex_429)
    assert h.get(URL).status == 200
    assert clock.sleeps == [1.0]


# -- unreachable hosts -----------------------------------------------------------------------------


def refused() -> requests.ConnectionError:
    return requests.ConnectionError(ConnectionRefusedError(111, "Connection refused"))


def dns_failure() -> requests.ConnectionError:
    return requests.ConnectionError(socket.gaierror(-3, "Temporary failure in name resolution"))


@pytest.mark.parametrize("fault", [refused, dns_failure])
@responses.activate
def test_unreachable_host_fails_fast_after_two_attempts(clock, settings, fault):
    responses.get(URL, body=fault())
    h = make_http(settings)
    with pytest.raises(Unreachable) as err:
        h.get(URL)
    assert (err.value.status, err.value.attempts) == ("pending", 2)
    assert clock.sleeps == [UNREACHABLE_RETRY_DELAY]


@responses.activate
def test_unreachable_host_is_remembered_for_the_rest_of_the_process(clock, settings):
    responses.get(URL, body=refused())
    first, second = make_http(settings), make_http(settings)
    with pytest.raises(Unreachable):
        first.get(URL)
    with pytest.raises(Unreachable) as err:
        second.get(URL + "/other")
    assert err.value.attempts == 0 and second.requests_made == 0
    assert len(responses.calls) == 2


@responses.activate
def test_refusal_after_an_answer_is_retried_with_backoff(clock, settings):
    responses.get(URL, json={"ok": True})
    responses.get(URL, body=refused())
    responses.get(URL, json={"ok": True})
    h = make_http(settings)
    h.get(URL)
    assert h.get(URL).attempts == 2
    assert clock.sleeps[-1] >= BACKOFF_FLOOR


# -- redaction, session, counting --------------------------------------------------------------------


@responses.activate
def test_secrets_are_sent_but_never_in_answer_url_or_errors(clock):
    s = Settings(openalex_api_key="K3Y-S3CRET", max_attempts=2)
    responses.get(URL, json={"ok": True})
    responses.get(URL, body=requests.ConnectionError(f"{URL}?api_key=K3Y-S3CRET reset by peer"))
    h = make_http(s)
    answer = h.get(URL, [("q", "x")], secret_params={"api_key": "K3Y-S3CRET"})
    assert "api_key=K3Y-S3CRET" in responses.calls[0].request.url
    assert "K3Y-S3CRET" not in answer.url and answer.url == f"{URL}?q=x"
    with pytest.raises(RetriesExhausted) as err:
        h.get(URL, secret_params={"api_key": "K3Y-S3CRET"})
    assert "K3Y-S3CRET" not in str(err.value)


@responses.activate
def test_session_sends_user_agent_with_mailto_and_explicit_timeouts(clock, settings):
    responses.get(URL, json={"ok": True})
    make_http(settings).get(URL)
    request = responses.calls[0].request
    assert "mailto:team@example.org" in request.headers["User-Agent"]
    assert request.req_kwargs["timeout"] == (settings.connect_timeout, settings.read_timeout)


@responses.activate
def test_post_sends_a_form_body_with_secret_params(clock, settings):
    responses.post(URL, body="<ok/>", content_type="text/xml")
    answer = make_http(settings).post(
        URL, [("id", "1,2")], secret_params={"api_key": "S"}, check=http.check_xml
    )
    assert answer.status == 200
    assert responses.calls[0].request.body == "id=1%2C2&api_key=S"


@responses.activate
def test_a_followed_redirect_is_reported(clock, settings):
    responses.get(URL + "/W1", status=301, headers={"Location": URL + "/W2"})
    responses.get(URL + "/W2", json={"id": "W2"})
    answer = make_http(settings).get(URL + "/W1")
    assert answer.redirects == (301,) and answer.url == URL + "/W2"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize(
    "elsewhere",
    ["https://evil.example.net/works/W2", "http://api.example.org/works/W2",
     "https://api.example.org:8443/works/W2", "//evil.example.net/x"],
)  # fmt: skip
@responses.activate
def test_a_redirect_off_the_api_origin_is_refused_unfollowed(clock, settings, status, elsewhere):
    """Another host, another scheme or another port: the request (and its key) never goes.
    ``responses`` raises for any request not registered, so none is made there."""
    location = elsewhere + "?api_key=SECRETKEY"
    responses.get(URL + "/W1", status=status, headers={"Location": location})
    with pytest.raises(http.FetchError, match="redirect to another host not followed") as info:
        make_http(settings).get(URL + "/W1", secret_params={"api_key": "SECRETKEY"})
    assert info.value.status == "failed" and info.value.http_status == status
    assert "SECRETKEY" not in str(info.value) and len(responses.calls) == 1


@responses.activate
def test_a_redirect_on_the_api_origin_keeps_following_relative_locations(clock, settings):
    responses.get(URL + "/W1", status=302, headers={"Location": "/works/W2"})
    responses.get(URL + "/W2", json={"id": "W2"})
    answer = make_http(settings).get(URL + "/W1")
    assert answer.redirects == (302,) and answer.url == URL + "/W2"


@responses.activate
def test_a_post_answered_303_is_fetched_with_get(clock, settings):
    responses.post(URL, status=303, headers={"Location": URL + "/result"})
    responses.get(URL + "/result", body="<ok/>", content_type="text/xml")
    answer = make_http(settings).post(URL, [("id", "1")], check=http.check_xml)
    assert answer.status == 200 and [c.request.method for c in responses.calls] == ["POST", "GET"]


@responses.activate
def test_a_404_after_a_redirect_is_a_failure_naming_both_urls(clock, settings):
    responses.get(URL + "/W1", status=301, headers={"Location": URL + "/W9"})
    responses.get(URL + "/W9", status=404, json={"error": "not found"})
    with pytest.raises(http.FetchError, match="HTTP 404 after a redirect from .*W1 to .*W9"):
        make_http(settings).get(URL + "/W1")


# -- pacing ----------------------------------------------------------------------------------------


@responses.activate
def test_the_pacing_slot_is_stamped_after_the_request_is_built(clock, settings, monkeypatch):
    # building a request can stall (a busy GIL); the window must count from when it goes out
    responses.get(URL, json={"ok": True})
    build = requests.Session.prepare_request

    def slow_build(session, request):
        clock.now += 0.2
        return build(session, request)

    monkeypatch.setattr(requests.Session, "prepare_request", slow_build)
    h = make_http(settings, rate=3.0)
    sends = []
    acquire = http.RateLimiter.acquire

    def stamped_acquire(limiter):
        stamp = acquire(limiter)
        sends.append(clock.now)
        return stamp

    monkeypatch.setattr(http.RateLimiter, "acquire", stamped_acquire)
    h.get(URL)
    assert sends == [pytest.approx(1000.2)]  # after the 0.2 s of building, not before


def test_the_window_counts_a_send_from_when_it_was_written(clock, settings, api, monkeypatch):
    # between the slot and the socket write urllib3 still gets a connection and serialises the
    # request; under a busy GIL that took tens of ms, and the server counts the arrival
    write = urllib3.connection.HTTPConnection.request

    def slow_write(conn, *args, **kwargs):
        clock.now += 0.3
        return write(conn, *args, **kwargs)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "request", slow_write)
    h = make_http(settings, rate=1.0)
    url = f"{api.base_urls['crossref']}/works/10.1038/s41591-018-0041-7"  # the loopback fake
    assert h.get(url).json()["status"] == "ok"  # slot at 1000.0, written at 1000.3
    h.get(url)
    # the next slot is 1001.0 (0.7 s away); the window then holds it until the first write is
    # 1 s + margin old: 1001.3 + margin, not 1001.0 + margin as the slot's stamp would say
    assert clock.sleeps == pytest.approx([0.7, 0.3 + http.WINDOW_MARGIN])
    assert getattr(http._PACING, "written", None) is None


def test_https_and_http_connections_both_report_their_write(settings):
    # the real APIs are https: their pools must use the reporting connection too (offline check)
    adapter = make_http(settings).session.get_adapter("https://api.openalex.org/works")
    https = adapter.poolmanager.connection_from_url("https://api.openalex.org/works")
    plain = adapter.poolmanager.connection_from_url("http://127.0.0.1:8/works")
    assert issubclass(https.ConnectionCls, http._WriteStamped)
    assert issubclass(https.ConnectionCls, urllib3.connection.HTTPSConnection)
    assert issubclass(plain.ConnectionCls, http._WriteStamped)


def test_a_written_stamp_moves_only_later_and_only_its_own_send(clock):
    limiter = http.RateLimiter(2)
    first = limiter.acquire()
    second = limiter.acquire()  # 0.5 s later
    limiter.written(first, first - 1.0)  # an earlier time is ignored: the slot is a lower bound
    limiter.written(second, second + 0.2)
    limiter.written(12345.0, 99999.0)  # a stamp no longer held changes nothing
    limiter.acquire()
    # the third waits for the first's window (1001.0 + margin), its slot being 1001.0 already
    assert clock.sleeps == pytest.approx([0.5, 0.5, http.WINDOW_MARGIN])
    limiter.acquire()  # the fourth: the second's window, from its write at 1000.7
    assert clock.now == pytest.approx(1000.7 + 1.0 + http.WINDOW_MARGIN)


@responses.activate
def test_a_request_that_fails_before_sending_takes_no_slot_and_leaves_none_behind(clock, settings):
    responses.get(URL, json={"ok": True})
    h = make_http(settings, rate=1.0)
    with pytest.raises(requests.exceptions.InvalidURL):
        h.get("https://exa mple.org:bad/works")
    h.get(URL)
    h.get(URL)
    # the two real sends only: one slot apart, the second also clear of the first's window
    assert sum(clock.sleeps) == pytest.approx(1.0 + http.WINDOW_MARGIN)
    assert getattr(http._PACING, "limiter", None) is None


@responses.activate
def test_a_redirect_hop_is_not_paced_as_a_second_request(clock, settings):
    responses.get(URL + "/W1", status=301, headers={"Location": URL + "/W2"})
    responses.get(URL + "/W2", json={"id": "W2"})
    h = make_http(settings, rate=1.0)
    h.get(URL + "/W1")
    assert clock.sleeps == []


def test_limiter_hands_out_evenly_spaced_slots_across_threads(clock):
    limiter = http.RateLimiter(10.0)
    waits: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            w = limiter.reserve()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(round(w, 6) for w in waits) == [round(i * 0.1, 6) for i in range(40)]


def test_limiter_does_not_bank_idle_time_as_a_burst(clock):
    limiter = http.RateLimiter(2.0)
    assert limiter.reserve() == 0.0
    clock.now += 60.0
    assert [limiter.reserve(), limiter.reserve()] == [0.0, 0.5]


@responses.activate
def test_two_clients_for_one_host_share_one_limiter(clock, settings):
    responses.get(URL, json={"ok": True})
    a, b = make_http(settings, rate=4.0), make_http(settings, rate=4.0)
    for h in (a, b, a, b):
        h.get(URL)
    assert a.pace_key("api.example.org") == b.pace_key("api.example.org")
    assert http.limiter_for(a.pace_key("api.example.org"), "default", 99.0).rate == 4.0
    assert clock.sleeps == pytest.approx([0.25, 0.25, 0.25])


@responses.activate
def test_buckets_on_one_host_are_paced_apart(clock, settings):
    responses.get(URL, json={"ok": True})
    h = make_http(settings, rate=10.0, bucket_rates={"list": 2.0})
    h.get(URL, bucket="list")
    h.get(URL)  # the singleton bucket is free although the list bucket is not
    h.get(URL, bucket="list")
    assert clock.sleeps == pytest.approx([0.5])


@responses.activate
def test_host_key_paces_two_hosts_as_one(clock, settings):
    other = "https://pmc.example.org/idconv"
    responses.get(URL, json={"ok": True})
    responses.get(other, json={"ok": True})
    h = make_http(settings, rate=3.0, host_key="ncbi")
    h.get(URL)
    h.get(other)
    assert clock.sleeps == [pytest.approx(1 / 3)]


@responses.activate
def test_crossref_headers_adapt_rate_and_concurrency(clock, settings):
    headers = {"x-rate-limit-limit": "5", "x-rate-limit-interval": "1s", "x-concurrency-limit": "1"}
    responses.get(URL, json={"ok": True}, headers=headers)
    h = make_http(settings, rate=10.0, concurrency=3, adapt_rate_headers=True)
    h.get(URL)
    key = h.pace_key("api.example.org")
    assert http.limiter_for(key, "default", 10.0).rate == 5.0
    assert http.gate_for(key, 3).limit == 1
    h.get(URL)
    assert clock.sleeps == pytest.approx([0.2])


@responses.activate
def test_adaptation_touches_only_the_bucket_that_answered(clock, settings):
    headers = {"x-rate-limit-limit": "1", "x-rate-limit-interval": "1s"}
    responses.get(URL, json={"ok": True}, headers=headers)
    h = make_http(settings, rate=10.0, bucket_rates={"list": 3.0}, adapt_rate_headers=True)
    h.get(URL, bucket="list")
    assert http.limiter_for(h.pace_key("api.example.org"), "list", 3.0).rate == 1.0
    assert h._limiter("api.example.org", "default").rate == 10.0


def test_concurrency_gate_admits_at_most_its_limit():
    gate = http.ConcurrencyGate(2)
    inside, peak, lock = [0], [0], threading.Lock()
    go = threading.Event()

    def worker():
        with gate:
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            go.wait(0.05)
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2


@responses.activate
def test_requests_made_counts_every_attempt_across_threads(clock, settings):
    responses.get(URL, json={"ok": True})
    h = make_http(settings)
    threads = [threading.Thread(target=lambda: [h.get(URL) for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert h.requests_made == 20 == len(responses.calls)


@responses.activate
def test_two_sources_on_one_loopback_host_are_paced_apart(clock, settings):
    responses.get(URL, json={"ok": True})
    a = SourceHttp("openalex", settings, rate=2.0)
    b = SourceHttp("crossref", settings, rate=2.0)
    a.get(URL)
    b.get(URL)
    assert clock.sleeps == []


@responses.activate
def test_is_transient_retries_a_status_outside_the_retry_list(clock, settings):
    responses.get(
        URL, status=403, json={"error": "Rate limit exceeded"}, headers={"Retry-After": "2"}
    )
    responses.get(URL, json={"ok": True})
    h = make_http(settings, is_transient=lambda r: "rate limit" in r.text.lower())
    assert h.get(URL).status == 200
    assert clock.sleeps == [2.0]


def test_body_without_charset_is_decoded_as_utf8():
    """NCBI may send text/xml without a charset; requests would decode it as ISO-8859-1."""
    import requests as _requests

    from pipeline.http import decode_body

    resp = _requests.Response()
    resp._content = "<Title>© Müller</Title>".encode()
    resp.headers["Content-Type"] = "text/xml"
    assert decode_body(resp) == "<Title>© Müller</Title>"
    # a declared charset is respected (requests' adapter sets .encoding from the header)
    resp.headers["Content-Type"] = "text/xml; charset=ISO-8859-1"
    resp.encoding = "ISO-8859-1"
    assert decode_body(resp) == "<Title>Â© MÃ¼ller</Title>"


def test_limiter_keeps_a_margin_beyond_the_sliding_one_second_window(clock):
    """At 3/s the 4th send waits until the 1st is 1 s + WINDOW_MARGIN old: the APIs count in a
    sliding window, and slots exactly 1/3 s apart drew 429s under jitter."""
    limiter = http.RateLimiter(3)
    for _ in range(4):
        limiter.acquire()
    third = 1 / 3
    assert clock.sleeps == pytest.approx([third, third, third, http.WINDOW_MARGIN])
    limiter.acquire()  # the 5th: its slot is 1/3 after the 4th's actual send
    assert clock.sleeps[-1] == pytest.approx(third)


def test_a_limiters_margin_doubles_with_each_bounce_up_to_the_maximum(clock):
    limiter = http.RateLimiter(3)
    limiter.widen()
    assert limiter.margin == pytest.approx(2 * http.WINDOW_MARGIN)
    for _ in range(4):
        limiter.acquire()
    assert clock.sleeps[-1] == pytest.approx(2 * http.WINDOW_MARGIN)  # the window's wait uses it
    for _ in range(10):
        limiter.widen()
    assert limiter.margin == http.MAX_WINDOW_MARGIN


def test_a_widened_margin_halves_after_a_run_of_answers_without_a_bounce(clock):
    limiter = http.RateLimiter(3)
    limiter.widen()
    limiter.widen()  # 4x
    for _ in range(http.CALM_AFTER - 1):
        limiter.calm()
    assert limiter.margin == pytest.approx(4 * http.WINDOW_MARGIN)
    limiter.calm()
    assert limiter.margin == pytest.approx(2 * http.WINDOW_MARGIN)
    for _ in range(5 * http.CALM_AFTER):
        limiter.calm()
    assert limiter.margin == pytest.approx(http.WINDOW_MARGIN)  # never below the base


def test_a_bounce_restarts_the_count_towards_calming(clock):
    limiter = http.RateLimiter(3)
    limiter.widen()
    for _ in range(http.CALM_AFTER - 1):
        limiter.calm()
    limiter.widen()  # 4x, and the count starts again
    for _ in range(http.CALM_AFTER - 1):
        limiter.calm()
    assert limiter.margin == pytest.approx(4 * http.WINDOW_MARGIN)


@responses.activate
def test_answers_after_a_429_bring_the_margin_back(clock, settings):
    responses.get(URL, status=429, headers={"Retry-After": "1"})
    responses.get(URL, json={"ok": True})
    h = make_http(settings, rate=3.0)
    for _ in range(http.CALM_AFTER):
        h.get(URL)  # the first is retried once: CALM_AFTER answers without a 429 in all
    limiter = http.limiter_for(h.pace_key(http.host_of(URL)), "default", 3.0)
    assert limiter.margin == pytest.approx(http.WINDOW_MARGIN)


@responses.activate
def test_a_429_widens_the_window_margin_of_its_hosts_limiter(clock, settings):
    responses.get(URL, status=429, headers={"Retry-After": "1"})
    responses.get(URL, json={"ok": True})
    h = make_http(settings, rate=3.0)
    h.get(URL)
    limiter = http.limiter_for(h.pace_key(http.host_of(URL)), "default", 3.0)
    assert limiter.margin == pytest.approx(2 * http.WINDOW_MARGIN)


def test_an_answer_parses_its_json_body_once_for_every_reader(monkeypatch):
    answer = HttpAnswer(200, URL, {}, "application/json", '{"results": []}', 1)
    calls = []
    real = http.json.loads
    monkeypatch.setattr(http.json, "loads", lambda text: calls.append(text) or real(text))

    http.check_json(answer)
    assert answer.json() == {"results": []} and answer.json() is answer.json()
    assert len(calls) == 1


@responses.activate
def test_a_window_429_is_retried_at_the_limiters_pace_without_a_backoff(clock, settings):
    responses.get(URL, status=429, json={"error": "API rate limit exceeded"})
    responses.get(URL, json={"ok": True})
    h = make_http(settings, rate=1000.0, window_429=True)
    assert h.get(URL).attempts == 2
    assert all(s < http.BACKOFF_FLOOR for s in clock.sleeps)


@responses.activate
def test_a_second_window_429_in_a_row_backs_off(clock, settings):
    responses.get(URL, status=429, json={"error": "API rate limit exceeded"})
    responses.get(URL, status=429, json={"error": "API rate limit exceeded"})
    responses.get(URL, json={"ok": True})
    make_http(settings, rate=1000.0, window_429=True).get(URL)
    assert max(clock.sleeps) >= http.BACKOFF_FLOOR


@responses.activate
def test_a_429_without_retry_after_backs_off_by_default(clock, settings):
    responses.get(URL, status=429)
    responses.get(URL, json={"ok": True})
    make_http(settings).get(URL)
    assert max(clock.sleeps) >= http.BACKOFF_FLOOR
