"""Connecting, migrating, and DuckDB's one-writer rule."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from warehouse.db import (
    HERE,
    WarehouseBusy,
    WarehouseError,
    WarehouseMissing,
    _apply,
    connect,
    latest_version,
    migrate,
    migrations,
    schema_version,
    statements,
)
from warehouse.query import SqlError, check_quality, run_sql

from .conftest import assert_quality

ROOT = Path(__file__).parents[2]

CATALOG = """
select table_name, column_name, data_type, is_nullable, column_default
from information_schema.columns where table_schema = 'main'
order by table_name, ordinal_position
"""
KEYS = """
select table_name, constraint_type, constraint_text from duckdb_constraints()
where schema_name = 'main' order by all
"""


def file_at_version(path: Path, last: int) -> duckdb.DuckDBPyConnection:
    """A raw connection to a new file holding the schema as migrations 1..``last`` left it."""
    con = duckdb.connect(str(path))
    for version, script in migrations()[:last]:
        _apply(con, script.read_text(), version=version, description=script.stem)
    assert schema_version(con) == last
    return con


def v1_file(path: Path) -> None:
    """A warehouse file as version 1 of enrich left it, with one work in it."""
    con = file_at_version(path, 1)
    con.execute(
        "insert into works (work_id, anchor_scheme, anchor_value, doi, created_at, updated_at) "
        "values ('w_1', 'doi', '10.1/a', '10.1/a', now(), now())"
    )
    con.close()


def test_connect_creates_the_directory_and_the_current_schema(db_path, file_con):
    assert db_path.exists()
    assert schema_version(file_con) == latest_version() >= 2


def test_migrate_is_idempotent(con):
    assert migrate(con) == migrate(con) == latest_version()
    assert con.execute("select count(*) from schema_version").fetchone()[0] == 1


def test_schema_sql_equals_the_migrations_applied_in_order(tmp_path):
    fresh = connect(":memory:")
    v1_file(tmp_path / "old.duckdb")
    upgraded = connect(tmp_path / "old.duckdb")
    for query in (CATALOG, KEYS):
        assert fresh.execute(query).fetchall() == upgraded.execute(query).fetchall()
    upgraded.close()


def test_a_v1_file_upgrades_in_place_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    v1_file(path)
    con = connect(path)
    assert schema_version(con) == latest_version()
    assert con.execute("select work_id, doi, cited_by_count from works").fetchall() == [
        ("w_1", "10.1/a", None)
    ]
    con.execute("select * from counts_by_year")  # added by v2
    versions = con.execute("select version from schema_version order by 1").fetchall()
    assert versions == [(v,) for v, _ in migrations()]
    con.close()


def test_a_v2_file_keeps_its_references_and_loses_their_primary_key(tmp_path):
    path = tmp_path / "v2.duckdb"
    con = file_at_version(path, 2)
    row = ("w_1", "openalex", "doi:10.1/b", "doi", "10.1/b", None, 1, None, None, "r1")
    con.execute("insert into work_references values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    con.close()

    con = connect(path)
    v2_columns = (
        "citing_work_id, source, ref_key, cited_scheme, cited_value, cited_work_id, position, "
        "unstructured, document_id, run_id"
    )  # v6 added provenance at the end
    assert con.execute(f"select {v2_columns} from work_references").fetchall() == [row]
    keys = con.execute(
        "select constraint_type from duckdb_constraints() where table_name = 'work_references'"
    ).fetchall()
    assert ("PRIMARY KEY",) not in keys and ("NOT NULL",) in keys
    con.execute(
        f"insert into work_references ({v2_columns}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row
    )
    assert dict(check_quality(con))["duplicate_references"] == 1  # the check holds the key now
    con.close()


def test_a_v7_ledger_keeps_its_rows_and_accepts_not_in_source(tmp_path):
    path = tmp_path / "v7.duckdb"
    con = file_at_version(path, 7)
    row = ("crossref", "doi", "10.1/a", "not_found", 404, 1, None, None, "r1")
    con.execute(
        "insert into fetch_ledger (source, scheme, value, status, http_status, attempts, "
        "last_error, last_attempt_at, run_id, first_seen_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "now())",
        row,
    )
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "insert into fetch_ledger (source, scheme, value, status, attempts, first_seen_at) "
            "values ('crossref', 'doi', '10.5281/b', 'not_in_source', 0, now())"
        )
    con.close()

    con = connect(path)
    assert con.execute(
        "select source, scheme, value, status, http_status, attempts, last_error, "
        "last_attempt_at, run_id from fetch_ledger"
    ).fetchall() == [row]
    con.execute(
        "insert into fetch_ledger (source, scheme, value, status, attempts, last_error, "
        "first_seen_at) values ('crossref', 'doi', '10.5281/b', 'not_in_source', 0, "
        "'registration agency: DataCite', now())"
    )
    with pytest.raises(duckdb.ConstraintException):
        con.execute(
            "insert into fetch_ledger (source, scheme, value, status, attempts, first_seen_at) "
            "values ('crossref', 'doi', '10.1/c', 'gone', 0, now())"
        )
    con.close()


def test_a_v3_file_keeps_its_raw_answers_whole_with_bodies_cut_into_parts(tmp_path):
    path = tmp_path / "v3.duckdb"
    con = file_at_version(path, 3)
    long = ('{"t": "e\u0301t\u00e9 \U0001f600 \u4e2d"} ' * 2_000)[:40_000]
    rows = [
        ("r1", "openalex", "works", "https://api.openalex.org/works", 200, "application/json",
         long, ["doi:10.1/a"], "run1"),
        ("r2", "crossref", "works", "https://api.crossref.org/works", 404, None, "", [], None),
    ]  # fmt: skip
    for r in rows:
        con.execute(
            "insert into raw_responses (raw_id, source, endpoint, request_url, fetched_at, "
            "http_status, content_type, body, requested, run_id) "
            "values (?, ?, ?, ?, now(), ?, ?, ?, ?, ?)",
            list(r),
        )
    con.close()

    con = connect(path)
    got = con.execute(
        "select raw_id, source, endpoint, request_url, http_status, content_type, body, "
        "requested, run_id from raw_responses order by raw_id"
    ).fetchall()
    assert got == rows
    parts = con.execute(
        "select raw_id, count(*), max(length(text)) from raw_response_parts group by 1 order by 1"
    ).fetchall()
    assert parts == [("r1", 3, 16_384), ("r2", 1, 0)]
    assert_quality(con)
    con.close()


def test_a_file_from_a_newer_enrich_is_refused(db_path):
    con = connect(db_path)
    con.execute("insert into schema_version values (999, 'future', now())")
    con.close()
    with pytest.raises(WarehouseError, match="newer"):
        connect(db_path)


def test_a_duckdb_file_that_is_not_a_warehouse_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).execute("create table mine (a int)").close()
    with pytest.raises(WarehouseError, match="not an enrich warehouse"):
        connect(path)


def test_read_only_open_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(WarehouseMissing, match="does not exist"):
        connect(tmp_path / "none.duckdb", read_only=True)


def test_a_read_only_connection_refuses_writes_even_when_asked(db_path):
    connect(db_path).close()
    con = connect(db_path, read_only=True)
    with pytest.raises(SqlError):
        run_sql(con, "delete from works", write=True)
    con.close()


def test_every_sql_file_is_packaged_where_pyproject_looks():
    # pyproject's package-data lists what ships beside the code: every .sql file (and the
    # report's templates and static files) must match one of its patterns
    import tomllib

    pyproject = tomllib.loads((HERE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]
    patterns = [
        (HERE.parent / package.replace(".", "/"), pattern)
        for package, globs in data.items()
        if package.split(".")[0] == "warehouse"
        for pattern in globs
    ]
    shipped = [
        *HERE.rglob("*.sql"),
        *HERE.glob("report/templates/*"),
        *HERE.glob("report/static/*"),
    ]
    for path in shipped:
        assert any(path.parent == (root / pattern).parent and path.match(pattern.split("/")[-1])
                   for root, pattern in patterns), path  # fmt: skip


# ------------------------------------------------------------------------------------------
# one writer at a time
# ------------------------------------------------------------------------------------------


def hold(path: Path, seconds: float) -> subprocess.Popen:
    """A second process holding the warehouse open for ``seconds``."""
    code = f"""
        import sys, time, duckdb
        con = duckdb.connect({str(path)!r})
        print("held", flush=True)
        time.sleep({seconds})
        con.close()
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT)  # fmt: skip
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_gets_warehouse_busy_within_the_timeout(db_path):
    connect(db_path).close()
    proc = hold(db_path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseBusy) as err:
            connect(db_path, wait=0.5)
        assert time.monotonic() - started < 5
        message = str(err.value)
        assert str(db_path) in message and "\n" not in message
    finally:
        proc.kill()
        proc.wait()


