"""The query side: ad hoc SQL, output formats, status, parquet export, quality checks."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from warehouse.db import connect
from warehouse.export import export_relations
from warehouse.load import finish_run, load_batch, load_documents, start_run
from warehouse.query import (
    QueryResult,
    SqlError,
    check_quality,
    format_result,
    format_status,
    run_sql,
    status_report,
)

from .conftest import assert_quality
from .factories import batch, document, full_record, record


@pytest.fixture
def loaded(con, run_id):
    load_documents(con, [document("seeds/a.txt", [("subject", ["doi:10.1/a"]), ("citing", ["pmid:2"])])],
                   run_id=run_id)  # fmt: skip
    fb, norm = batch("crossref", [record("crossref", "doi:10.1/a", title="T, with comma")],
                     outcomes=[("doi:10.1/a", "ok")])  # fmt: skip
    load_batch(con, fb, norm, run_id=run_id)
    return con


def test_run_sql_returns_columns_and_rows(loaded):
    result = run_sql(loaded, "select doi, title from works where title is not null")
    assert result == QueryResult(["doi", "title"], [("10.1/a", "T, with comma")])


@pytest.mark.parametrize(
    "query",
    ["delete from works", "insert into runs values (1)", "copy works to 'x.csv'",
     "attach 'other.db'", "select 1; drop table works", "create table t (a int)"],
)  # fmt: skip
def test_writes_are_refused_without_write(loaded, query):
    with pytest.raises(SqlError, match="pass --write"):
        run_sql(loaded, query)
    assert loaded.execute("select count(*) from works").fetchone()[0] == 2


def test_writes_run_with_write(loaded):
    run_sql(loaded, "update works set title = 'X' where doi = '10.1/a'", write=True)
    assert run_sql(loaded, "select title from works where doi = '10.1/a'").rows == [("X",)]


@pytest.mark.parametrize("query", ["select * from nope", "selec 1", "select 1/'a'", ""])
def test_sql_errors_are_one_line(loaded, query):
    with pytest.raises(SqlError) as err:
        run_sql(loaded, query)
    assert "\n" not in str(err.value) and str(err.value)


def test_read_only_connections_allow_views_and_pragmas(loaded):
    assert run_sql(loaded, "pragma table_info('works')").rows
    assert run_sql(loaded, "describe works").rows
    assert run_sql(loaded, "select * from seed_coverage").rows


def test_format_csv_quotes_values_and_writes_a_header(loaded):
    out = format_result(
        run_sql(loaded, "select doi, title from works where title is not null"), "csv"
    )
    assert list(csv.reader(io.StringIO(out))) == [["doi", "title"], ["10.1/a", "T, with comma"]]


def test_format_json_is_an_array_of_objects_with_iso_dates(loaded):
    out = format_result(
        run_sql(loaded, "select doi, updated_at, sources from works where doi = '10.1/a'"), "json"
    )
    (obj,) = json.loads(out)
    assert obj["doi"] == "10.1/a" and obj["sources"] == ["crossref"] and "T" in obj["updated_at"]


def test_format_table_aligns_columns_and_counts_rows(loaded):
    out = format_result(QueryResult(["a", "long_name"], [(1, None), (22, "x")]), "table")
    assert out.splitlines() == ["a   long_name", "--  ---------", "1", "22  x", "(2 rows)"]


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        format_result(QueryResult([], []), "xml")


def test_status_reports_documents_sources_and_runs(loaded):
    report = status_report(loaded)
    (doc,) = report["documents"]
    assert (doc["path"], doc["found"], doc["resolved"], doc["unattempted"]) == (
        "seeds/a.txt", 2, 1, 1,
    )  # fmt: skip
    assert report["sources"] == {"crossref": {"ok": 1}}
    assert report["runs"][0]["status"] == "running"
    text = format_status(report)
    assert "seeds/a.txt: 2 / 1 / 0 / 0 / 0 / 1" in text and "crossref: ok 1" in text


def test_status_shows_not_in_source_with_the_registration_agency(loaded, run_id):
    from pipeline.records import Identifier
    from warehouse.load import mark_ledger

    for agency, dois in (("DataCite", ["10.5281/z.1", "10.48550/x.2"]), ("mEDRA", ["10.4435/b"])):
        ids = [Identifier("doi", d) for d in dois]
        mark_ledger(loaded, "crossref", ids, status="not_in_source", run_id=run_id,
                    error=f"registration agency: {agency}")  # fmt: skip
    report = status_report(loaded)
    assert report["sources"]["crossref"] == {"ok": 1, "not_in_source": 3}
    assert report["agencies"] == {"crossref": {"DataCite": 2, "mEDRA": 1}}
    text = format_status(report)
    assert "crossref: not_in_source 3, ok 1 (not in source: DataCite 2, mEDRA 1)" in text


def test_status_of_an_empty_warehouse(con):
    assert "(none loaded)" in format_status(status_report(con))


def test_export_writes_every_table_as_parquet(loaded, tmp_path):
    files = export_relations(loaded, tmp_path / "out", "parquet").written
    names = {f.stem for f in files}
    assert {"works", "work_ids", "mentions", "citation_counts", "fetch_ledger"} <= names
    n = duckdb.connect().execute(f"select count(*) from '{tmp_path / 'out' / 'works.parquet'}'")
    assert n.fetchone()[0] == 2


def test_check_quality_passes_on_a_loaded_warehouse(loaded):
    assert_quality(loaded)


@pytest.mark.parametrize(
    ("damage", "check"),
    [
        ("insert into mentions (document_id, scheme, value, start, \"end\", line, section, "
         "group_key, group_no, role, work_id) "
         "values ('d', 'doi', 'x', 0, 1, 1, null, 'd:0', 0, 'mention', 'w_x')",
         "mentions_without_work"),
        ("delete from works where doi = '10.1/a'", "work_ids_without_work"),
        ("insert into citation_counts (work_id, source, run_id, cited_by_count, observed_at) "
         "values ('w_nope', 'crossref', 'r', 1, now())",
         "citation_counts_without_work"),
        ("update work_references set cited_work_id = null", "references_left_unresolved"),
        ("insert into authorships values ('w_x', 'crossref', 1, 'a', 'A', null, null, null, null, "
         "false, null, [])", "orphan_authorships"),
        ("insert into work_topics values ('w_x', 'crossref', 'mesh:D1', [], false, null)",
         "slice_rows_without_source_record"),
        ("insert into raw_response_meta values ('r', 'pubmed', 'efetch', "
         "'https://x.org/?api_key=k', now(), 200, null, [], null, 0, 1); "
         "insert into raw_response_parts values ('r', 0, '')", "secrets_in_stored_urls"),
        ("insert into raw_response_meta values ('r', 'pubmed', 'efetch', 'https://x.org/', "
         "now(), 200, null, [], null, 5, 2); insert into raw_response_parts values ('r', 0, 'abc')",
         "raw_bodies_incomplete"),
        ("insert into raw_response_parts values ('nope', 0, 'abc')", "raw_parts_without_answer"),
    ],
)  # fmt: skip
def test_check_quality_finds_planted_problems(damage, check):
    con = connect(":memory:")  # not the fixture: this warehouse is damaged on purpose
    run_id = start_run(con, "test", {})
    load_documents(con, [document("a.txt", [("subject", ["doi:10.1/a"]), ("citing", ["pmid:2"])])],
                   run_id=run_id)  # fmt: skip
    finish_run(con, run_id, "completed", {})
    assert not [name for name, n in check_quality(con) if n]
    con.execute(damage)
    assert check in {name for name, n in check_quality(con) if n}


def test_a_reference_waiting_for_the_run_to_finish_is_not_a_problem_until_a_run_has():
    con = connect(":memory:")
    run_id = start_run(con, "test", {})
    rec = full_record("crossref", "doi:10.1/a", refs=("doi:10.1/b",))
    load_batch(con, *batch("crossref", [rec], outcomes=[("doi:10.1/a", "ok")]), run_id=run_id)
    load_documents(con, [document("b.txt", [("subject", ["doi:10.1/b"])])], run_id=run_id)
    assert "references_left_unresolved" not in {name for name, n in check_quality(con) if n}
    finish_run(con, run_id, "completed", {})
    con.execute("update work_references set cited_work_id = null")  # as if finish had not settled
    assert "references_left_unresolved" in {name for name, n in check_quality(con) if n}
