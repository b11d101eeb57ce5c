"""End to end through the CLI: `enrich run` / `enrich refresh` on the two real seeds, over real
HTTP sockets against the loopback fake API, into a real DuckDB file, under a real Prefect server
(the session's test harness).

Expectations are derived from the seeds' oracle (tests/fixtures/seeds_expected.json) and from the
fake API's catalog, never written out by hand.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from flows import cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
ORACLE = json.loads((ROOT / "tests/fixtures/seeds_expected.json").read_text())
SCHEMES = ("doi", "pmid", "pmcid")


def expected_works() -> list[tuple[str, str, dict[str, str]]]:
    """(document, role, {scheme: value}) for every work of the oracle."""
    out = []
    for doc, entry in ORACLE["documents"].items():
        for w in entry["works"]:
            out.append((doc, w["role"], {s: w[s] for s in SCHEMES if s in w}))
    return out


@pytest.fixture
def seeds(tmp_path):
    target = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", target)
    return target


@pytest.fixture
def online(monkeypatch, api):
    for name, value in api.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ENRICH_MAILTO", "e2e@example.org")
    return api


def query(db: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def total_requests(api) -> int:
    return sum(s["requests"] for s in api.stats.values())


def work_of(db: Path, scheme: str, value: str) -> str | None:
    rows = query(db, "select work_id from work_ids where scheme = ? and value = ?", (scheme, value))
    return rows[0][0] if rows else None


# ------------------------------------------------------------------------------------------


def test_run_on_the_seeds_fills_every_contract_table(
    prefect_harness, online, seeds, tmp_path, catalog
):
    db = tmp_path / "w.duckdb"
    before = {s: len(st["received"]) for s, st in online.stats.items()}
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0

    expected = expected_works()
    work_ids = {}
    for doc, _role, ids in expected:
        found = {work_of(db, s, v) for s, v in ids.items()}
        assert len(found) == 1 and None not in found, f"{ids} should map to one work"
        work_ids[(doc, tuple(sorted(ids.items())))] = found.pop()
    assert len(set(work_ids.values())) == len(expected) == ORACLE["totals"]["works"]
    assert query(db, "select count(*) from works")[0][0] == len(expected)

    # every work is known to all three sources in the fake: each got its OpenAlex id, a
    # source_records row per source, authorships per source, and citation observations
    for wid in work_ids.values():
        rec = query(
            db, "select openalex_id, pmid, doi, title from works where work_id = ?", (wid,)
        )[0]
        fake = catalog.by_openalex(rec[0])
        assert fake is not None, f"work {wid} has no OpenAlex id from the fake"
        assert rec[3], "merged record has a title"
        sources = {
            r[0] for r in query(db, "select source from source_records where work_id = ?", (wid,))
        }
        assert sources == {"openalex", "crossref", "pubmed"}
        n_auth = query(
            db, "select count(*) from authorships where work_id = ? and source = 'openalex'", (wid,)
        )[0][0]
        assert n_auth == len(fake.authors)
        counts = dict(
            query(
                db, "select source, cited_by_count from citation_latest where work_id = ?", (wid,)
            )
        )
        assert counts.get("openalex") == fake.cited_by.openalex
        assert counts.get("pubmed") == len(fake.cited_by.pubmed)

    # PubMed's cited-in counts came with its records: no identifier was sent to the converter
    # or efetch twice (the counts used to resolve every matched id again)
    asked = Counter(
        one
        for source in ("idconv", "eutils")
        for _method, path, query_ in online.stats[source]["received"][before[source] :]
        if "elink" not in path
        for key, _, value in (pair.partition("=") for pair in query_.split("&"))
        if key in ("ids", "id")
        for one in value.split(",")
    )
    assert asked and max(asked.values()) == 1, asked.most_common(3)

    # seed 002: 5 citing and 5 reference links around its subject
    subject = work_of(db, "pmid", "36455991")
    citing = query(
        db,
        "select count(*) from work_references where source = 'seed' and cited_work_id = ?",
        (subject,),
    )[0][0]
    refs = query(
        db,
        "select count(*) from work_references where source = 'seed' and citing_work_id = ?",
        (subject,),
    )[0][0]
    n_citing = sum(1 for d, r, _ in expected if d.startswith("002") and r == "citing")
    n_refs = sum(1 for d, r, _ in expected if d.startswith("002") and r == "reference")
    assert (citing, refs) == (n_citing, n_refs)

    coverage = {
        Path(r[0]).name: r[1:]
        for r in query(db, "select path, found, resolved, not_found, failed from seed_coverage")
    }
    for doc in ORACLE["documents"]:
        found, resolved, not_found, failed = coverage[doc]
        assert found == resolved and not_found == 0 and failed == 0
    statuses = dict(query(db, "select status, count(*) from fetch_ledger group by 1"))
    assert set(statuses) == {"ok"}


def test_second_run_fetches_nothing_already_settled(prefect_harness, online, seeds, tmp_path):
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    before = total_requests(online)
    rows_before = query(db, "select count(*) from works")[0][0]
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    assert total_requests(online) == before
    assert query(db, "select count(*) from works")[0][0] == rows_before
    assert query(db, "select count(*) from runs where flow = 'enrich'")[0][0] == 2


def test_refresh_appends_observations_and_keeps_the_old_ones(
    prefect_harness, online, seeds, tmp_path, capsys
):
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    old = query(
        db, "select work_id, source, cited_by_count, observed_at from citation_counts order by all"
    )
    capsys.readouterr()
    assert cli.main(["refresh", "--db", str(db), "--stale-after", "7d"]) == 0
    assert query(db, "select count(*) from citation_counts")[0][0] == len(old), (
        "nothing is stale yet"
    )
    # nothing stale: said at once, and no flow run started (no runs row either)
    assert "nothing to refresh" in capsys.readouterr().err
    assert query(db, "select count(*) from runs where flow = 'refresh'")[0][0] == 0
    assert cli.main(["refresh", "--db", str(db), "--stale-after", "0s"]) == 0
    new = query(
        db, "select work_id, source, cited_by_count, observed_at from citation_counts order by all"
    )
    assert set(old) <= set(new)
    added = len(new) - len(old)
    works = query(db, "select count(*) from works")[0][0]
    assert added == works * 3, "one new observation per work and source"
    assert query(db, "select count(*) from runs where flow = 'refresh'")[0][0] == 1


def test_no_network_ends_with_everything_pending_and_exit_1(
    prefect_harness, monkeypatch, seeds, tmp_path, capsys
):
    for name in (
        "ENRICH_OPENALEX_URL",
        "ENRICH_CROSSREF_URL",
        "ENRICH_EUTILS_URL",
        "ENRICH_IDCONV_URL",
        "ENRICH_DOIRA_URL",
    ):
        monkeypatch.delenv(name, raising=False)  # the real default URLs: unreachable here
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert err.count("could not reach") == 1
    assert "Traceback" not in err
    statuses = {r[0] for r in query(db, "select distinct status from fetch_ledger")}
    assert statuses == {"pending"}
    mentions = query(db, "select count(*) from mentions")[0][0]
    assert mentions >= sum(len(ids) for _, _, ids in expected_works())


def test_deployments_are_registered_with_their_cron_schedules(prefect_harness, tmp_path):
    from prefect import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from flows.deploy import build_deployments

    deps = build_deployments(
        db=str(tmp_path / "w.duckdb"),
        paths=["seeds/"],
        run_cron="0 2 * * 0",
        refresh_cron="0 3 * * *",
        stale_after_seconds=7 * 86400,
    )
    ids = [d.apply() for d in deps]
    with get_client(sync_client=True) as client:
        crons = {}
        for name in ("enrich/scheduled", "refresh/daily"):
            dep = client.read_deployment_by_name(name)
            crons[name] = [(s.schedule.cron, s.schedule.timezone) for s in dep.schedules]
            assert dep.global_concurrency_limit.limit == 1
        assert crons == {
            "enrich/scheduled": [("0 2 * * 0", "UTC")],
            "refresh/daily": [("0 3 * * *", "UTC")],
        }
        # make the server's scheduler create the next runs now (catches the SQLAlchemy 2.1 breakage)
        client._client.post(
            f"/deployments/{ids[1]}/schedule", json={"max_runs": 3}
        ).raise_for_status()
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[ids[1]]))
        )
        assert len(runs) >= 3
        assert all(
            r.expected_start_time.hour == 3 and r.expected_start_time.minute == 0 for r in runs
        )


def test_crossref_asks_the_dois_openalex_taught_it_while_pubmed_is_still_fetching(
    prefect_harness, online, monkeypatch, seeds, tmp_path
):
    """No source waits for another's round: PubMed's first fetch is held until Crossref has
    started its second (the DOIs OpenAlex learnt for the works the seeds name by PMID/PMCID).
    With rounds, that second fetch waited for PubMed's first to end."""
    from flows import steps

    real = steps.fetch_and_load
    crossref_asked: list[list] = []
    second = threading.Event()
    held: list[bool] = []

    def watched(source, ids, **kwargs):
        if source == "crossref":
            crossref_asked.append(list(ids))
            if len(crossref_asked) == 2:
                second.set()
        if source == "pubmed" and not held:
            held.append(second.wait(timeout=30))
        return real(source, ids, **kwargs)

    monkeypatch.setattr(steps, "fetch_and_load", watched)
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    assert held == [True]
    first, later = crossref_asked[0], crossref_asked[1]
    assert later and not set(first) & set(later)
    assert {i.scheme for i in later} == {"doi"}
    statuses = dict(query(db, "select status, count(*) from fetch_ledger group by 1"))
    assert set(statuses) == {"ok"}


