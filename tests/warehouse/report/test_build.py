"""write_report: one file, written whole, with a summary for the terminal and Prefect."""

from __future__ import annotations

import pytest

from warehouse.report import write_report
from warehouse.scope import ScopeError


def test_writes_one_html_file_and_summarises_it(warehouse, tmp_path):
    summary = write_report(warehouse, tmp_path / "out" / "r.html", source="w.duckdb")
    text = (tmp_path / "out" / "r.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert (summary.works, summary.documents, summary.retracted, summary.failed_or_pending) == (
        4, 2, 1, 2,
    )  # fmt: skip
    assert summary.bytes == len(text.encode())
    assert list((tmp_path / "out").iterdir()) == [tmp_path / "out" / "r.html"]  # no .partial
    assert "r.html](file://" in summary.markdown() and "| 4 | 2 | 1 | 2 |" in summary.markdown()


def test_a_seed_report_names_its_document(warehouse, tmp_path):
    summary = write_report(warehouse, tmp_path / "b.html", seed="seeds/b.txt")
    assert summary.scope == "the 1 work of seeds/b.txt" and summary.works == 1


def test_an_unknown_seed_is_a_clear_error_and_writes_nothing(warehouse, tmp_path):
    with pytest.raises(ScopeError, match="--seed nope: no seed document"):
        write_report(warehouse, tmp_path / "x.html", seed="nope")
    assert not (tmp_path / "x.html").exists()


def test_an_empty_warehouse_still_gets_a_report(con, tmp_path):
    summary = write_report(con, tmp_path / "empty.html")
    assert summary.works == 0 and "None." in (tmp_path / "empty.html").read_text()
