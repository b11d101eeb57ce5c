"""The fault matrix (issue #6 item 1): every fault class each API is known to produce, injected
into the loopback fake and driven through the real stack below Prefect
(``flows.steps.fetch_and_load`` -> client -> ``pipeline.http`` -> normalise -> ``warehouse``).

For each (endpoint, fault):
- transient (the fault fires once or twice, fewer times than the retry budget): every identifier
  ends as it would without the fault (``ok``, or ``not_found`` for the id no source knows), except
  where the API's answer is, by design, final for this run (a Retry-After beyond the cap defers
  as ``pending``; an E-utilities 404 is an endpoint error, not an answer about the id): those
  leave their identifiers ``failed``/``pending``, never ``not_found``, and the next run settles them;
- persistent (the fault never clears): the identifiers that depend on the faulted endpoint end
  ``failed`` (``pending`` for deferrals and OpenAlex's spent budget), never ``not_found``; the rest
  are untouched; the next run, fault cleared, settles everything;
- after every run, every data-quality check of warehouse/checks.sql finds nothing (no duplicate
  row, no orphan).

Expected outcomes come from the fake's catalog, never from a hand-written list.
A handful of the same faults run through the CLI under Prefect at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from flows.steps import Writer, fetch_and_load
from pipeline.records import Identifier
from tests.reliability.conftest import (
    absent_doi,
    count_faults,
    fast_env,
    fast_settings,
    ledger,
    quality_failures,
)

pytestmark = pytest.mark.timeout(120)

CLIENT_OF = {
    "openalex": "openalex",
    "crossref": "crossref",
    "eutils": "pubmed",
    "idconv": "pubmed",
    "doira": "crossref",  # doi.org's agency lookup, asked before Crossref
}


@pytest.fixture
def fresh(api):
    api.clear_faults()
    api.reset_stats()
    yield api
    count_faults(api)
    api.clear_faults()


# -- the identifiers each client is asked about, derived from the catalog ------------------------


def identifiers(client: str, catalog) -> list[Identifier]:
    """A mix that exercises every path of ``client``: lists and singletons, every scheme it
    reads, a merged OpenAlex id (301) and a DOI nobody knows."""
    works = list(catalog)
    absent = Identifier("doi", absent_doi(catalog))
    if client == "openalex":
        merged = next(w for w in works if w.merged_from)
        return [  # one filter list per scheme: two lists, then singletons for what they miss
            *(Identifier("doi", w.doi) for w in works[:2]),
            Identifier("openalex", works[6].openalex_id),
            Identifier("openalex", merged.merged_from[0]),
            absent,
        ]
    if client == "crossref":  # >= 4 DOIs: they go as one filter list
        return [*(Identifier("doi", w.doi) for w in works[:4]), absent]
    in_pmc = [w for w in works if w.pmcid]
    not_in_pmc = [w for w in works if not w.pmcid]
    return [
        Identifier("pmid", not_in_pmc[0].pmid),
        Identifier("pmid", in_pmc[0].pmid),
        Identifier("pmcid", in_pmc[1].pmcid),
        Identifier("pmcid", in_pmc[2].pmcid),
        Identifier("doi", in_pmc[3].doi),  # the converter resolves it
        Identifier("doi", not_in_pmc[1].doi),  # the converter cannot: esearch does
        absent,
    ]


def baseline(client: str, ids: list[Identifier], catalog) -> dict[Identifier, str]:
    """What each identifier ends as with no fault: ok when the catalog's work is known to the
    source (a merged W id is known through its survivor), else not_found."""
    out = {}
    for i in ids:
        if i.scheme == "openalex":
            w = catalog.by_openalex(i.value) or catalog.by_openalex(
                catalog.merged_target(i.value) or ""
            )
        else:
            w = catalog.get(**{i.scheme: i.value}) if _known(catalog, i) else None
        out[i] = "ok" if w is not None and w.known_to(client) else "not_found"
    return out


def _known(catalog, i: Identifier) -> bool:
    try:
        catalog.get(**{i.scheme: i.value})
        return True
    except KeyError:
        return False


def affected(endpoint: str, ids: list[Identifier], expected: dict) -> set[Identifier]:
    """Identifiers whose outcome depends on ``endpoint`` answering. The PMC converter only sits
    in front of PMCIDs, and of DOIs that esearch can still find; an unknown DOI's absence is
    only proven when the converter answered too."""
    if endpoint != "idconv":
        return set(ids)
    return {i for i in ids if i.scheme == "pmcid" or expected[i] == "not_found"}


# -- the matrix ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    endpoint: str  # the fake's source: openalex | crossref | eutils | idconv
    kind: str
    opts: dict = field(default_factory=dict)
    times: int = 2  # the transient version fires this often (the retry budget is 3 attempts)
    settles_at_once: bool = True  # a transient fault leaves nothing unsettled
    persistent_status: str | None = "failed"  # None: a persistent fault changes nothing
    absent_match: bool = False  # the fault only hits requests naming the unknown DOI

    @property
    def id(self) -> str:
        extra = "-".join(f"{k}{v}" for k, v in self.opts.items())
        return f"{self.endpoint}-{self.kind}" + (f"-{extra}" if extra else "")


def _common(endpoint: str) -> list[Case]:
    ncbi = endpoint in ("eutils", "idconv")
    # Crossref's mix is one request: a complete list answer settles its unknown DOI too
    slow_times = 1 if endpoint == "crossref" else 2
    # NCBI's 429 carries no Retry-After (api-notes 3.1): its gateway's 503 is the one that may
    return [
        *([] if ncbi else [Case(endpoint, "429", {"retry_after": 1})]),
        Case(endpoint, "429"),
        # a Retry-After beyond the cap (5 s here) defers at once, even when it fires once
        Case(endpoint, "503" if ncbi else "429", {"retry_after": 30}, 1, False, "pending"),
        Case(endpoint, "502"),
        Case(endpoint, "503"),
        Case(endpoint, "504"),
        Case(endpoint, "reset"),
        Case(endpoint, "timeout", {"delay": 1.5}),
        Case(endpoint, "slow", {"delay": 0.2}, slow_times, persistent_status=None),
        Case(endpoint, "truncated", {"mode": "length"}),
        *([Case(endpoint, "truncated", {"mode": "chunked"})] if endpoint == "eutils" else []),
        Case(endpoint, "html200"),
    ]


MATRIX: list[Case] = [
    *_common("openalex"),
    Case("openalex", "500"),  # documented "retry with backoff"
    # a spent budget is final for the day: once it is seen on a list, lists stop and the free
    # singletons take over; a second refusal (on a singleton) defers everything left
    Case("openalex", "budget429", times=1, persistent_status="pending"),
    # a Retry-After of hours is the daily budget even without X-RateLimit headers (pyalex#111)
    Case("openalex", "429", {"retry_after": 3600}, times=1, persistent_status="pending"),
    Case("openalex", "404", absent_match=True, persistent_status=None),
    *_common("crossref"),
    # Crossref 500 is not retried by design (habanero: it means "cannot parse"); a list 500
    # falls back to singletons, so one 500 costs nothing
    Case("crossref", "500", times=1),
    Case("crossref", "html429"),
    Case("crossref", "404", absent_match=True, persistent_status=None),
    *_common("eutils"),
    Case("eutils", "500"),
    Case("eutils", "ncbi_error_json"),
    Case("eutils", "ncbi_error_xml"),
    # a 404 from an E-utilities endpoint says nothing about the ids: never retried, never
    # not_found; the next run asks again
    Case("eutils", "404", times=1, settles_at_once=False),
    *_common("idconv"),
    Case("idconv", "500"),
    Case("idconv", "ncbi_error_json"),
    Case("idconv", "ncbi_error_xml"),
    Case("idconv", "404", times=1, settles_at_once=False),
    # doi.org's agency lookup (one request for Crossref's mix): a fault of any kind, transient or
    # persistent, is no verdict, and every DOI is asked at Crossref as without the lookup
    *(
        Case("doira", kind, opts, times, persistent_status=None)
        for kind, opts, times in (
            ("429", {"retry_after": 1}, 2),
            ("429", {"retry_after": 30}, 1),  # beyond the cap: deferred at once
            ("500", {}, 1),  # not retried
            ("503", {}, 2),
            ("404", {}, 1),
            ("reset", {}, 2),
            ("timeout", {"delay": 1.5}, 2),
            ("slow", {"delay": 0.2}, 1),
            ("truncated", {"mode": "length"}, 2),
            ("html200", {}, 2),
        )
    ),
]


def _run(api, catalog, case: Case, *, times: int | None, sleeps: list[float]):
    client = CLIENT_OF[case.endpoint]
    ids = identifiers(client, catalog)
    expected = baseline(client, ids, catalog)
    # a persistent fault outlasts any budget: two attempts prove it as well as three, faster
    settings = fast_settings(api, max_attempts=3 if times else 2)
    writer = Writer(":memory:")
    match = absent_doi(catalog) if case.absent_match else None
    api.inject(case.endpoint, case.kind, times=times, match=match, **case.opts)
    first = _fetch(client, ids, settings, writer)
    fired = api.stats[case.endpoint]["faults"]
    assert fired >= 1, f"the {case.kind} fault never fired"
    assert quality_failures(writer.con) == {}
    return client, ids, expected, settings, writer, first


def _fetch(client: str, ids, settings, writer, run: str = "first") -> dict[Identifier, tuple]:
    from warehouse.load import start_run

    run_id = writer(start_run, "enrich", {"run": run})
    fetch_and_load(client, ids, settings=settings, writer=writer, run_id=run_id)
    return ledger(writer.con, client)


def _statuses(rows: dict[Identifier, tuple]) -> dict[Identifier, str]:
    return {i: r[0] for i, r in rows.items()}


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_transient_fault_is_survived(fresh, catalog, case, sleeps):
    client, ids, expected, settings, writer, first = _run(
        fresh, catalog, case, times=case.times, sleeps=sleeps
    )
    got = _statuses(first)
    assert set(got) == set(ids), "every identifier asked has exactly one ledger row"
    assert fresh.stats[case.endpoint]["faults"] == case.times
    if case.settles_at_once:
        assert got == expected
    else:
        unsettled = {i for i, s in got.items() if s in ("failed", "pending")}
        assert unsettled, "the fault should have left something for the next run"
        assert all(got[i] == expected[i] for i in set(ids) - unsettled)
        again = _statuses(_fetch(client, sorted(unsettled), settings, writer, "second"))
        assert again == expected
        assert quality_failures(writer.con) == {}
    writer.close()


@pytest.mark.parametrize("case", MATRIX, ids=lambda c: c.id)
def test_persistent_fault_never_says_not_found_and_the_next_run_settles(
    fresh, catalog, case, sleeps
):
    client, ids, expected, settings, writer, first = _run(
        fresh, catalog, case, times=None, sleeps=sleeps
    )
    got = _statuses(first)
    assert set(got) == set(ids)
    if case.persistent_status is None:  # slow answers, or a 404 that is the truth
        assert got == expected
    else:
        hit = affected(case.endpoint, ids, expected)
        assert {i: got[i] for i in hit} == dict.fromkeys(hit, case.persistent_status)
        assert {i: got[i] for i in set(ids) - hit} == {i: expected[i] for i in set(ids) - hit}
        for i in hit:
            status, http_status, attempts, error = first[i]
            assert error, f"{i} is {status} without saying why"
    fresh.clear_faults()
    unsettled = sorted(i for i, s in got.items() if s in ("failed", "pending"))
    again = _statuses(_fetch(client, unsettled, settings, writer, "second"))
    assert again == expected
    assert quality_failures(writer.con) == {}
    writer.close()


def test_matrix_covers_every_fault_kind_the_fake_offers():
    from demo.fakeapi.faults import KINDS

    covered = {c.kind for c in MATRIX}
    # 400/401/403 are refusals of our request, not faults of the service (tested per client);
    # a redirect is never retried, and a trickle costs the whole request deadline: both have
    # their own tests (test_redirects.py, test_deadline.py)
    hostile = {"redirect", "trickle_headers", "trickle_body"}
    assert covered == KINDS - {"400", "401", "403"} - hostile
    assert {c.endpoint for c in MATRIX} == set(CLIENT_OF)


def test_merged_openalex_work_is_followed_and_recorded_as_an_alias(fresh, catalog, sleeps):
    merged = next(w for w in catalog if w.merged_from)
    old = merged.merged_from[0]
    writer = Writer(":memory:")
    rows = _fetch("openalex", [Identifier("openalex", old)], fast_settings(fresh), writer)
    assert rows[Identifier("openalex", old)][:2] == ("ok", 200)
    assert 301 in fresh.stats["openalex"]["by_status"]
    survivor = writer.con.execute(
        "select work_id from work_ids where scheme = 'openalex' and value = ?",
        [merged.openalex_id],
    ).fetchall()
    assert len(survivor) == 1, "the surviving W id names one work"
    assert quality_failures(writer.con) == {}
    writer.close()


def test_the_retry_schedule_honours_retry_after(fresh, catalog, sleeps):
    """The 429's Retry-After is what the client waits (recorded through pipeline.http.sleep)."""
    writer = Writer(":memory:")
    fresh.inject("crossref", "429", times=1, retry_after=2)
    ids = identifiers("crossref", catalog)
    rows = _fetch("crossref", ids, fast_settings(fresh), writer)
    assert _statuses(rows) == baseline("crossref", ids, catalog)
    assert 2.0 in sleeps
    writer.close()


