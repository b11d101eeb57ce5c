"""Redirects (issue 21 item 2): followed only within the API's own scheme and host:port, so
no API key, ``mailto``, ``email``, ``tool`` or header ever reaches another host; what a
redirect leads to is ``failed`` with both URLs (secrets removed), never ``not_found``.

Before, a 302/307 to another host:port was followed with ``api_key=...`` in the query (the
Location kept it), the other host's 404 made every identifier ``not_found``, and a refused
connection there read "could not reach openalex". Two loopback fake APIs play the API and the
other host; the other host's stats say what reached it.
"""

from __future__ import annotations

import shutil

import pytest

from demo.fakeapi import FakeApi
from flows.steps import Writer, fetch_and_load
from pipeline.records import Identifier
from tests.reliability.conftest import ROOT, fast_env, fast_settings, ledger, quality_failures

pytestmark = pytest.mark.timeout(180)
KEY = "secret-openalex-key-21"
NCBI_KEY = "secret-ncbi-key-21"


@pytest.fixture
def fresh(api, sleeps):
    api.clear_faults()
    api.reset_stats()
    yield api
    api.clear_faults()


@pytest.fixture(scope="module")
def elsewhere(catalog):
    """Another host:port (a second fake API): nothing of ours may ever reach it."""
    with FakeApi(catalog) as other:
        yield other


def fetch(source: str, ids, settings):
    from warehouse.load import start_run

    writer = Writer(":memory:")
    fetch_and_load(source, ids, settings=settings, writer=writer,
                   run_id=writer(start_run, "enrich", {}))  # fmt: skip
    rows = ledger(writer.con, source)
    assert quality_failures(writer.con) == {}
    writer.close()
    return rows


def ids_for(source: str, catalog) -> list[Identifier]:
    works = list(catalog)[:3]
    if source == "pubmed":
        return [Identifier("pmid", w.pmid) for w in works]
    return [Identifier("doi", w.doi) for w in works]


ENDPOINT = {"openalex": "openalex", "crossref": "crossref", "pubmed": "eutils"}


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("source", ["openalex", "crossref", "pubmed"])
def test_a_redirect_to_another_host_is_never_followed(fresh, elsewhere, catalog, source, status):
    elsewhere.reset_stats()
    settings = fast_settings(fresh, openalex_api_key=KEY, ncbi_api_key=NCBI_KEY)
    fresh.inject(ENDPOINT[source], "redirect", times=None, to=elsewhere.url, status=status)
    rows = fetch(source, ids_for(source, catalog), settings)

    assert sum(s["requests"] for s in elsewhere.stats.values()) == 0, "nothing reached it"
    assert all(elsewhere.api_keys(s) == [] for s in elsewhere.stats)
    for status_word, http_status, _, error in rows.values():
        assert (status_word, http_status) == ("failed", status)
        assert "redirect to another host not followed" in error
        assert fresh.url in error and elsewhere.url in error  # both URLs ...
        assert KEY not in error and NCBI_KEY not in error  # ... without the secrets


def test_openalex_merged_work_redirect_on_its_own_host_is_still_followed(fresh, catalog):
    merged = next(w for w in catalog if w.merged_from)
    old = Identifier("openalex", merged.merged_from[0])
    rows = fetch("openalex", [old], fast_settings(fresh, openalex_api_key=KEY))
    assert rows[old][:2] == ("ok", 200)
    assert 301 in fresh.stats["openalex"]["by_status"]
    assert fresh.api_keys("openalex") and set(fresh.api_keys("openalex")) == {KEY}


def test_a_404_after_a_redirect_is_failed_with_both_urls_never_not_found(fresh, catalog):
    """The server moved us to a URL that does not exist: that says nothing about the DOI."""
    ids = ids_for("crossref", catalog)[:1]
    fresh.inject(
        "crossref", "redirect", times=None, match=ids[0].value, path="/works/10.9999/moved"
    )
    rows = fetch("crossref", ids, fast_settings(fresh))
    status, http_status, _, error = rows[ids[0]]
    assert (status, http_status) == ("failed", 404)
    assert "HTTP 404 after a redirect from" in error and "10.9999/moved" in error
    assert ids[0].value in error


def test_a_connection_error_after_a_redirect_is_failed_with_both_urls_never_unreachable(
    fresh, catalog
):
    ids = ids_for("crossref", catalog)[:1]
    fresh.inject("crossref", "redirect", times=None, match=ids[0].value, path="/works/moved/x")
    fresh.inject("crossref", "reset", times=None, match="/works/moved/")
    rows = fetch("crossref", ids, fast_settings(fresh))
    status, http_status, _, error = rows[ids[0]]
    assert status == "failed" and "after a redirect from" in error and "/works/moved/x" in error
    assert "cannot reach" not in error


@pytest.mark.e2e
def test_cli_run_with_an_api_redirecting_elsewhere_sends_it_nothing(
    prefect_harness, fresh, elsewhere, monkeypatch, tmp_path, capsys
):
    from flows import cli

    for name, value in fast_env(fresh).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENALEX_API_KEY", KEY)
    monkeypatch.setenv("NCBI_API_KEY", NCBI_KEY)
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    elsewhere.reset_stats()
    fresh.inject("openalex", "redirect", times=None, to=elsewhere.url, status=307)
    fresh.inject("eutils", "redirect", times=None, to=elsewhere.url)
    assert cli.main(["run", str(seeds), "--db", str(tmp_path / "w.duckdb")]) == 1
    err = capsys.readouterr().err
    assert sum(s["requests"] for s in elsewhere.stats.values()) == 0
    assert KEY not in err and NCBI_KEY not in err
    assert "could not reach" not in err

    import duckdb

    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        by_source = dict(
            con.execute(
                "select source, list(distinct status) from fetch_ledger group by 1"
            ).fetchall()
        )
        assert by_source["openalex"] == ["failed"] and by_source["crossref"] == ["ok"]
        assert "not_found" not in by_source["pubmed"]
    finally:
        con.close()
