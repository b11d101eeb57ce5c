"""`enrich report`, `enrich export` and `--report` at the command line: arguments, one-line
errors and exit codes, on a small warehouse file (no Prefect here)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from flows import cli
from warehouse.db import connect
from warehouse.load import load_documents, start_run


@pytest.fixture
def db(tmp_path) -> Path:
    from tests.warehouse.factories import document

    path = tmp_path / "w.duckdb"
    con = connect(path)
    load_documents(con, [document("seeds/a.txt", [("subject", ["doi:10.1/a"])])],
                   run_id=start_run(con, "enrich", {}))  # fmt: skip
    con.close()
    return path


def test_report_writes_the_file_and_says_where(db, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert cli.main(["report", "--db", str(db), "--out", str(out)]) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert f"enrich: wrote {out}" in capsys.readouterr().err


def test_report_on_an_unknown_seed_exits_2_in_one_line(db, tmp_path, capsys):
    assert (
        cli.main(["report", "--db", str(db), "--out", str(tmp_path / "r.html"), "--seed", "x"]) == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "enrich: --seed x: no seed document of that name or id; loaded documents: seeds/a.txt"
    ]


def test_report_and_export_without_a_warehouse_exit_2(tmp_path, capsys):
    missing = str(tmp_path / "none.duckdb")
    assert cli.main(["report", "--db", missing]) == 2
    assert cli.main(["export", str(tmp_path / "o"), "--db", missing]) == 2
    assert capsys.readouterr().err.count("no warehouse here yet") == 2


@pytest.mark.parametrize("fmt", ["parquet", "csv", "bibtex", "csljson", "ris"])
def test_export_takes_every_format(db, tmp_path, fmt, capsys):
    assert cli.main(["export", str(tmp_path / fmt), "--format", fmt, "--db", str(db)]) == 0
    assert "(all 1 work)" in capsys.readouterr().err


def test_export_refuses_an_unknown_format_and_two_subsets(db, tmp_path, capsys):
    assert cli.main(["export", str(tmp_path), "--format", "xlsx", "--db", str(db)]) == 2
    assert (
        cli.main(["export", str(tmp_path), "--seed", "a.txt", "--sql", "select 1", "--db", str(db)])
        == 2
    )
    assert "not allowed with argument" in capsys.readouterr().err


def test_export_with_a_query_that_writes_exits_2(db, tmp_path, capsys):
    args = [
        "export",
        str(tmp_path),
        "--format",
        "ris",
        "--db",
        str(db),
        "--sql",
        "delete from works",
    ]
    assert cli.main(args) == 2
    assert "DELETE is not a plain read: an export's query only reads" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [(["run", "--db", "d/w.duckdb", "--report"], Path("d/report.html")),
     (["run", "--db", "d/w.duckdb", "--report", "x.html"], Path("x.html")),
     (["refresh", "--db", "d/w.duckdb", "--report"], Path("d/report.html")),
     (["run", "--db", "d/w.duckdb"], None)],
)  # fmt: skip
def test_report_option_names_the_file_beside_the_warehouse_by_default(argv, expected, monkeypatch):
    monkeypatch.delenv("ENRICH_REPORT", raising=False)
    args = cli.build_parser().parse_args(argv)
    assert cli._settings(args).report_path == expected


def test_without_the_option_enrich_report_from_the_environment_applies(monkeypatch):
    monkeypatch.setenv("ENRICH_REPORT", "env.html")
    args = argparse.Namespace(db=None, report=None)
    assert cli._settings(args).report_path == Path("env.html")


def test_an_output_that_cannot_be_written_exits_2_naming_it(db, tmp_path, capsys):
    taken = tmp_path / "afile"
    taken.write_text("x")
    assert cli.main(["export", str(taken), "--format", "csv", "--db", str(db)]) == 2
    assert cli.main(["report", "--db", str(db), "--out", str(taken / "r.html")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": cannot write there")[0] for line in lines] == [
        f"enrich: {taken}", f"enrich: {taken / 'r.html'}"]  # fmt: skip


def test_a_full_disk_while_writing_a_report_or_an_export_is_the_disk_full_line_exit_1(
    db, tmp_path, monkeypatch, capsys
):
    import errno

    import warehouse.report

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out" / "x"))

    monkeypatch.setattr(warehouse.report, "write_report", full)
    monkeypatch.setattr("flows.exports.export_with", full)
    assert cli.main(["report", "--db", str(db), "--out", str(tmp_path / "r.html")]) == 1
    assert cli.main(["export", str(tmp_path / "out"), "--format", "csv", "--db", str(db)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(";")[0] for line in lines] == [f"enrich: disk full at {tmp_path}/out/x"] * 2
