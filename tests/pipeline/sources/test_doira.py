"""pipeline.sources.doira and the Crossref pre-step: which agency registered each DOI.

Answer shapes are doi.org's (DOI Handbook "Which RA? Service"): ``[{"DOI": ..., "RA": ...}]``,
``[{"DOI": ..., "status": "DOI does not exist"}]``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
import responses

from pipeline.config import Settings
from pipeline.normalise import normalise
from pipeline.records import FetchBatch, Identifier
from pipeline.sources import doira
from pipeline.sources.crossref import CrossrefClient
from pipeline.sources.doira import DoiRaClient, read_verdicts

RA = "https://doi.org/doiRA/"
ANY_RA = re.compile(r"https://doi\.org/doiRA/.+")
WORKS = "https://api.crossref.org/works"
ANY_SINGLETON = re.compile(r"https://api\.crossref\.org/works/.+")
JSON = "application/json;charset=UTF-8"

ZENODO = Identifier("doi", "10.5281/zenodo.4761960")  # DataCite by policy: never looked up
OSF = Identifier("doi", "10.17605/osf.io/x7k2m")  # DataCite, looked up
ARXIV = Identifier("doi", "10.48550/arxiv.1706.03762")
MEDRA = Identifier("doi", "10.4435/bspi.2012.23")  # rest-api-doc#137: a mEDRA DOI
PEERJ = Identifier("doi", "10.7717/peerj.4375")
NOPE = Identifier("doi", "10.9999/nope.0001")
CROSSREF = [Identifier("doi", f"10.5555/fixture.{n:04d}") for n in range(6)]
AGENCY = {OSF.value: "DataCite", ARXIV.value: "DataCite", MEDRA.value: "mEDRA"}


def settings(**kw) -> Settings:
    return Settings(mailto="team@example.org", max_attempts=2, **kw)


def client() -> CrossrefClient:
    s = settings()
    return CrossrefClient(s, agencies=DoiRaClient(s))


def outcomes(batches: list[FetchBatch]) -> dict[Identifier, tuple[str, str | None]]:
    seen = Counter(o.identifier for b in batches for o in b.outcomes)
    assert all(n == 1 for n in seen.values()), seen
    return {o.identifier: (o.status, o.last_error) for b in batches for o in b.outcomes}


def asked_dois(call) -> list[str]:
    return [unquote(d) for d in urlsplit(call.request.url).path.removeprefix("/doiRA/").split(",")]


def ra_answer(request):
    """doi.org's answer: each DOI echoed as asked, with its agency or a status."""
    out = []
    for doi in asked_dois(type("C", (), {"request": request})()):
        if doi in AGENCY:
            out.append({"DOI": doi, "RA": AGENCY[doi]})
        elif doi.startswith("10.9999/"):
            out.append({"DOI": doi, "status": "DOI does not exist"})
        else:
            out.append({"DOI": doi, "RA": "Crossref"})
    return 200, {}, json.dumps(out)


def crossref_list(request):
    """Crossref's list answer: every filtered DOI under 10.5555/ or 10.7717/ exists."""
    values = dict(parse_qsl(urlsplit(request.url).query))["filter"].split(",")
    dois = [v.removeprefix("doi:") for v in values]
    items = [{"DOI": d} for d in dois if d.startswith(("10.5555/", "10.7717/"))]
    body = {"status": "ok", "message": {"total-results": len(items), "items": items}}
    return 200, {}, json.dumps(body)


# -- reading answers ------------------------------------------------------------------------------


def test_read_verdicts_takes_ra_or_status_per_doi_case_insensitively():
    body = [
        {"DOI": "10.5281/ZENODO.4761960", "RA": "DataCite"},
        {"DOI": "10.9999/nope.0001", "status": "DOI does not exist"},
        {"DOI": "10.1/not-asked", "RA": "Crossref"},
        "junk",
    ]
    assert read_verdicts([ZENODO.value, NOPE.value, PEERJ.value], body) == {
        ZENODO.value: "DataCite",
        NOPE.value: "DOI does not exist",
    }


def test_read_verdicts_matches_objects_without_doi_by_position_only_when_one_per_doi():
    assert read_verdicts([ZENODO.value], [{"RA": "DataCite"}]) == {ZENODO.value: "DataCite"}
    assert read_verdicts([ZENODO.value, PEERJ.value], [{"RA": "DataCite"}]) == {}


@pytest.mark.parametrize(
    ("verdict", "other"),
    [("DataCite", True), ("mEDRA", True), ("JaLC", True), ("Crossref", False),
     ("CrossRef", False), ("DOI does not exist", False), ("Invalid DOI", False),
     ("Unknown", False), (None, False)],
)  # fmt: skip
def test_only_a_named_agency_other_than_crossref_rules_crossref_out(verdict, other):
    assert doira.is_other_agency(verdict) is other