def test_a_failed_cited_in_call_is_asked_again_by_pmid_before_the_run_ends(
    prefect_harness, online, seeds, tmp_path
):
    """The records' elink fails (a 400 is not retried): the records stay ``ok``, and the run's
    last step counts those works by PMID, without resolving them again."""
    online.inject("eutils", "400", times=1, match="elink")
    try:
        db = tmp_path / "w.duckdb"
        assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    finally:
        online.clear_faults()
    uncounted = query(
        db,
        "select count(*) from works w where not exists (select 1 from citation_counts c "
        "where c.work_id = w.work_id and c.source = 'pubmed')",
    )[0][0]
    assert uncounted == 0
    statuses = dict(query(db, "select status, count(*) from fetch_ledger group by 1"))
    assert set(statuses) == {"ok"}


def test_a_source_that_crashes_lets_the_others_finish_loading(
    prefect_harness, online, monkeypatch, seeds, tmp_path, capsys
):
    from flows import steps

    real = steps.fetch_and_load

    def flaky(source, ids, **kwargs):
        if source == "openalex":  # the first source the flow collects a result from
            raise RuntimeError("openalex client bug")
        time.sleep(3.0)  # still loading when openalex has failed (after its one retry, 2 s on)
        return real(source, ids, **kwargs)

    monkeypatch.setattr(steps, "fetch_and_load", flaky)
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "openalex client bug" in err
    assert "closed" not in err and "NoneType" not in err
    settled = dict(
        query(
            db,
            "select source, count(*) from fetch_ledger "
            "where status in ('ok', 'not_found') group by source",
        )
    )
    asked = dict(query(db, "select source, count(*) from fetch_ledger group by source"))
    assert settled.get("openalex", 0) == 0
    for source in ("crossref", "pubmed"):
        assert settled[source] == asked[source] > 0


