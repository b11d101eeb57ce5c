"""Warehouse fixtures: every test warehouse is checked for data quality when the test ends."""

from __future__ import annotations

import pytest

from warehouse.db import connect
from warehouse.load import start_run
from warehouse.query import check_quality


def assert_quality(con) -> None:
    """Every data-quality check of warehouse/checks.sql returns zero rows."""
    failing = [(name, n) for name, n in check_quality(con) if n]
    assert not failing, f"data-quality checks failed: {failing}"


@pytest.fixture
def con():
    """An in-memory warehouse at the current schema; quality-checked at teardown."""
    connection = connect(":memory:")
    yield connection
    assert_quality(connection)
    connection.close()


@pytest.fixture
def db_path(tmp_path):
    """Where a file warehouse lives (in a directory that does not exist yet)."""
    return tmp_path / "nested" / "warehouse.duckdb"


@pytest.fixture
def file_con(db_path):
    """A file warehouse; quality-checked at teardown."""
    connection = connect(db_path)
    yield connection
    assert_quality(connection)
    connection.close()


@pytest.fixture
def run_id(con):
    """A run in the in-memory warehouse."""
    return start_run(con, "test", {})