def test_batches_keep_the_url_short_and_encode_a_comma_inside_a_doi():
    ra = DoiRaClient(settings())
    dois = [f"10.5555/{'x' * 60}.{n:04d}" for n in range(150)]
    batches = ra.plan_batches(dois)
    assert [d for b in batches for d in b] == dois
    assert all(
        len(ra.url(b)) <= doira.MAX_URL_CHARS and len(b) <= doira.BATCH_SIZE for b in batches
    )
    assert ra.url(["10.5555/a,b", "10.1002/(sici)<1>;2"]) == (
        RA + "10.5555/a%2Cb,10.1002/%28sici%29%3C1%3E%3B2"
    )


def test_the_lookup_url_is_configurable():
    s = Settings.from_env({"ENRICH_DOIRA_URL": "http://127.0.0.1:9/doira/"})
    assert DoiRaClient(s).url(["10.1/a"]) == "http://127.0.0.1:9/doira/10.1/a"


# -- the Crossref pre-step ------------------------------------------------------------------------


@responses.activate
def test_dois_of_other_agencies_are_not_in_source_and_never_reach_crossref():
    responses.add_callback(responses.GET, ANY_RA, callback=ra_answer)
    responses.add_callback(responses.GET, WORKS, callback=crossref_list)
    c = client()
    batches = list(c.fetch([OSF, *CROSSREF, ARXIV, MEDRA, NOPE]))
    got = outcomes(batches)
    assert got[OSF] == ("not_in_source", "registration agency: DataCite")
    assert got[MEDRA] == ("not_in_source", "registration agency: mEDRA")
    assert got[ARXIV][0] == "not_in_source"
    assert {got[i][0] for i in CROSSREF} == {"ok"}
    assert got[NOPE][0] == "not_found"  # unknown to doi.org: asked, and settled by the list
    [lookup, listed] = responses.calls
    assert asked_dois(lookup) == [i.value for i in [OSF, *CROSSREF, ARXIV, MEDRA, NOPE]]
    crossref_asked = dict(parse_qsl(urlsplit(listed.request.url).query))["filter"]
    assert "10.17605" not in crossref_asked and "10.4435" not in crossref_asked
    assert NOPE.value in crossref_asked
    assert c.requests_made == 2 and c.agency_requests == 1
    agency_raw = batches[0].raws[0]
    assert (agency_raw.endpoint, agency_raw.http_status) == ("agency", 200)
    assert normalise(agency_raw).records == () and normalise(agency_raw).not_found == ()


@pytest.mark.parametrize("fault", [429, 500, 503, "timeout", "not-a-list"])
@responses.activate
def test_a_failed_lookup_is_never_a_verdict_every_doi_is_asked_at_crossref(fault):
    if fault == "timeout":
        import requests

        responses.get(ANY_RA, body=requests.exceptions.ConnectTimeout("slow"))
    elif fault == "not-a-list":
        responses.get(ANY_RA, body='{"error": "x"}', content_type=JSON)
    else:
        responses.get(ANY_RA, status=fault, body="busy")
    responses.add_callback(responses.GET, WORKS, callback=crossref_list)
    responses.get(ANY_SINGLETON, status=404, body="Resource not found.", content_type="text/plain")
    c = client()
    got = outcomes(list(c.fetch([OSF, *CROSSREF])))
    assert {s for s, _ in got.values()} == {"ok", "not_found"}
    assert got[OSF][0] == "not_found"  # Crossref's own answer, as without the lookup
    assert "not_in_source" not in {s for s, _ in got.values()}
    crossref_calls = [c for c in responses.calls if "api.crossref.org" in c.request.url]
    assert OSF.value in dict(parse_qsl(urlsplit(crossref_calls[0].request.url).query))["filter"]


@responses.activate
def test_after_one_failed_lookup_the_rest_are_not_looked_up():
    responses.get(ANY_RA, status=503, body="busy")
    responses.add_callback(responses.GET, WORKS, callback=crossref_list)
    dois = [Identifier("doi", f"10.5555/fixture.{n:05d}") for n in range(250)]
    c = client()
    got = outcomes(list(c.fetch(dois)))
    assert set(got.values()) == {("ok", None)}
    ra_calls = [x for x in responses.calls if "doi.org" in x.request.url]
    assert len(ra_calls) == 2  # the first lookup's two attempts (max_attempts=2), then none


