"""Bulk staging (warehouse/staging.py): columns, text repair, and errors that stay visible."""

from __future__ import annotations

import duckdb
import pytest

import warehouse.staging as staging
from warehouse.staging import columns_of, staged

SPEC = [("name", "varchar"), ("tags", "varchar[]"), ("n", "integer")]


def test_columns_repair_lone_surrogates_only_in_the_columns_that_hold_one():
    rows = [("ok", ["a", "b\ud800"], 1), ("fine", None, 2), (None, ["c"], 3)]
    name, tags, n = columns_of(rows, SPEC)
    assert list(name) == ["ok", "fine", None]
    assert list(tags) == [["a", "b\ufffd"], None, ["c"]]
    assert list(n) == [1, 2, 3]


def test_columns_of_no_rows_are_as_many_empty_columns_as_the_spec():
    assert columns_of([], SPEC) == [[], [], []]


@pytest.fixture(params=["arrow", "list parameters"])
def staging_path(request, monkeypatch):
    """Each test runs through both staging paths (Arrow only when pyarrow is installed)."""
    arrow = request.param == "arrow"
    if arrow and not staging.USE_ARROW:
        pytest.skip("pyarrow not installed")
    monkeypatch.setattr(staging, "USE_ARROW", arrow)


def test_staged_rows_read_back_the_same(staging_path):
    con = duckdb.connect()
    rows = [("x\udc00", ["t"], 1), ("y", [], None)]
    with staged(con, "_in_t", spec=SPEC, rows=rows):
        got = con.execute("select * from _in_t order by name").fetchall()
    assert got == [("x\ufffd", ["t"], 1), ("y", [], None)]


def test_an_error_in_an_aborted_transaction_is_not_hidden_by_the_cleanup(staging_path):
    con = duckdb.connect()
    con.execute("create table t (k integer primary key)")
    con.begin()
    with pytest.raises(duckdb.ConstraintException):
        with staged(con, "_in_k", spec=[("k", "integer")], rows=[(1,), (1,)]):
            con.execute("insert into t select * from _in_k")  # aborts the transaction
    con.rollback()
    assert con.execute("select count(*) from t").fetchone() == (0,)


def test_a_row_with_more_or_fewer_cells_than_its_spec_is_refused(staging_path):
    con = duckdb.connect()
    for ragged in ([("x", ["t"], 1), ("y", [])], [("x", ["t"], 1, "extra")]):
        with pytest.raises(ValueError):
            with staged(con, "_in_t", spec=SPEC, rows=ragged):
                pass


def test_arrow_tables_repair_a_lone_surrogate_in_text_and_text_lists():
    if not staging.USE_ARROW:
        pytest.skip("pyarrow not installed")
    rows = [("a\ud800", ["b", "c\udfff"], 1), ("d", None, None)]
    table = staging.arrow_table(rows, SPEC)
    assert table.to_pylist() == [
        {"name": "a\ufffd", "tags": ["b", "c\ufffd"], "n": 1},
        {"name": "d", "tags": None, "n": None},
    ]
