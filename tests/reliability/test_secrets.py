"""Secrets and SQL safety (issue #6 item 6).

- With NCBI_API_KEY and OPENALEX_API_KEY set, ``enrich -v run`` and ``enrich -v refresh`` send
  the keys (the fake API records them) to their own sources only, and then neither key appears,
  raw or percent-encoded, anywhere we can read back: stdout/stderr, every log record at DEBUG,
  every column of every warehouse table, Prefect's artifacts, flow-run parameters and run logs,
  and the bytes of Prefect's own database.
- Values from seeds reach SQL only as parameters: a file named ``x'); drop table works; --`` and
  identifiers carrying quotes load intact and harm nothing.
- ``enrich sql`` is read-only unless ``--write``.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import quote

import duckdb
import pytest

from demo.fakeapi import FakeApi, seed_catalog
from flows import cli
from pipeline.records import Identifier
from tests.reliability.conftest import (
    ROOT,
    count_faults,
    fast_env,
    fast_settings,
    ledger,
    quality_failures,
)

pytestmark = pytest.mark.timeout(300)

# Distinctive, and with characters that change when percent-encoded ('+', '/', '=').
OPENALEX_KEY = "oaKEY+r3l1ab/1l1ty=7f3c9e1d"
NCBI_KEY = "ncbiKEY+5a8b/2c4d=6e0f"
KEYS = (OPENALEX_KEY, NCBI_KEY)
FORMS = tuple({f for k in KEYS for f in (k, quote(k, safe=""), quote(k, safe="/"))})
INJECTION = "'); drop table works; --"


@pytest.fixture(scope="module")
def api():
    with FakeApi(seed_catalog()) as server:
        yield server


@pytest.fixture
def keyed(monkeypatch, api, sleeps, tmp_path):
    api.clear_faults()
    api.reset_stats()
    for name, value in fast_env(api).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("OPENALEX_API_KEY", OPENALEX_KEY)
    monkeypatch.setenv("NCBI_API_KEY", NCBI_KEY)
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    yield seeds
    count_faults(api)
    api.clear_faults()


@pytest.fixture
def every_log(monkeypatch, caplog):
    """caplog at DEBUG on the root, and on the loggers the CLI detaches from the root."""
    caplog.set_level(logging.DEBUG)
    real = cli.configure_logging

    def configure(verbose: bool) -> None:
        real(verbose)
        for name in ("pipeline", "warehouse", "flows", "enrich", "prefect", "urllib3"):
            lg = logging.getLogger(name)
            if caplog.handler not in lg.handlers:
                lg.addHandler(caplog.handler)
            if name in ("urllib3", "prefect"):
                monkeypatch.setattr(lg, "level", logging.DEBUG)

    monkeypatch.setattr(cli, "configure_logging", configure)
    return caplog


def leaks(text: str) -> list[str]:
    return [f for f in FORMS if f in text]


def warehouse_leaks(db: Path) -> dict[str, int]:
    """Every column of every table and of the raw_responses view, cast to text (JSON, lists and
    structs included), searched for every form of every key. The SQL is generated from information_schema."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = con.execute(
            "select c.table_name, c.column_name from information_schema.columns c "
            "join information_schema.tables t using (table_schema, table_name) "
            "where c.table_schema = 'main' and (t.table_type = 'BASE TABLE' "
            # bodies are stored in parts: a key cut across two is whole only in the view
            "or t.table_name = 'raw_responses') order by all"
        ).fetchall()
        tables = {t for t, _ in cols}
        assert {"raw_responses", "raw_response_parts", "fetch_ledger", "runs"} <= tables
        found = {}
        for table, column in cols:
            cond = " or ".join(f'contains(cast("{column}" as varchar), ?)' for _ in FORMS)
            n = con.execute(f'select count(*) from "{table}" where {cond}', list(FORMS)).fetchone()
            if n[0]:
                found[f"{table}.{column}"] = n[0]
        return found
    finally:
        con.close()


