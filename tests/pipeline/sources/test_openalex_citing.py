"""pipeline.sources.openalex fetch_citing: who cites the works, with ``filter=cites:``, cursor
paging, minimal ``select``, OR-packing of small asks and a cap per work; and the change-key
fields riding in the counts ``select``."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses

from pipeline.config import Settings
from pipeline.normalise import normalise
from pipeline.normalise.change import OPENALEX_CHANGE_FIELDS
from pipeline.records import CitingAsk, Identifier
from pipeline.sources.openalex import CITES_FIELDS, COUNT_FIELDS, PER_PAGE, OpenAlexClient

PAGE = Path(__file__).parents[2] / "fixtures" / "openalex" / "cites_page.json"
WORKS = "https://api.openalex.org/works"
CITED = Identifier("openalex", "W2741809807")


@pytest.fixture
def client() -> OpenAlexClient:
    return OpenAlexClient(Settings(max_attempts=2, openalex_rps=1000.0))


def query(call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url).query))


def page(n_results: int, *, start: int = 0, cursor: str | None, cites: str = CITED.value) -> str:
    """The real cites: page, its one result repeated as ``n_results`` distinct citing works."""
    body = json.loads(PAGE.read_text(encoding="utf-8"))
    template = body["results"][0]
    results = []
    for n in range(start, start + n_results):
        work = dict(template, id=f"https://openalex.org/W9{n:07d}", doi=None, ids={})
        work["referenced_works"] = [f"https://openalex.org/{cites}"]
        results.append(work)
    body["results"], body["meta"]["next_cursor"] = results, cursor
    return json.dumps(body)


@responses.activate
def test_a_work_is_paged_with_the_cursor_until_the_list_ends(client):
    responses.get(WORKS, body=page(100, cursor="c1"))
    responses.get(WORKS, body=page(30, start=100, cursor=None))
    (batch,) = client.fetch_citing([CitingAsk(CITED, 130, None)])
    assert [o.status for o in batch.outcomes] == ["ok"]
    first, second = (query(c) for c in responses.calls)
    assert first["filter"] == f"cites:{CITED.value}" and first["cursor"] == "*"
    assert first["select"] == CITES_FIELDS and first["per_page"] == str(PER_PAGE)
    assert second["cursor"] == "c1"
    links = [link for raw in batch.raws for link in normalise(raw).citations]
    assert len(links) == 130 and {link.cited for link in links} == {CITED}


@responses.activate
def test_paging_stops_once_the_cap_is_reached(client):
    responses.get(WORKS, body=page(100, cursor="c1"))
    (batch,) = client.fetch_citing([CitingAsk(CITED, 100, 100)])
    assert len(responses.calls) == 1
    assert [o.status for o in batch.outcomes] == ["ok"]


@responses.activate
def test_small_asks_are_packed_into_or_ed_requests_of_one_page_with_referenced_works(client):
    asks = [CitingAsk(Identifier("openalex", f"W{n}"), 3, 200) for n in range(1, 41)]
    responses.get(WORKS, body=page(3, cursor=None, cites="W1"))
    responses.get(WORKS, body=page(0, cursor=None))
    batches = list(client.fetch_citing(asks))
    sent = [query(c)["filter"].split(":", 1)[1].split("|") for c in responses.calls]
    assert [len(values) for values in sent] == [33, 7], "120 citing works expected: 2 pages"
    assert sent[0][:3] == ["W1", "W2", "W3"]
    assert all("referenced_works" in query(c)["select"].split(",") for c in responses.calls)
    links = [link for b in batches for raw in b.raws for link in normalise(raw).citations]
    assert {link.cited for link in links} == {Identifier("openalex", "W1")}
    assert {o.status for b in batches for o in b.outcomes} == {"ok"}


def test_a_work_with_more_citing_works_than_a_page_is_asked_alone(client):
    big = CitingAsk(Identifier("openalex", "W2"), 5000, 200)
    small = [CitingAsk(Identifier("openalex", f"W{n}"), 10, 200) for n in (1, 3, 4)]
    groups = client.plan_citing([small[0], big, *small[1:]])
    assert [[a.ident.value for a in g] for g in groups] == [["W2"], ["W1", "W3", "W4"]]


@responses.activate
def test_a_failed_request_fails_every_work_it_carried_and_never_says_ok(client):
    responses.get(WORKS, status=503)
    responses.get(WORKS, status=503)
    asks = [CitingAsk(Identifier("openalex", f"W{n}"), 1, 200) for n in range(1, 4)]
    (batch,) = client.fetch_citing(asks)
    assert {o.status for o in batch.outcomes} == {"failed"}
    assert len(batch.outcomes) == 3 and batch.raws == ()


def test_counts_select_carries_every_change_key_field():
    fields = COUNT_FIELDS.split(",")
    assert set(OPENALEX_CHANGE_FIELDS) <= set(fields)
    assert len(fields) == len(set(fields))
