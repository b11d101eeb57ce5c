"""pipeline.sources.crossref_search: the query.bibliographic request, items read, faults."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from pipeline.config import Settings
from pipeline.sources.crossref_search import (
    MAX_SEARCH_BYTES,
    ROWS,
    SELECT,
    CrossrefSearch,
    SearchFault,
    candidate_from_item,
)

FIX = Path(__file__).parents[2] / "fixtures" / "clients" / "crossref"
WORKS = "https://api.crossref.org/works"
STRING = "Boettiger C (2022) The forecast trap. Ecology Letters 25: 1655-1664."


@pytest.fixture
def search() -> CrossrefSearch:
    return CrossrefSearch(Settings(mailto="team@example.org", max_attempts=3))


def real_answer() -> dict:
    # three items of a real Crossref search answer (habanero's recorded cassette), select-ed
    return json.loads((FIX / "search_items_real.json").read_text(encoding="utf-8"))


@responses.activate
def test_the_request_is_a_bibliographic_search_of_five_selected_rows(search):
    responses.get(WORKS, json=real_answer())
    search.search(STRING)
    q = dict(parse_qsl(urlsplit(responses.calls[0].request.url).query))
    assert q == {"query.bibliographic": STRING, "rows": str(ROWS), "select": SELECT,
                 "mailto": "team@example.org"}  # fmt: skip
    assert "score" in SELECT.split(",") and "DOI" in SELECT.split(",")


@responses.activate
def test_a_real_answer_becomes_candidates_in_crossrefs_order(search):
    responses.get(WORKS, json=real_answer())
    answer = search.search(STRING)
    first = answer.candidates[0]
    assert [c.doi for c in answer.candidates] == [
        "10.1111/ele.14024", "10.1111/ele.13085", "10.1007/s12080-020-00477-4",
    ]  # fmt: skip
    assert first.title == "The forecast trap" and first.authors == ("Boettiger",)
    assert first.years[0] == 2022 and first.volume == "25" and first.page == "1655-1664"
    assert "Ecology Letters" in first.containers and first.score == pytest.approx(35.49375)
    assert answer.requests == 1


def test_an_item_with_html_in_its_title_and_no_authors_is_read_field_by_field():
    item = {"DOI": "10.1002/(SICI)1097-4636(199706)35:4<469::AID-JBM6>3.0.CO;2-H",
            "title": ["<i>In vivo</i> CAR T cells &amp; <sub>2</sub> things"],
            "issued": {"date-parts": [[None]]}, "volume": 35, "page": None, "score": "x"}  # fmt: skip
    c = candidate_from_item(item)
    assert c.doi == "10.1002/(sici)1097-4636(199706)35:4<469::aid-jbm6>3.0.co;2-h"  # <...> kept
    assert c.title == "In vivo CAR T cells & 2 things"
    assert c.authors == () and c.years == () and c.volume == "35" and c.score is None


@pytest.mark.parametrize("item", [{}, {"title": ["No DOI"]}, {"DOI": ""}, "not an object", None])
def test_an_item_without_a_doi_is_no_candidate(item):
    assert candidate_from_item(item) is None


@responses.activate
def test_a_persistent_429_is_a_failed_search_never_nothing_found(search, offline):
    responses.get(WORKS, status=429, body="<html>Too Many Requests</html>",
                  content_type="text/html")  # fmt: skip
    with pytest.raises(SearchFault) as err:
        search.search(STRING)
    assert err.value.status == "failed" and err.value.http_status == 429
    assert err.value.requests == 3 and len(responses.calls) == 3 and offline


@responses.activate
def test_a_retry_after_beyond_the_cap_leaves_the_string_pending(search):
    responses.get(WORKS, status=503, headers={"Retry-After": "3600"})
    with pytest.raises(SearchFault) as err:
        search.search(STRING)
    assert err.value.status == "pending"


@responses.activate
def test_a_transient_500_series_fault_is_retried_and_then_answers(search):
    responses.get(WORKS, status=502)
    responses.get(WORKS, json=real_answer())
    assert len(search.search(STRING).candidates) == 3


@responses.activate
def test_a_200_without_items_is_retried_like_a_fault(search):
    responses.get(WORKS, json={"status": "ok", "message": {"total-results": 0}})
    with pytest.raises(SearchFault, match="without message.items"):
        search.search(STRING)


@responses.activate
def test_a_search_answer_over_1_mib_is_refused(search):
    big = {
        "status": "ok",
        "message": {"items": [{"DOI": "10.1/x", "title": ["a" * MAX_SEARCH_BYTES]}]},
    }
    responses.get(WORKS, json=big)
    with pytest.raises(SearchFault, match="cap") as err:
        search.search(STRING)
    assert err.value.status == "failed"


@responses.activate
def test_a_400_is_a_failed_search(search):
    responses.get(WORKS, status=400, json={"status": "failed", "message": [{"message": "bad"}]})
    with pytest.raises(SearchFault, match="HTTP 400"):
        search.search(STRING)