def prefect_leaks() -> dict[str, list[str]]:
    """Artifacts, flow-run parameters and run logs read back through the Prefect client, and
    the raw bytes of the Prefect server's database file."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL

    found: dict[str, list[str]] = {}
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
        runs = client.read_flow_runs()
        logs = client.read_logs()
        tasks = client.read_task_runs()
    assert artifacts and runs, "the runs left artifacts and flow runs to search"
    texts = {
        "artifacts": [f"{a.key} {a.description} {a.data}" for a in artifacts],
        "flow_run_parameters": [repr(r.parameters) for r in runs],
        "flow_runs": [r.model_dump_json() for r in runs],
        "task_runs": [t.model_dump_json() for t in tasks],
        "run_logs": [lg.message for lg in logs],
    }
    for where, items in texts.items():
        hits = [f for f in FORMS for t in items if f in t]
        if hits:
            found[where] = sorted(set(hits))
    url = PREFECT_API_DATABASE_CONNECTION_URL.value() or ""
    assert url.startswith("sqlite"), "the test harness keeps Prefect's state in SQLite"
    path = Path(url.split("///", 1)[-1])
    searched = list(path.parent.glob(path.name + "*"))
    assert path in searched, f"Prefect's database is not at {path}"
    for f in searched:  # the file, -wal and -shm
        data = f.read_bytes()
        hits = [k for k in FORMS if k.encode() in data]
        if hits:
            found[f.name] = hits
    return found


@pytest.mark.e2e
def test_api_keys_are_sent_and_never_kept_anywhere(
    prefect_harness, api, keyed, every_log, capsys, tmp_path
):
    db = tmp_path / "w.duckdb"
    # a few transient faults, so retry and give-up messages (which name URLs) are logged too
    api.inject("openalex", "503", times=1)
    api.inject("eutils", "429", times=1)
    api.inject("idconv", "reset", times=1)
    assert cli.main(["-v", "run", str(keyed), "--db", str(db)]) == 0
    api.inject("openalex", "timeout", times=1, delay=1.5)
    assert cli.main(["-v", "refresh", "--db", str(db), "--stale-after", "0s"]) == 0
    # a run that fails: its error lines are kept in the ledger and printed
    api.inject("eutils", "503", times=None)
    assert cli.main(["-v", "run", str(keyed), "--db", str(db), "--refresh"]) == 1

    assert OPENALEX_KEY in api.api_keys("openalex")
    assert NCBI_KEY in api.api_keys("eutils") and NCBI_KEY in api.api_keys("idconv")
    assert set(api.api_keys("openalex")) == {OPENALEX_KEY}
    assert api.api_keys("crossref") == [], "a key never goes to another source"

    out, err = capsys.readouterr()
    assert leaks(out + err) == []
    messages = [r.getMessage() for r in every_log.records]
    assert len(messages) > 50, "DEBUG logging was captured"
    assert any("retrying" in m for m in messages), "retry lines (with URLs) were logged"
    assert [m for m in messages if leaks(m)] == []
    assert leaks(every_log.text) == []
    assert warehouse_leaks(db) == {}
    assert prefect_leaks() == {}


def test_urllib3_debug_lines_never_carry_a_key(api, sleeps, caplog):
    """urllib3 logs every request line (with its query) at DEBUG; an application that turns the
    root logger to DEBUG must not see the key there."""
    from flows.steps import Writer, fetch_and_load

    api.reset_stats()
    caplog.set_level(logging.DEBUG)
    settings = fast_settings(api, openalex_api_key=OPENALEX_KEY, ncbi_api_key=NCBI_KEY)
    writer = Writer(":memory:")
    work = next(iter(seed_catalog()))
    for source in ("openalex", "pubmed"):
        fetch_and_load(
            source, [Identifier("pmid", work.pmid)], settings=settings, writer=writer, run_id="r"
        )
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("api_key=" in line for line in lines), "urllib3 logged the request lines"
    assert [line for line in lines if leaks(line)] == []
    assert OPENALEX_KEY in api.api_keys("openalex") and NCBI_KEY in api.api_keys("eutils")


# -- values from seeds reach SQL only as parameters --------------------------------------------


@pytest.mark.e2e
def test_a_seed_named_like_sql_injection_loads_intact(prefect_harness, api, keyed, tmp_path):
    doc = keyed / f"x{INJECTION}.txt"
    doc.write_text(
        f"Title {INJECTION}\n\nSee PMID: {next(iter(seed_catalog())).pmid}.\n{INJECTION}\n"
    )
    db = tmp_path / "w.duckdb"
    assert cli.main(["run", str(keyed), "--db", str(db)]) == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert (
            con.execute(
                "select count(*) from seed_documents where path = ?", [str(doc)]
            ).fetchone()[0]
            == 1
        )
        assert con.execute("select count(*) from works").fetchone()[0] > 0
        assert quality_failures(con) == {}
    finally:
        con.close()


def test_identifiers_with_quotes_load_intact_and_harm_nothing(api, sleeps):
    """Below the CLI (extraction stops a DOI at a quote): identifiers carrying SQL go through
    every client, the ledger, raw_responses and the identity tables as data."""
    from flows.steps import Writer, fetch_and_load
    from warehouse.load import mark_ledger

    api.reset_stats()
    hostile = [
        Identifier("doi", f"10.1234/o'neil{INJECTION}"),
        Identifier("doi", '10.1234/"quoted";select 1'),
    ]
    writer = Writer(":memory:")
    tables_before = writer.con.execute("select count(*) from information_schema.tables").fetchone()
    for source in ("openalex", "crossref", "pubmed"):
        fetch_and_load(source, hostile, settings=fast_settings(api), writer=writer, run_id="r")
    writer(mark_ledger, "crossref", hostile, status="pending", error=INJECTION, run_id="r2")
    assert (
        writer.con.execute("select count(*) from information_schema.tables").fetchone()
        == tables_before
    )
    for source in ("openalex", "pubmed"):
        rows = ledger(writer.con, source)
        assert {i: r[0] for i, r in rows.items()} == dict.fromkeys(hostile, "not_found")
    rows = ledger(writer.con, "crossref")
    assert set(rows) == set(hostile) and {r[3] for r in rows.values()} == {INJECTION}
    assert quality_failures(writer.con) == {}


# -- enrich sql is read-only unless --write -------------------------------------------------------


@pytest.fixture
def db(tmp_path):
    from warehouse.db import connect

    path = tmp_path / "w.duckdb"
    connect(path).close()
    return path


@pytest.mark.parametrize(
    "statement",
    [
        "insert into runs (run_id, flow, started_at, status) values ('x', 'y', now(), 'z')",
        "drop table works",
        "select 1; delete from works",
        "create table evil as select 1",
        "attach ':memory:' as other",
        "copy works to '/tmp/enrich-reliability-copy.csv'",
    ],
)
def test_sql_refuses_writes_without_write(db, capsys, statement):
    assert cli.main(["sql", statement, "--db", str(db)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "--write" in err
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("select count(*) from runs").fetchone() == (0,)
        assert con.execute("select count(*) from works").fetchone() == (0,)
    finally:
        con.close()
    assert not Path("/tmp/enrich-reliability-copy.csv").exists()


def test_sql_with_write_writes(db, capsys):
    insert = "insert into runs (run_id, flow, started_at, status) values ('x', 'y', now(), 'z')"
    assert cli.main(["sql", insert, "--db", str(db), "--write"]) == 0
    assert cli.main(["sql", "drop view citation_latest", "--db", str(db), "--write"]) == 0
    capsys.readouterr()
    assert cli.main(["sql", "select run_id from runs", "--db", str(db), "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["run_id", "x"]