# -- the same through the CLI, under Prefect -------------------------------------------------------


@pytest.fixture
def cli_env(monkeypatch, fresh, sleeps, tmp_path):
    for name, value in fast_env(fresh).items():
        monkeypatch.setenv(name, value)
    seeds = tmp_path / "seeds"
    import shutil

    from tests.reliability.conftest import ROOT

    shutil.copytree(ROOT / "seeds", seeds)
    return seeds


UNRESOLVED = """
select l.source, l.scheme, l.value, l.status from fetch_ledger l
left join work_ids i on i.scheme = l.scheme and i.value = l.value
left join source_records s on s.work_id = i.work_id and s.source = l.source
where l.status in ('failed', 'pending') and s.work_id is null
"""


def _cli_ledger(db):
    """(ledger counts by status, failing quality checks, unsettled rows per source, unsettled
    rows whose work has no record from that source at all)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        statuses = dict(
            con.execute("select status, count(*) from fetch_ledger group by 1").fetchall()
        )
        unsettled = dict(
            con.execute(
                "select source, count(*) from fetch_ledger where status in ('failed', 'pending') "
                "group by 1"
            ).fetchall()
        )
        return statuses, quality_failures(con), unsettled, con.execute(UNRESOLVED).fetchall()
    finally:
        con.close()


CLI_CASES = [  # the PMC converter's case is test_cli_next_run_leaves_no_failed_row_behind
    ("crossref", "503", "failed"),
    ("openalex", "budget429", "pending"),
    ("eutils", "ncbi_error_xml", "failed"),
]


@pytest.mark.e2e
@pytest.mark.parametrize(("endpoint", "kind", "status"), CLI_CASES)
def test_cli_persistent_fault_exits_1_then_the_next_run_resolves_every_work(
    prefect_harness, cli_env, fresh, tmp_path, endpoint, kind, status
):
    from flows import cli

    db = tmp_path / "w.duckdb"
    fresh.inject(endpoint, kind, times=None)
    assert cli.main(["run", str(cli_env), "--db", str(db)]) == 1
    statuses, quality, unsettled, _ = _cli_ledger(db)
    assert statuses.get(status, 0) > 0 and "not_found" not in statuses
    assert set(unsettled) == {CLIENT_OF[endpoint]}
    assert quality == {}
    fresh.clear_faults()
    assert cli.main(["run", str(cli_env), "--db", str(db)]) == 0
    statuses, quality, unsettled, unresolved = _cli_ledger(db)
    assert "not_found" not in statuses and quality == {}
    # every work now has a record from every source (a failed row may survive: see below)
    assert unresolved == []


@pytest.mark.e2e
def test_cli_next_run_leaves_no_failed_row_behind(prefect_harness, cli_env, fresh, tmp_path):
    from flows import cli

    db = tmp_path / "w.duckdb"
    fresh.inject("idconv", "reset", times=None)
    assert cli.main(["run", str(cli_env), "--db", str(db)]) == 1
    fresh.clear_faults()
    assert cli.main(["run", str(cli_env), "--db", str(db)]) == 0
    statuses, _, unsettled, _ = _cli_ledger(db)
    assert unsettled == {}, f"still unsettled after a clean run: {unsettled}"


@pytest.mark.e2e
def test_cli_transient_faults_on_every_endpoint_still_exit_0(
    prefect_harness, cli_env, fresh, tmp_path
):
    from flows import cli

    db = tmp_path / "w.duckdb"
    for endpoint, kind in (
        ("openalex", "500"),
        ("crossref", "html429"),
        ("eutils", "truncated"),
        ("idconv", "ncbi_error_json"),
    ):
        fresh.inject(endpoint, kind, times=2)
    assert cli.main(["run", str(cli_env), "--db", str(db)]) == 0
    assert sum(s["faults"] for s in fresh.stats.values()) == 8
    statuses, quality, _, _ = _cli_ledger(db)
    assert set(statuses) == {"ok"} and quality == {}
