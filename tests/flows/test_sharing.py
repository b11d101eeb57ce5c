"""Queries answered by the process that holds the warehouse (flows.sharing), in one process: a
real Writer, a real socket, the client's request."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from flows import sharing, steps


@pytest.fixture
def writer(tmp_path, monkeypatch):
    # a short runtime folder of its own: under pytest-xdist tmp_path gains a popen-gwN level and
    # the socket's path (folder + enrich-UID/ + 20 hex + .sock) passed AF_UNIX's 107 bytes
    run = tempfile.mkdtemp(prefix="xdg-")
    monkeypatch.setenv("XDG_RUNTIME_DIR", run)
    w = steps.Writer(tmp_path / "w.duckdb")
    yield w
    w.close()
    shutil.rmtree(run, ignore_errors=True)


def test_nobody_answers_for_a_warehouse_no_run_holds(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(sharing.NoRunAnswers):
        sharing.ask(tmp_path / "w.duckdb", {"verb": "status"})


def test_the_socket_path_is_short_and_private_whatever_the_warehouse_path(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    deep = tmp_path / ("x" * 200) / "w.duckdb"
    path = sharing.socket_path(deep)
    assert len(str(path)) < 107 and path.parent.name.startswith("enrich-")
    assert sharing.socket_path(deep) == path != sharing.socket_path(tmp_path / "other.duckdb")


def test_a_runtime_folder_too_deep_for_a_socket_gives_way_to_the_temporary_folder(
    tmp_path, monkeypatch
):
    deep = tmp_path / ("r" * 120)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(deep))
    path = sharing.socket_path(tmp_path / "w.duckdb")
    assert len(os.fsencode(path)) < sharing.SOCKET_PATH_MAX and not path.is_relative_to(deep)


def test_a_run_answers_sql_and_status_as_of_its_last_commit(writer):
    from warehouse.load import start_run

    writer.run_id = writer(start_run, "enrich", {})
    with sharing.serve_readers(writer):
        reply = sharing.ask(
            writer.db_path,
            {"verb": "sql", "query": "select count(*) as n from runs", "format": "csv"},
        )
        status = sharing.ask(writer.db_path, {"verb": "status"})
    assert reply["out"].split() == ["n", "1"]
    assert reply["load"] == writer.loads and reply["run_id"] == writer.run_id
    assert "as of load" in sharing.as_of_line(reply)
    assert "warehouse schema v" in status["out"]
    assert not sharing.socket_path(writer.db_path).exists(), "the socket outlived the run"


def test_a_reader_sees_the_last_commit_not_a_load_in_progress(writer):
    import threading

    started, release = threading.Event(), threading.Event()

    def slow_load(con):
        con.execute("create table t as select 1 as x")
        con.execute("begin transaction")
        con.execute("insert into t values (2)")
        started.set()
        release.wait(10)
        con.execute("commit")

    writer(lambda con: con.execute("create schema if not exists s"))
    loading = threading.Thread(target=writer, args=(slow_load,))
    with sharing.serve_readers(writer):
        loading.start()
        assert started.wait(10)
        during = sharing.ask(writer.db_path, {"verb": "sql", "query": "select count(*) from t"})
        release.set()
        loading.join()
    assert during["out"].splitlines()[2].strip() == "1", "saw the uncommitted row"


@pytest.mark.parametrize(
    "query",
    ["pragma memory_limit='10GB'", "insert into runs select * from runs", "drop table runs"],
)
def test_a_run_serves_plain_reads_only(writer, query):
    with sharing.serve_readers(writer):
        with pytest.raises(sharing.RunRefused) as refused:
            sharing.ask(writer.db_path, {"verb": "sql", "query": query})
    assert refused.value.kind == "SqlError" and "not a plain read" in str(refused.value)