def test_run_prints_a_line_per_problem_file_and_skips_non_documents_without_exit_2(
    prefect_harness, online, seeds, tmp_path, capsys
):
    # issue 18 item 3: a binary file in the seed folder once ended the run with exit 2 and no
    # line; the warehouse's own files and VCS folders were read as seeds.
    (seeds / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (seeds / ".git").mkdir()
    (seeds / ".git" / "notes.txt").write_text("doi:10.9999/in-git\n")
    (seeds / "old.duckdb.wal").write_bytes(b"\x00" * 64)
    db = seeds / "w.duckdb"  # the run's own warehouse, inside the seed folder
    assert cli.main(["run", str(seeds), "--db", str(db)]) == 0
    err = capsys.readouterr().err
    png = seeds / "figure.png"
    assert err.count(f"enrich: {png}: binary file") == 1
    assert "in-git" not in err and "duckdb" not in err.replace(str(db), "")
    paths = {r[0] for r in query(db, "select path from seed_documents")}
    assert {Path(p).name for p in paths} == {p.name for p in (ROOT / "seeds").iterdir()} | {
        "figure.png"
    }
    assert cli.main(["run", str(png), "--db", str(db)]) == 2  # named: an input error
    assert capsys.readouterr().err.count(f"enrich: {png}: binary file") == 1
