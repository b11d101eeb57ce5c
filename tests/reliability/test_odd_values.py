"""Odd values in real answers, through the whole fetch-normalise-load path (issue 21 item 1).

A negative or over-int64 count, ``ids`` sent as a list, a list where an object belongs: before,
one such value raised ConstraintException from the load (or a TypeError in the client), every
run, and the source's identifiers got no ledger row. Now an odd value costs that field (a
data-quality note says which record, field and value), a record that cannot load is ``failed``
with the reason, and the run goes on.

The property test feeds hypothesis mutations of real answers (tests/fixtures/api_answers) to the
real clients (HTTP mocked with ``responses``) and loads them into a real warehouse: the fetch
completes, every identifier asked has a ledger row, and every check of checks.sql passes.
The end-to-end test does the same once through ``enrich run``, the loopback fake API and Prefect.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.steps import Writer, fetch_and_load
from pipeline.config import Settings
from pipeline.records import Identifier
from tests.pipeline.normalise.odd import REAL, mutate_odd, mutate_xml_values
from tests.reliability.conftest import ROOT, fast_env, ledger, quality_failures

PROPERTY = settings(
    max_examples=20,  # ~1 s each (several loads); the normaliser fuzz explores wider, cheaper
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SETTINGS = Settings(
    max_attempts=2, max_backoff=0.0, openalex_rps=1e6, crossref_rps=1e6,
    crossref_list_rps=1e6, ncbi_rps=1e6, mailto="odd@example.org",
)  # fmt: skip
JSON = "application/json"


def real(name: str):
    return json.loads((REAL / name).read_text(encoding="utf-8"))


# -- what each source is asked, and the real answers it gets (mutated per example) -------------

OA_LIST = real("openalex_list_5_works.json")
# Asked by W id: a complete list answer settles a missing plain DOI as not_found (issue 22),
# while a W id missing from it is asked alone (a merged id answers only there), so the
# mutated single-work answers below still go through the singleton path.
OA_SINGLES = [real("openalex_work_W3123223998.json"), real("openalex_work_W4234549826.json")]


def _w(work: dict) -> str:
    return work["id"].rsplit("/", 1)[1]


OA_IDS = [Identifier("doi", w["doi"].removeprefix("https://doi.org/")) for w in OA_LIST["results"]
          if w.get("doi")] + [Identifier("openalex", w["id"].rsplit("/", 1)[1])
          for w in OA_LIST["results"] if not w.get("doi")] + [
          Identifier("openalex", _w(w)) for w in OA_SINGLES]  # fmt: skip
CR_WORKS = [
    real(f"crossref_work_{n}.json")
    for n in ("10.1002_jor.1100150407", "10.1109_icdcsw.2003.1203662", "10.3892_ijo_00000353")
]
CR_IDS = [Identifier("doi", w["message"]["DOI"].lower()) for w in CR_WORKS]
EFETCH = (REAL / "pubmed_efetch_11748933_11700088.xml").read_text(encoding="utf-8")
PM_IDS = [Identifier("pmid", "11748933"), Identifier("pmid", "11700088"),
          Identifier("doi", "10.1006/cryo.2001.2328")]  # fmt: skip
# NCBI's JSON answers for those ids, in the shapes of tests/fixtures/clients/pubmed (api-notes 3)
IDCONV = {"status": "ok", "responseDate": "2026-09-08 10:12:46", "records": [
    {"requested-id": "10.1006/cryo.2001.2328", "status": "error",
     "errmsg": "Identifier not found in PMC"}]}  # fmt: skip
ESEARCH = {"header": {"type": "esearch", "version": "0.3"}, "esearchresult": {
    "count": "1", "retmax": "1", "retstart": "0", "idlist": ["11748933"], "translationset": [],
    "querytranslation": "10.1006/cryo.2001.2328[doi]"}}  # fmt: skip
ELINK = {"header": {"type": "elink", "version": "0.3"}, "linksets": [
    {"dbfrom": "pubmed", "ids": ["11748933"], "linksetdbs": [{"dbto": "pubmed",
     "linkname": "pubmed_pubmed_citedin", "links": ["38785209", "37248244"]}]},
    {"dbfrom": "pubmed", "ids": ["11700088"]}]}  # fmt: skip


def _reply(body, status: int = 200, ctype: str = JSON) -> tuple[int, dict, str]:
    text = body if isinstance(body, str) else json.dumps(body)
    return status, {"Content-Type": ctype}, text


def serve_openalex(rsps, draw: Callable) -> None:
    listing = mutate_odd(draw, OA_LIST, draw(st.integers(1, 4)))
    singles = {}
    for work in OA_SINGLES:
        singles[_w(work)] = mutate_odd(draw, work, draw(st.integers(0, 3)))

    def answer(request):
        path = urlsplit(request.url).path
        if path.endswith("/works"):
            return _reply(listing)
        if (work := path.rsplit("/", 1)[-1]) in singles:
            return _reply(singles[work])
        return _reply({"error": "404 Not Found", "message": "not found"}, 404)

    rsps.add_callback(responses.GET, re.compile(r"https://api\.openalex\.org/works.*"), answer)


def serve_crossref(rsps, draw: Callable) -> None:
    works = [mutate_odd(draw, w, draw(st.integers(0, 3))) for w in CR_WORKS]
    by_doi = {w["message"]["DOI"].lower(): w for w in CR_WORKS}
    mutated = dict(zip(by_doi, works, strict=True))

    def answer(request):
        parts = urlsplit(request.url)
        path = parts.path
        if path.rstrip("/").endswith("/works"):
            items = [(w.get("message") if isinstance(w, dict) else w) for w in works]
            return _reply({"status": "ok", "message-type": "work-list", "message-version":
                           "1.0.0", "message": {"items": items, "total-results": len(items)}})  # fmt: skip
        doi = path.split("/works/", 1)[-1].lower()
        if doi in mutated:
            return _reply(mutated[doi])
        return _reply("Resource not found.", 404, "text/plain")

    rsps.add_callback(responses.GET, re.compile(r"https://api\.crossref\.org/works.*"), answer)


def serve_pubmed(rsps, draw: Callable) -> None:
    efetch = mutate_xml_values(draw, EFETCH, draw(st.integers(0, 4)))
    idconv = mutate_odd(draw, IDCONV, draw(st.integers(0, 2)))
    esearch = mutate_odd(draw, ESEARCH, draw(st.integers(0, 2)))
    elink = mutate_odd(draw, ELINK, draw(st.integers(0, 2)))

    def eutils(request):
        path = urlsplit(request.url).path
        if path.endswith("efetch.fcgi"):
            return _reply(efetch, ctype="text/xml; charset=UTF-8")
        if path.endswith("esearch.fcgi"):
            return _reply(esearch)
        return _reply(elink)

    for method in (responses.GET, responses.POST):
        rsps.add_callback(method, re.compile(r"https://eutils\.ncbi\.nlm\.nih\.gov/.*"), eutils)
        rsps.add_callback(
            method, re.compile(r"https://pmc\.ncbi\.nlm\.nih\.gov/.*"), lambda r: _reply(idconv)
        )


SCENARIOS = {
    "openalex": (OA_IDS, serve_openalex),
    "crossref": (CR_IDS, serve_crossref),
    "pubmed": (PM_IDS, serve_pubmed),
}


@pytest.fixture(scope="module")
def writer():
    """One warehouse for the module, emptied before each example (a new one costs ~0.2 s)."""
    w = Writer(":memory:")
    yield w
    w.close()


def _empty(con) -> None:
    tables = con.execute(
        "select table_name from information_schema.tables where table_type = 'BASE TABLE' "
        "and table_name not in ('schema_version', 'source_precedence')"
    ).fetchall()
    for (table,) in tables:
        con.execute(f'delete from "{table}"')


def _run_once(writer, source: str, draw: Callable, counts: bool) -> None:
    from warehouse.load import start_run

    ids, serve = SCENARIOS[source]
    writer(_empty)
    run_id = writer(start_run, "enrich", {})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, draw)
        fetch_and_load(source, ids, settings=SETTINGS, writer=writer, run_id=run_id)
        if counts:
            fetch_and_load(source, ids, settings=SETTINGS, writer=writer, run_id=run_id,
                           counts=True)  # fmt: skip
    rows = writer(lambda con: ledger(con, source))
    assert set(rows) >= set(ids), f"no ledger row for {set(ids) - set(rows)}"
    assert all(r[0] != "failed" or r[3] for r in rows.values()), "a failed row says why"
    assert writer(quality_failures) == {}


@pytest.mark.slow
@pytest.mark.parametrize("source", sorted(SCENARIOS))
@PROPERTY
@given(data=st.data(), counts=st.booleans())
def test_odd_values_in_real_answers_never_stop_the_run(writer, sleeps, source, data, counts):
    _run_once(writer, source, data.draw, counts)


@pytest.mark.parametrize("source", sorted(SCENARIOS))
def test_the_unmutated_answers_settle_every_identifier_ok(writer, sleeps, source):
    """The scenario itself is sound: without mutations every identifier is ok (or, for the two
    OpenAlex works without a DOI asked by W id, found in the list)."""
    _run_once(writer, source, lambda strategy: 0, counts=True)
    statuses = {r[0] for r in writer(lambda con: ledger(con, source)).values()}
    assert statuses == {"ok"}
    assert (
        writer(lambda con: con.execute("select count(*) from data_quality_notes").fetchone())[0]
        == 0
    )


# -- the same once through the CLI, the loopback fake API and Prefect ----------------------------


def _poison(api, monkeypatch, source: str, rewrite: Callable[[dict], None]) -> None:
    """Rewrite every JSON answer of ``source`` (each work object / message passes ``rewrite``)."""
    handler = api.apis[source]
    original = handler.handle

    def handle(req):
        reply = original(req)
        if reply.status != 200 or "json" not in reply.content_type:
            return reply
        body = json.loads(reply.body)
        if source == "openalex":
            for work in body.get("results", [body]):
                rewrite(work)
        else:
            message = body.get("message", {})
            for item in message.get("items", [message]):
                rewrite(item)
        reply.body = json.dumps(body).encode()
        return reply

    monkeypatch.setattr(handler, "handle", handle)


@pytest.mark.e2e
def test_cli_run_with_odd_values_at_two_sources_exits_0_and_notes_them(
    prefect_harness, api, monkeypatch, sleeps, tmp_path
):
    import duckdb

    from flows import cli

    api.clear_faults()
    for name, value in fast_env(api).items():
        monkeypatch.setenv(name, value)

    def openalex_odd(work):
        work["cited_by_count"] = -12
        work["ids"] = list((work.get("ids") or {}).values())  # a list where an object belongs
        work["counts_by_year"] = [{"year": 2024, "cited_by_count": 2**64}]

    def crossref_odd(item):
        item["is-referenced-by-count"] = 10**30
        item["reference-count"] = -4

    _poison(api, monkeypatch, "openalex", openalex_odd)
    _poison(api, monkeypatch, "crossref", crossref_odd)
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0  # every identifier settled

    con = duckdb.connect(str(db), read_only=True)
    try:
        statuses = dict(
            con.execute("select status, count(*) from fetch_ledger group by 1").fetchall()
        )
        notes = dict(
            con.execute(
                "select source || ' ' || field || ' ' || action, count(*) "
                "from data_quality_notes group by 1"
            ).fetchall()
        )
        loaded = dict(
            con.execute("select source, count(*) from source_records group by 1").fetchall()
        )
        counts = con.execute(
            "select count(*) from source_records where source in ('openalex', 'crossref') "
            "and cited_by_count is not null"
        ).fetchone()[0]
        assert set(statuses) <= {"ok", "not_found"}
        assert loaded["openalex"] > 0 and loaded["crossref"] > 0 and counts == 0
        for kind in ("openalex cited_by_count nulled", "openalex ids ignored",
                     "openalex counts_by_year[0].cited_by_count dropped",
                     "crossref cited_by_count nulled", "crossref reference_count nulled"):  # fmt: skip
            assert notes.get(kind, 0) > 0, (kind, notes)
        assert quality_failures(con) == {}
    finally:
        con.close()