@responses.activate
def test_lists_start_after_the_first_lookup_and_stay_full():
    responses.add_callback(responses.GET, ANY_RA, callback=ra_answer)
    responses.add_callback(responses.GET, WORKS, callback=crossref_list)
    mixed = []
    for n in range(300):  # 40% Crossref DOIs, 60% DataCite ones
        doi = f"10.5555/w.{n:04d}" if n % 5 < 2 else f"10.17605/osf.{n:04d}"
        if doi.startswith("10.17605"):
            AGENCY[doi] = "DataCite"
        mixed.append(Identifier("doi", doi))
    c = client()
    got = outcomes(list(c.fetch(mixed)))
    assert Counter(s for s, _ in got.values()) == {"ok": 120, "not_in_source": 180}
    hosts = ["ra" if "doi.org" in x.request.url else "list" for x in responses.calls]
    assert hosts[:2] == ["ra", "ra"]  # 100 DOIs a lookup: the first 100 hold 40 Crossref DOIs
    assert hosts.count("ra") == 3 and hosts.count("list") == 3  # 120 DOIs: lists of 50, 50, 20
    assert c.requests_made == 6  # 300 DOIs: one request per 50


@responses.activate
def test_a_crossref_registered_doi_missing_from_a_complete_list_still_gets_its_singleton():
    hole = Identifier("doi", "10.6666/indexing.hole")  # doi.org: Crossref; the list: absent
    responses.add_callback(responses.GET, ANY_RA, callback=ra_answer)
    responses.add_callback(responses.GET, WORKS, callback=crossref_list)
    responses.get(f"{WORKS}/{hole.value}", json={"status": "ok", "message": {"DOI": hole.value}})
    got = outcomes(list(client().fetch([*CROSSREF, hole, NOPE])))
    assert got[hole][0] == "ok"  # its singleton found it
    assert got[NOPE][0] == "not_found"  # unregistered: the complete list settled it
    singles = [c for c in responses.calls if urlsplit(c.request.url).path.startswith("/works/")]
    assert [urlsplit(c.request.url).path for c in singles] == [f"/works/{hole.value}"]


@pytest.mark.parametrize("prefix", ["10.5281/zenodo.1", "10.6084/m9.figshare.2", "10.5061/dryad.3"])
@responses.activate
def test_generalist_repository_prefixes_are_datacite_without_a_lookup(prefix):
    """DataCite's transfer policy: these prefixes cannot move to another agency."""
    responses.get(ANY_RA, status=503, body="down")  # not even a failing lookup changes that
    responses.add_callback(responses.GET, WORKS, callback=crossref_list)
    doi = Identifier("doi", prefix)
    batches = list(client().fetch([doi, *CROSSREF]))
    got = outcomes(batches)
    assert got[doi] == ("not_in_source", "registration agency: DataCite")
    [decided] = [o for b in batches for o in b.outcomes if o.identifier == doi]
    assert (decided.http_status, decided.attempts) == (None, 0)
    ra_asked = [d for c in responses.calls if "doi.org" in c.request.url for d in asked_dois(c)]
    assert doi.value not in ra_asked
    crossref_asked = [c.request.url for c in responses.calls if "crossref" in c.request.url]
    assert all(quote(prefix, safe="") not in u and prefix not in u for u in crossref_asked)


# -- a real doi.org answer --------------------------------------------------------------------------

REAL_ANSWER = "tests/fixtures/api_answers/doira_rsd_mixed.json"  # origin: tests/fixtures/README


def test_a_real_answer_gives_each_asked_doi_its_agency_or_status():
    body = json.loads(open(REAL_ANSWER, encoding="utf-8").read())
    asked = ["10.5240/b1fa-0eec-c316-3316-3a73-l", "notadoi", "10.35802/218300"]
    verdicts = read_verdicts(asked, body)
    assert verdicts == {asked[0]: "EIDR", asked[1]: "Invalid DOI", asked[2]: "Crossref"}
    assert [doira.is_other_agency(verdicts[d]) for d in asked] == [True, False, False]
    assert doira.is_crossref(verdicts[asked[2]])


@responses.activate
def test_a_real_answer_keeps_eidr_and_zenodo_dois_away_from_crossref():
    with open(REAL_ANSWER, encoding="utf-8") as f:
        responses.add(responses.GET, ANY_RA, body=f.read(), content_type=JSON)
    work = {"status": "ok", "message-type": "work", "message": {"DOI": "10.35802/218300"}}
    responses.add(responses.GET, ANY_SINGLETON, json=work)  # one DOI left: asked alone
    eidr = Identifier("doi", "10.5240/b1fa-0eec-c316-3316-3a73-l")
    zenodo = Identifier("doi", "10.5281/zenodo.1436372")
    crossref = Identifier("doi", "10.35802/218300")
    got = outcomes(list(client().fetch([eidr, zenodo, crossref])))
    assert got[eidr] == ("not_in_source", "registration agency: EIDR")
    assert got[zenodo] == ("not_in_source", "registration agency: DataCite")  # by policy
    assert got[crossref][0] == "ok"
    [lookup, crossref_call] = responses.calls
    assert asked_dois(lookup) == [eidr.value, crossref.value]  # Zenodo needs no lookup
    assert "10.35802/218300" in crossref_call.request.url
