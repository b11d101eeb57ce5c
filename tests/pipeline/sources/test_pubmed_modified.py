"""pipeline.sources.pubmed fetch_modified: which PMIDs changed since their last fetch, asked
with esearch ``datetype=mdat`` over OR-ed ``[uid]`` terms; and the Crossref counts ``select``
carrying the change-key fields."""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import parse_qsl

import pytest
import responses

from pipeline.config import Settings
from pipeline.normalise import normalise
from pipeline.normalise.change import CROSSREF_CHANGE_FIELDS
from pipeline.records import Identifier
from pipeline.sources.crossref import COUNT_FIELDS as CROSSREF_COUNT_FIELDS
from pipeline.sources.pubmed import MODIFIED_BATCH, PubMedClient

ESEARCH = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/esearch.fcgi"


def client() -> PubMedClient:
    return PubMedClient(Settings(mailto="dev@example.org", max_attempts=2, ncbi_rps=1000.0))


def pmid(n: int) -> Identifier:
    return Identifier("pmid", str(n))


def esearch(idlist: list[str]) -> str:
    return json.dumps(
        {"header": {"type": "esearch", "version": "0.3"},
         "esearchresult": {"count": str(len(idlist)), "retmax": str(len(idlist)),
                           "retstart": "0", "idlist": idlist, "translationset": [],
                           "querytranslation": ""}}
    )  # fmt: skip


def answer(body: str | None = None, *, status: int = 200) -> None:
    """esearch answers ``body`` by GET (short terms) or POST (long ones)."""
    for method in (responses.GET, responses.POST):
        responses.add(method, ESEARCH, body=body or "", status=status)


def sent(call) -> dict[str, str]:
    body = call.request.body or ""
    body = body.decode() if isinstance(body, bytes) else body
    query = call.request.url.partition("?")[2]
    return dict(parse_qsl(query)) | dict(parse_qsl(body))


@responses.activate
def test_pmids_are_asked_by_modification_date_from_their_earliest_fetch():
    answer(esearch(["9500320"]))
    pairs = [(pmid(9500320), date(2026, 11, 2)), (pmid(17943848), date(2026, 11, 1))]
    (batch,) = client().fetch_modified(pairs)
    params = sent(responses.calls[0])
    assert (params["datetype"], params["mindate"]) == ("mdat", "2026/11/01")
    assert params["term"] == "17943848[uid] OR 9500320[uid]"
    assert {o.identifier: o.status for o in batch.outcomes} == {
        pmid(9500320): "ok",
        pmid(17943848): "ok",
    }
    (raw,) = batch.raws
    assert raw.endpoint == "esearch_modified"
    assert normalise(raw).modified == (pmid(9500320),)


@responses.activate
def test_batches_hold_at_most_the_batch_size_and_group_by_date():
    answer(esearch([]))
    answer(esearch([]))
    pairs = [(pmid(n), date(2026, 1, 1 + n % 20)) for n in range(1, MODIFIED_BATCH + 11)]
    batches = list(client().fetch_modified(pairs))
    assert [len(b.outcomes) for b in batches] == [MODIFIED_BATCH, 10]
    mindates = [sent(c)["mindate"] for c in responses.calls]
    assert mindates == sorted(mindates)


@responses.activate
def test_a_failed_search_fails_its_pmids_and_says_nothing_modified():
    for _ in range(2):
        answer(status=502)
    (batch,) = client().fetch_modified([(pmid(1), date(2026, 1, 1))])
    assert [o.status for o in batch.outcomes] == ["failed"]
    assert batch.raws == ()


def test_other_schemes_are_refused_before_any_request():
    with pytest.raises(ValueError):
        client().fetch_modified([(Identifier("doi", "10.1/x"), date(2026, 1, 1))])


def test_crossref_counts_select_carries_every_change_key_field():
    assert set(CROSSREF_CHANGE_FIELDS) <= set(CROSSREF_COUNT_FIELDS.split(","))