def test_a_reader_also_waits_for_the_writer(db_path):
    connect(db_path).close()
    proc = hold(db_path, 30)
    try:
        with pytest.raises(WarehouseBusy):
            connect(db_path, read_only=True, wait=0.3)
    finally:
        proc.kill()
        proc.wait()


def test_a_second_writer_gets_in_once_the_first_lets_go(db_path):
    connect(db_path).close()
    proc = hold(db_path, 1.0)
    try:
        con = connect(db_path, wait=30)
        assert schema_version(con) == latest_version()
        con.close()
    finally:
        proc.wait()


def test_a_crash_mid_batch_leaves_the_previous_state(db_path):
    code = f"""
        import os
        import warehouse.load as load
        from warehouse.db import connect
        from tests.warehouse.factories import batch, document, record
        con = connect({str(db_path)!r})
        run = load.start_run(con, "crash", {{}})
        load.load_documents(con, [document("a.txt", [("subject", ["doi:10.1/a"])])], run_id=run)
        fb, norm = batch("crossref", [record("crossref", "doi:10.1/a", "pmid:9", title="T")],
                         outcomes=[("doi:10.1/a", "ok")])
        load.recompute_works = lambda *a, **k: os._exit(9)  # die inside the transaction
        load.load_batch(con, fb, norm, run_id=run)
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, timeout=120)
    assert proc.returncode == 9
    con = connect(db_path)
    assert con.execute("select count(*) from works").fetchone()[0] == 1
    for table in ("source_records", "raw_responses", "fetch_ledger"):
        assert con.execute(f"select count(*) from {table}").fetchone()[0] == 0
    assert con.execute("select count(*) from work_ids").fetchone()[0] == 1
    assert_quality(con)
    con.close()


def test_a_read_only_open_of_an_old_file_warns_instead_of_migrating(tmp_path, caplog):
    path = tmp_path / "old.duckdb"
    v1_file(path)
    con = connect(path, read_only=True)
    assert schema_version(con) == 1
    assert "upgrades it" in caplog.text
    con.close()


@pytest.mark.parametrize("filename", sorted(p.name for p in HERE.glob("*.sql")))
def test_a_named_statement_ends_before_the_comment_that_introduces_the_next(filename):
    for name, body in statements(filename).items():
        assert body and not body.splitlines()[-1].lstrip().startswith("--"), (filename, name)


# -- a full disk: the first error is the one reported --------------------------------------------


class _AbortedConnection:
    """A connection whose transaction DuckDB ended itself after a fatal error (a full disk):
    the statement fails, and so does the rollback."""

    def begin(self):
        pass

    def execute(self, *args, **kwargs):
        raise duckdb.IOException('Could not write file "/d/w.duckdb.wal": No space left on device')

    def rollback(self):
        raise duckdb.TransactionException("cannot rollback - no transaction is active")

    def commit(self):  # pragma: no cover - never reached
        raise AssertionError("commit after an error")


@pytest.mark.parametrize("step", ["views", "migration"])
def test_a_failed_rollback_never_hides_the_error_that_caused_it(step, monkeypatch):
    from warehouse import db

    con = _AbortedConnection()
    with pytest.raises(duckdb.IOException, match="No space left on device"):
        if step == "views":
            db._create_views(con)
        else:
            _apply(con, "select 1", version=9, description="test")


def test_disk_full_path_names_the_file_from_duckdb_and_the_os():
    from warehouse.db import disk_full_path

    wal = duckdb.TransactionException(
        'TransactionContext Error: Failed to commit: Could not write file "/d/w.duckdb.wal": '
        "No space left on device"
    )
    assert disk_full_path(wal, "/d") == "/d/w.duckdb.wal"
    assert disk_full_path(OSError(28, "No space left on device", "/d/x.tmp")) == "/d/x.tmp"
    assert disk_full_path(OSError(122, "Disk quota exceeded"), "/d") == "/d"
    try:
        try:
            raise wal
        except duckdb.Error as exc:
            raise RuntimeError("Query interrupted") from exc
    except RuntimeError as wrapped:
        assert disk_full_path(wrapped, "/d") == "/d/w.duckdb.wal"  # found through the chain
    assert disk_full_path(duckdb.IOException("Could not set lock on file"), "/d") is None
    assert disk_full_path(OSError(13, "Permission denied"), "/d") is None


def test_v9_re_derives_asserted_by_by_source_precedence_from_what_the_file_holds(tmp_path):
    path = tmp_path / "v8.duckdb"
    con = file_at_version(path, 8)
    con.execute(
        "insert into work_ids (scheme, value, work_id, asserted_by, first_seen_at) values "
        "('doi', '10.1/a', 'w_1', 'openalex', now()), ('pmid', '1', 'w_1', 'openalex', now()), "
        "('openalex', 'W1', 'w_1', 'openalex', now()), ('pmid', '2', 'w_2', 'openalex', now())"
    )
    con.execute(
        "insert into source_records (work_id, source, source_key, ids, author_count, fetched_at) "
        "values ('w_1', 'crossref', '10.1/a', ['doi:10.1/a'], 0, now()), "
        "('w_1', 'pubmed', '1', ['pmid:1', 'doi:10.1/a'], 0, now()), "
        # a record kept on another work does not vouch for pmid:2 being w_2's
        "('w_9', 'pubmed', '9', ['pmid:9', 'pmid:2'], 0, now())"
    )
    con.execute(
        'insert into mentions (document_id, scheme, value, start, "end", line, group_key, '
        "group_no, role, work_id) values ('d', 'pmid', '1', 0, 5, 1, 'd:1', 1, 'subject', 'w_1')"
    )
    con.close()

    con = connect(path)
    assert con.execute(
        "select scheme, value, asserted_by from work_ids order by all"
    ).fetchall() == [
        ("doi", "10.1/a", "crossref"),
        ("openalex", "W1", "openalex"),
        ("pmid", "1", "seed"),
        ("pmid", "2", "openalex"),
    ]
    con.close()
